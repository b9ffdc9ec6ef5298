// The KV server's processes: the application, the acceptor and its restart,
// connection processes and their sockets, the connection limit, stopping; and
// the store over the registry and buckets (`kv_store.ts`, `_bucket_ops.ts`).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Client, startServer, waitFor } from "../../_kv_server_helpers.ts";
import * as Application from "../../../lib/application.ts";
import * as Process from "../../../lib/process/process.ts";
import * as Supervisor from "../../../lib/supervisor/supervisor.ts";
import * as TaskSupervisor from "../../../lib/task_supervisor.ts";
import type { Pid } from "../../../lib/process/pid.ts";
import * as Server from "../../../lib/apps/kv_server/server.ts";
import * as KV from "../../../lib/apps/kv/kv.ts";
import * as Bucket from "../../../lib/apps/kv/bucket.ts";
import * as Registry from "../../../lib/apps/kv/registry.ts";
import * as KVSupervisor from "../../../lib/apps/kv/kv_supervisor.ts";
import { RegistryStore, registryStore } from "../../../lib/apps/kv_server/kv_store.ts";
import { BucketBatch } from "../../../lib/apps/kv_server/_bucket_ops.ts";
import { MapStore } from "../../../lib/apps/kv_server/map_store.ts";
import { canCollectGarbage, collectGarbage } from "../../../lib/net/mod.ts";
import {
  type Command,
  EMPTY_OK,
  ERROR,
  NOT_FOUND,
  OK,
  parse,
  type Reply,
  UNKNOWN_COMMAND,
} from "../../../lib/apps/kv_server/command.ts";

/** The pid of a child of the server's supervisor. */
async function child(sup: Pid, id: string): Promise<Pid> {
  const found = (await Supervisor.whichChildren(sup)).find((c) => c.id === id);
  assert.ok(found && typeof found.pid === "object", `no running child "${id}"`);
  return found.pid as Pid;
}

