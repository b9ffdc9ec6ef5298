// The KV tree's durability: the record format, replay through the tree,
// killed buckets staying dead, a failing log rebuilding from the file, a full disk.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Application, DiskLog, EventManager, type Pid, Process, Supervisor } from "../../../mod.ts";
import * as KVLog from "../../../lib/apps/kv/kv_log.ts";
import * as KVSupervisor from "../../../lib/apps/kv/kv_supervisor.ts";
import * as Registry from "../../../lib/apps/kv/registry.ts";
import * as Bucket from "../../../lib/apps/kv/bucket.ts";
import * as Server from "../../../lib/apps/kv_server/server.ts";
import { registryStore } from "../../../lib/apps/kv_server/kv_store.ts";
import { until } from "../../_helpers.ts";

const ALL_BYTES = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
let trees = 0;

describe("KV log records", () => {
  it("round-trip every record type, every byte, empty strings, __proto__ and wide chars", async () => {
    const records: KVLog.LogRecord[] = [];
    for (const s of ["", "__proto__", ALL_BYTES, "constructor", "\u20ac wide \ud83d\ude00", "x".repeat(300)]) {
      records.push({ type: "create", bucket: s });
      records.push({ type: "put", bucket: s, key: s, value: s });
      records.push({ type: "put", bucket: "b", key: "", value: s });
      records.push({ type: "delete", bucket: s, key: s });
      records.push({ type: "drop", bucket: s });
    }
    for (const r of records) assert.deepEqual(KVLog.decode(KVLog.encode(r)), r);
    // Through a log and back.
    const fs = new DiskLog.MemoryFileSystem();
    const [, log] = await DiskLog.open({ name: "kv_round_trip", dir: "/d", fs });
    for (const r of records) DiskLog.alog(log, KVLog.encode(r));
    await DiskLog.close(log);
    const [, again] = await DiskLog.open({ name: "kv_round_trip", dir: "/d", fs });
    const back: KVLog.LogRecord[] = [];
    for (let c = await DiskLog.chunk(again); c !== "eof"; c = await DiskLog.chunk(again, c[0])) {
      for (const p of c[1]) back.push(KVLog.decode(p));
    }
    assert.deepEqual(back, records);
    await DiskLog.close(again);
  });

  it("a PUT of a 16-byte key and value into bucket b is 42 bytes framed", () => {
    const payload = KVLog.encode({ type: "put", bucket: "b", key: "k".repeat(16), value: "v".repeat(16) });
    assert.equal(payload.length + 1 + 4, 42);
  });

  it("rejects payloads that are not records", () => {
    assert.throws(() => KVLog.decode(new Uint8Array([9, 0])), KVLog.BadRecord);
    assert.throws(() => KVLog.decode(new Uint8Array([2, 5, 1])), KVLog.BadRecord);
    assert.throws(() => KVLog.decode(new Uint8Array([1, 0, 0])), /bytes after/);
  });
});

/** The bucket `name` once the registry has restored it in place of `old`. */
async function restored(table: string, name: string, old: Pid): Promise<Pid> {
  await until(
    () => {
      const now = Registry.lookup(table, name);
      return now !== undefined && now !== old;
    },
    `bucket ${name} restored`,
    5000,
  );
  return Registry.lookup(table, name)!;
}

/** A durable tree on an in-memory disk. */
async function durableTree(
  fs: DiskLog.MemoryFileSystem,
  sync: DiskLog.SyncPolicy = "always",
  prefix?: string,
  fsync?: DiskLog.FsyncMode,
) {
  prefix ??= `durable${trees++}.`;
  const sup = await KVSupervisor.startLink({ prefix, log: { dir: "/data", sync, fs, ...(fsync ? { fsync } : {}) } });
  return { sup, prefix, names: KVSupervisor.names(prefix) };
}

async function contents(table: string): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of ["shopping", "__proto__", ALL_BYTES, "killed", "other"]) {
    const pid = Registry.lookup(table, name);
    if (pid === undefined) continue;
    const row: Record<string, string> = {};
    for (const key of ["milk", "eggs", "__proto__", ALL_BYTES]) {
      const v = await Bucket.get(pid, key);
      if (v !== undefined) Object.defineProperty(row, key, { value: v, enumerable: true });
    }
    Object.defineProperty(out, name, { value: row, enumerable: true });
  }
  return out;
}

