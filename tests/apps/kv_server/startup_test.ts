// Start-up and the end of the road: every listener is bound before `listening on`; a taken Observer port is a
// clear failure; when an application the server needs stops for good, the process says so and exits non-zero;
// buckets are labelled in the Observer's API.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Client, watchServe } from "../../_kv_server_helpers.ts";

const LISTENING = /^listening on \S+:(\d+)\n/m;
const OBSERVER = /^observer on http:\/\/127\.0\.0\.1:(\d+)\S*\n/m;

async function takenPort(): Promise<[net.Server, number]> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  return [blocker, (blocker.address() as net.AddressInfo).port];
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function api(port: number, path: string, method = "GET"): Promise<{ status: number; body: Json }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: method === "POST" ? { "content-type": "application/json" } : {},
    body: method === "POST" ? "{}" : undefined,
  });
  return { status: response.status, body: await response.json() };
}

test("a taken Observer port: no listening line, one clear error, exit 1", async () => {
  const [blocker, port] = await takenPort();
  try {
    const server = watchServe(["serve", "--port", "0", "--observer", String(port)]);
    assert.equal(await server.exited, 1);
    assert.equal(server.stdout(), "");
    assert.equal(
      server.stderr(),
      `kv: observer on 127.0.0.1:${port}: address 127.0.0.1:${port} is already in use\n`,
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test("both listeners are bound when the lines are printed", async () => {
  const server = watchServe(["serve", "--port", "0", "--observer", "0"]);
  try {
    const port = Number((await server.waitStdout(LISTENING))[1]);
    const observer = Number((await server.waitStdout(OBSERVER))[1]);
    const c = await Client.open(port);
    await c.ask("CREATE b\r\n", "OK\r\n");
    await c.finish();
    assert.equal((await api(observer, "/api/system")).status, 200);
  } finally {
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0);
  }
});

test('buckets are labelled in the Observer: the table shows bucket "shopping", the detail its key count', async () => {
  const server = watchServe(["serve", "--port", "0", "--observer", "0"]);
  try {
    const port = Number((await server.waitStdout(LISTENING))[1]);
    const observer = Number((await server.waitStdout(OBSERVER))[1]);
    const c = await Client.open(port);
    await c.ask("CREATE shopping\r\nPUT shopping milk 1\r\nPUT shopping eggs 2\r\n", "OK\r\nOK\r\nOK\r\n");
    const { body } = await api(observer, "/api/processes?limit=100000");
    const rows = body.processes.filter((p: { label: string | null }) => p.label === 'bucket "shopping"');
    assert.equal(rows.length, 1, JSON.stringify(body.processes.map((p: { label: string | null }) => p.label)));
    assert.equal(rows[0].behaviour, "Agent");
    const detail = await api(observer, `/api/process/${encodeURIComponent(rows[0].pid)}`);
    assert.equal(detail.body.label, 'bucket "shopping"');
    assert.deepEqual(detail.body.details, { keys: 2 });
    await c.finish();
  } finally {
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0);
  }
});

test("when the KV tree stops for good, the process says so in one line and exits 1", async () => {
  const server = watchServe(["serve", "--port", "0", "--observer", "0"]);
  const port = Number((await server.waitStdout(LISTENING))[1]);
  const observer = Number((await server.waitStdout(OBSERVER))[1]);
  const c = await Client.open(port);
  await c.ask("CREATE b\r\n", "OK\r\n");
  const { body } = await api(observer, "/api/processes?limit=100000");
  const top = body.processes.find((p: { name: string | null }) => p.name === "KV.Supervisor");
  assert.ok(top, "KV.Supervisor is listed");
  // As a tree that ran out of restarts: its top supervisor is gone, the application with it.
  assert.equal((await api(observer, `/api/process/${encodeURIComponent(top.pid)}/kill`, "POST")).status, 200);
  assert.equal(await server.exited, 1);
  const lines = server.stderr().split("\n").filter((l) => l.startsWith("kv:"));
  assert.deepEqual(lines, ['kv: application "kv" stopped (killed); exiting']);
  await c.closed;
});
