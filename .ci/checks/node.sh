#!/usr/bin/env bash
# The library from Node, honestly: the npm build, a consumer type-checked with tsc --strict against
# it, a program using GenServer, Supervisor and Ets run under Node, and the kv CLI served under Node.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash scripts/npm/check_node.sh