/** Resolves with the next `exit` event of `name` from the tree's event manager. */
function exitOf(events: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    EventManager.addHandler(events, {
      init: () => ["ok", null],
      handleEvent: (e: Registry.Event, s: null) => {
        if (e[0] === "exit" && e[1] === name) resolve();
        return ["ok", s];
      },
    }, undefined);
  });
}

describe("durable KV tree", () => {
  it("restores every bucket and key after a restart; a killed bucket stays dead", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs);
    const { registry, table } = t.names;
    const shopping = await Registry.create(registry, "shopping");
    await Bucket.put(shopping, "milk", "1");
    await Bucket.put(shopping, "eggs", "12");
    await Bucket.del(shopping, "eggs");
    const proto = await Registry.create(registry, "__proto__");
    await Bucket.put(proto, "__proto__", ALL_BYTES);
    await Bucket.put(await Registry.create(registry, ALL_BYTES), ALL_BYTES, "");
    const killed = await Registry.create(registry, "killed");
    await Bucket.put(killed, "milk", "gone");
    const exited = exitOf(t.names.events, "killed");
    Process.exit(killed, "kill");
    await exited;
    const before = await contents(table);
    assert.equal(before.killed, undefined);
    await Supervisor.stop(t.sup);

    const again = await durableTree(fs, "always", t.prefix);
    assert.deepEqual(await contents(table), before);
    assert.equal(Registry.lookup(table, "killed"), undefined);
    // A bucket re-created under a killed name starts empty.
    const fresh = await Registry.create(registry, "killed");
    assert.equal(await Bucket.get(fresh, "milk"), undefined);
    await Supervisor.stop(again.sup);
  });

  it("restored buckets log under their own names; one killed after a restore stays dead", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs);
    const { registry, table } = t.names;
    for (const name of ["shopping", "__proto__", "killed", "other"]) {
      await Bucket.put(await Registry.create(registry, name), "milk", name);
    }
    await Supervisor.stop(t.sup);

    const second = await durableTree(fs, "always", t.prefix);
    // Restored in bulk: each knows its name and log without an entry of its own.
    for (const name of ["shopping", "__proto__", "killed", "other"]) {
      const pid = Registry.lookup(table, name)!;
      assert.equal(KVLog.durableOf(pid)?.name, name);
      assert.equal(KVLog.durableOf(pid)?.log, DiskLog.whereis(t.names.log));
      // ...and is labelled as a created bucket is (the Observer shows `bucket "shopping"`).
      assert.deepEqual(Process.getLabel(pid), ["bucket", name]);
    }
    await Bucket.put(Registry.lookup(table, "shopping")!, "eggs", "12");
    await Bucket.del(Registry.lookup(table, "other")!, "milk");
    const killed = Registry.lookup(table, "killed")!;
    const exited = exitOf(t.names.events, "killed");
    Process.exit(killed, "kill");
    await exited;
    assert.equal(KVLog.durableOf(killed), undefined);
    await Supervisor.stop(second.sup);

    const third = await durableTree(fs, "always", t.prefix);
    assert.deepEqual(await contents(table), {
      shopping: { milk: "shopping", eggs: "12" },
      ["__proto__"]: { milk: "__proto__" },
      other: {},
    });
    await Supervisor.stop(third.sup);
  });

  it("a failed fsync crashes the log; the tree rebuilds the buckets from the file", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs, "always");
    const shopping = await Registry.create(t.names.registry, "shopping");
    await Bucket.put(shopping, "milk", "1");
    const oldLog = DiskLog.whereis(t.names.log)!;
    fs.failFsync = true;
    await assert.rejects(Bucket.put(shopping, "eggs", "unacknowledged"), DiskLog.DiskLogError);
    // The log, the buckets and the registry restart; the registry restores from the file.
    await until(
      () => DiskLog.whereis(t.names.log) !== undefined && DiskLog.whereis(t.names.log) !== oldLog,
      "the log restarts",
      5000,
    );
    assert.equal(await Bucket.get(await restored(t.names.table, "shopping", shopping), "milk"), "1");
    await Supervisor.stop(t.sup);
  });

  it("a bucket supervisor crash loses nothing: the registry restores from the log", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs, "everysec");
    const shopping = await Registry.create(t.names.registry, "shopping");
    await Bucket.put(shopping, "milk", "1");
    const old = Process.whereis(t.names.buckets)!;
    Process.exit(old, "kill");
    assert.equal(await Bucket.get(await restored(t.names.table, "shopping", shopping), "milk"), "1");
    await Supervisor.stop(t.sup);
  });

  it("refuses to start on a damaged log, naming file and offset", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs);
    const b = await Registry.create(t.names.registry, "shopping");
    for (let i = 0; i < 5; i++) await Bucket.put(b, `k${i}`, "v");
    const file = DiskLog.info(t.names.log).files[0].path;
    await Supervisor.stop(t.sup);
    fs.flipByte(file, 30);
    await assert.rejects(
      KVSupervisor.startLink({ prefix: t.prefix, log: { dir: "/data", fs } }),
      (e: unknown) => String((e as Error).message ?? e).length > 0,
    );
    assert.equal(Process.whereis(t.names.supervisor), undefined);
    const again = await KVSupervisor.startLink({
      prefix: t.prefix,
      log: { dir: "/data", fs, repair: "truncate", onRepaired: () => {} },
    });
    await Supervisor.stop(again);
  });
});

