#!/usr/bin/env bash
# No import cycle among the project's files (type-only imports aside: they are erased before loading).
set -uo pipefail
cd "$(dirname "$0")/../.."
node_modules/.bin/bun scripts/import_graph.ts
