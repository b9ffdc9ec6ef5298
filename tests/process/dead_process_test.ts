// A dead process has no effect (issue 12, item 1): the runtime's promises it
// awaits never settle, and what its leftover code does through the runtime is
// dropped. On the BEAM its code would simply never run again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ets, GenServer, Process, Task } from "../../mod.ts";
import { idle, reasonOf } from "../_helpers.ts";

/** True if a message matching `pattern` is in the caller's mailbox right now. */
async function queued(pattern: Process.Pattern): Promise<boolean> {
  return (await Process.receive(pattern, 0)) !== Process.TIMEOUT;
}

/** A server that keeps each call's `from` and answers all of them on "release". */
const Holder: GenServer.Callbacks<GenServer.From[], undefined> = {
  init: () => ["ok", []],
  handleCall: (req, from, held) => {
    if (req === "hold") return ["noreply", [...held, from]];
    if (req === "release") {
      for (const f of held) GenServer.reply(f, "released");
      return ["reply", held.length, []];
    }
    return ["reply", req, held];
  },
};

test("a process killed in Process.sleep never wakes: nothing it sends after is delivered", async () => {
  await Process.run(async ({ self, receive }) => {
    const sleeper = Process.spawn(async () => {
      Process.send(self, "asleep");
      await Process.sleep(5);
      Process.send(self, "sent after death");
    });
    await receive("asleep");
    const ref = Process.monitor(sleeper);
    Process.exit(sleeper, "kill");
    assert.equal(await reasonOf(sleeper, ref), "killed");
    // Timers of one duration fire in order: once ours has, the sleeper's has too.
    await Process.sleep(5);
    await Process.sleep(0);
    assert.equal(await queued("sent after death"), false);
  });
});

test("a call awaited by a dead caller never settles, even when the server replies", async () => {
  const server = await GenServer.start(Holder, undefined);
  await Process.run(async ({ self, receive }) => {
    const caller = Process.spawn(async () => {
      Process.send(self, "calling");
      const r = await GenServer.call(server, "hold").catch((e) => e);
      Process.send(self, ["resumed", r]);
    });
    await receive("calling");
    // The call is held once the next call is answered (one mailbox, in order).
    await GenServer.call(server, "sync");
    Process.exit(caller, "kill");
    assert.equal(await GenServer.call(server, "release"), 1);
    await GenServer.call(server, "sync");
    assert.equal(await queued((m: unknown) => Array.isArray(m) && m[0] === "resumed"), false);
  });
  await GenServer.stop(server);
});

test("after exit(self, kill) the rest of the turn runs, but every operation is dropped", async () => {
  const table = Ets.new("dead_writes", { access: "public" });
  let spawnedRan = false, initRan = false;
  const results: Record<string, unknown> = {};
  await Process.run(async ({ self, receive }) => {
    const target = idle();
    const victim = Process.spawn(() => {
      Process.send(self, "before");
      Process.exit(Process.self(), "kill");
      // JavaScript cannot stop this synchronous code: it finishes its turn, without effect.
      Process.send(self, "after");
      GenServer.cast(target, "cast after");
      results.spawned = Process.spawn(() => {
        spawnedRan = true;
      });
      Process.link(target);
      results.ref = Process.monitor(target);
      Process.register("dead_name", target);
      results.timer = Process.sendAfter(self, "timer after", 0);
      Process.exit(target, "kill");
      results.ets = (() => {
        try {
          return Ets.insert(table, ["k", 1]);
        } catch (e) {
          return e;
        }
      })();
      results.start = GenServer.start({
        init: () => {
          initRan = true;
          return ["ok", null];
        },
      }, undefined);
    });
    const ref = Process.monitor(victim); // before its body runs: bodies start from the scheduler
    await receive("before");
    assert.equal(await reasonOf(victim, ref), "killed");
    await Process.sleep(0); // the sendAfter(0) lane
    await Process.run(() => {}); // one more trip through the run queue
    assert.equal(await queued("after"), false);
    assert.equal(await queued("timer after"), false);
    assert.equal(spawnedRan, false);
    assert.equal(Process.isAlive(results.spawned as Process.Pid), false);
    assert.equal(initRan, false);
    assert.ok(Process.isAlive(target), "its exit signal was dropped");
    assert.deepEqual(Process.info(target)!.links, []);
    assert.deepEqual(Process.info(target)!.monitoredBy, []);
    assert.equal(Process.whereis("dead_name"), undefined);
    assert.ok(results.ets instanceof Ets.EtsError);
    assert.equal(Ets.lookup(table, "k").length, 0);
    assert.equal(Process.cancelTimer(results.timer as Process.TimerRef), false);
    assert.equal(Process.info(target)!.messageQueueLen, 0, "the cast was dropped");
    Process.exit(target, "kill");
  });
  Ets.delete(table);
});

test("an async callback killed mid-await does not reply, run terminate, or act afterwards", async () => {
  let terminated = false;
  const gate = await GenServer.start(Holder, undefined);
  await Process.run(async ({ self, receive }) => {
    const server = await GenServer.start({
      init: () => ["ok", null],
      handleCall: async (_req: unknown, _from: unknown, s: null) => {
        Process.send(self, "handling");
        await GenServer.call(gate, "hold");
        Process.send(self, "resumed");
        return ["reply", "late", s];
      },
      terminate: () => {
        terminated = true;
      },
    }, undefined);
    const pending = GenServer.call(server, "x").catch((e) => e);
    await receive("handling");
    await GenServer.call(gate, "sync");
    Process.exit(server, "kill");
    const err = await pending;
    assert.equal(err.reason, "killed");
    assert.equal(await GenServer.call(gate, "release"), 1);
    await GenServer.call(gate, "sync");
    assert.equal(await queued("resumed"), false);
    assert.equal(terminated, false);
  });
  await GenServer.stop(gate);
});

test("a GenServer init killed by the start timeout does nothing after start failed", async () => {
  const gate = await GenServer.start(Holder, undefined);
  await Process.run(async ({ self, receive }) => {
    const err = await GenServer.start(
      {
        init: async () => {
          Process.send(self, "init waiting");
          await GenServer.call(gate, "hold");
          Process.send(self, "init resumed");
          return ["ok", null];
        },
      },
      undefined,
      { timeout: 1 },
    ).catch((e) => e);
    assert.equal(err.reason, "timeout");
    await receive("init waiting");
    assert.equal(await GenServer.call(gate, "release"), 1);
    await GenServer.call(gate, "sync");
    assert.equal(await queued("init resumed"), false);
  });
  await GenServer.stop(gate);
});

test("Task.await by a process that died never settles", async () => {
  await Process.run(async ({ self, receive }) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const waiter = Process.spawn(async () => {
      const t = Task.async(async () => {
        await gate;
        return 1;
      });
      Process.send(self, ["task", t.pid]);
      await Task.await(t, Infinity).catch(() => {}); // the task dies with its owner: a rejection
      Process.send(self, "resumed");
    }, { trapExit: true });
    const [, taskPid] = await receive<[string, Process.Pid]>(["task", Process._]);
    const ref = Process.monitor(taskPid);
    Process.exit(waiter, "kill");
    assert.equal(await reasonOf(taskPid, ref), "killed"); // linked to its dead owner
    release();
    await Process.run(() => {});
    assert.equal(await queued("resumed"), false);
  });
});
