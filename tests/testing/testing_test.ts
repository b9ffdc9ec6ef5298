import { test } from "node:test";
import assert from "node:assert/strict";
import { _, GenServer, Process, Testing } from "../../mod.ts";

const { assertReceive, refuteReceive, testProcess, mailbox, ReceiveAssertionError } = Testing;

test("assertReceive takes the first matching message and leaves the others queued", async () => {
  await testProcess(async ({ self }) => {
    Process.send(self, ["other", 1]);
    Process.send(self, ["wanted", 2]);
    Process.send(self, ["wanted", 3]);
    assert.deepEqual(await assertReceive(["wanted", _]), ["wanted", 2]);
    assert.deepEqual(mailbox(), [["other", 1], ["wanted", 3]]);
    assert.deepEqual(await assertReceive((m: unknown) => Array.isArray(m) && m[1] === 3), ["wanted", 3]);
    assert.deepEqual(await assertReceive(), ["other", 1]);
  });
});

test("assertReceive waits for a message that arrives later", async () => {
  await testProcess(async ({ self }) => {
    Process.spawn(async () => {
      await Promise.resolve();
      Process.send(self, { done: true });
    });
    assert.deepEqual(await assertReceive({ done: true }, 1000), { done: true });
  });
});

test("a failed assertReceive is an AssertionError that shows the mailbox", async () => {
  const err = await testProcess(async ({ self }) => {
    Process.send(self, ["pong", 1]);
    Process.send(self, { note: "x" });
    return await assertReceive(["ping", _], 0).then(() => null, (e) => e);
  });
  assert.ok(err instanceof ReceiveAssertionError);
  assert.ok(err instanceof assert.AssertionError);
  assert.match(err.message, /Expected to receive a message matching \["ping", _\] within 0 ms/);
  assert.match(err.message, /2 message\(s\)/);
  assert.match(err.message, /\["pong", 1\]/);
  assert.match(err.message, /note: "x"/);
  assert.deepEqual(err.mailbox, [["pong", 1], { note: "x" }]);
});

test("refuteReceive passes on silence and fails as soon as a matching message arrives", async () => {
  await testProcess(async ({ self }) => {
    Process.send(self, "unrelated");
    await refuteReceive("wanted", 5);
    assert.deepEqual(mailbox(), ["unrelated"]);
    Process.spawn(() => Process.send(self, "wanted"));
    const err = await refuteReceive("wanted", 5000).then(() => null, (e) => e);
    assert.ok(err instanceof ReceiveAssertionError);
    assert.match(err.message, /Expected not to receive a message matching "wanted" within 5000 ms, got "wanted"/);
  });
});

test("the helpers refuse to run outside a process", async () => {
  await assert.rejects(assertReceive("x"), /must be called from a process/);
  await assert.rejects(refuteReceive("x"), /must be called from a process/);
  assert.throws(() => mailbox(), /must be called from a process/);
});

test("testProcess rejects with what the body threw, unwrapped", async () => {
  const boom = new Error("boom");
  await assert.rejects(
    testProcess(() => {
      throw boom;
    }),
    (e) => e === boom,
  );
  await assert.rejects(testProcess(async () => await assertReceive("never", 0)), ReceiveAssertionError);
});

test("testProcess rejects with ProcessExitError when an exit signal kills it", async () => {
  const err = await testProcess(async () => {
    Process.spawnLink(() => {
      throw new Error("linked crash");
    });
    await Process.receive(() => false);
  }).then(() => null, (e) => e);
  assert.ok(err instanceof Process.ProcessExitError);
  assert.equal((err.reason as [string, Error])[1].message, "linked crash");
});

test("testProcess stops every process still linked to it, newest first, and waits for them", async () => {
  const stopped: string[] = [];
  const server = (name: string): GenServer.Callbacks<null> => ({
    init: () => {
      Process.trapExit(true);
      return ["ok", null];
    },
    terminate: (reason) => {
      stopped.push(`${name}:${reason}`);
    },
  });
  let pids: Process.Pid[] = [];
  await testProcess(async () => {
    const a = await GenServer.startLink(server("a"), undefined);
    const b = await GenServer.startLink(server("b"), undefined);
    const raw = Process.spawnLink(async () => {
      await Process.receive(() => false);
    });
    pids = [a, b, raw];
  });
  assert.deepEqual(stopped, ["b:shutdown", "a:shutdown"]);
  for (const pid of pids) assert.equal(Process.isAlive(pid), false);
});

test("testProcess kills a linked process that ignores shutdown after the grace period", async () => {
  let pid: Process.Pid | undefined;
  await testProcess(() => {
    pid = Process.spawnLink(async () => {
      for (;;) await Process.receive();
    }, { trapExit: true });
  }, { shutdown: 5 });
  assert.equal(Process.isAlive(pid!), false);
});

test("testProcess passes trapExit on to the test process", async () => {
  await testProcess(async () => {
    const child = Process.spawnLink(() => {
      throw new Error("crash");
    });
    const msg = await assertReceive<Process.ExitMessage>((m: unknown) => m instanceof Process.ExitMessage, 1000);
    assert.equal(msg.from, child);
  }, { trapExit: true });
});
