#!/usr/bin/env bash
# The applications (lib/apps/) import only the library's public entry points and their own files.
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/bun scripts/check_app_imports.ts
