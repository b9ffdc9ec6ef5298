// Monitors kept without a map entry per monitor (issue 13, memory): tags, the
// watcher's list of held monitors, demonitor and the watcher's death.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Process } from "../../mod.ts";
import { idle } from "../_helpers.ts";

test("a tagged monitor's DOWN carries the tag (dead or alive target); an untagged one has none", async () => {
  await Process.run(async ({ receive }) => {
    const pid = idle();
    const tagged = Process.monitor(pid, { tag: "bucket a" });
    const plain = Process.monitor(pid);
    Process.exit(pid, "kill");
    const d1 = await receive<Process.DownMessage>({ ref: tagged });
    const d2 = await receive<Process.DownMessage>({ ref: plain });
    assert.equal(d1.tag, "bucket a");
    assert.equal(d1.reason, "killed");
    assert.equal(d2.tag, undefined);
    const late = Process.monitor(pid, { tag: ["bucket", "b"] });
    const d3 = await receive<Process.DownMessage>({ ref: late });
    assert.deepEqual(d3.tag, ["bucket", "b"]);
    assert.equal(d3.reason, "noproc");
  });
});

test("Process.info lists held monitors oldest first; demonitor of any of them, in any order, is exact", async () => {
  await Process.run(() => {
    const pids = [idle(), idle(), idle()];
    const refs = pids.map((p, i) => Process.monitor(p, i === 1 ? { tag: i } : undefined));
    const self = Process.self();
    assert.deepEqual(Process.info(self)!.monitors, pids);
    assert.equal(Process.demonitor(refs[1]), true);
    assert.equal(Process.demonitor(refs[1]), false);
    assert.deepEqual(Process.info(self)!.monitors, [pids[0], pids[2]]);
    assert.deepEqual(Process.info(pids[1])!.monitoredBy, []);
    assert.equal(Process.demonitor(refs[0]), true);
    assert.equal(Process.demonitor(refs[2]), true);
    assert.deepEqual(Process.info(self)!.monitors, []);
    for (const p of pids) Process.exit(p, "kill");
  });
});

test("a watcher's death removes its monitors from the targets", async () => {
  const target = idle();
  await Process.run(async ({ receive }) => {
    const parent = Process.self();
    const watcher = Process.spawn(async ({ receive }) => {
      Process.monitor(target, { tag: "t" });
      Process.monitor(target);
      Process.send(parent, "monitoring");
      await receive();
    });
    await receive((m) => m === "monitoring");
    assert.equal(Process.info(target)!.monitoredBy.length, 2);
    const ref = Process.monitor(watcher);
    Process.exit(watcher, "kill");
    await receive({ ref });
  });
  assert.deepEqual(Process.info(target)!.monitoredBy, []);
  Process.exit(target, "kill");
});
