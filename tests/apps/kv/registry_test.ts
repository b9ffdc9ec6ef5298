import { test } from "node:test";
import assert from "node:assert/strict";
import * as KV from "../../../lib/apps/kv/mod.ts";
import { _, DynamicSupervisor, Ets, EventManager, GenServer, Process, Supervisor, Testing } from "../../../mod.ts";
import type { Pid } from "../../../mod.ts";

const { Bucket, BucketSupervisor, Registry } = KV;
const { assertReceive, refuteReceive, startSupervised, testProcess, testSupervisor } = Testing;

// ---------------------------------------------------------------- setup

/** Sends every event to `parent`: the seeds' `Forwarder` handler. */
const Forwarder: EventManager.Handler<KV.Registry.Event, Pid> = {
  handleEvent(event, parent) {
    Process.send(parent, event);
    return parent;
  },
};

let unique = 0;

interface Ctx {
  registry: string;
  table: string;
  buckets: Pid;
  events: Pid;
}

/**
 * The seeds' setup, supervised: a table owner (standing in for KV.Supervisor,
 * started first so it stops last), a bucket supervisor, an event manager
 * forwarding events to the test process, and the registry (named, so that its
 * restarts keep the name). Must run inside the test process.
 */
async function setup(t: Testing.TestContextLike): Promise<Ctx> {
  const id = unique++;
  const table = `kv_registry_test.table${id}`;
  const registry = `kv_registry_test.registry${id}`;
  await startSupervised(t, {
    id: "table",
    start: () =>
      GenServer.startLink({
        init: () => {
          Ets.new(table, { named: true, access: "public", readConcurrency: true });
          return ["ok", null];
        },
      }, undefined),
  });
  const buckets = await startSupervised(t, BucketSupervisor);
  const events = await startSupervised(t, { id: "events", start: () => EventManager.startLink<KV.Registry.Event>() });
  await EventManager.addMonHandler(events, Forwarder, Process.self());
  await startSupervised(t, Registry.childSpec({ name: registry, table, buckets, events }));
  return { registry, table, buckets, events };
}

/** Kills `pid` (or exits it with `reason`) and waits for its DOWN. */
async function crash(pid: Pid, reason: unknown = "kill"): Promise<void> {
  const ref = Process.monitor(pid);
  Process.exit(pid, reason);
  await assertReceive({ ref });
}

// ---------------------------------------------------------------- the seeds' tests

test("spawns buckets", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    assert.equal(Registry.lookup(table, "shopping"), undefined);
    await Registry.create(registry, "shopping");
    const bucket = Registry.lookup(table, "shopping");
    assert.ok(bucket !== undefined);
    await Bucket.put(bucket, "milk", "1");
    assert.equal(await Bucket.get(bucket, "milk"), "1");
  });
});

test("sends events on create and crash", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const bucket = await Registry.create(registry, "shopping");
    assert.equal(Registry.lookup(table, "shopping"), bucket);
    await assertReceive(["create", "shopping", bucket]);
    await Bucket.put(bucket, "k", "v");
    await GenServer.stop(bucket);
    await assertReceive(["exit", "shopping", bucket]);
  });
});

test("removes buckets on exit", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const bucket = await Registry.create(registry, "shopping");
    await GenServer.stop(bucket); // a normal exit
    await assertReceive(["exit", "shopping", bucket]); // wait for the event
    assert.equal(Registry.lookup(table, "shopping"), undefined);
  });
});

test("removes bucket on crash", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const bucket = await Registry.create(registry, "shopping");
    // Stop the bucket with a non-normal reason and wait for the notification
    Process.exit(bucket, "shutdown");
    await assertReceive(["exit", "shopping", bucket]);
    assert.equal(Registry.lookup(table, "shopping"), undefined);

    const other = await Registry.create(registry, "other");
    Process.exit(other, "kill");
    await assertReceive(["exit", "other", other]);
    assert.equal(Registry.lookup(table, "other"), undefined);
  });
});

test("monitors existing entries", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const bucket = await Registry.create(registry, "shopping");
    await Bucket.put(bucket, "milk", "1");

    // Kill the registry: the test supervisor restarts it with the same table.
    const old = Process.whereis(registry)!;
    await crash(old);
    assert.equal(Registry.lookup(table, "shopping"), bucket, "the table outlives the registry");
    await Supervisor.whichChildren(await testSupervisor(t)); // served after the restart
    const restarted = Process.whereis(registry);
    assert.ok(restarted !== undefined && restarted !== old);

    // The new registry serves the old bucket, with its data.
    assert.equal(await Registry.create(registry, "shopping"), bucket);
    assert.equal(await Bucket.get(bucket, "milk"), "1");

    // Once the bucket dies, the new registry removes it.
    Process.exit(bucket, "shutdown");
    await assertReceive(["exit", "shopping", bucket]);
    assert.equal(Registry.lookup(table, "shopping"), undefined);
  });
});

// ---------------------------------------------------------------- beyond the seeds

