import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Application,
  DynamicSupervisor,
  Ets,
  EventManager,
  GenServer,
  Process,
  Supervisor,
  Testing,
} from "../../../mod.ts";
import type { Pid } from "../../../mod.ts";
import * as KV from "../../../lib/apps/kv/mod.ts";

const { Bucket, KVSupervisor, Registry } = KV;
const { assertReceive, startSupervised, testProcess } = Testing;

const Forwarder: EventManager.Handler<KV.Registry.Event, Pid> = {
  handleEvent(event, parent) {
    Process.send(parent, event);
    return parent;
  },
};

let unique = 0;

/** A whole KV tree under the test supervisor, with its own names; events go to the test process. */
async function startTree(t: Testing.TestContextLike): Promise<{ sup: Pid; names: KV.KVSupervisor.Names }> {
  const prefix = `kv_app_test${unique++}.`;
  const sup = await startSupervised(t, KVSupervisor.childSpec({ prefix }), { id: prefix });
  const names = KVSupervisor.names(prefix);
  await EventManager.addMonHandler(names.events, Forwarder, Process.self());
  return { sup, names };
}

/** Kills `pid` and waits for its DOWN (from inside a process). */
async function kill(pid: Pid): Promise<void> {
  const ref = Process.monitor(pid);
  Process.exit(pid, "kill");
  await assertReceive({ ref });
}

/** Every pid in the tree under `sup`, supervisors first, walking `supervisor` children. */
async function treePids(sup: Pid | string): Promise<Pid[]> {
  const out: Pid[] = [Process.whereis(String(sup)) ?? (sup as Pid)];
  const walk = async (s: Pid, dynamic: boolean) => {
    const children = dynamic ? await DynamicSupervisor.whichChildren(s) : await Supervisor.whichChildren(s);
    for (const c of children) {
      if (c.pid === undefined || c.pid === "restarting") continue;
      out.push(c.pid);
      if (c.type === "supervisor") await walk(c.pid, c.id === KV.BucketSupervisor.ID);
    }
  };
  await walk(out[0], false);
  return out;
}

// ---------------------------------------------------------------- the tree

test("the tree: children listed newest first, reachable by name, table owned by the supervisor", async (t) => {
  await testProcess(async () => {
    const { sup, names } = await startTree(t);
    const children = await Supervisor.whichChildren(sup);
    // Newest first, as OTP's which_children.
    assert.deepEqual(children.map((c) => c.id), [Registry.ID, KV.BucketSupervisor.ID, KVSupervisor.EVENT_MANAGER_ID]);
    assert.equal(Process.whereis(names.registry), children[0].pid);
    assert.equal(Process.whereis(names.buckets), children[1].pid);
    assert.equal(Process.whereis(names.events), children[2].pid);
    const info = Ets.info(names.table)!;
    assert.equal(info.owner, sup);
    assert.equal(info.access, "public");
    assert.equal(info.readConcurrency, true);
  });
});

test("a registry crash loses no bucket and no key; buckets that die afterwards are removed", async (t) => {
  await testProcess(async () => {
    const { sup, names } = await startTree(t);
    const shopping = await Registry.create(names.registry, "shopping");
    const work = await Registry.create(names.registry, "work");
    await Bucket.put(shopping, "milk", "1");
    await Bucket.put(work, "todo", "bench");
    const buckets = Process.whereis(names.buckets);

    const old = Process.whereis(names.registry)!;
    await kill(old);
    await Supervisor.whichChildren(sup); // answered once the registry has been restarted
    const restarted = Process.whereis(names.registry);
    assert.ok(restarted !== undefined && restarted !== old);
    assert.equal(Process.whereis(names.buckets), buckets, "rest_for_one: the bucket supervisor was left alone");

    // The table kept its entries, the buckets their data.
    assert.equal(Registry.lookup(names.table, "shopping"), shopping);
    assert.equal(await Registry.create(names.registry, "shopping"), shopping);
    assert.equal(await Bucket.get(shopping, "milk"), "1");
    assert.equal(await Bucket.get(work, "todo"), "bench");

    // The restarted registry watches the old buckets.
    await GenServer.stop(shopping);
    await assertReceive(["exit", "shopping", shopping]);
    assert.equal(Registry.lookup(names.table, "shopping"), undefined);
    assert.equal(Registry.lookup(names.table, "work"), work);
  });
});

