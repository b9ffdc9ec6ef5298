import { test } from "node:test";
import assert from "node:assert/strict";
import { _, GenServer, Process } from "../../mod.ts";
import { idle, reasonOf } from "../_helpers.ts";

test("selective receive takes the first match and keeps the rest in order", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    for (const m of [1, "a", 2, "b", 3]) Process.send(self, m);
    const first = await receive((m) => typeof m === "string");
    const rest = [await receive(), await receive(), await receive(), await receive()];
    return [first, ...rest];
  });
  assert.deepEqual(got, ["a", 1, 2, "b", 3]);
});

test("receive matches shapes with wildcards", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    Process.send(self, ["error", 1]);
    Process.send(self, { type: "ping", n: 2 });
    Process.send(self, ["ok", 3]);
    return [await receive(["ok", _]), await receive({ type: "ping" }), await receive()];
  });
  assert.deepEqual(got, [["ok", 3], { type: "ping", n: 2 }, ["error", 1]]);
});

test("a message arriving later wakes a waiting receive that matches it", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    Process.spawn(() => {
      Process.send(self, "noise");
      Process.send(self, "wanted");
    });
    const w = await receive("wanted");
    return [w, await receive()];
  });
  assert.deepEqual(got, ["wanted", "noise"]);
});

test("receive with after times out with TIMEOUT and leaves the mailbox alone", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    Process.send(self, "other");
    const r = await receive("never", 5);
    return [r, await receive()];
  });
  assert.deepEqual(got, [Process.TIMEOUT, "other"]);
});

test("send never runs the receiver inside the sender's stack", async () => {
  await Process.run(async () => {
    let handled = 0;
    const pid = await GenServer.start({
      init: () => ["ok", null],
      handleInfo: (_m, s) => {
        handled++;
        return ["noreply", s];
      },
      handleCall: (_r, _f, s) => ["reply", handled, s],
    }, undefined);
    Process.send(pid, "x");
    assert.equal(handled, 0); // not yet: the scheduler runs it later
    assert.equal(await GenServer.call(pid, "count"), 1);
    await GenServer.stop(pid);
  });
});

test("a process that throws dies with an error reason carrying what was thrown, others unaffected", async () => {
  await Process.run(async () => {
    const bystander = idle();
    const err = new TypeError("bad");
    const [pid, ref] = Process.spawnMonitor(async ({ receive }) => {
      await receive("go");
      throw err;
    });
    Process.send(pid, "go");
    assert.deepEqual(await reasonOf(pid, ref), ["error", err]);
    assert.ok(Process.isAlive(bystander));
    Process.exit(bystander, "kill");
  });
});

test("exit(reason) inside a body ends the process with that reason", async () => {
  await Process.run(async () => {
    const [pid, ref] = Process.spawnMonitor(() => Process.exit(["shutdown", "done"]));
    assert.deepEqual(await reasonOf(pid, ref), ["shutdown", "done"]);
  });
});

test("register, whereis, send by name; a taken name is an error; a dead process's name is freed", () => {
  const a = idle(), b = idle();
  Process.register("proc_test_name", a);
  assert.equal(Process.whereis("proc_test_name"), a);
  assert.ok(Process.registered().includes("proc_test_name"));
  assert.throws(() => Process.register("proc_test_name", b), /already registered/);
  assert.throws(() => Process.register("other_name", a), /already registered/);
  Process.exit(a, "kill");
  assert.equal(Process.whereis("proc_test_name"), undefined);
  assert.throws(() => Process.send("proc_test_name", 1), /No process is registered/);
  Process.register("proc_test_name", b);
  Process.unregister("proc_test_name");
  assert.equal(Process.whereis("proc_test_name"), undefined);
  assert.throws(() => Process.unregister("proc_test_name"), /not registered/);
  assert.throws(() => Process.register("x_dead", a), /not alive/);
  Process.exit(b, "kill");
});

test("spawn with a name registers it, and a process can be reached by that name", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    Process.spawn(async ({ receive }) => {
      const [from, x] = await receive<[Process.Pid, number]>();
      Process.send(from, x * 2);
    }, { name: "doubler_test" });
    Process.send("doubler_test", [self, 21]);
    return await receive();
  });
  assert.equal(got, 42);
});

