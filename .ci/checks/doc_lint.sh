#!/usr/bin/env bash
# deno doc --lint over every entry point of deno.json's "exports", together (as JSR documents
# the package): every public symbol documented, no public signature naming an unexported type.
set -uo pipefail
cd "$(dirname "$0")/../.."
mapfile -t entries < <(node -e 'for (const p of Object.values(require("./deno.json").exports)) console.log(p)')
[ "${#entries[@]}" -gt 0 ] || { echo "no entry point found in deno.json"; exit 1; }
echo "entry points: ${entries[*]}"
node_modules/.bin/deno doc --lint "${entries[@]}"
