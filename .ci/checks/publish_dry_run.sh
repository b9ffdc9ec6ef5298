#!/usr/bin/env bash
# deno publish --dry-run: the JSR package (@otp-ts/otp) builds with no error and no warning
# (licence, slow types, excluded or missing files), and carries LICENSE, README and docs/.
# One warning class is tolerated, in one place: DiskLog imports the compactor module its
# caller names by URL (a worker cannot be handed a function), which `deno publish` reports as
# unanalyzable-dynamic-import with no way to mark it intended (denoland/deno#22594).
# --allow-dirty: CI's tree has build output.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(NO_COLOR=1 node_modules/.bin/deno publish --dry-run --allow-dirty 2>&1)
rc=$?
echo "$out" | grep -v '^ *file://' | grep -v '^Check '
if [ $rc -ne 0 ]; then echo "deno publish --dry-run failed"; exit 1; fi
# Each warning, with the file it points at (the "-->" line after it).
warnings=$(echo "$out" | awk '/^warning\[/{w=$0; getline; print w " " $2}')
untolerated=$(echo "$warnings" | grep -v '^$' |
  grep -v -E '^warning\[unanalyzable-dynamic-import\].* [^ ]*/lib/disk_log/(disk_log|_compact_worker)\.ts:' || true)
if [ -n "$untolerated" ]; then echo "deno publish --dry-run warned:"; echo "$untolerated"; exit 1; fi
tolerated=$(echo "$warnings" | grep -c '^warning' || true)
for f in LICENSE README.md docs/PROTOCOL.md docs/observer.png; do
  echo "$out" | grep -q "/$f " || { echo "the package lacks $f"; exit 1; }
done
echo "published files: $(echo "$out" | grep -c '^ *file://'); tolerated warnings: $tolerated (DiskLog's compactor import)"