/** Monitors `pid`; once the monitor is set, gives a promise of its exit reason. */
async function watch(pid: Pid): Promise<{ reason: Promise<unknown> }> {
  const ready = Promise.withResolvers<void>();
  const reason = Process.run(async ({ receive }) => {
    const ref = Process.monitor(pid);
    ready.resolve();
    const down = await receive<Process.DownMessage>({ ref });
    return down.reason;
  });
  await ready.promise;
  return { reason };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

test("the kv_server application starts after kv, serves, and stopping it closes the listener and every connection", async () => {
  const started = await Application.ensureAllStarted(Server.app, { env: { port: 0 } });
  assert.deepEqual(started, ["kv", "kv_server"]);
  const { hostname, port } = Server.address()!;
  assert.equal(hostname, "127.0.0.1");
  const c = await Client.open(port);
  await c.ask("CREATE shopping\r\nPUT shopping milk 1\r\nGET shopping milk\r\n", "OK\r\nOK\r\n1\r\nOK\r\n");
  // The data lives in the kv application's buckets.
  const bucket = Registry.lookup(KV.TABLE, "shopping")!;
  assert.equal(await Bucket.get(bucket, "milk"), "1");
  await Application.stop(Server.app);
  await c.closed;
  assert.equal(Server.address(), undefined);
  assert.ok(await refused(port), "the port is released");
  // kv outlives kv_server.
  assert.equal(await Bucket.get(bucket, "milk"), "1");
  await Application.stop(KV.app);
});

test("killing the acceptor: it is restarted on the same port, and open connections live on", async () => {
  const server = await startServer();
  const c = await Client.open(server.port);
  await c.ask("CREATE b\r\nPUT b k 1\r\n", "OK\r\nOK\r\n");
  const acceptor = await child(server.sup, "KVServer.Acceptor");
  const died = await watch(acceptor);
  Process.exit(acceptor, "kill");
  assert.equal(await died.reason, "killed");
  // The supervisor restarts it: a new acceptor, listening on the same port.
  await waitFor(() => Server.address(server.sup) !== undefined, "the restart");
  let restarted: Pid | undefined;
  for (let i = 0; i < 1000 && (restarted === undefined || restarted === acceptor); i++) {
    restarted = (await Supervisor.whichChildren(server.sup)).find((x) => x.id === "KVServer.Acceptor")?.pid as Pid;
  }
  assert.notEqual(restarted, acceptor);
  assert.equal(Server.address(server.sup)!.port, server.port);
  // The open connection was not the acceptor's: it still works.
  await c.ask("GET b k\r\n", "1\r\nOK\r\n");
  const d = await Client.open(server.port);
  await d.ask("GET b k\r\n", "1\r\nOK\r\n");
  await c.finish();
  await d.finish();
  await server.stop();
  assert.ok(await refused(server.port));
});

test("one process per connection: killing it closes its socket only; a closed socket ends it normally", async () => {
  const server = await startServer();
  const tasks = await child(server.sup, "KVServer.TaskSupervisor");
  const a = await Client.open(server.port);
  await a.ask("CREATE b\r\n", "OK\r\n");
  const b = await Client.open(server.port);
  await b.ask("PUT b k 2\r\n", "OK\r\n");
  const pids = await TaskSupervisor.children(tasks);
  assert.equal(pids.length, 2);
  // Which process is `a`'s? Kill one, see which socket closes.
  const [first, second] = pids;
  const firstDied = await watch(first);
  Process.exit(first, "kill");
  assert.equal(await firstDied.reason, "killed");
  await Promise.race([a.closed, b.closed]);
  const [dead, alive] = a.isClosed ? [a, b] : [b, a];
  assert.ok(dead.isClosed && !alive.isClosed);
  await alive.ask("GET b k\r\n", "2\r\nOK\r\n");
  // A socket closed by its client: the process exits `normal`.
  const secondDied = await watch(second);
  alive.end();
  assert.equal(await secondDied.reason, "normal");
  await alive.closed;
  await waitFor(() => Process.isAlive(tasks), "the task supervisor");
  assert.deepEqual(await TaskSupervisor.children(tasks), []);
  await server.stop();
  assert.deepEqual(server.errors, []);
});

test("past maxConnections a connection is refused cleanly, and a slot frees when a connection ends", async () => {
  const server = await startServer({ maxConnections: 2 });
  const tasks = await child(server.sup, "KVServer.TaskSupervisor");
  const a = await Client.open(server.port);
  const b = await Client.open(server.port);
  await a.ask("CREATE b\r\n", "OK\r\n");
  await b.ask("GET b k\r\n", "\r\nOK\r\n");
  const c = await Client.open(server.port);
  c.send("GET b k\r\n");
  await c.closed;
  assert.equal(c.received, "ERROR TOO MANY CONNECTIONS\r\n");
  // The others are unharmed.
  await a.ask("PUT b k 1\r\n", "OK\r\n");
  await a.finish();
  // Once a's process has exited, there is room again.
  for (let i = 0; (await TaskSupervisor.children(tasks)).length > 1; i++) assert.ok(i < 10_000);
  const d = await Client.open(server.port);
  await d.ask("GET b k\r\n", "1\r\nOK\r\n");
  await b.finish();
  await d.finish();
  await server.stop();
});

test("a store failure answers ERROR and the connection goes on; other clients are unharmed", async () => {
  const prefix = "store_failure.";
  const kv = await KVSupervisor.startLink({ prefix });
  const store = registryStore(prefix);
  const errors: unknown[] = [];
  class FailingStore extends RegistryStore {
    override lookup(bucket: string): Pid | undefined {
      if (bucket === "boom") throw new Error("boom");
      return super.lookup(bucket);
    }
  }
  const names = KVSupervisor.names(prefix);
  const failing = new FailingStore(names.registry, names.table);
  const sup = await Server.startLink({ port: 0, store: failing, onError: (e) => errors.push(e) });
  const { port } = Server.address(sup)!;
  const c = await Client.open(port);
  await c.ask("CREATE b\r\nGET boom k\r\nPUT b k v\r\nGET b k\r\n", "OK\r\nERROR\r\nOK\r\nv\r\nOK\r\n");
  assert.equal(errors.length, 1);
  // A bucket that dies: requests to it answer ERROR (or NOT FOUND once the registry forgot it).
  const bucket = store.lookup("b")!;
  const died = await watch(bucket);
  Process.exit(bucket, "kill");
  await died.reason;
  c.send("GET b k\r\n");
  const reply = await c.recvLine();
  assert.ok(["ERROR\r\n", "NOT FOUND\r\n"].includes(reply), `got "${reply}"`);
  await waitFor(() => store.lookup("b") === undefined, "the registry to forget b");
  await c.ask("GET b k\r\nCREATE b\r\nGET b k\r\n", "NOT FOUND\r\nOK\r\n\r\nOK\r\n");
  await c.finish();
  await Server.stop(sup);
  await Supervisor.stop(kv);
});

test("a port in use fails the start; startLink validates its options", async () => {
  const server = await startServer();
  await assert.rejects(Server.startLink({ port: server.port, store: registryStore(server.prefix) }));
  await server.stop();
  await assert.rejects(Server.startLink({ port: 70000 }), RangeError);
  await assert.rejects(Server.startLink({ port: 0, maxConnections: 0 }), RangeError);
  await assert.rejects(Server.startLink({ port: 0, maxLineLength: -1 }), RangeError);
  await assert.rejects(Server.startLink({ port: 0, idleCollect: -1 }), /idleCollect must be a number of seconds/);
});

test("the idle collector runs under the server only when asked for and the runtime can collect", async () => {
  const ids = async (sup: Pid) => (await Supervisor.whichChildren(sup)).map((c) => c.id);
  const store = new MapStore();
  const plain = await Server.startLink({ port: 0, store });
  assert.ok(!(await ids(plain)).includes("KVServer.IdleCollector"), "off by default in the library");
  await Server.stop(plain);
  const collecting = await Server.startLink({ port: 0, store, idleCollect: 0.05 });
  assert.equal((await ids(collecting)).includes("KVServer.IdleCollector"), canCollectGarbage());
  await Server.stop(collecting);
  // Bun can always collect (and give the memory back); elsewhere only under --expose-gc.
  if (typeof (globalThis as { Bun?: unknown }).Bun !== "undefined") assert.equal(collectGarbage(), true);
});

test("Server.stop closes every connection, even idle ones and ones mid-request", async () => {
  const server = await startServer();
  const clients = await Promise.all(Array.from({ length: 20 }, () => Client.open(server.port)));
  await clients[0].ask("CREATE b\r\n", "OK\r\n");
  clients[1].send("PUT b k ");
  await server.stop();
  await Promise.all(clients.map((c) => c.closed));
  assert.ok(await refused(server.port));
});

// --- the store ---

const line = (text: string): Command => parse(new TextEncoder().encode(text));

/** Runs a batch on a bucket; resolves once applied. */
function runBatch(batch: BucketBatch, bucket: Pid): Promise<void> {
  return new Promise((resolve, reject) =>
    batch.run(bucket, { ran: resolve, failed: (_batch, error) => reject(error) })
  );
}

/** `executeMany`, as a promise. */
function executeMany(store: RegistryStore, commands: Command[], onError?: (error: unknown) => void): Promise<Reply[]> {
  return new Promise((resolve) => {
    const replies = store.executeMany(commands, resolve, onError);
    if (replies !== undefined) resolve(replies);
  });
}

test("BucketBatch applies GET/PUT/DELETE with Bucket's meaning, through every state shape", async () => {
  const bucket = await Bucket.startLink();
  const replies: Reply[] = [];
  const batch = new BucketBatch(replies);
  const commands = [
    "GET b a", // empty
    "PUT b a 1", // Single
    "GET b a",
    "PUT b a 2", // Single, overwritten
    "DELETE b x", // Single, other key
    "PUT b c 3", // Map
    "GET b c",
    "DELETE b a", // back to Single
    "GET b a",
    "DELETE b c", // empty
    "DELETE b c",
    "PUT b __proto__ constructor",
    "GET b __proto__",
  ];
  commands.forEach((text, i) => batch.add(line(text) as Extract<Command, { kind: "get" }>, i));
  await runBatch(batch, bucket);
  assert.deepEqual(replies, [EMPTY_OK, OK, "1", OK, OK, OK, "3", OK, EMPTY_OK, OK, OK, OK, "constructor"]);
  // The bucket agrees, through its own API.
  assert.equal(await Bucket.get(bucket, "__proto__"), "constructor");
  assert.equal(await Bucket.size(bucket), 1);
  await Bucket.put(bucket, "x", "y");
  const more = new BucketBatch(replies);
  more.add(line("GET b x") as Extract<Command, { kind: "get" }>, 0);
  await runBatch(more, bucket);
  assert.equal(replies[0], "y");
});

test("RegistryStore.executeMany: in order, one call per bucket, CREATE seen by later requests", async () => {
  const prefix = "execute_many.";
  const kv = await KVSupervisor.startLink({ prefix });
  const store = registryStore(prefix);
  const run = (texts: string[]) => executeMany(store, texts.map(line));
  // Nothing to ask a process: the replies come back at once.
  const never = () => assert.fail("done must not be called");
  assert.deepEqual(store.executeMany(["GET a k", "nonsense", "PUT a k v"].map(line), never), [
    NOT_FOUND,
    UNKNOWN_COMMAND,
    NOT_FOUND,
  ]);
  assert.deepEqual(
    await run([
      "CREATE a",
      "PUT a k 1",
      "CREATE b",
      "PUT b k 2",
      "GET a k",
      "GET b k",
      "DELETE a k",
      "GET a k",
      "GET c k",
    ]),
    [OK, OK, OK, OK, "1", "2", OK, EMPTY_OK, NOT_FOUND],
  );
  // Interleaved buckets in one batch: each bucket sees its own requests in order.
  const texts: string[] = [];
  const expected: Reply[] = [];
  for (let i = 0; i < 100; i++) {
    const b = i % 2 === 0 ? "a" : "b";
    texts.push(`PUT ${b} k ${i}`, `GET ${b} k`);
    expected.push(OK, String(i));
  }
  assert.deepEqual(await run(texts), expected);
  // A bucket that died answers ERROR, and the error is reported.
  const errors: unknown[] = [];
  const a = store.lookup("a")!;
  const died = await watch(a);
  Process.exit(a, "kill");
  await died.reason;
  const replies = await executeMany(store, [line("GET a k"), line("GET b k")], (e) => errors.push(e));
  assert.ok(replies[0] === ERROR || replies[0] === NOT_FOUND);
  assert.equal(replies[1], "99");
  await Supervisor.stop(kv);
  // No tree: lookups fail, which answers ERROR.
  assert.deepEqual(store.executeMany([line("GET a k")], never, () => {}), [ERROR]);
});

test("RegistryStore.executeMany, one bucket per read: answered before it returns from plain code, later from a process", async () => {
  const prefix = "execute_one.";
  const kv = await KVSupervisor.startLink({ prefix });
  const store = registryStore(prefix);
  await store.create("a");
  const never = () => assert.fail("done must not be called: the replies were returned");
  // Plain code (a socket callback): the bucket runs within the call, so the replies are returned.
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(store.executeMany([line(`PUT a k${i} ${i}`), line(`GET a k${i}`), line("GET a nope")], never), [
      OK,
      String(i),
      EMPTY_OK,
    ]);
  }
  assert.equal(await Bucket.size(store.lookup("a")!), 50);
  // Inside a process the bucket cannot run until that process's turn ends: done gets the replies.
  const fromProcess = await Process.run(() =>
    new Promise<{ returned: Reply[] | undefined; replies: Reply[] }>((resolve) => {
      // Not const: the callback may read it before executeMany returns (a const would throw there).
      // deno-lint-ignore prefer-const
      let returned: Reply[] | undefined;
      returned = store.executeMany(
        [line("GET a k7"), line("DELETE a k7"), line("GET a k7")],
        (replies) => resolve({ returned, replies }),
      );
    })
  );
  assert.equal(fromProcess.returned, undefined);
  assert.deepEqual(fromProcess.replies, ["7", OK, EMPTY_OK]);
  // A bucket that died before its name was dropped: ERROR for each request, and the error is reported.
  const a = store.lookup("a")!;
  Process.exit(a, "kill");
  const errors: unknown[] = [];
  const replies = await executeMany(store, [line("GET a k1"), line("PUT a k1 x")], (e) => errors.push(e));
  assert.deepEqual(replies, [ERROR, ERROR]);
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as { reason?: unknown }).reason, "noproc");
  await waitFor(() => store.lookup("a") === undefined, "the registry to drop the dead bucket");
  await Supervisor.stop(kv);
});
