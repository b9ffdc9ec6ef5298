#!/usr/bin/env bash
# The npm package on Node: build it (npm run build:npm), type-check a consumer program against
# it with tsc --strict (+ noUncheckedIndexedAccess, exactOptionalPropertyTypes, no skipLibCheck),
# run that program under `node`, then run the kv server's CLI from the package under Node.
set -uo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "node is not on PATH"; exit 1; }
echo "node $(node --version)"
npm run --silent build:npm || exit 1

work=dist/consumer
rm -rf "$work" && mkdir -p "$work/node_modules/@otp-ts"
cp scripts/npm/consumer/*.ts scripts/npm/consumer/tsconfig.json scripts/npm/consumer/package.json "$work/"
# Installed as npm installs a local folder: a link to the built package.
ln -s ../../../npm "$work/node_modules/@otp-ts/otp"
# @types/node comes from the repository's dev dependencies (node resolution walks up to it).
node_modules/.bin/tsc -p "$work/tsconfig.json" || { echo "tsc --strict: the consumer does not type-check"; exit 1; }
echo "tsc --strict: 0 errors"
timeout 60 node "$work/out/main.js" || { echo "the consumer program failed under Node"; exit 1; }

# The CLI under Node: serves a short session on a free port, then stops on SIGTERM.
timeout 60 node scripts/npm/cli_session.mjs dist/npm/lib/apps/kv_server/cli.js || exit 1
