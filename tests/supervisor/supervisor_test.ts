import { test } from "node:test";
import assert from "node:assert/strict";
import { GenServer, Process, Supervisor, Testing } from "../../mod.ts";
import type { Pid } from "../../mod.ts";
import { RestartIntensity } from "../../lib/supervisor/_restart_intensity.ts";

// ---------------------------------------------------------------- helpers

/** A GenServer child that traps exits and records `id:reason` in `log` when it terminates. */
function worker(id: string, log: string[] = [], extra: Partial<Supervisor.ChildSpec> = {}): Supervisor.ChildSpec {
  return {
    id,
    start: () =>
      GenServer.startLink({
        init: () => {
          Process.trapExit(true);
          return ["ok", id];
        },
        handleCall: (req: string, _from, s) => {
          if (req === "stop_normal") return ["stop", "normal", "ok", s];
          return ["reply", s, s];
        },
        terminate: (reason) => {
          log.push(`${id}:${Process.formatReason(reason)}`);
        },
      }, undefined),
    ...extra,
  };
}

/** Monitors `pid` and resolves with its exit reason (acting as a process). */
function downOf(pid: Pid): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    const down = await Process.receive<Process.DownMessage>({ ref });
    return down.reason;
  });
}

/** Kills `pid` (or exits it with `reason`) and waits for it to be dead. */
function crash(pid: Pid, reason: unknown = "kill"): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    Process.exit(pid, reason);
    const down = await Process.receive<Process.DownMessage>({ ref });
    return down.reason;
  });
}

async function pids(sup: Pid | string): Promise<Record<string, Pid | "restarting" | undefined>> {
  const out: Record<string, Pid | "restarting" | undefined> = {};
  // whichChildren lists newest first; keys here go in start order.
  for (const c of (await Supervisor.whichChildren(sup)).reverse()) out[String(c.id)] = c.pid;
  return out;
}

async function pidOf(sup: Pid | string, id: string): Promise<Pid> {
  const pid = (await pids(sup))[id];
  assert.ok(pid !== undefined && pid !== "restarting", `child ${id} is not running`);
  return pid;
}

async function stopIfAlive(sup: Pid): Promise<void> {
  if (Process.isAlive(sup)) await Supervisor.stop(sup);
}

// ---------------------------------------------------------------- start, introspection

test("children start in order and are listed, counted, and linked to the named supervisor", async (t) => {
  const order: string[] = [];
  const tracked = (id: string) => ({
    ...worker(id),
    start: () => {
      order.push(id);
      return worker(id).start();
    },
  });
  const sup = await Supervisor.startLink([tracked("a"), tracked("b"), tracked("c")], {
    strategy: "one_for_one",
    name: "sup_test_named",
  });
  t.after(() => stopIfAlive(sup));
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(Process.whereis("sup_test_named"), sup);
  const children = await Supervisor.whichChildren("sup_test_named");
  // Listed newest first, as OTP's which_children.
  assert.deepEqual(children.map((c) => [c.id, c.type]), [["c", "worker"], ["b", "worker"], ["a", "worker"]]);
  for (const c of children) {
    const info = Process.info(c.pid as Pid)!;
    assert.ok(info.links.includes(sup), "child linked to its supervisor");
    assert.equal(info.parent, sup, "child started from inside the supervisor");
  }
  assert.deepEqual(await Supervisor.countChildren(sup), { specs: 3, active: 3, supervisors: 0, workers: 3 });
  const info = Process.info(sup)!;
  assert.equal(info.behaviour, "Supervisor");
  assert.equal(info.trapExit, true);
});

