#!/usr/bin/env bash
# deno lint: no problem in the tree (rules in deno.json).
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/deno lint
