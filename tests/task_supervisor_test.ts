import { test } from "node:test";
import assert from "node:assert/strict";
import { GenServer, Process, Supervisor, Task, TaskSupervisor } from "../mod.ts";
import type { Pid } from "../mod.ts";

function downOf(pid: Pid): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    return (await Process.receive<Process.DownMessage>({ ref })).reason;
  });
}

/** A promise and its resolver, to hold a task until the test lets it go. */
function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

test("async runs fn under the supervisor; Task.await gets the result", async (t) => {
  const sup = await TaskSupervisor.startLink({ name: "ts_named" });
  t.after(() => TaskSupervisor.stop(sup));
  assert.equal(Process.info(sup)!.behaviour, "Task.Supervisor");
  const g = gate<number>();
  const task = TaskSupervisor.async("ts_named", () => g.promise);
  assert.deepEqual(await TaskSupervisor.children(sup), [task.pid], "the supervisor knows the task at once");
  const info = Process.info(task.pid)!;
  assert.equal(info.parent, sup);
  assert.ok(info.links.includes(sup));
  assert.equal(await Task.yield(task, 0), null);
  g.open(42);
  assert.equal(await Task.await(task), 42);
  await downOf(task.pid);
  assert.deepEqual(await TaskSupervisor.children(sup), [], "a finished task is forgotten");
  const many = await Promise.all(
    [1, 2, 3].map((n) => Task.await(TaskSupervisor.async(sup, async () => await Promise.resolve(n * 10)))),
  );
  assert.deepEqual(many, [10, 20, 30]);
});

test("async links the task to its caller: a crash reaches the caller", async (t) => {
  const sup = await TaskSupervisor.startLink();
  t.after(() => TaskSupervisor.stop(sup));
  const [exit, result] = await Process.run(async () => {
    Process.trapExit(true);
    const task = TaskSupervisor.async(sup, () => {
      throw new Error("boom");
    });
    assert.ok(Process.info(task.pid)!.links.includes(Process.self()));
    const exit = await Process.receive<Process.ExitMessage>((m: unknown) => m instanceof Process.ExitMessage);
    const result = await Task.await(task).catch((e) => e);
    return [exit, result] as const;
  });
  assert.equal((exit.reason as [string, Error])[0], "error");
  assert.ok(result instanceof Task.TaskError);
  assert.equal((result.reason as [string, Error])[1].message, "boom");
  assert.equal(Process.isAlive(sup), true, "the supervisor lives on: tasks are temporary");

  const err = await Process.run(() => {
    TaskSupervisor.async(sup, () => {
      throw new Error("takes the caller down");
    });
    return Process.receive(() => false);
  }).catch((e) => e);
  assert.ok(err instanceof Process.ProcessExitError);
  assert.equal((err.reason as [string, Error])[1].message, "takes the caller down");
});

test("asyncNolink: a crashing task does not take the caller down", async (t) => {
  const sup = await TaskSupervisor.startLink();
  t.after(() => TaskSupervisor.stop(sup));
  const outcome = await Process.run(async () => {
    const task = TaskSupervisor.asyncNolink(sup, () => {
      throw new Error("isolated");
    });
    assert.ok(!Process.info(task.pid)?.links.includes(Process.self()));
    const down = await downOf(task.pid);
    const awaited = await Task.await(task).catch((e) => e);
    return { down, awaited, yielded: await Task.yield(task, 0), alive: Process.isAlive(Process.self()) };
  });
  assert.equal((outcome.down as [string, Error])[1].message, "isolated");
  assert.ok(outcome.awaited instanceof Task.TaskError);
  assert.equal(outcome.yielded, null); // await took the outcome: nothing is left to yield, as in Elixir
  assert.equal(outcome.alive, true);
  assert.equal(await Task.await(TaskSupervisor.asyncNolink(sup, () => "fine")), "fine");
});

test("startChild runs fire-and-forget tasks; transient ones run again after a crash", async (t) => {
  const sup = await TaskSupervisor.startLink();
  t.after(() => TaskSupervisor.stop(sup));
  const ran = gate<string>();
  const pid = await TaskSupervisor.startChild(sup, () => ran.open("ran"));
  assert.equal(await ran.promise, "ran");
  await downOf(pid);
  assert.deepEqual(await TaskSupervisor.children(sup), []);

  let runs = 0;
  const second = gate();
  const first = await TaskSupervisor.startChild(sup, () => {
    runs++;
    if (runs === 1) throw new Error("first run fails");
    second.open();
  }, { restart: "transient" });
  await second.promise;
  assert.equal(runs, 2);
  assert.notDeepEqual(await TaskSupervisor.children(sup), [first]);
});

test("terminateChild and the supervisor's exit stop running tasks; Task.shutdown is seen by the supervisor", async () => {
  const sup = await TaskSupervisor.startLink();
  const forever = () => new Promise<never>(() => {});
  const pid = await TaskSupervisor.startChild(sup, forever);
  const down = downOf(pid);
  await TaskSupervisor.terminateChild(sup, pid);
  assert.equal(await down, "shutdown");
  assert.equal((await TaskSupervisor.terminateChild(sup, pid).catch((e) => e)).reason, "not_found");

  const shut = TaskSupervisor.asyncNolink(sup, forever);
  assert.equal(await Task.shutdown(shut), null);
  assert.deepEqual(await TaskSupervisor.children(sup), []);

  const running = TaskSupervisor.asyncNolink(sup, forever);
  const stubborn = await TaskSupervisor.startChild(sup, forever, { shutdown: "brutal_kill" });
  const stubbornDown = downOf(stubborn);
  await TaskSupervisor.stop(sup);
  const err = await Task.await(running).catch((e) => e);
  assert.ok(err instanceof Task.TaskError);
  assert.equal(err.reason, "shutdown");
  assert.equal(await stubbornDown, "killed");
});

test("async to a full or missing supervisor throws at once", async () => {
  const sup = await TaskSupervisor.startLink({ maxChildren: 1 });
  const g = gate();
  const task = TaskSupervisor.async(sup, () => g.promise);
  assert.throws(
    () => TaskSupervisor.async(sup, () => 1),
    (e) => e instanceof GenServer.StartError && e.reason === "max_children",
  );
  const full = await TaskSupervisor.startChild(sup, () => 1).catch((e) => e);
  assert.equal(full.reason, "max_children");
  g.open();
  await Task.await(task);
  await TaskSupervisor.stop(sup);
  assert.throws(
    () => TaskSupervisor.async(sup, () => 1),
    (e) => e instanceof GenServer.CallError && e.reason === "noproc",
  );
  const gs = await GenServer.start({ init: () => ["ok", null] }, undefined);
  assert.throws(() => TaskSupervisor.asyncNolink(gs, () => 1), /is not a DynamicSupervisor/);
  await GenServer.stop(gs);
});

test("a Task.Supervisor under a Supervisor: [TaskSupervisor, opts]", async () => {
  const top = await Supervisor.startLink([[TaskSupervisor, { name: "ts_child" }]], { strategy: "one_for_one" });
  const [entry] = await Supervisor.whichChildren(top);
  assert.deepEqual([entry.id, entry.type, entry.pid], ["Task.Supervisor", "supervisor", Process.whereis("ts_child")]);
  assert.equal(await Task.await(TaskSupervisor.async("ts_child", () => "under a tree")), "under a tree");
  await Supervisor.stop(top);
  assert.equal(Process.whereis("ts_child"), undefined);
});
