// Clients that misbehave: random bytes, huge lines, lines in pieces, clients
// that vanish mid-pipeline or never read, hundreds at once. The server stays
// up, answers the others, and its memory stays bounded (measured on a
// `kv serve` child process through /proc, where there is one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as Supervisor from "../../../lib/supervisor/supervisor.ts";
import * as TaskSupervisor from "../../../lib/task_supervisor.ts";
import type { Pid } from "../../../lib/process/pid.ts";
import { cliCommand, Client, spawnServe, startServer, waitFor } from "../../_kv_server_helpers.ts";

/** A small seeded PRNG (mulberry32): the same "random" bytes on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function connectionCount(sup: Pid): Promise<number> {
  const tasks = (await Supervisor.whichChildren(sup)).find((c) => c.id === "KVServer.TaskSupervisor")!.pid as Pid;
  return (await TaskSupervisor.children(tasks)).length;
}

/** Resident memory of a process in bytes, or undefined without /proc. */
function rss(pid: number): number | undefined {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return undefined;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(path, "utf8"));
  return match ? Number(match[1]) * 1024 : undefined;
}

test("random bytes: the server answers line by line, stays up, and serves the others", async () => {
  const server = await startServer();
  const next = random(42);
  const c = await Client.open(server.port);
  c.keepText = false;
  const other = await Client.open(server.port);
  let newlines = 0;
  for (let chunk = 0; chunk < 64; chunk++) {
    const bytes = new Uint8Array(1 + Math.floor(next() * 16 * 1024));
    for (let i = 0; i < bytes.length; i++) {
      // Mostly bytes, some whitespace and newlines, now and then a verb.
      const r = next();
      bytes[i] = r < 0.03 ? 10 : r < 0.1 ? 32 : Math.floor(next() * 256);
      if (bytes[i] === 10) newlines++;
    }
    c.send(bytes);
    if (chunk % 8 === 0) await other.ask("CREATE o\r\nGET o k\r\n", "OK\r\n\r\nOK\r\n");
  }
  // Every line got exactly one reply line (no reply is a bare value here: no bucket exists for random names).
  c.keepText = true;
  c.send("\nCREATE r\r\nGET r k\r\n");
  await c.until(() => c.received.endsWith("OK\r\n\r\nOK\r\n"), "the replies to the last requests");
  await c.finish();
  assert.ok(newlines > 1000);
  await other.ask("GET o k\r\n", "\r\nOK\r\n");
  await other.finish();
  await server.stop();
});

test("a 10 MB line answers ERROR LINE TOO LONG once; the limit is configurable; the connection goes on", async () => {
  const server = await startServer();
  const c = await Client.open(server.port);
  await c.ask("CREATE b\r\n", "OK\r\n");
  c.send(new Uint8Array(10 * 1024 * 1024).fill(0x41));
  c.send("\r\nPUT b k v\r\n");
  await c.expect("ERROR LINE TOO LONG\r\nOK\r\n");
  await c.ask("GET b k\r\n", "v\r\nOK\r\n");
  // Exactly 64 KiB is fine; one byte more is not.
  const value = "x".repeat(64 * 1024 - "PUT b k ".length);
  await c.ask(`PUT b k ${value}\r\nGET b k\r\n`, `OK\r\n${value}\r\nOK\r\n`);
  await c.ask(`PUT b k ${value}y\r\nGET b k\r\n`, `ERROR LINE TOO LONG\r\n${value}\r\nOK\r\n`);
  await c.finish();
  await server.stop();

  const small = await startServer({ maxLineLength: 16 });
  const d = await Client.open(small.port);
  await d.ask(
    "CREATE b\r\nPUT b k 0123456\r\nPUT b k 012345678\r\nGET b k\r\n",
    "OK\r\nOK\r\nERROR LINE TOO LONG\r\n0123456\r\nOK\r\n",
  );
  await d.finish();
  await small.stop();
});

test("a line split across many writes", async () => {
  const server = await startServer();
  const c = await Client.open(server.port);
  const request = "CREATE split\r\nPUT split key value\r\nGET split key\r\n";
  for (let i = 0; i < request.length; i++) {
    c.send(request[i]);
    await c.flushed();
  }
  await c.expect("OK\r\nOK\r\nvalue\r\nOK\r\n");
  // A long line in 1 KiB pieces.
  const value = "v".repeat(50_000);
  const long = `PUT split key ${value}\r\nGET split key\r\n`;
  for (let i = 0; i < long.length; i += 1024) {
    c.send(long.slice(i, i + 1024));
    await c.flushed();
  }
  await c.expect(`OK\r\n${value}\r\nOK\r\n`);
  await c.finish();
  await server.stop();
});

