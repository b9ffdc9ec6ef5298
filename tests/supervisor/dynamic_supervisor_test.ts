import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, DynamicSupervisor, GenServer, Process, Supervisor } from "../../mod.ts";
import type { Pid } from "../../mod.ts";

// ---------------------------------------------------------------- helpers

/** An Agent child (holding `n`) that traps exits and logs `n:reason` when it terminates. */
function bucket(n: number, log: string[] = [], extra: Partial<Supervisor.ChildSpec> = {}): Supervisor.ChildSpec {
  return {
    id: "bucket",
    start: () =>
      GenServer.startLink({
        init: () => {
          Process.trapExit(true);
          return ["ok", n];
        },
        handleCall: (req: string, _from, s: number) => req === "stop" ? ["stop", "normal", s, s] : ["reply", s, s],
        terminate: (reason) => {
          log.push(`${n}:${Process.formatReason(reason)}`);
        },
      }, undefined),
    ...extra,
  };
}

function downOf(pid: Pid): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    return (await Process.receive<Process.DownMessage>({ ref })).reason;
  });
}

function crash(pid: Pid, reason: unknown = "kill"): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    Process.exit(pid, reason);
    return (await Process.receive<Process.DownMessage>({ ref })).reason;
  });
}

async function children(sup: Pid | string): Promise<Pid[]> {
  return (await DynamicSupervisor.whichChildren(sup)).map((c) => c.pid as Pid);
}

async function stopIfAlive(sup: Pid): Promise<void> {
  if (Process.isAlive(sup)) await DynamicSupervisor.stop(sup);
}

// ---------------------------------------------------------------- tests

test("children start on demand; whichChildren, countChildren and terminateChild", async (t) => {
  const sup = await DynamicSupervisor.startLink({ name: "dyn_named" });
  t.after(() => stopIfAlive(sup));
  assert.equal(Process.whereis("dyn_named"), sup);
  assert.equal(Process.info(sup)!.behaviour, "DynamicSupervisor");
  assert.deepEqual(await DynamicSupervisor.whichChildren(sup), []);
  const a = (await DynamicSupervisor.startChild("dyn_named", bucket(1)))!;
  const b = (await DynamicSupervisor.startChild(sup, bucket(2)))!;
  assert.equal(await GenServer.call(b, "get"), 2);
  assert.equal(Process.info(a)!.parent, sup);
  assert.ok(Process.info(a)!.links.includes(sup));
  assert.deepEqual(await DynamicSupervisor.whichChildren(sup), [
    { id: undefined, pid: a, type: "worker", modules: [] },
    { id: undefined, pid: b, type: "worker", modules: [] },
  ]);
  assert.deepEqual(await DynamicSupervisor.countChildren(sup), { specs: 2, active: 2, supervisors: 0, workers: 2 });

  const down = downOf(a);
  await DynamicSupervisor.terminateChild(sup, a);
  assert.equal(await down, "shutdown");
  assert.deepEqual(await children(sup), [b]);
  const missing = await DynamicSupervisor.terminateChild(sup, a).catch((e) => e);
  assert.ok(missing instanceof DynamicSupervisor.SupervisorError);
  assert.equal(missing.reason, "not_found");
});

test("a crashing permanent child is restarted; transient and temporary children by their rules", async (t) => {
  const sup = await DynamicSupervisor.startLink();
  t.after(() => stopIfAlive(sup));
  const perm = (await DynamicSupervisor.startChild(sup, bucket(1)))!;
  const trans = (await DynamicSupervisor.startChild(sup, bucket(2, [], { restart: "transient" })))!;
  const temp = (await DynamicSupervisor.startChild(sup, bucket(3, [], { restart: "temporary" })))!;

  await crash(perm);
  let now = await children(sup);
  assert.equal(now.length, 3);
  assert.ok(!now.includes(perm));
  const perm2 = now.find((p) => p !== trans && p !== temp)!;
  assert.equal(await GenServer.call(perm2, "get"), 1, "restarted from its spec");

  await crash(trans);
  now = await children(sup);
  const trans2 = now.find((p) => p !== perm2 && p !== temp)!;
  assert.ok(trans2 !== undefined && trans2 !== trans, "transient restarted after a crash");
  const down = downOf(trans2);
  await GenServer.call(trans2, "stop");
  assert.equal(await down, "normal");
  const byId = (pids: Process.Pid[]) => [...pids].sort((a, b) => a.id - b.id);
  // A DynamicSupervisor lists its children in no particular order, as in OTP.
  assert.deepEqual(byId(await children(sup)), byId([perm2, temp]), "transient not restarted after a normal exit");

  await crash(temp);
  assert.deepEqual(await children(sup), [perm2], "temporary never restarted");
});

test("maxChildren refuses children past the limit with max_children", async (t) => {
  const sup = await DynamicSupervisor.startLink({ maxChildren: 2 });
  t.after(() => stopIfAlive(sup));
  await DynamicSupervisor.startChild(sup, bucket(1));
  const second = (await DynamicSupervisor.startChild(sup, bucket(2)))!;
  const err = await DynamicSupervisor.startChild(sup, bucket(3)).catch((e) => e);
  assert.ok(err instanceof DynamicSupervisor.StartError);
  assert.equal(err.reason, "max_children");
  await DynamicSupervisor.terminateChild(sup, second);
  assert.ok(await DynamicSupervisor.startChild(sup, bucket(3)));
});