test("invalid options and child specs reject with a TypeError naming the problem", async () => {
  const bad = await Supervisor.startLink([worker("a")], { strategy: "one_for_none" as "one_for_one" }).catch((e) => e);
  assert.ok(bad instanceof TypeError);
  assert.match(bad.message, /strategy/);
  const dup = await Supervisor.startLink([worker("a"), worker("a")], { strategy: "one_for_one" }).catch((e) => e);
  assert.ok(dup instanceof TypeError);
  assert.match(dup.message, /duplicate child id "a"/);
  assert.throws(
    () => Supervisor.childSpec({ id: "x", start: () => Process.spawn(() => {}), restart: "always" as "permanent" }),
    /"restart"/,
  );
  assert.throws(
    () => Supervisor.childSpec({ id: "x", start: () => Process.spawn(() => {}), shutdown: -1 }),
    /"shutdown"/,
  );
  assert.throws(() => Supervisor.childSpec({} as Supervisor.ChildSpec), TypeError);
  assert.throws(
    () => Supervisor.childSpec({ id: "x", start: () => Process.spawn(() => {}) }, { id: {} as string }),
    /"id"/,
  );
  const intensity = await Supervisor.startLink([], { strategy: "one_for_one", maxRestarts: -1 }).catch((e) => e);
  assert.ok(intensity instanceof TypeError);
});

test("child specs: module-like values, [module, arg], overrides and OTP's defaults", async (t) => {
  const Counter = {
    ...Supervisor.childModule("Counter", (n: number) =>
      GenServer.startLink({
        init: (start: number) => ["ok", start],
        handleCall: (_req: unknown, _from, s: number) => ["reply", s, s],
      }, n)),
  };
  const Plain = { childSpec: (_arg: undefined) => ({ id: "Plain", start: () => Counter.childSpec(0).start() }) };
  const a = Supervisor.childSpec([Counter, 7]);
  assert.equal(a.id, "Counter");
  assert.equal(a.restart, "permanent");
  assert.equal(a.shutdown, 5000);
  assert.equal(a.type, "worker");
  assert.deepEqual(a.modules, [Counter]);
  const s = Supervisor.childSpec({ id: "s", start: a.start, type: "supervisor" });
  assert.equal(s.shutdown, Infinity);
  const o = Supervisor.childSpec(Counter as Supervisor.ChildModule, {
    id: "other",
    restart: "temporary",
    shutdown: "brutal_kill",
  });
  assert.deepEqual([o.id, o.restart, o.shutdown], ["other", "temporary", "brutal_kill"]);

  const sup = await Supervisor.startLink([[Counter, 7], Plain, Supervisor.childSpec([Counter, 9], { id: "c9" })], {
    strategy: "one_for_one",
  });
  t.after(() => stopIfAlive(sup));
  assert.equal(await GenServer.call(await pidOf(sup, "Counter"), "get"), 7);
  assert.equal(await GenServer.call(await pidOf(sup, "Plain"), "get"), 0);
  assert.equal(await GenServer.call(await pidOf(sup, "c9"), "get"), 9);
});

// ---------------------------------------------------------------- strategies

test("one_for_one restarts only the child that crashed", async (t) => {
  const sup = await Supervisor.startLink([worker("a"), worker("b"), worker("c")], { strategy: "one_for_one" });
  t.after(() => stopIfAlive(sup));
  const before = await pids(sup);
  assert.equal(await crash(before.b as Pid), "killed");
  const after = await pids(sup);
  assert.equal(after.a, before.a);
  assert.notEqual(after.b, before.b);
  assert.ok(Process.isAlive(after.b as Pid));
  assert.equal(after.c, before.c);
  assert.equal(await GenServer.call(after.b as Pid, "id"), "b");
});

test("one_for_all stops the other children in reverse order and restarts all in order", async (t) => {
  const log: string[] = [];
  const sup = await Supervisor.startLink([worker("a", log), worker("b", log), worker("c", log), worker("d", log)], {
    strategy: "one_for_all",
  });
  t.after(() => stopIfAlive(sup));
  const before = await pids(sup);
  await crash(before.b as Pid);
  const after = await pids(sup);
  assert.deepEqual(log, ["d:shutdown", "c:shutdown", "a:shutdown"]);
  for (const id of ["a", "b", "c", "d"]) {
    assert.notEqual(after[id], before[id], `${id} restarted`);
    assert.ok(Process.isAlive(after[id] as Pid));
  }
});

