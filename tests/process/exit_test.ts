// The exit-signal truth table of the design notes (Erlang's exit signals), one test per cell.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExitMessage, Process } from "../../mod.ts";
import { forwarder, idle, reasonOf } from "../_helpers.ts";

/** exit(target, reason) from another process, target not trapping. */
async function exitUntrapped(reason: unknown): Promise<{ alive: boolean; down?: unknown }> {
  return await Process.run(async ({ self }) => {
    const target = idle();
    const ref = Process.monitor(target);
    Process.exit(target, reason);
    if (Process.isAlive(target)) {
      // Prove it really survived: it still answers messages after the signal.
      const fwd = forwarder(self, false);
      Process.exit(fwd, "kill");
      Process.demonitor(ref);
      Process.exit(target, "kill");
      return { alive: true };
    }
    return { alive: false, down: await reasonOf(target, ref) };
  });
}

/** exit(target, reason) from another process, target trapping: returns what it received. */
async function exitTrapped(reason: unknown): Promise<unknown> {
  return await Process.run(async ({ self, receive }) => {
    const target = forwarder(self, true);
    Process.exit(target, reason);
    const got = await receive(undefined, 2000);
    Process.exit(target, "kill");
    return got;
  });
}

test("exit/2 normal to a non-trapping process is ignored", async () => {
  assert.deepEqual(await exitUntrapped("normal"), { alive: true });
});

test("exit/2 normal to a trapping process becomes an EXIT message", async () => {
  await Process.run(async ({ self, receive }) => {
    const target = forwarder(self, true);
    Process.exit(target, "normal");
    const [, msg] = await receive<[string, ExitMessage]>();
    assert.ok(msg instanceof ExitMessage);
    assert.equal(msg.from, self);
    assert.equal(msg.reason, "normal");
    Process.exit(target, "kill");
  });
});

test("exit/2 shutdown kills a non-trapping process with shutdown", async () => {
  assert.deepEqual(await exitUntrapped("shutdown"), { alive: false, down: "shutdown" });
});

test("exit/2 shutdown to a trapping process becomes an EXIT message", async () => {
  const got = await exitTrapped("shutdown") as [string, ExitMessage];
  assert.equal(got[1].reason, "shutdown");
});

test("exit/2 {shutdown, x} kills a non-trapping process with {shutdown, x}", async () => {
  assert.deepEqual(await exitUntrapped(["shutdown", "bye"]), { alive: false, down: ["shutdown", "bye"] });
});

test("exit/2 {shutdown, x} to a trapping process becomes an EXIT message", async () => {
  const got = await exitTrapped(["shutdown", "bye"]) as [string, ExitMessage];
  assert.deepEqual(got[1].reason, ["shutdown", "bye"]);
});

test("exit/2 kill kills a non-trapping process with killed", async () => {
  assert.deepEqual(await exitUntrapped("kill"), { alive: false, down: "killed" });
});

test("exit/2 kill cannot be trapped: a trapping process dies with killed", async () => {
  await Process.run(async ({ self }) => {
    const target = forwarder(self, true);
    const ref = Process.monitor(target);
    Process.exit(target, "kill");
    assert.equal(await reasonOf(target, ref), "killed");
  });
});

test("exit/2 any other reason kills a non-trapping process with that reason", async () => {
  assert.deepEqual(await exitUntrapped("boom"), { alive: false, down: "boom" });
});

test("exit/2 any other reason to a trapping process becomes an EXIT message", async () => {
  const got = await exitTrapped({ custom: 1 }) as [string, ExitMessage];
  assert.deepEqual(got[1].reason, { custom: 1 });
});

test("exit/2 from plain code carries a pid and obeys the same rules", () => {
  const target = idle();
  Process.exit(target, "normal");
  assert.ok(Process.isAlive(target));
  Process.exit(target, "boom");
  assert.ok(!Process.isAlive(target));
});

test("exit(self, normal) ends a non-trapping process with normal", async () => {
  await Process.run(async () => {
    const [pid, ref] = Process.spawnMonitor(async ({ self, receive }) => {
      Process.exit(self, "normal");
      await receive();
    });
    assert.equal(await reasonOf(pid, ref), "normal");
  });
});

