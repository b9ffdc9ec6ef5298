#!/usr/bin/env bash
# The differential suite against the BEAM (tests/differential/), run by its own runner under Bun
# and under Deno: fails if erl/elixir are missing, if fewer than 120 scenarios ran, if one differs
# from the BEAM outside the README's table of deviations, or if a marked deviation now matches.
set -uo pipefail
cd "$(dirname "$0")/../.."
export DENO_NO_PACKAGE_JSON=1
BIN=node_modules/.bin
for cmd in erl erlc elixir; do
  command -v "$cmd" >/dev/null || { echo "differential: $cmd not found (install erlang-base and elixir)"; exit 1; }
done
status=0
for rt in bun deno; do
  if [ "$rt" = bun ]; then out=$($BIN/bun tests/differential/runner.ts 2>&1); rc=$?
  else out=$($BIN/deno run -A tests/differential/runner.ts 2>&1); rc=$?; fi
  summary=$(echo "$out" | grep -E '^[0-9]+ scenarios:' | tail -1)
  echo "differential on $rt: ${summary:-no summary}"
  total=$(echo "$summary" | grep -Eo '^[0-9]+' || echo 0)
  if [ "$rc" -ne 0 ] || [ "${total:-0}" -lt 120 ]; then
    echo "$out" | grep -Ev '^(ok|deviation) ' | tail -20
    status=1
  fi
done
exit $status