test("a bucket supervisor crash leaves no name pointing at a dead bucket", async (t) => {
  await testProcess(async () => {
    const { sup, names } = await startTree(t);
    const created = new Map<string, Pid>();
    for (const name of ["a", "b", "c", "__proto__"]) {
      const pid = await Registry.create(names.registry, name);
      await assertReceive(["create", name, pid]);
      created.set(name, pid);
    }
    const oldRegistry = Process.whereis(names.registry);

    await kill(Process.whereis(names.buckets)!);
    // Every bucket died with it, and each one's exit is reported once its name is gone.
    for (const [name, pid] of created) {
      assert.ok(!Process.isAlive(pid));
      await assertReceive(["exit", name, pid]);
    }
    await Supervisor.whichChildren(sup); // answered once the restarts are done
    assert.deepEqual(Ets.tab2list(names.table), []);
    for (const name of created.keys()) assert.equal(Registry.lookup(names.table, name), undefined);
    assert.notEqual(Process.whereis(names.registry), oldRegistry, "rest_for_one restarted the registry");

    // The tree works again, with new buckets.
    const fresh = await Registry.create(names.registry, "a");
    assert.notEqual(fresh, created.get("a"));
    await Bucket.put(fresh, "k", "v");
    assert.equal(await Bucket.get(Registry.lookup(names.table, "a")!, "k"), "v");
  });
});

test("two trees with different prefixes run side by side", async (t) => {
  await testProcess(async () => {
    const one = await startTree(t);
    const two = await startTree(t);
    const a = await Registry.create(one.names.registry, "same");
    const b = await Registry.create(two.names.registry, "same");
    assert.notEqual(a, b);
    assert.equal(Registry.lookup(one.names.table, "same"), a);
    assert.equal(Registry.lookup(two.names.table, "same"), b);
  });
});

test("a second tree with the same names fails to start", async (t) => {
  await testProcess(async () => {
    const { names } = await startTree(t);
    const prefix = names.supervisor.slice(0, -"KV.Supervisor".length);
    await assert.rejects(
      KVSupervisor.startLink({ prefix }),
      (e: { reason?: unknown[] }) => e.reason?.[0] === "already_started",
    );
  });
});

// ---------------------------------------------------------------- the application

test("the application starts, serves by name, and stops leaving no process behind", async () => {
  const before = new Set(Process.list().map(String));
  const top = await KV.start();
  assert.equal(Process.whereis(KV.SUPERVISOR), top);
  assert.ok(Application.isStarted("kv"));
  for (const name of [KV.REGISTRY, KV.BUCKET_SUPERVISOR, KV.EVENT_MANAGER]) assert.ok(Process.whereis(name), name);

  const bucket = await Registry.create(KV.REGISTRY, "shopping");
  await Bucket.put(bucket, "eggs", "12");
  assert.equal(await Bucket.get(Registry.lookup(KV.TABLE, "shopping")!, "eggs"), "12");
  const tree = await treePids(KV.SUPERVISOR);
  assert.ok(tree.includes(bucket));

  const started = Process.list().filter((p) => !before.has(String(p)));
  await KV.stop();
  assert.ok(!Application.isStarted("kv"));
  for (const pid of tree) assert.ok(!Process.isAlive(pid), `${pid} outlived the application`);
  assert.equal(Ets.whereis(KV.TABLE), undefined, "the name table went with its owner");
  for (const name of [KV.SUPERVISOR, KV.REGISTRY, KV.BUCKET_SUPERVISOR, KV.EVENT_MANAGER]) {
    assert.equal(Process.whereis(name), undefined, name);
  }
  // The application master finishes just after stop resolves: wait for every DOWN.
  await testProcess(async () => {
    for (const pid of started) {
      const ref = Process.monitor(pid);
      await assertReceive({ ref }, 1000);
    }
  });
  assert.deepEqual(Process.list().filter((p) => !before.has(String(p))), []);
});

test("the application starts as a dependency, and twice is an error", async () => {
  const server: Application.Spec = {
    name: "kv_app_test_dependent",
    dependencies: [KV.app],
    start: () => Process.spawn(async ({ receive }) => void await receive("never")),
  };
  const started = await Application.ensureAllStarted(server);
  assert.deepEqual(started, ["kv", "kv_app_test_dependent"]);
  await assert.rejects(KV.start(), (e: Application.ApplicationError) => e.reason[0] === "already_started");
  const b = await Registry.create(KV.REGISTRY, "x");
  assert.equal(Registry.lookup(KV.TABLE, "x"), b);
  await Application.stop(server);
  await KV.stop();
  await assert.rejects(KV.stop(), (e: Application.ApplicationError) => e.reason[0] === "not_started");
  Application.unload(server);
});

test("the application's prefix names a separate tree", async () => {
  await KV.start({ env: { prefix: "kv_app_test_env." } });
  try {
    assert.equal(Process.whereis(KV.REGISTRY), undefined);
    const b = await Registry.create("kv_app_test_env.KV.Registry", "x");
    assert.equal(Registry.lookup("kv_app_test_env.KV.Registry", "x"), b);
  } finally {
    await KV.stop();
    Application.unload(KV.app);
  }
});