test("exit(self, normal) in a trapping process becomes an EXIT message from itself", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    Process.trapExit(true);
    Process.exit(self, "normal");
    return await receive();
  });
  assert.ok(got instanceof ExitMessage);
  assert.equal(got.reason, "normal");
});

test("exit(self, kill) kills even a trapping process with killed", async () => {
  await Process.run(async () => {
    const [pid, ref] = Process.spawnMonitor(async ({ self, receive }) => {
      Process.exit(self, "kill");
      await receive();
    }, { trapExit: true });
    assert.equal(await reasonOf(pid, ref), "killed");
  });
});

/** A process linked to `dier`, which dies with `how`; returns what happened to the linked one. */
async function linkedDeath(how: (dier: Process.Pid) => void, trapping: boolean) {
  return await Process.run(async ({ self, receive }) => {
    const watcher = forwarder(self, trapping);
    const dier = Process.spawn(async ({ receive }) => {
      await receive("go");
      Process.link(watcher);
      Process.send(self, "linked");
      await receive("die");
      how(Process.self());
    });
    const ref = Process.monitor(watcher);
    Process.send(dier, "go");
    await receive("linked");
    Process.send(dier, "die");
    const dierRef = Process.monitor(dier);
    const dierReason = await reasonOf(dier, dierRef);
    // The watcher either got an EXIT message, died, or ignored the signal.
    if (trapping) {
      const [, msg] = await receive<[string, ExitMessage]>((m) => Array.isArray(m) && m[1] instanceof ExitMessage);
      assert.equal(msg.from, dier);
      Process.exit(watcher, "kill");
      return { dierReason, trapped: msg.reason };
    }
    if (!Process.isAlive(watcher)) return { dierReason, died: await reasonOf(watcher, ref) };
    Process.demonitor(ref);
    Process.exit(watcher, "kill");
    return { dierReason, survived: true };
  });
}

const endNormally = () => {};
test("linked process exits normal: a non-trapping link survives", async () => {
  assert.deepEqual(await linkedDeath(endNormally, false), { dierReason: "normal", survived: true });
});

test("linked process exits normal: a trapping link gets EXIT normal", async () => {
  assert.deepEqual(await linkedDeath(endNormally, true), { dierReason: "normal", trapped: "normal" });
});

const endShutdown = () => Process.exit("shutdown");
test("linked process exits shutdown: a non-trapping link dies with shutdown", async () => {
  assert.deepEqual(await linkedDeath(endShutdown, false), { dierReason: "shutdown", died: "shutdown" });
});

test("linked process exits shutdown: a trapping link gets EXIT shutdown", async () => {
  assert.deepEqual(await linkedDeath(endShutdown, true), { dierReason: "shutdown", trapped: "shutdown" });
});

const killSelf = (me: Process.Pid) => Process.exit(me, "kill");
test("linked process is killed: a non-trapping link dies with killed", async () => {
  assert.deepEqual(await linkedDeath(killSelf, false), { dierReason: "killed", died: "killed" });
});

test("linked process is killed: a trapping link gets EXIT killed and survives", async () => {
  assert.deepEqual(await linkedDeath(killSelf, true), { dierReason: "killed", trapped: "killed" });
});

const crash = () => {
  throw new Error("boom");
};
test("linked process crashes: a non-trapping link dies with the error reason", async () => {
  const r = await linkedDeath(crash, false) as { dierReason: [string, Error]; died: [string, Error] };
  assert.equal(r.dierReason[0], "error");
  assert.equal(r.dierReason[1].message, "boom");
  assert.equal(r.died, r.dierReason);
});

test("linked process crashes: a trapping link gets EXIT with the error reason", async () => {
  const r = await linkedDeath(crash, true) as { dierReason: [string, Error]; trapped: [string, Error] };
  assert.equal(r.trapped, r.dierReason);
  assert.equal(r.trapped[1].message, "boom");
});

