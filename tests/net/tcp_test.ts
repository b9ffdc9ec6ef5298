// The TCP adapters and the protocol over real sockets on 127.0.0.1. Every
// test runs against this runtime's native adapter and the node:net one; the
// client side is plain node:net, so the adapters are not tested by themselves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../lib/net/runtime.ts";
import {
  connect,
  DEFAULT_HIGH_WATER_MARK,
  listen,
  type TcpAcceptor,
  type TcpAdapter,
  type TcpConnection,
  type TcpListener,
} from "../../lib/net/tcp.ts";
import { adapter as nodeAdapter } from "../../lib/net/_node.ts";
import type { KvStore } from "../../lib/apps/kv_server/command.ts";
import { MapStore } from "../../lib/apps/kv_server/map_store.ts";
import { serveConnection, type ServeConnectionOptions } from "../../lib/apps/kv_server/serve_connection.ts";
import { Client, waitFor } from "../_kv_server_helpers.ts";

const native: TcpAdapter | undefined = runtime === "bun"
  ? (await import("../../lib/net/_bun.ts")).adapter
  : runtime === "deno"
  ? (await import("../../lib/net/_deno.ts")).adapter
  : undefined;
const adapters: [string, TcpAdapter][] = native ? [[runtime, native], ["node", nodeAdapter]] : [["node", nodeAdapter]];

/** A protocol server on the given adapter; `connections` counts open ones. */
interface TestServer {
  listener: TcpListener;
  port: number;
  errors: unknown[];
  conns: SpyConnection[];
  close(): Promise<void>;
}

/** Records what the protocol layer asks of its connection. */
class SpyConnection implements TcpConnection {
  pauses = 0;
  resumes = 0;
  maxBuffered = 0;
  closedEvents = 0;
  constructor(readonly inner: TcpConnection) {}
  write(bytes: Uint8Array, length?: number): boolean {
    const ok = this.inner.write(bytes, length);
    this.maxBuffered = Math.max(this.maxBuffered, this.inner.bufferedAmount);
    return ok;
  }
  writeOwned(bytes: Uint8Array, length?: number): boolean {
    const ok = this.inner.writeOwned(bytes, length);
    this.maxBuffered = Math.max(this.maxBuffered, this.inner.bufferedAmount);
    return ok;
  }
  close(): void {
    this.inner.close();
  }
  closeWrite(): void {
    this.inner.closeWrite();
  }
  abort(): void {
    this.inner.abort();
  }
  pause(): void {
    this.pauses++;
    this.inner.pause();
  }
  resume(): void {
    this.resumes++;
    this.inner.resume();
  }
  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }
  get remotePort(): number {
    return this.inner.remotePort;
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
}

async function startServer(
  adapter: TcpAdapter,
  store: KvStore<unknown> = new MapStore() as KvStore<unknown>,
  options: ServeConnectionOptions = {},
): Promise<TestServer> {
  const errors: unknown[] = [];
  const conns: SpyConnection[] = [];
  const accept: TcpAcceptor = (conn) => {
    const spy = new SpyConnection(conn);
    conns.push(spy);
    const handler = serveConnection(spy, store, { onError: (e) => errors.push(e), ...options });
    return {
      data: (bytes) => handler.data(bytes),
      drain: () => handler.drain?.(),
      end: () => handler.end?.(),
      close: (error) => {
        spy.closedEvents++;
        handler.close?.(error);
      },
    };
  };
  const listener = await adapter.listen({
    hostname: "127.0.0.1",
    port: 0,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
    lowWaterMark: 0,
    onError: (e) => errors.push(e),
  }, accept);
  return { listener, port: listener.port, errors, conns, close: () => listener.close() };
}

function adapterTest(name: string, fn: (adapter: TcpAdapter) => Promise<void>): void {
  for (const [adapterName, adapter] of adapters) {
    test(`[${adapterName}] ${name}`, () => fn(adapter));
  }
}

adapterTest("every row of the protocol table", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  await c.ask("GET shopping milk\r\n", "NOT FOUND\r\n");
  await c.ask("PUT shopping milk 1\r\n", "NOT FOUND\r\n");
  await c.ask("DELETE shopping milk\r\n", "NOT FOUND\r\n");
  await c.ask("CREATE shopping\r\n", "OK\r\n");
  await c.ask("CREATE shopping\r\n", "OK\r\n");
  await c.ask("GET shopping milk\r\n", "\r\nOK\r\n");
  await c.ask("PUT shopping milk 1\r\n", "OK\r\n");
  await c.ask("GET shopping milk\r\n", "1\r\nOK\r\n");
  await c.ask("PUT shopping milk 2\n", "OK\r\n");
  await c.ask("GET shopping milk\n", "2\r\nOK\r\n");
  await c.ask("DELETE shopping milk\r\n", "OK\r\n");
  await c.ask("DELETE shopping milk\r\n", "OK\r\n");
  await c.ask("GET shopping milk\r\n", "\r\nOK\r\n");
  for (
    const bad of [
      "UNKNOWN shopping",
      "GET b",
      "PUT b k",
      "PUT b k 1 2",
      "CREATE a b",
      "CREATE",
      "",
      "   ",
      "create shopping",
      "Get b k",
    ]
  ) {
    await c.ask(`${bad}\r\n`, "UNKNOWN COMMAND\r\n");
  }
  c.end();
  await c.closed;
  await server.close();
  assert.deepEqual(server.errors, []);
});

