// Links and monitors, checked against Erlang/OTP 25 (issue 12, items 3, 4, 6 and 13).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ExitMessage, Process } from "../../mod.ts";
import { idle } from "../_helpers.ts";

/** A pid whose process has ended. */
function deadPid(): Process.Pid {
  const pid = idle();
  Process.exit(pid, "kill");
  return pid;
}

test("monitoring a dead pid gives a DOWN naming that pid; an unknown name gives one naming the name", async () => {
  await Process.run(async ({ receive }) => {
    const dead = deadPid();
    const ref = Process.monitor(dead);
    const down = await receive<Process.DownMessage>({ ref });
    assert.equal(down.pid, dead);
    assert.equal(down.reason, "noproc");
    const ref2 = Process.monitor("nobody_registered_here");
    const down2 = await receive<Process.DownMessage>({ ref: ref2 });
    assert.equal(down2.name, "nobody_registered_here");
    assert.equal(down2.reason, "noproc");
    // A live name: the DOWN names it too ({Name, Node} in OTP).
    const pid = idle({ name: "monitored_by_name" });
    const ref3 = Process.monitor("monitored_by_name");
    Process.exit(pid, "kill");
    const down3 = await receive<Process.DownMessage>({ ref: ref3 });
    assert.equal(down3.name, "monitored_by_name");
    assert.equal(down3.reason, "killed");
  });
});

test("link to a dead pid: a catchable noproc error when not trapping, an EXIT message when trapping", async () => {
  await Process.run(async ({ receive }) => {
    const dead = deadPid();
    assert.throws(() => Process.link(dead), (e: unknown) => e instanceof Process.NoProcessError && e.pid === dead);
    Process.trapExit(true);
    Process.link(dead);
    const msg = await receive<ExitMessage>((m: unknown) => m instanceof ExitMessage);
    assert.equal(msg.from, dead);
    assert.equal(msg.reason, "noproc");
    assert.throws(() => Process.link("nobody_registered_here"), /No process is registered/);
  });
});

test("a trapping process linked to and monitoring one that dies gets the EXIT before the DOWN", async () => {
  await Process.run(async ({ receive }) => {
    Process.trapExit(true);
    const pid = Process.spawnLink(async ({ receive }) => {
      await receive("go");
      Process.exit("boom");
    });
    Process.monitor(pid);
    Process.send(pid, "go");
    const first = await receive();
    const second = await receive();
    assert.ok(first instanceof ExitMessage, `first: ${first?.constructor?.name}`);
    assert.ok(second instanceof Process.DownMessage);
  });
});

test("monitor(self()) creates no monitor: nothing is listed, demonitor says false", async () => {
  await Process.run(() => {
    const ref = Process.monitor(Process.self());
    assert.deepEqual(Process.info(Process.self())!.monitors, []);
    assert.deepEqual(Process.info(Process.self())!.monitoredBy, []);
    assert.equal(Process.demonitor(ref), false);
  });
});