test("rest_for_one restarts the crashed child and those started after it", async (t) => {
  const log: string[] = [];
  const sup = await Supervisor.startLink([worker("a", log), worker("b", log), worker("c", log), worker("d", log)], {
    strategy: "rest_for_one",
  });
  t.after(() => stopIfAlive(sup));
  const before = await pids(sup);
  await crash(before.b as Pid);
  const after = await pids(sup);
  assert.deepEqual(log, ["d:shutdown", "c:shutdown"]);
  assert.equal(after.a, before.a);
  for (const id of ["b", "c", "d"]) assert.notEqual(after[id], before[id], `${id} restarted`);
  for (const id of ["a", "b", "c", "d"]) assert.ok(Process.isAlive(after[id] as Pid));
});

test("one_for_all forgets temporary children it stops", async (t) => {
  const sup = await Supervisor.startLink([worker("a"), worker("tmp", [], { restart: "temporary" }), worker("c")], {
    strategy: "one_for_all",
  });
  t.after(() => stopIfAlive(sup));
  await crash(await pidOf(sup, "a"));
  assert.deepEqual(Object.keys(await pids(sup)), ["a", "c"]);
});

// ---------------------------------------------------------------- restart types

test("permanent children are restarted even after a normal exit", async (t) => {
  const sup = await Supervisor.startLink([worker("p")], { strategy: "one_for_one" });
  t.after(() => stopIfAlive(sup));
  const before = await pidOf(sup, "p");
  const down = downOf(before);
  assert.equal(await GenServer.call(before, "stop_normal"), "ok");
  assert.equal(await down, "normal");
  const after = await pidOf(sup, "p");
  assert.notEqual(after, before);
});

test("transient children are restarted after a crash only", async (t) => {
  const sup = await Supervisor.startLink([worker("t", [], { restart: "transient" })], { strategy: "one_for_one" });
  t.after(() => stopIfAlive(sup));
  const first = await pidOf(sup, "t");
  await crash(first);
  const second = await pidOf(sup, "t");
  assert.notEqual(second, first);
  const down = downOf(second);
  await GenServer.call(second, "stop_normal");
  assert.equal(await down, "normal");
  assert.deepEqual(await Supervisor.whichChildren(sup), [{ id: "t", pid: undefined, type: "worker", modules: [] }]);
  assert.deepEqual(await Supervisor.countChildren(sup), { specs: 1, active: 0, supervisors: 0, workers: 1 });
  assert.ok(await Supervisor.restartChild(sup, "t"));
});

test("a transient child exiting with shutdown is not restarted", async (t) => {
  const child: Supervisor.ChildSpec = {
    id: "t",
    restart: "transient",
    start: () => Process.spawnLink(async () => await Process.receive()),
  };
  const sup = await Supervisor.startLink([child], { strategy: "one_for_one" });
  t.after(() => stopIfAlive(sup));
  assert.deepEqual(await crash(await pidOf(sup, "t"), ["shutdown", "bye"]), ["shutdown", "bye"]);
  assert.deepEqual((await pids(sup)).t, undefined);
});

test("temporary children are never restarted and are forgotten when they exit", async (t) => {
  const sup = await Supervisor.startLink([worker("tmp", [], { restart: "temporary" }), worker("keep")], {
    strategy: "one_for_one",
  });
  t.after(() => stopIfAlive(sup));
  await crash(await pidOf(sup, "tmp"));
  assert.deepEqual(Object.keys(await pids(sup)), ["keep"]);
});

// ---------------------------------------------------------------- intensity

test("past maxRestarts within maxSeconds the supervisor stops its children and exits with shutdown", async () => {
  const log: string[] = [];
  const sup = await Supervisor.startLink([worker("a", log), worker("other", log)], {
    strategy: "one_for_one",
    maxRestarts: 2,
    maxSeconds: 60,
  });
  const supDown = downOf(sup);
  const other = await pidOf(sup, "other");
  await crash(await pidOf(sup, "a"));
  await crash(await pidOf(sup, "a"));
  const last = await pidOf(sup, "a");
  await crash(last); // the third restart within the period is one too many
  assert.equal(await supDown, "shutdown");
  assert.equal(Process.isAlive(other), false);
  assert.deepEqual(log, ["other:shutdown"]);
});

test("maxRestarts 0: the first crash takes the supervisor down", async () => {
  const sup = await Supervisor.startLink([worker("a")], { strategy: "one_for_one", maxRestarts: 0 });
  const supDown = downOf(sup);
  await crash(await pidOf(sup, "a"));
  assert.equal(await supDown, "shutdown");
});

