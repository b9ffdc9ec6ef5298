import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, Process, Task } from "../mod.ts";
import { reasonOf } from "./_helpers.ts";

test("Agent: get, update, getAndUpdate, cast, stop", async () => {
  const agent = await Agent.start(() => ({ count: 0 }));
  assert.equal(await Agent.get(agent, (s) => s.count), 0);
  await Agent.update(agent, (s) => ({ count: s.count + 5 }));
  assert.equal(await Agent.getAndUpdate(agent, (s) => [s.count, { count: 0 }]), 5);
  Agent.cast(agent, (s) => ({ count: s.count + 1 }));
  assert.equal(await Agent.get(agent, (s) => s.count), 1);
  assert.equal(Process.info(agent)!.behaviour, "Agent");
  await Agent.stop(agent);
  assert.ok(!Process.isAlive(agent));
  await assert.rejects(Agent.get(agent, (s) => s), /no process/);
});

test("Agent: named, and the initial function runs inside the agent", async () => {
  let ranIn: Process.Pid | undefined;
  const agent = await Agent.start(() => {
    ranIn = Process.self();
    return [] as string[];
  }, { name: "agent_test_named" });
  assert.equal(ranIn, agent);
  await Agent.update("agent_test_named", (xs: string[]) => [...xs, "a"]);
  assert.deepEqual(await Agent.get("agent_test_named", (xs: string[]) => xs), ["a"]);
  await Agent.stop("agent_test_named");
});

test("Agent: startLink links to the caller; a crash in a function kills the agent", async () => {
  await Process.run(async () => {
    Process.trapExit(true);
    const agent = await Agent.startLink(() => 1);
    assert.deepEqual(Process.info(agent)!.links, [Process.self()]);
    const ref = Process.monitor(agent);
    const err = await Agent.update(agent, () => {
      throw new Error("bad update");
    }).catch((e) => e);
    assert.match(err.message, /bad update/);
    const reason = await reasonOf(agent, ref) as [string, Error];
    assert.equal(reason[0], "error");
  });
});

test("Task: async and await return the result", async () => {
  const t = Task.async(async () => {
    await Promise.resolve();
    return "done";
  });
  assert.equal(await Task.await(t), "done");
  // The outcome is handed out once: as in Elixir, a second await waits out its timeout.
  assert.equal((await Task.await(t, 5).catch((e) => e)).reason, "timeout");
});

test("Task: await rejects with the crash reason", async () => {
  const t = Task.async(() => {
    throw new Error("task boom");
  });
  const err = await Task.await(t).catch((e) => e);
  assert.ok(err instanceof Task.TaskError);
  assert.equal((err.reason as [string, Error])[1].message, "task boom");
});

test("Task: await times out with reason timeout", async () => {
  const t = Task.async(() => new Promise<never>(() => {}));
  const err = await Task.await(t, 5).catch((e) => e);
  assert.equal(err.reason, "timeout");
  assert.equal(await Task.shutdown(t, "brutal_kill"), null);
  assert.ok(!Process.isAlive(t.pid));
});

test("Task: async links the task to its caller, so a task crash takes the caller down", async () => {
  await Process.run(async ({ self, receive }) => {
    const caller = Process.spawn(async ({ receive }) => {
      const t = Task.async(async () => {
        await Process.receive("crash");
        throw new Error("linked boom");
      });
      Process.send(self, ["task", t.pid]);
      await receive(() => false);
    });
    const ref = Process.monitor(caller);
    const [, taskPid] = await receive<[string, Process.Pid]>(["task", Process._]);
    assert.deepEqual(Process.info(taskPid)!.links, [caller]);
    Process.send(taskPid, "crash");
    const reason = await reasonOf(caller, ref) as [string, Error];
    assert.equal(reason[1].message, "linked boom");
  });
});

test("Task: the caller's death takes an async task down", async () => {
  await Process.run(async ({ self, receive }) => {
    const caller = Process.spawn(async ({ receive }) => {
      const t = Task.async(() => new Promise(() => {}));
      Process.send(self, t.pid);
      await receive(() => false);
    });
    const taskPid = await receive<Process.Pid>();
    const ref = Process.monitor(taskPid);
    Process.exit(caller, "boom");
    assert.equal(await reasonOf(taskPid, ref), "boom");
  });
});

test("Task: yield returns ok, exit, or null", async () => {
  const ok = Task.async(() => 1);
  assert.deepEqual(await Task.yield(ok), ["ok", 1]);
  const slow = Task.async(() => new Promise<never>(() => {}));
  assert.equal(await Task.yield(slow, 1), null);
  await Task.shutdown(slow);
  const bad = Task.async(() => Process.exit("bad"));
  assert.deepEqual(await Task.yield(bad), ["exit", "bad"]);
});

test("Task: shutdown sends shutdown, then kill after the timeout", async () => {
  await Process.run(async ({ self, receive }) => {
    const stubborn = Task.async(async () => {
      Process.trapExit(true);
      Process.send(self, "trapping");
      await Process.receive(() => false); // ignores the shutdown EXIT message
    });
    await receive("trapping");
    const ref = Process.monitor(stubborn.pid);
    assert.deepEqual(await Task.shutdown(stubborn, 5), ["exit", "killed"]); // had to be killed
    assert.equal(await reasonOf(stubborn.pid, ref), "killed");
    const polite = Task.async(() => new Promise(() => {}));
    const ref2 = Process.monitor(polite.pid);
    assert.equal(await Task.shutdown(polite), null);
    assert.equal(await reasonOf(polite.pid, ref2), "shutdown");
    const finished = Task.async(() => 7);
    const ref3 = Process.monitor(finished.pid);
    await receive({ ref: ref3 });
    assert.deepEqual(await Task.shutdown(finished), ["ok", 7]);
    assert.deepEqual(await Task.shutdown(finished), ["exit", "noproc"]); // already handed out
  });
});

test("Task: start is unlinked, startLink is linked", async () => {
  await Process.run(async ({ self, receive }) => {
    const a = Task.start(async () => {
      await Process.receive("go");
      Process.send(self, "a ran");
    });
    assert.deepEqual(Process.info(a)!.links, []);
    Process.send(a, "go");
    await receive("a ran");
    const b = Task.startLink(() => Process.receive(() => false));
    assert.deepEqual(Process.info(b)!.links, [self]);
    Process.unlink(b);
    Process.exit(b, "kill");
    assert.equal(Process.info(b), undefined);
  });
});
