#!/usr/bin/env bash
# Type-level tests: every `// @ts-expect-error` line in tests/types/ must be a compile error
# (a typo in a typed server's request, cast or info message), every other line must compile.
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/deno check tests/types/
