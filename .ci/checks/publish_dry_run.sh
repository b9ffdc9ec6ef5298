#!/usr/bin/env bash
# deno publish --dry-run: the JSR package (@otp-ts/otp) builds with no error and no warning
# (licence, slow types, unanalyzable imports, excluded or missing files), and carries LICENSE,
# README and docs/. --allow-dirty: CI's tree has build output.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(NO_COLOR=1 node_modules/.bin/deno publish --dry-run --allow-dirty 2>&1)
rc=$?
echo "$out" | grep -v '^ *file://' | grep -v '^Check '
if [ $rc -ne 0 ]; then echo "deno publish --dry-run failed"; exit 1; fi
if echo "$out" | grep -q '^warning'; then echo "deno publish --dry-run warned (above)"; exit 1; fi
for f in LICENSE README.md docs/PROTOCOL.md docs/observer.png; do
  echo "$out" | grep -q "/$f " || { echo "the package lacks $f"; exit 1; }
done
echo "published files: $(echo "$out" | grep -c '^ *file://'), no warning"
