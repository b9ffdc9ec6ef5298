// Clean stops: handlers installed before `listening on`; SIGTERM/SIGINT answer what was received and close
// with a FIN, then exit 0; a second signal exits at once; `--idle-timeout` closes silent clients.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, watchServe } from "../../_kv_server_helpers.ts";

const LISTENING = /^listening on \S+:(\d+)\n/m;

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} right after "listening on" stops the server cleanly: exit 0, every time`, async () => {
    for (let i = 0; i < 3; i++) {
      const server = watchServe(["serve", "--port", "0"]);
      await server.waitStdout(LISTENING);
      server.signal(signal);
      assert.equal(await server.exited, 0, server.stderr());
      assert.equal(server.stderr(), "");
    }
  });
}

test("SIGTERM answers the requests already received, closes with a FIN, and exits 0", async () => {
  const server = watchServe(["serve", "--port", "0", "--log-level", "debug"]);
  const port = Number((await server.waitStdout(LISTENING))[1]);
  const value = "v".repeat(1000);
  const reply = `${value}\r\nOK\r\n`;
  const c = await Client.open(port);
  const errors: string[] = [];
  c.socket.on("error", (e: NodeJS.ErrnoException) => errors.push(e.code ?? String(e)));
  await c.ask(`CREATE b\r\nPUT b k ${value}\r\n`, "OK\r\nOK\r\n");
  c.keepText = false;
  c.socket.pause();
  const before = c.bytes;
  // 20 MB of replies: the server reads some, answers what fits, and waits for us to read.
  c.send("GET b k\r\n".repeat(20_000));
  // The server read requests, and stopped reading as its output filled up.
  await server.waitStderr(/^\[debug\] KV server: \S+ stopped reading/m);
  server.signal("SIGTERM");
  await server.waitStderr(/SIGTERM: stopping/);
  c.socket.resume();
  await c.until(() => c.ended, "the server's FIN");
  const got = c.bytes - before;
  assert.ok(got > 0, "requests already received are answered");
  assert.equal(got % reply.length, 0, `whole replies only, got ${got} bytes`);
  await c.closed;
  assert.deepEqual(errors, [], "closed with a FIN, not reset");
  assert.equal(await server.exited, 0, server.stderr());
});

test("a second signal stops at once, without waiting for the drain", async () => {
  const server = watchServe(["serve", "--port", "0", "--log-level", "debug", "--drain-timeout", "600"]);
  const port = Number((await server.waitStdout(LISTENING))[1]);
  const c = await Client.open(port);
  await c.ask(`CREATE b\r\nPUT b k ${"v".repeat(60_000)}\r\n`, "OK\r\nOK\r\n");
  c.keepText = false;
  c.socket.pause(); // never reads: the drain cannot finish
  c.send("GET b k\r\n".repeat(10_000));
  await server.waitStderr(/ stopped reading/);
  server.signal("SIGTERM");
  await server.waitStderr(/SIGTERM: stopping/);
  server.signal("SIGTERM");
  assert.equal(await server.exited, 1);
  assert.match(server.stderr(), /^kv: SIGTERM again: exiting at once$/m);
  c.socket.destroy();
});

test("the drain timeout bounds a stop: a client that never reads is reset, the server exits 0", async () => {
  const server = watchServe(["serve", "--port", "0", "--drain-timeout", "0.2"]);
  const port = Number((await server.waitStdout(LISTENING))[1]);
  const c = await Client.open(port);
  await c.ask(`CREATE b\r\nPUT b k ${"v".repeat(60_000)}\r\n`, "OK\r\nOK\r\n");
  c.keepText = false;
  c.socket.pause();
  c.send("GET b k\r\n".repeat(10_000));
  server.signal("SIGTERM");
  assert.equal(await server.exited, 0, server.stderr());
  c.socket.destroy();
});

test("--idle-timeout closes a client that sends no complete request, and keeps one that does", async () => {
  const server = watchServe(["serve", "--port", "0", "--idle-timeout", "0.3"]);
  const port = Number((await server.waitStdout(LISTENING))[1]);
  try {
    const busy = await Client.open(port);
    await busy.ask("CREATE b\r\n", "OK\r\n");
    const slow = await Client.open(port);
    // One byte every 50 ms, never a whole line: it must not hold its slot forever.
    const dribble = setInterval(() => slow.send("x"), 50);
    const chatter = setInterval(() => busy.send("GET b k\r\n"), 50);
    await slow.closed;
    clearInterval(dribble);
    clearInterval(chatter);
    assert.ok(!busy.isClosed, "a client that sends requests is kept");
    busy.received = "";
    await busy.ask("PUT b k 1\r\n", "");
    await busy.until(() => busy.received.endsWith("OK\r\n"), "the busy client's reply");
    await busy.finish();
  } finally {
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0);
  }
});