/** Sends lines on one connection and resolves with the replies once `count` replies came. */
function ask(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let out = "";
    socket.on("data", (c) => out += c.toString("latin1"));
    socket.on("error", reject);
    socket.on("close", () => resolve(out));
    socket.end(lines.map((l) => l + "\r\n").join(""));
  });
}

describe("durable KV server", () => {
  it("under everysec a full disk makes writes answer ERROR while reads go on, and writes resume", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs, "everysec");
    const server = await Server.startLink({ port: 0, store: registryStore(t.prefix), onError: () => {} });
    const { port } = Server.address(server)!;
    assert.equal(await ask(port, ["CREATE s", "PUT s milk 1"]), "OK\r\nOK\r\n");
    fs.capacity = fs.size(DiskLog.info(t.names.log).files[0].path) + 2;
    const log = DiskLog.whereis(t.names.log)!;
    // The write that fills the disk is stuck; the log turns full.
    const stuck = ask(port, ["PUT s eggs 12"]);
    for (let i = 0; !log.full; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      assert.ok(i < 2000);
    }
    assert.equal(await ask(port, ["PUT s milk 2", "GET s milk", "CREATE t"]), "ERROR\r\n1\r\nOK\r\nERROR\r\n");
    assert.equal(await stuck, "ERROR\r\n", "not acknowledged (it reaches the disk once space returns)");
    fs.capacity = Infinity;
    for (let i = 0; !DiskLog.isWritable(log); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(i < 1000, "writes resume");
    }
    assert.equal(await ask(port, ["PUT s milk 3", "GET s milk", "GET s eggs"]), "OK\r\n3\r\nOK\r\n12\r\nOK\r\n");
    await Server.stop(server);
    await Supervisor.stop(t.sup);
  });

  it("under always no reply, reads included, leaves before the fsync that covers what it could observe", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const held: (() => void)[] = [];
    const t = await durableTree(fs, "always", undefined, "thread");
    const server = await Server.startLink({ port: 0, store: registryStore(t.prefix), onError: () => {} });
    const { port } = Server.address(server)!;
    assert.equal(await ask(port, ["CREATE s"]), "OK\r\n");
    fs.defer = (fn) => held.push(fn); // fdatasync completes only when the test says
    const writer = new Collector(port), reader = new Collector(port);
    await Promise.all([writer.ready, reader.ready]);
    writer.socket.write("PUT s k 1\r\n");
    for (let i = 0; held.length === 0; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(i < 100_000, "the fsync starts");
    }
    reader.socket.write("GET s k\r\n");
    // Give the server many turns to (wrongly) answer.
    for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writer.received, "", "no acknowledgement before the fsync");
    assert.equal(reader.received, "", "no read of an unsynced write before the fsync");
    fs.defer = (fn) => queueMicrotask(fn);
    for (const fn of held.splice(0)) fn();
    await writer.until("OK\r\n");
    await reader.until("1\r\nOK\r\n");
    writer.socket.destroy();
    reader.socket.destroy();
    await Server.stop(server);
    await Supervisor.stop(t.sup);
  });
});