test("restart intensity counts restarts in a sliding window", () => {
  const i = new RestartIntensity(3, 5);
  assert.ok(i.add(0) && i.add(1000) && i.add(2000));
  assert.equal(i.add(3000), false, "a fourth restart within 5 s is too many");
  const j = new RestartIntensity(3, 5);
  assert.ok(j.add(0) && j.add(1000) && j.add(2000));
  assert.ok(j.add(5001), "the restart at 0 has left the window");
  assert.ok(j.add(7500));
  assert.equal(j.count, 2, "only 5001 and 7500 are within 5 s of 7500");
});

test("a restart that fails is retried, each attempt counting towards the intensity", async () => {
  let starts = 0;
  const flaky: Supervisor.ChildSpec = {
    id: "flaky",
    start: () => {
      starts++;
      if (starts === 1) return Process.spawnLink(async () => await Process.receive());
      return GenServer.startLink({ init: () => ["stop", "no_database"] }, undefined);
    },
  };
  const sup = await Supervisor.startLink([flaky], { strategy: "one_for_one", maxRestarts: 3, maxSeconds: 60 });
  const supDown = downOf(sup);
  await crash(await pidOf(sup, "flaky"));
  assert.equal(await supDown, "shutdown");
  assert.equal(starts, 4, "the first start, then three failed restarts");
});

test("escalation: a child supervisor that gives up is restarted by its own supervisor", async (t) => {
  const inner = (): Supervisor.ChildSpec => ({
    id: "inner",
    type: "supervisor",
    start: () => Supervisor.startLink([worker("leaf")], { strategy: "one_for_one", maxRestarts: 0 }),
  });
  const top = await Supervisor.startLink([inner(), worker("sibling")], { strategy: "one_for_one" });
  t.after(() => stopIfAlive(top));
  const innerPid = await pidOf(top, "inner");
  const sibling = await pidOf(top, "sibling");
  const leaf = await pidOf(innerPid, "leaf");
  const innerDown = downOf(innerPid);
  await crash(leaf);
  assert.equal(await innerDown, "shutdown");
  const newInner = await pidOf(top, "inner");
  assert.notEqual(newInner, innerPid);
  const newLeaf = await pidOf(newInner, "leaf");
  assert.notEqual(newLeaf, leaf);
  assert.equal(await pidOf(top, "sibling"), sibling);
});

// ---------------------------------------------------------------- shutdown

test("stop stops children in reverse start order, each with shutdown", async () => {
  const log: string[] = [];
  const sup = await Supervisor.startLink([worker("a", log), worker("b", log), worker("c", log)], {
    strategy: "one_for_one",
  });
  const children = Object.values(await pids(sup)) as Pid[];
  await Supervisor.stop(sup);
  assert.deepEqual(log, ["c:shutdown", "b:shutdown", "a:shutdown"]);
  for (const c of children) assert.equal(Process.isAlive(c), false);
});

test("a child that ignores shutdown is killed after its timeout; brutal_kill kills at once", async () => {
  const stubborn = (id: string, shutdown: Supervisor.Shutdown): Supervisor.ChildSpec => ({
    id,
    shutdown,
    start: () => Process.spawnLink(async () => await Process.receive(() => false), { trapExit: true }),
  });
  const sup = await Supervisor.startLink([stubborn("slow", 20), stubborn("brutal", "brutal_kill"), worker("polite")], {
    strategy: "one_for_one",
  });
  const p = await pids(sup);
  const downs = [downOf(p.slow as Pid), downOf(p.brutal as Pid), downOf(p.polite as Pid)];
  await Supervisor.terminateChild(sup, "brutal");
  assert.equal(await downs[1], "killed");
  await Supervisor.stop(sup);
  assert.deepEqual(await Promise.all([downs[0], downs[2]]), ["killed", "shutdown"]);
});