adapterTest("the pipelined example, then half-close: replies in order, then the server closes", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  c.end("CREATE a\r\nPUT a x 1\r\nGET a x\r\nGET zz x\r\nGET a");
  await c.closed;
  assert.equal(c.received, "OK\r\nOK\r\n1\r\nOK\r\nNOT FOUND\r\n");
  await server.close();
});

adapterTest("whitespace rules", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  await c.ask("\t CREATE \t shopping \r\n", "OK\r\n");
  await c.ask("  PUT\tshopping   tab\t 9  \r\n", "OK\r\n");
  await c.ask("GET shopping tab\r\n", "9\r\nOK\r\n");
  await c.ask("\vGET\fshopping\r\rtab\r\r\n", "9\r\nOK\r\n");
  await c.ask("\r\n", "UNKNOWN COMMAND\r\n");
  await c.ask("   \r\n", "UNKNOWN COMMAND\r\n");
  await c.ask("\n", "UNKNOWN COMMAND\r\n");
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("invalid UTF-8 round-trips byte for byte", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  await c.ask("CREATE \xff\xfe\r\n", "OK\r\n");
  await c.ask("PUT \xff\xfe \xff\xfe \xfe\xff\x80\xc3(\r\n", "OK\r\n");
  await c.ask("GET \xff\xfe \xff\xfe\r\n", "\xfe\xff\x80\xc3(\r\nOK\r\n");
  await c.ask("GET \xff\xfe \xff\r\n", "\r\nOK\r\n");
  await c.ask("GET \xff \xff\xfe\r\n", "NOT FOUND\r\n");
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("__proto__, constructor and friends are ordinary names", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  for (const name of ["__proto__", "constructor", "hasOwnProperty", "toString"]) {
    await c.ask(`GET ${name} ${name}\r\n`, "NOT FOUND\r\n");
    await c.ask(`CREATE ${name}\r\n`, "OK\r\n");
    await c.ask(`PUT ${name} __proto__ ${name}\r\n`, "OK\r\n");
    await c.ask(`GET ${name} __proto__\r\n`, `${name}\r\nOK\r\n`);
    await c.ask(`GET ${name} constructor\r\n`, "\r\nOK\r\n");
  }
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("a 10 MB line answers ERROR LINE TOO LONG once and the connection goes on", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  await c.ask("CREATE b\r\n", "OK\r\n");
  c.send(new Uint8Array(10 * 1024 * 1024).fill(0x41));
  c.send("\r\nPUT b k v\r\n");
  await c.expect("ERROR LINE TOO LONG\r\nOK\r\n");
  await c.ask("GET b k\r\n", "v\r\nOK\r\n");
  // A line of exactly 64 KiB is still fine.
  const value = "x".repeat(64 * 1024 - "PUT b k ".length);
  await c.ask(`PUT b k ${value}\r\n`, "OK\r\n");
  await c.ask("GET b k\r\n", `${value}\r\nOK\r\n`);
  await c.ask(`PUT b k ${value}y\r\nGET b k\r\n`, `ERROR LINE TOO LONG\r\n${value}\r\nOK\r\n`);
  assert.equal(c.received, "");
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("a line split across many writes", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  const request = "CREATE split\r\nPUT split key value\r\nGET split key\r\n";
  for (let i = 0; i < request.length; i++) {
    c.send(request[i]);
    // Let some writes go out alone, so the server really sees small chunks.
    if (i % 7 === 0) await new Promise<void>((resolve) => c.socket.write("", () => resolve()));
  }
  await c.expect("OK\r\nOK\r\nvalue\r\nOK\r\n");
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("a client disconnecting mid-pipeline harms no one", async (adapter) => {
  const server = await startServer(adapter);
  const a = await Client.open(server.port);
  await a.ask("CREATE b\r\n", "OK\r\n");
  const b = await Client.open(server.port);
  b.send("PUT b kb 1\r\nGET b kb\r\n".repeat(10_000) + "PUT b kb");
  b.socket.destroy();
  await b.closed;
  await a.ask("PUT b k 2\r\nGET b k\r\n", "OK\r\n2\r\nOK\r\n");
  const c = await Client.open(server.port);
  await c.ask("GET b k\r\n", "2\r\nOK\r\n");
  a.end();
  c.end();
  await Promise.all([a.closed, c.closed]);
  await server.close();
  assert.deepEqual(server.errors, []);
});

adapterTest("a client that never reads is paused, not buffered without limit", async (adapter) => {
  const server = await startServer(adapter);
  const c = await Client.open(server.port);
  c.keepText = false;
  const value = "v".repeat(1000);
  c.send(`CREATE b\r\nPUT b k ${value}\r\n`);
  await c.until(() => c.bytes === 8, "the first replies");
  c.socket.pause();
  // 20 MB of replies to 160 KB of requests, more than the kernel buffers hold.
  const count = 20_000;
  c.send("GET b k\r\n".repeat(count));
  const conn = server.conns[0];
  await waitFor(() => conn.pauses > 0, "the server to pause the connection");
  assert.ok(
    conn.maxBuffered <= DEFAULT_HIGH_WATER_MARK + 256 * 1024,
    `Expected bounded output, got ${conn.maxBuffered} bytes queued`,
  );
  c.socket.resume();
  const expected = 8 + count * (value.length + 6);
  await c.until(() => c.bytes >= expected, "all replies");
  assert.equal(c.bytes, expected);
  assert.ok(conn.resumes > 0);
  c.keepText = true;
  await c.ask("GET b nope\r\n", "\r\nOK\r\n");
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("a few hundred concurrent connections", async (adapter) => {
  const server = await startServer(adapter);
  const n = 300;
  const clients = await Promise.all(Array.from({ length: n }, () => Client.open(server.port)));
  await Promise.all(clients.map(async (c, i) => {
    await c.ask(`CREATE b${i % 10}\r\n`, "OK\r\n");
    await c.ask(`PUT b${i % 10} k${i} v${i}\r\nGET b${i % 10} k${i}\r\n`, `OK\r\nv${i}\r\nOK\r\n`);
  }));
  // Each client reads another one's key: all writes landed in the shared store.
  await Promise.all(clients.map((c, i) => c.ask(`GET b${i % 10} k${(i + 10) % n}\r\n`, `v${(i + 10) % n}\r\nOK\r\n`)));
  for (const c of clients) c.end();
  await Promise.all(clients.map((c) => c.closed));
  await waitFor(() => server.conns.every((conn) => conn.closedEvents === 1), "every close event");
  await server.close();
});

adapterTest("a failing store answers ERROR and the connection goes on", async (adapter) => {
  const store = new MapStore();
  const failing: KvStore<Map<string, string>> = {
    create: (bucket) => store.create(bucket),
    lookup: (bucket) => store.lookup(bucket),
    get: (bucket, key) => {
      if (key === "boom") throw new Error("boom");
      if (key === "reject") return Promise.reject(new Error("rejected"));
      return store.get(bucket, key);
    },
    put: (bucket, key, value) => store.put(bucket, key, value),
    delete: (bucket, key) => store.delete(bucket, key),
  };
  const server = await startServer(adapter, failing as KvStore<unknown>);
  const c = await Client.open(server.port);
  await c.ask(
    "CREATE b\r\nGET b boom\r\nPUT b k v\r\nGET b reject\r\nGET b k\r\n",
    "OK\r\nERROR\r\nOK\r\nERROR\r\nv\r\nOK\r\n",
  );
  assert.equal(server.errors.length, 2);
  c.end();
  await c.closed;
  await server.close();
});

adapterTest("an asynchronous store: pipelined replies keep request order, CREATE comes first", async (adapter) => {
  // Each answer settles after a delay decided by the key, so later requests often settle first.
  const delay = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
  const data = new Map<string, Map<string, string>>();
  const store: KvStore<Map<string, string>> = {
    create: (bucket) => delay(5, undefined).then(() => void (data.has(bucket) || data.set(bucket, new Map()))),
    lookup: (bucket) => data.get(bucket),
    get: (bucket, key) => delay(key.length % 3, bucket.get(key)),
    put: (bucket, key, value) => {
      bucket.set(key, value);
      return delay(3 - key.length % 3, undefined);
    },
    delete: (bucket, key) => delay(1, void bucket.delete(key)),
  };
  const server = await startServer(adapter, store as KvStore<unknown>);
  const c = await Client.open(server.port);
  let request = "CREATE a\r\n";
  let reply = "OK\r\n";
  for (let i = 0; i < 50; i++) {
    const key = "k".repeat(i % 5 + 1);
    request += `PUT a ${key} ${i}\r\nGET a ${key}\r\nGET zz ${key}\r\nbad\r\n`;
    reply += `OK\r\n${i}\r\nOK\r\nNOT FOUND\r\nUNKNOWN COMMAND\r\n`;
  }
  request += "DELETE a k\r\nGET a k\r\n";
  reply += "OK\r\n\r\nOK\r\n";
  c.end(request);
  await c.closed;
  assert.equal(c.received, reply);
  await server.close();
});

adapterTest("raw adapter: echo, pause and resume, half-close, close", async (adapter) => {
  let serverConn: TcpConnection | undefined;
  const events: string[] = [];
  const listener = await adapter.listen({
    hostname: "127.0.0.1",
    port: 0,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
    lowWaterMark: 0,
    onError: (e) => events.push(`error ${e}`),
  }, (conn) => {
    serverConn = conn;
    assert.equal(conn.remoteAddress, "127.0.0.1");
    return {
      data: (bytes) => conn.write(bytes),
      end: () => {
        events.push("end");
        conn.write(new TextEncoder().encode("bye"));
        conn.close();
      },
      close: () => events.push("close"),
    };
  });
  const c = await Client.open(listener.port);
  await c.ask("hello", "hello");
  serverConn!.pause();
  c.send("while paused");
  serverConn!.resume();
  await c.expect("while paused");
  c.end();
  await c.closed;
  assert.equal(c.received, "bye");
  await waitFor(() => events.includes("close"), "the close event");
  assert.deepEqual(events, ["end", "close"]);
  assert.equal(serverConn!.closed, true);
  // Writes after close are dropped, not thrown.
  assert.equal(serverConn!.write(new Uint8Array(1)), true);
  await listener.close();
});

adapterTest(
  "raw adapter: write(bytes, length) sends the first length bytes only, and the caller may reuse the buffer",
  async (adapter) => {
    const listener = await adapter.listen({
      hostname: "127.0.0.1",
      port: 0,
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
      lowWaterMark: 0,
      onError: () => {},
    }, (conn) => ({
      data: (bytes) => {
        // One buffer, reused: "<n>:" then garbage past the length.
        const buffer = new TextEncoder().encode(`${bytes.length}:XXXXXXXX`);
        conn.write(buffer, String(bytes.length).length + 1);
        buffer.fill(0x21);
        conn.write(buffer, 2);
      },
    }));
    const c = await Client.open(listener.port);
    await c.ask("hello", "5:!!");
    await c.ask("ab", "2:!!");
    c.end();
    await c.closed;
    await listener.close();
  },
);

adapterTest("raw adapter: a throwing handler aborts its connection only", async (adapter) => {
  const errors: unknown[] = [];
  const listener = await adapter.listen({
    hostname: "127.0.0.1",
    port: 0,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
    lowWaterMark: 0,
    onError: (e) => errors.push(e),
  }, (conn) => ({
    data(bytes) {
      if (bytes[0] === 0x21) throw new Error("bang");
      conn.write(bytes);
    },
  }));
  const bad = await Client.open(listener.port);
  const good = await Client.open(listener.port);
  bad.send("!");
  await bad.closed;
  await good.ask("still here", "still here");
  assert.equal(errors.length, 1);
  good.socket.destroy();
  await listener.close();
});

adapterTest("raw adapter: listener close aborts open connections and frees the port", async (adapter) => {
  const closes: unknown[] = [];
  const listener = await adapter.listen({
    hostname: "127.0.0.1",
    port: 0,
    highWaterMark: DEFAULT_HIGH_WATER_MARK,
    lowWaterMark: 0,
    onError: () => {},
  }, (conn) => ({ data: (bytes) => conn.write(bytes), close: (e) => closes.push(e) }));
  const c = await Client.open(listener.port);
  await c.ask("x", "x");
  await listener.close();
  await c.closed;
  await waitFor(() => closes.length === 1, "the close event");
  await assert.rejects(Client.open(listener.port));
});

test("listen() and connect() use this runtime's adapter", async () => {
  const server = await listen({ port: 0 }, (conn) => ({ data: (bytes) => conn.write(bytes) }));
  const received: number[] = [];
  const done = Promise.withResolvers<void>();
  const client = await connect({ port: server.port }, () => ({
    data(bytes) {
      received.push(...bytes);
      if (received.length === 3) done.resolve();
    },
  }));
  const buffer = new Uint8Array([1, 2, 3]);
  client.write(buffer);
  buffer.fill(9); // The connection must not keep a reference to written bytes.
  await done.promise;
  assert.deepEqual(received, [1, 2, 3]);
  client.close();
  await server.close();
});

test("listen() rejects bad ports", async () => {
  await assert.rejects(listen({ port: 70000 }, () => ({ data() {} })), RangeError);
  await assert.rejects(listen({ port: -1 }, () => ({ data() {} })), RangeError);
});
