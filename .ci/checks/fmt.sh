#!/usr/bin/env bash
# deno fmt --check: the tree is formatted (line width in deno.json).
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/deno fmt --check