test("a child that takes its time in terminate is waited for (shutdown: Infinity)", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const terminating = new Promise<void>((r) => (started = r));
  const log: string[] = [];
  const slow: Supervisor.ChildSpec = {
    id: "slow",
    shutdown: Infinity,
    start: () =>
      GenServer.startLink({
        init: () => {
          Process.trapExit(true);
          return ["ok", null];
        },
        terminate: async () => {
          log.push("terminating");
          started();
          await gate;
          log.push("terminated");
        },
      }, undefined),
  };
  const sup = await Supervisor.startLink([slow], { strategy: "one_for_one" });
  const child = await pidOf(sup, "slow");
  const stopped = Supervisor.stop(sup).then(() => log.push("supervisor stopped"));
  await terminating;
  assert.ok(Process.isAlive(sup) && Process.isAlive(child), "the supervisor waits for its child");
  release();
  await stopped;
  assert.deepEqual(log, ["terminating", "terminated", "supervisor stopped"]);
});

test("an exit signal from plain code, or the parent's exit, stops the supervisor and its children", async () => {
  const sup = await Supervisor.startLink([worker("a")], { strategy: "one_for_one" });
  const a = await pidOf(sup, "a");
  const downs = [downOf(sup), downOf(a)];
  Process.exit(sup, "shutdown");
  assert.deepEqual(await Promise.all(downs), ["shutdown", "shutdown"]);

  let child!: Pid;
  const parentRun = Process.run(async () => {
    const s = await Supervisor.startLink([worker("b")], { strategy: "one_for_one" });
    child = await pidOf(s, "b");
    return s;
  });
  const s = await parentRun; // the parent has exited normally: the supervisor follows
  const [supReason, childReason] = await Promise.all([downOf(s), downOf(child)]);
  assert.ok(supReason === "normal" || supReason === "noproc", String(supReason));
  assert.ok(childReason === "shutdown" || childReason === "noproc", String(childReason));
  assert.equal(Process.isAlive(s), false);
  assert.equal(Process.isAlive(child), false);
});

// ---------------------------------------------------------------- start failures

test("a child that fails to start fails the supervisor's start, after stopping those started", async () => {
  let first!: Pid;
  const a: Supervisor.ChildSpec = {
    id: "a",
    start: async () => (first = await worker("a").start()),
  };
  const b: Supervisor.ChildSpec = {
    id: "b",
    start: () => GenServer.startLink({ init: () => ["stop", "no_config"] }, undefined),
  };
  const err = await Supervisor.startLink([a, b, worker("c")], { strategy: "one_for_one", name: "sup_fail" }).catch((
    e,
  ) => e);
  assert.ok(err instanceof Supervisor.StartError);
  assert.deepEqual(err.reason, ["shutdown", ["failed_to_start_child", "b", "no_config"]]);
  assert.match(err.message, /failed_to_start_child/);
  assert.equal(Process.isAlive(first), false);
  assert.equal(Process.whereis("sup_fail"), undefined);

  const thrown = await Supervisor.startLink([{
    id: "t",
    start: () => {
      throw new Error("nope");
    },
  }], {
    strategy: "one_for_one",
  }).catch((e) => e);
  assert.equal(thrown.reason[1][0], "failed_to_start_child");
  assert.equal(thrown.reason[1][2][0], "error");
  assert.equal(thrown.reason[1][2][1].message, "nope");

  const notPid = await Supervisor.startLink([{ id: "n", start: () => 42 as unknown as Pid }], {
    strategy: "one_for_one",
  }).catch((e) => e);
  assert.deepEqual(notPid.reason, ["shutdown", ["failed_to_start_child", "n", ["bad_return_value", 42]]]);
});

test("a name already taken fails the start with already_started", async (t) => {
  const sup = await Supervisor.startLink([], { strategy: "one_for_one", name: "sup_taken" });
  t.after(() => stopIfAlive(sup));
  const err = await Supervisor.startLink([], { strategy: "one_for_one", name: "sup_taken" }).catch((e) => e);
  assert.deepEqual(err.reason, ["already_started", sup]);
});

test("a child whose start returns ignore is kept, not running (unless temporary)", async (t) => {
  const ignore = (id: string, restart: Supervisor.RestartType): Supervisor.ChildSpec => ({
    id,
    restart,
    start: () => GenServer.startLink({ init: () => "ignore" }, undefined),
  });
  const sup = await Supervisor.startLink([ignore("i", "permanent"), ignore("tmp", "temporary"), worker("w")], {
    strategy: "one_for_one",
  });
  t.after(() => stopIfAlive(sup));
  const p = await pids(sup);
  assert.deepEqual(Object.keys(p), ["i", "w"]);
  assert.equal(p.i, undefined);
  assert.equal(await Supervisor.startChild(sup, ignore("j", "permanent")), undefined);
});

