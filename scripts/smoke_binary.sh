#!/usr/bin/env bash
# Smoke test of the standalone binary: builds dist/kv with `npm run build`
# (bun build --compile), starts `dist/kv serve --port 0`, reads its
# `listening on HOST:PORT` line, runs a short session with a tiny client
# (node, else bun), checks the replies byte for byte, sends SIGTERM and checks
# the exit code is 0. Exits non-zero, saying why, on any failure.
#
#   scripts/smoke_binary.sh            build, then test
#   SKIP_BUILD=1 scripts/smoke_binary.sh   test an existing dist/kv
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "smoke_binary: FAIL: $*" >&2
  exit 1
}

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "smoke_binary: npm run build"
  npm run build >/tmp/smoke_binary_build.log 2>&1 || { cat /tmp/smoke_binary_build.log >&2; fail "npm run build failed"; }
fi
[ -x dist/kv ] || fail "dist/kv was not built"

# The client: node if present, else the pinned bun (both run this plain JS).
if command -v node >/dev/null; then CLIENT=(node); else CLIENT=(node_modules/.bin/bun); fi

# --version and --help work without a runtime installed.
version=$(dist/kv --version) || fail "dist/kv --version exited $?"
[[ "$version" =~ ^kv\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "unexpected version line: '$version'"
dist/kv --help | grep -q "kv serve" || fail "dist/kv --help does not show usage"

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

dist/kv serve --port 0 >"$tmp/stdout" 2>"$tmp/stderr" &
server_pid=$!

# Wait (at most 10 s) for the one line it prints once it accepts connections.
for _ in $(seq 1 200); do
  grep -q '^listening on ' "$tmp/stdout" && break
  kill -0 "$server_pid" 2>/dev/null || fail "dist/kv exited before listening: $(cat "$tmp/stderr")"
  sleep 0.05
done
line=$(head -n 1 "$tmp/stdout")
[[ "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "unexpected first line: '$line'"
port=${BASH_REMATCH[1]}
echo "smoke_binary: $line"

# A short session, pipelined then request by request, compared byte for byte
# (latin1: bytes in, bytes out; 0xff is not UTF-8 and must come back as sent).
cat >"$tmp/client.mjs" <<'EOF'
import * as net from "node:net";
const port = Number(process.argv[2]);
const steps = [
  ["CREATE a\r\nPUT a x 1\r\nGET a x\r\nGET zz x\r\n", "OK\r\nOK\r\n1\r\nOK\r\nNOT FOUND\r\n"],
  ["UNKNOWN shopping\r\n", "UNKNOWN COMMAND\r\n"],
  ["GET shopping eggs\r\n", "NOT FOUND\r\n"],
  ["CREATE shopping\r\n", "OK\r\n"],
  ["PUT shopping eggs 3\r\n", "OK\r\n"],
  ["GET shopping eggs\r\n", "3\r\nOK\r\n"],
  ["DELETE shopping eggs\r\n", "OK\r\n"],
  ["GET shopping eggs\r\n", "\r\nOK\r\n"],
  ["PUT a \xff\xfe \xc3(\r\nGET a \xff\xfe\r\n", "OK\r\n\xc3(\r\nOK\r\n"],
];
const socket = net.connect(port, "127.0.0.1");
let received = "";
let wake = () => {};
socket.on("data", (chunk) => { received += chunk.toString("latin1"); wake(); });
socket.on("error", (e) => { console.error(`client error: ${e.message}`); process.exit(1); });
const timer = setTimeout(() => { console.error(`timed out; received ${JSON.stringify(received)}`); process.exit(1); }, 10000);
for (const [request, reply] of steps) {
  socket.write(Buffer.from(request, "latin1"));
  while (received.length < reply.length) await new Promise((resolve) => wake = resolve);
  if (received !== reply) {
    console.error(`for ${JSON.stringify(request)} expected ${JSON.stringify(reply)}, got ${JSON.stringify(received)}`);
    process.exit(1);
  }
  received = "";
}
clearTimeout(timer);
socket.end();
console.log(`session ok (${steps.length} steps)`);
EOF
"${CLIENT[@]}" "$tmp/client.mjs" "$port" || fail "the session failed"

kill -TERM "$server_pid"
set +e
wait "$server_pid"
code=$?
set -e
server_pid=""
[ "$code" -eq 0 ] || fail "dist/kv exited $code on SIGTERM (stderr: $(cat "$tmp/stderr"))"
[ "$(wc -l <"$tmp/stdout")" -eq 1 ] || fail "stdout has more than the listening line: $(cat "$tmp/stdout")"
echo "smoke_binary: OK (SIGTERM -> exit 0)"