test("a client disconnecting mid-pipeline harms no one, and its process ends", async () => {
  const server = await startServer();
  const a = await Client.open(server.port);
  await a.ask("CREATE b\r\n", "OK\r\n");
  for (let round = 0; round < 5; round++) {
    const b = await Client.open(server.port);
    b.send("PUT b kb 1\r\nGET b kb\r\nCREATE c\r\nGET c x\r\n".repeat(5_000) + "PUT b kb");
    b.socket.destroy();
    await b.closed;
  }
  await a.ask("PUT b k 2\r\nGET b k\r\n", "OK\r\n2\r\nOK\r\n");
  const c = await Client.open(server.port);
  await c.ask("GET b k\r\n", "2\r\nOK\r\n");
  await a.finish();
  await c.finish();
  for (let i = 0; (await connectionCount(server.sup)) > 0; i++) assert.ok(i < 100_000, "connection processes end");
  await server.stop();
  assert.deepEqual(server.errors, []);
});

test("a few hundred connections at once", async () => {
  const server = await startServer();
  const n = 300;
  const clients = await Promise.all(Array.from({ length: n }, () => Client.open(server.port)));
  assert.equal(await connectionCount(server.sup), n);
  await Promise.all(clients.map(async (c, i) => {
    await c.ask(`CREATE b${i % 10}\r\n`, "OK\r\n");
    await c.ask(`PUT b${i % 10} k${i} v${i}\r\nGET b${i % 10} k${i}\r\n`, `OK\r\nv${i}\r\nOK\r\n`);
  }));
  // Each reads another one's key: every write landed in the shared buckets.
  await Promise.all(
    clients.map((c, i) => c.ask(`GET b${(i + 10) % 10} k${(i + 10) % n}\r\n`, `v${(i + 10) % n}\r\nOK\r\n`)),
  );
  await Promise.all(clients.map((c) => c.finish()));
  await server.stop();
  assert.deepEqual(server.errors, []);
});

test("a client that never reads is paused, not buffered: the server's memory stays bounded", async () => {
  const [command, args] = cliCommand(["serve", "--port", "0"]);
  const server = await spawnServe(command, args);
  try {
    const c = await Client.open(server.port);
    const value = "v".repeat(100);
    await c.ask(`CREATE b\r\nPUT b k ${value}\r\n`, "OK\r\nOK\r\n");
    // Warm up, so the baseline includes what serving costs anyway.
    await c.ask(`GET b k\r\n`.repeat(10_000), `${value}\r\nOK\r\n`.repeat(10_000));
    const before = rss(server.child.pid!);
    c.keepText = false;
    c.socket.pause();
    // 1,000,000 GETs: 9 MB of requests for 106 MB of replies, far more than the kernel's buffers hold.
    const count = 1_000_000;
    const start = c.bytes;
    c.send("GET b k\r\n".repeat(count));
    // The server stops reading: our own output then backs up in our socket.
    await waitFor(() => c.socket.writableLength > 1024 * 1024, "the server to stop reading");
    const during = rss(server.child.pid!);
    if (before !== undefined && during !== undefined) {
      assert.ok(during - before < 48 * 1024 * 1024, `Server memory grew by ${((during - before) / 1e6).toFixed(1)} MB`);
    }
    // Another client is served meanwhile.
    const other = await Client.open(server.port);
    await other.ask("GET b k\r\n", `${value}\r\nOK\r\n`);
    await other.finish();
    // Reading again, every reply arrives.
    c.socket.resume();
    const expected = count * (value.length + 6);
    await c.until(() => c.bytes - start >= expected, "all replies");
    assert.equal(c.bytes - start, expected);
    c.keepText = true;
    await c.ask("GET b nope\r\n", "\r\nOK\r\n");
    await c.finish();
  } finally {
    assert.equal(await server.stop("SIGTERM"), 0);
  }
});

test("10 MB lines again and again: the server's memory stays bounded", async () => {
  const [command, args] = cliCommand(["serve", "--port", "0"]);
  const server = await spawnServe(command, args);
  try {
    const c = await Client.open(server.port);
    await c.ask("CREATE b\r\n", "OK\r\n");
    const line = new Uint8Array(10 * 1024 * 1024).fill(0x41);
    c.send(line);
    await c.ask("\r\n", "ERROR LINE TOO LONG\r\n");
    const before = rss(server.child.pid!);
    for (let i = 0; i < 10; i++) {
      c.send(line);
      await c.ask("\nGET b k\r\n", "ERROR LINE TOO LONG\r\n\r\nOK\r\n");
    }
    const after = rss(server.child.pid!);
    if (before !== undefined && after !== undefined) {
      assert.ok(after - before < 32 * 1024 * 1024, `Server memory grew by ${((after - before) / 1e6).toFixed(1)} MB`);
    }
    await c.finish();
  } finally {
    assert.equal(await server.stop("SIGTERM"), 0);
  }
});