// ---------------------------------------------------------------- dynamic management

test("startChild, terminateChild, restartChild and deleteChild, with OTP's errors", async (t) => {
  const sup = await Supervisor.startLink([worker("a")], { strategy: "one_for_one" });
  t.after(() => stopIfAlive(sup));
  const b = await Supervisor.startChild(sup, worker("b"));
  assert.ok(b !== undefined && Process.isAlive(b));
  assert.deepEqual(Object.keys(await pids(sup)), ["a", "b"]);

  const dup = await Supervisor.startChild(sup, worker("b")).catch((e) => e);
  assert.ok(dup instanceof Supervisor.StartError);
  assert.deepEqual(dup.reason, ["already_started", b]);

  const failing = await Supervisor.startChild(sup, {
    id: "f",
    start: () => GenServer.startLink({ init: () => ["stop", "bad"] }, undefined),
  }).catch((e) => e);
  assert.ok(failing instanceof Supervisor.StartError);
  assert.equal(failing.reason, "bad");
  assert.equal((await pids(sup)).f, undefined);

  const running = await Supervisor.deleteChild(sup, "b").catch((e) => e);
  assert.ok(running instanceof Supervisor.SupervisorError);
  assert.equal(running.reason, "running");
  assert.equal((await Supervisor.restartChild(sup, "b").catch((e) => e)).reason, "running");

  const down = downOf(b);
  await Supervisor.terminateChild(sup, "b");
  assert.equal(await down, "shutdown");
  assert.equal((await pids(sup)).b, undefined);
  assert.equal((await Supervisor.startChild(sup, worker("b")).catch((e) => e)).reason, "already_present");

  const b2 = await Supervisor.restartChild(sup, "b");
  assert.ok(b2 !== undefined && b2 !== b && Process.isAlive(b2));
  await Supervisor.terminateChild(sup, "b");
  await Supervisor.deleteChild(sup, "b");
  assert.deepEqual(Object.keys(await pids(sup)), ["a"]);

  for (const op of [Supervisor.terminateChild, Supervisor.restartChild, Supervisor.deleteChild]) {
    const e = await op(sup, "missing").catch((e) => e);
    assert.ok(e instanceof Supervisor.SupervisorError);
    assert.equal(e.reason, "not_found");
    assert.match(e.message, /"missing"\) failed: not_found$/);
  }
  const typeErr = await Supervisor.startChild(sup, { id: "x" } as Supervisor.ChildSpec).catch((e) => e);
  assert.ok(typeErr instanceof TypeError);
});

test("terminating a temporary child forgets it; calls to a dead supervisor fail with noproc", async () => {
  const sup = await Supervisor.startLink([worker("tmp", [], { restart: "temporary" })], { strategy: "one_for_one" });
  await Supervisor.terminateChild(sup, "tmp");
  assert.deepEqual(await Supervisor.whichChildren(sup), []);
  await Supervisor.stop(sup);
  const err = await Supervisor.whichChildren(sup).catch((e) => e);
  assert.ok(err instanceof GenServer.CallError);
  assert.equal(err.reason, "noproc");
});

// ---------------------------------------------------------------- trees

test("a supervisor is a child like any other: a tree can be walked with whichChildren", async (t) => {
  const sub = (id: string, children: Supervisor.Child[]): Supervisor.ChildSpec => ({
    id,
    type: "supervisor",
    start: () => Supervisor.startLink(children, { strategy: "one_for_one" }),
  });
  const top = await Supervisor.startLink([worker("w"), sub("left", [worker("l1"), worker("l2")]), sub("right", [])], {
    strategy: "one_for_one",
    name: "sup_tree",
  });
  t.after(() => stopIfAlive(top));
  assert.deepEqual(await Supervisor.countChildren(top), { specs: 3, active: 3, supervisors: 2, workers: 1 });
  async function walk(sup: Pid | string): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const c of await Supervisor.whichChildren(sup)) {
      out.push(c.type === "supervisor" ? [c.id, await walk(c.pid as Pid)] : c.id);
    }
    return out;
  }
  assert.deepEqual(await walk("sup_tree"), [["right", []], ["left", ["l2", "l1"]], "w"]);

  const left = await pidOf(top, "left");
  const l1 = await pidOf(left, "l1");
  await crash(left);
  const newLeft = await pidOf(top, "left");
  assert.notEqual(newLeft, left);
  assert.equal(Process.isAlive(l1), false, "the old subtree died with its supervisor");
  assert.notEqual(await pidOf(newLeft, "l1"), l1);
});