test("start failures and ignore", async (t) => {
  const sup = await DynamicSupervisor.startLink();
  t.after(() => stopIfAlive(sup));
  const err = await DynamicSupervisor.startChild(sup, {
    id: "x",
    start: () => GenServer.startLink({ init: () => ["stop", "bad_config"] }, undefined),
  }).catch((e) => e);
  assert.ok(err instanceof DynamicSupervisor.StartError);
  assert.equal(err.reason, "bad_config");
  const ignored = await DynamicSupervisor.startChild(sup, {
    id: "x",
    start: () => GenServer.startLink({ init: () => "ignore" }, undefined),
  });
  assert.equal(ignored, undefined);
  assert.deepEqual(await DynamicSupervisor.countChildren(sup), { specs: 0, active: 0, supervisors: 0, workers: 0 });
  const bad = await DynamicSupervisor.startLink({ maxChildren: -1 }).catch((e) => e);
  assert.ok(bad instanceof TypeError);
  const strategy = await DynamicSupervisor.startLink({ strategy: "one_for_all" as "one_for_one" }).catch((e) => e);
  assert.ok(strategy instanceof TypeError);
});

test("past its restart intensity it stops every child and exits with shutdown", async () => {
  const log: string[] = [];
  const sup = await DynamicSupervisor.startLink({ maxRestarts: 1, maxSeconds: 60 });
  const supDown = downOf(sup);
  const crashing = (await DynamicSupervisor.startChild(sup, bucket(1, log)))!;
  const other = (await DynamicSupervisor.startChild(sup, bucket(2, log)))!;
  await crash(crashing);
  const again = (await children(sup)).find((p) => p !== other)!;
  await crash(again);
  assert.equal(await supDown, "shutdown");
  assert.equal(Process.isAlive(other), false);
  assert.deepEqual(log, ["2:shutdown"]);
});

test("a failing restart is retried and counted until the intensity is exceeded", async () => {
  let starts = 0;
  const sup = await DynamicSupervisor.startLink({ maxRestarts: 2, maxSeconds: 60 });
  const supDown = downOf(sup);
  const pid = (await DynamicSupervisor.startChild(sup, {
    id: "flaky",
    start: () => {
      starts++;
      if (starts === 1) return bucket(1).start();
      return GenServer.startLink({ init: () => ["stop", "down"] }, undefined);
    },
  }))!;
  await crash(pid);
  assert.equal(await supDown, "shutdown");
  assert.equal(starts, 3);
});

test("stop stops all children, killing those that ignore shutdown after their timeout", async () => {
  const log: string[] = [];
  const sup = await DynamicSupervisor.startLink();
  const polite = (await DynamicSupervisor.startChild(sup, bucket(1, log)))!;
  const stubborn = (await DynamicSupervisor.startChild(sup, {
    id: "stubborn",
    shutdown: 20,
    start: () => Process.spawnLink(async () => await Process.receive(() => false), { trapExit: true }),
  }))!;
  const brutal = (await DynamicSupervisor.startChild(sup, bucket(3, log, { shutdown: "brutal_kill" })))!;
  const downs = Promise.all([downOf(polite), downOf(stubborn), downOf(brutal)]);
  await DynamicSupervisor.stop(sup);
  assert.deepEqual(await downs, ["shutdown", "killed", "killed"]);
  assert.deepEqual(log, ["1:shutdown"]);
});

test("a DynamicSupervisor under a Supervisor: [DynamicSupervisor, opts], restarted empty after a crash", async (t) => {
  const top = await Supervisor.startLink([[DynamicSupervisor, { name: "dyn_child" }]], { strategy: "one_for_one" });
  t.after(async () => {
    if (Process.isAlive(top)) await Supervisor.stop(top);
  });
  const [entry] = await Supervisor.whichChildren(top);
  assert.deepEqual([entry.id, entry.type], ["DynamicSupervisor", "supervisor"]);
  const dyn = Process.whereis("dyn_child")!;
  assert.equal(entry.pid, dyn);
  const agent = (await DynamicSupervisor.startChild("dyn_child", {
    id: "agent",
    start: () => Agent.startLink(() => 1),
  }))!;
  const agentDown = downOf(agent);
  await crash(dyn);
  assert.equal(await agentDown, "killed");
  const [entry2] = await Supervisor.whichChildren(top); // answered once the restart is done
  const dyn2 = Process.whereis("dyn_child")!;
  assert.equal(entry2.pid, dyn2);
  assert.ok(dyn2 !== undefined && dyn2 !== dyn);
  assert.deepEqual(await DynamicSupervisor.whichChildren("dyn_child"), []);
});

test("an exit signal from plain code stops a DynamicSupervisor started from plain code", async () => {
  const sup = await DynamicSupervisor.startLink();
  const child = (await DynamicSupervisor.startChild(sup, bucket(1)))!;
  const downs = Promise.all([downOf(sup), downOf(child)]);
  Process.exit(sup, "shutdown");
  assert.deepEqual(await downs, ["shutdown", "shutdown"]);
});