test("Process.info reports status, queue, links, monitors, name, memory and messages handled", async () => {
  await Process.run(async ({ self, receive }) => {
    const pid = Process.spawnLink(async ({ receive }) => {
      await receive("one");
      Process.send(self, "took one");
      await receive(() => false);
    }, { name: "info_test" });
    const ref = Process.monitor(pid);
    Process.send(pid, "zzz");
    Process.send(pid, "one");
    await receive("took one");
    const info = Process.info(pid)!;
    assert.equal(info.registeredName, "info_test");
    assert.equal(info.status, "waiting");
    assert.equal(info.messageQueueLen, 1);
    assert.equal(info.messagesHandled, 1);
    assert.deepEqual(info.links, [self]);
    assert.deepEqual(info.monitoredBy, [self]);
    assert.deepEqual(Process.info(self)!.monitors, [pid]);
    assert.equal(info.parent, self);
    assert.equal(info.behaviour, "raw");
    assert.ok(info.memory > 0);
    Process.demonitor(ref);
    Process.unlink(pid);
    Process.exit(pid, "kill");
    assert.equal(Process.info(pid), undefined);
  });
});

test("signals between one pair of processes arrive in the order sent", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    const target = Process.spawn(async ({ receive }) => {
      for (;;) Process.send(self, await receive());
    }, { trapExit: true });
    for (let i = 0; i < 100; i++) {
      Process.send(target, i);
      if (i % 10 === 0) Process.exit(target, `sig${i}`);
    }
    const out: unknown[] = [];
    for (let i = 0; i < 110; i++) {
      const m = await receive();
      out.push(m instanceof Process.ExitMessage ? m.reason : m);
    }
    Process.exit(target, "kill");
    return out;
  });
  const expected: unknown[] = [];
  for (let i = 0; i < 100; i++) {
    expected.push(i);
    if (i % 10 === 0) expected.push(`sig${i}`);
  }
  assert.deepEqual(got, expected);
});

test("a busy process cannot starve others: timers and other processes still run", async () => {
  await Process.run(async ({ self, receive }) => {
    // A GenServer that re-sends itself a message forever.
    const busy = await GenServer.start({
      init: () => ["ok", 0],
      handleInfo: (_m: unknown, n: number) => {
        Process.send(Process.self(), "again");
        return ["noreply", n + 1];
      },
    }, undefined);
    Process.send(busy, "again");
    try {
      // Another process gets to run, and so does a host timer.
      const other = Process.spawn(() => Process.send(self, "other ran"));
      assert.equal(await receive("other ran"), "other ran");
      Process.sendAfter(self, "timer fired", 5);
      assert.equal(await receive("timer fired"), "timer fired");
      assert.ok(!Process.isAlive(other));
    } finally {
      // Never leave a process spinning: the test runner would not exit.
      Process.exit(busy, "kill");
    }
  });
});

test("plain code can spawn, send, call and exit, but not receive", () => {
  assert.equal(Process.current(), undefined);
  assert.throws(() => Process.self(), /must be called from a process/);
  assert.throws(() => Process.receive(), /must be called from a process/);
  const pid = idle();
  assert.ok(Process.isAlive(pid));
  Process.exit(pid, "kill");
  assert.ok(!Process.isAlive(pid));
});

test("self() holds after await inside a raw process", async () => {
  const ok = await Process.run(async ({ self }) => {
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    return Process.self() === self;
  });
  assert.ok(ok);
});

test("Process.run rejects when its process is killed", async () => {
  let pid!: Process.Pid;
  const p = Process.run(async ({ self, receive }) => {
    pid = self;
    await receive(() => false);
  });
  await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  Process.exit(pid, "kill");
  const err = await p.catch((e) => e);
  assert.ok(err instanceof Process.ProcessExitError);
  assert.equal(err.reason, "killed");
});

test("sendAfter delivers later; cancelTimer stops it", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    const t = Process.sendAfter(self, "cancelled", 1);
    assert.equal(Process.cancelTimer(t), true);
    Process.sendAfter(self, "kept", 2);
    return await receive();
  });
  assert.equal(got, "kept");
});

test("statistics counts processes", () => {
  const before = Process.statistics();
  const pid = idle();
  assert.equal(Process.statistics().processes, before.processes + 1);
  assert.ok(Process.list().includes(pid));
  Process.exit(pid, "kill");
  assert.equal(Process.statistics().processes, before.processes);
});