test("a module-based supervisor runs its init in the supervisor process", async (t) => {
  let initProc: Pid | undefined;
  const Mod: Supervisor.SupervisorModule<string> = {
    init(prefix) {
      initProc = Process.self();
      return Supervisor.init([worker(`${prefix}1`), worker(`${prefix}2`)], { strategy: "one_for_all" });
    },
  };
  const sup = await Supervisor.startLink(Mod, "m", { name: "sup_module" });
  t.after(() => stopIfAlive(sup));
  assert.equal(initProc, sup);
  assert.deepEqual(Object.keys(await pids("sup_module")), ["m1", "m2"]);
  const ignored = await Supervisor.startLink({ init: () => "ignore" as const }, undefined).catch((e) => e);
  assert.ok(ignored instanceof Supervisor.StartError);
  assert.equal(ignored.reason, "ignore");
});

// ---------------------------------------------------------------- startSupervised

let leftBehind: Pid[] = [];

test("startSupervised starts children under the test's own supervisor", async (t) => {
  const a = await Testing.startSupervised(t, worker("a"));
  const b = await Testing.startSupervised(t, [Supervisor.childModule("B", () => worker("b").start()), undefined]);
  const sup = await Testing.testSupervisor(t);
  assert.equal(Process.info(a)!.parent, sup);
  assert.deepEqual(Object.keys(await pids(sup)), ["a", "B"]);
  const dup = await Testing.startSupervised(t, worker("a")).catch((e) => e);
  assert.deepEqual(dup.reason, ["already_started", a]);
  await crash(a); // restarted as under any supervisor
  assert.ok(Process.isAlive(await pidOf(sup, "a")));
  leftBehind = [sup, await pidOf(sup, "a"), b];
});

test("...and everything it started is stopped when that test ends", () => {
  assert.equal(leftBehind.length, 3);
  for (const pid of leftBehind) assert.equal(Process.isAlive(pid), false, `${pid} still alive`);
});

test("startSupervised's cleanup stops children in reverse order; stopSupervised stops one early", async () => {
  const log: string[] = [];
  const hooks: Array<() => unknown> = [];
  const fake = { after: (h: () => unknown) => hooks.push(h) };
  await Testing.startSupervised(fake, worker("a", log));
  const b = await Testing.startSupervised(fake, worker("b", log));
  await Testing.startSupervised(fake, worker("c", log));
  await Testing.stopSupervised(fake, "b");
  assert.equal(Process.isAlive(b), false);
  assert.deepEqual(log, ["b:shutdown"]);
  assert.equal(hooks.length, 1, "one cleanup per test");
  for (const h of hooks) await h();
  assert.deepEqual(log, ["b:shutdown", "c:shutdown", "a:shutdown"]);
  const ignored = await Testing.startSupervised(fake, {
    id: "i",
    start: () => GenServer.startLink({ init: () => "ignore" }, undefined),
  }).catch((e) => e);
  assert.equal(ignored.reason, "ignore");
  for (const h of hooks.slice(1)) await h();
});

test("withSupervised stops everything when its callback ends, even by throwing", async () => {
  let started: Pid[] = [];
  const err = await Testing.withSupervised(async (startSupervised) => {
    started = [await startSupervised(worker("a")), await startSupervised(worker("b"))];
    throw new Error("test failed");
  }).catch((e) => e);
  assert.equal(err.message, "test failed");
  assert.equal(started.length, 2);
  for (const pid of started) assert.equal(Process.isAlive(pid), false);
  assert.equal(await Testing.withSupervised(() => "no children"), "no children");
});
