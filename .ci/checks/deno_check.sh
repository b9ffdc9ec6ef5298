#!/usr/bin/env bash
# Every entry point type-checks under Deno.
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/deno check mod.ts lib/apps/*/mod.ts lib/apps/kv_server/cli.ts lib/testing/mod.ts