describe("a durable KV tree under always, fsync inline (the default)", () => {
  it("syncs on the server's thread: what a reply acknowledged survives a power loss at that moment", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const t = await durableTree(fs, "always");
    assert.equal(DiskLog.info(t.names.log).fsync, "inline");
    const server = await Server.startLink({ port: 0, store: registryStore(t.prefix), onError: () => {} });
    const { port } = Server.address(server)!;
    const client = new Collector(port);
    await client.ready;
    // The moment the first reply bytes arrive, the power goes: what they acknowledged must be on the disk.
    let atAck: DiskLog.MemoryFileSystem | undefined;
    let acked = 0;
    client.socket.once("data", (c) => {
      atAck = fs.powerLoss();
      acked = c.toString("latin1").split("OK\r\n").length - 1;
    });
    client.socket.write("CREATE s\r\nPUT s k 1\r\nPUT s j 2\r\n");
    await client.until("OK\r\nOK\r\nOK\r\n");
    client.socket.destroy();
    await Server.stop(server);
    await Supervisor.stop(t.sup);
    assert.ok(acked >= 1);
    const again = await durableTree(atAck!, "always", t.prefix);
    await until(() => Registry.lookup(again.names.table, "s") !== undefined, "bucket s restored", 5000);
    const s = Registry.lookup(again.names.table, "s")!;
    if (acked >= 2) assert.equal(await Bucket.get(s, "k"), "1");
    if (acked >= 3) assert.equal(await Bucket.get(s, "j"), "2");
    await Supervisor.stop(again.sup);
  });
});

class Collector {
  readonly socket: net.Socket;
  readonly ready: Promise<void>;
  received = "";
  #waiters: (() => void)[] = [];
  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.ready = new Promise((resolve) => this.socket.once("connect", () => resolve()));
    this.socket.on("data", (c) => {
      this.received += c.toString("latin1");
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  async until(text: string): Promise<void> {
    while (this.received !== text) {
      assert.ok(text.startsWith(this.received), `received ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

describe("the kv application's durability env", () => {
  it("dir, appendfsync and compactAt: the log compacts on growth, and a restart finds every key", {
    timeout: 120_000,
  }, async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const KV = await import("../../../lib/apps/kv/kv.ts");
    const dir = mkdtempSync(`${tmpdir()}/kv-env-`);
    const env = { prefix: "kv_env.", dir, appendfsync: "no" as const, compactAt: 4096 };
    try {
      await KV.start({ env });
      const names = KVSupervisor.names("kv_env.");
      const bucket = await Registry.create(names.registry, "b");
      // Writes until the log has grown past compactAt, then waits for the worker (on Deno its
      // module may be type-checked first, which takes a while).
      for (let i = 0; DiskLog.info(names.log).compactions === 0; i++) {
        if (i < 2000) await Bucket.put(bucket, `k${i % 50}`, `v${i}`);
        else await new Promise((resolve) => setTimeout(resolve, 5));
        assert.ok(i < 30_000, "compacts on growth");
      }
      assert.equal(DiskLog.info(names.log).policy, "no");
      const before = await Bucket.get(bucket, "k7");
      await KV.stop();
      await KV.start({ env });
      assert.equal(await Bucket.get(Registry.lookup(names.table, "b")!, "k7"), before);
      await KV.stop();
    } finally {
      if (Application.isStarted(KV.app)) await KV.stop();
      // The env given to start stays with the loaded application: forget it, so later starts get the defaults.
      Application.unload(KV.app);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