test("a restarted registry stops buckets that no name points at", async (t) => {
  await testProcess(async () => {
    const { registry, table, buckets } = await setup(t);
    const named = await Registry.create(registry, "shopping");
    // What a registry killed between starting a bucket and naming it leaves behind:
    const orphan = await BucketSupervisor.startBucket(buckets);
    const orphanRef = Process.monitor(orphan);
    await crash(Process.whereis(registry)!);
    await Supervisor.whichChildren(await testSupervisor(t)); // served after the restart
    const down = await assertReceive<Process.DownMessage>({ ref: orphanRef }, 1000);
    assert.equal(down.reason, "shutdown");
    assert.equal(Registry.lookup(table, "shopping"), named, "named buckets are kept");
    assert.ok(Process.isAlive(named));
    assert.equal((await DynamicSupervisor.countChildren(buckets)).active, 1);
  });
});

test("creating an existing name returns the same bucket", async (t) => {
  await testProcess(async () => {
    const { registry, buckets } = await setup(t);
    const a = await Registry.create(registry, "shopping");
    await assertReceive(["create", "shopping", a]);
    assert.equal(await Registry.create(registry, "shopping"), a);
    await refuteReceive(["create", _, _], 0);
    assert.equal((await DynamicSupervisor.countChildren(buckets)).active, 1);
  });
});

test("concurrent creates of one name from many processes give one bucket", async (t) => {
  await testProcess(async ({ self }) => {
    const { registry, table, buckets } = await setup(t);
    const n = 50;
    for (let i = 0; i < n; i++) {
      Process.spawn(async () => Process.send(self, ["created", await Registry.create(registry, "shared")]));
    }
    const got = new Set<Pid>();
    for (let i = 0; i < n; i++) got.add((await assertReceive<[string, Pid]>(["created", _], 2000))[1]);
    assert.equal(got.size, 1);
    const [bucket] = got;
    assert.equal(Registry.lookup(table, "shared"), bucket);
    assert.equal((await DynamicSupervisor.countChildren(buckets)).active, 1);
    await assertReceive(["create", "shared", bucket]);
    await refuteReceive(["create", _, _], 0);
  });
});

test("names such as __proto__ and constructor are ordinary names", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const names = ["__proto__", "constructor", "hasOwnProperty", "toString", ""];
    const pids: Pid[] = [];
    for (const name of names) {
      assert.equal(Registry.lookup(table, name), undefined, name);
      pids.push(await Registry.create(registry, name));
    }
    assert.equal(new Set(pids).size, names.length);
    names.forEach((name, i) => assert.equal(Registry.lookup(table, name), pids[i]));
    assert.equal(Registry.lookup(table, "valueOf"), undefined);
    await GenServer.stop(pids[0]);
    await assertReceive(["exit", "__proto__", pids[0]]);
    assert.equal(Registry.lookup(table, "__proto__"), undefined);
    assert.equal(Registry.lookup(table, "constructor"), pids[1]);
  });
});

test("a create that finds a dead bucket whose DOWN is still queued makes a new one", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const old = await Registry.create(registry, "shopping");
    await assertReceive(["create", "shopping", old]);
    const pending = Registry.create(registry, "shopping"); // queued before the bucket's DOWN
    Process.exit(old, "kill");
    const fresh = await pending;
    assert.notEqual(fresh, old);
    await assertReceive(["create", "shopping", fresh]);
    await assertReceive(["exit", "shopping", old]);
    assert.equal(Registry.lookup(table, "shopping"), fresh, "the old bucket's DOWN leaves the new name alone");
  });
});

test("a restarted registry removes buckets that died while it was down", async (t) => {
  await testProcess(async () => {
    const { registry, table } = await setup(t);
    const a = await Registry.create(registry, "a");
    const b = await Registry.create(registry, "b");
    // Stop the registry for good, kill a bucket while nobody watches, then start a new one.
    await Testing.stopSupervised(t, Registry.ID);
    await crash(a);
    assert.equal(Registry.lookup(table, "a"), a, "nobody removed it yet");
    const sup = await testSupervisor(t);
    const buckets = (await Supervisor.whichChildren(sup)).find((c) => c.id === BucketSupervisor.ID)!.pid as Pid;
    const events = (await Supervisor.whichChildren(sup)).find((c) => c.id === "events")!.pid as Pid;
    await startSupervised(t, Registry.childSpec({ name: registry, table, buckets, events }));
    // Swept in init, before the registry answered anything.
    assert.equal(Registry.lookup(table, "a"), undefined);
    assert.equal(Registry.lookup(table, "b"), b);
    await assertReceive(["exit", "a", a]);
    Process.exit(b, "shutdown");
    await assertReceive(["exit", "b", b]);
    assert.equal(Registry.lookup(table, "b"), undefined);
  });
});

test("create fails, and the registry carries on, when no bucket can be started", async (t) => {
  await testProcess(async () => {
    const { table } = await setup(t);
    const registry = await startSupervised(t, Registry.childSpec({ table, buckets: "kv_registry_test.nobody" }), {
      id: "lonely",
    });
    await assert.rejects(Registry.create(registry, "x"), (e: { reason?: unknown }) => e.reason === "noproc");
    assert.ok(Process.isAlive(registry));
    assert.equal(Registry.lookup(table, "x"), undefined);
    await assert.rejects(Registry.create(registry, 42 as unknown as string), TypeError);
  });
});

test("lookup on a table that does not exist throws", () => {
  assert.throws(() => Registry.lookup("kv_registry_test.no_such_table", "x"), Ets.EtsError);
});