const exitKill = () => Process.exit("kill");
test("linked process exits with reason kill: a link signal kill is trappable", async () => {
  assert.deepEqual(await linkedDeath(exitKill, true), { dierReason: "kill", trapped: "kill" });
});

test("linked process exits with reason kill: a non-trapping link dies with kill", async () => {
  assert.deepEqual(await linkedDeath(exitKill, false), { dierReason: "kill", died: "kill" });
});

test("monitor DOWN carries the normal reason", async () => {
  await Process.run(async () => {
    const [pid, ref] = Process.spawnMonitor(() => {});
    assert.equal(await reasonOf(pid, ref), "normal");
  });
});

test("monitor DOWN carries a crash reason with what was thrown", async () => {
  await Process.run(async () => {
    const thrown = { code: 42 };
    const [pid, ref] = Process.spawnMonitor(() => {
      throw thrown;
    });
    const reason = await reasonOf(pid, ref) as [string, unknown];
    assert.equal(reason[0], "error");
    assert.equal(reason[1], thrown);
  });
});

test("monitoring a dead process gives DOWN noproc at once", async () => {
  await Process.run(async () => {
    const pid = idle();
    Process.exit(pid, "kill");
    assert.equal(await reasonOf(pid), "noproc");
  });
});

test("monitoring an unregistered name gives DOWN noproc", async () => {
  await Process.run(async ({ receive }) => {
    const ref = Process.monitor("no_such_name");
    const down = await receive<Process.DownMessage>({ ref });
    assert.equal(down.reason, "noproc");
  });
});

test("demonitor with flush removes a queued DOWN", async () => {
  await Process.run(async ({ receive }) => {
    const pid = idle();
    const ref = Process.monitor(pid);
    Process.exit(pid, "kill");
    assert.equal(Process.info(Process.self())!.messageQueueLen, 1);
    assert.equal(Process.demonitor(ref, { flush: true }), false);
    assert.equal(await receive(undefined, 0), Process.TIMEOUT);
  });
});

test("demonitor before death means no DOWN arrives", async () => {
  await Process.run(async ({ receive }) => {
    const pid = idle();
    const ref = Process.monitor(pid);
    assert.equal(Process.demonitor(ref), true);
    Process.exit(pid, "kill");
    assert.equal(await receive(undefined, 0), Process.TIMEOUT);
  });
});

test("spawnLink links both ways and unlink removes the link", async () => {
  await Process.run(() => {
    const child = Process.spawnLink(async ({ receive }) => {
      await receive(() => false);
    });
    assert.deepEqual(Process.info(child)!.links, [Process.self()]);
    assert.deepEqual(Process.info(Process.self())!.links, [child]);
    Process.unlink(child);
    Process.exit(child, "boom"); // no longer linked: we survive
    assert.deepEqual(Process.info(Process.self())!.links, []);
  });
});

test("linking to a dead process: noproc as a message when trapping, else a catchable error", async () => {
  const trapped = await Process.run(async ({ receive }) => {
    Process.trapExit(true);
    const pid = idle();
    Process.exit(pid, "kill");
    Process.link(pid);
    return await receive<ExitMessage>();
  });
  assert.equal(trapped.reason, "noproc");
  const [err, alive] = await Process.run(() => {
    const pid = idle();
    Process.exit(pid, "kill");
    try {
      Process.link(pid);
    } catch (e) {
      return [e, Process.isAlive(Process.self())];
    }
    return [null, true];
  });
  assert.ok(err instanceof Process.NoProcessError);
  assert.equal(err.reason, "noproc");
  assert.equal(alive, true);
});

test("a long chain of links dies without overflowing the stack", async () => {
  await Process.run(async ({ self, receive }) => {
    const first = idle();
    let prev = first;
    for (let i = 0; i < 20_000; i++) {
      const link = prev;
      prev = Process.spawn(async ({ receive }) => {
        Process.link(link);
        Process.send(self, "ready");
        await receive(() => false);
      });
      await receive("ready");
    }
    const ref = Process.monitor(prev);
    Process.exit(first, "boom");
    assert.equal(await reasonOf(prev, ref), "boom");
  });
});
