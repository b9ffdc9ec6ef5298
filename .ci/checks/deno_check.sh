#!/usr/bin/env bash
# Every entry point type-checks under Deno, and so do the type-level tests (deno task check).
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/deno task check
