import { test } from "node:test";
import assert from "node:assert/strict";
import { Process, Supervisor } from "../../mod.ts";

// A body that dies in its promise handler schedules the run queue from its own
// async context; the behaviours dispatched then must not resume as that dead process.
test("a supervisor restarting a child that exited from its async body still answers calls", async () => {
  await Process.run(async () => {
    const owner = Process.self();
    const child = (id: string) => ({
      id,
      start: () =>
        Process.spawnLink(async ({ self, receive }) => {
          Process.send(owner, ["started", id, self]);
          await receive("crash");
          Process.exit("boom");
        }),
    });
    const sup = await Supervisor.startLink([child("a")], { strategy: "one_for_one" });
    const [, , first] = await Process.receive<[string, string, Process.Pid]>();
    Process.send(first, "crash");
    const [, , second] = await Process.receive<[string, string, Process.Pid]>();
    assert.notEqual(second, first);
    const which = await Promise.race([Supervisor.whichChildren(sup), Process.sleep(2000).then(() => "no answer")]);
    assert.deepEqual(which, [{ id: "a", pid: second, type: "worker", modules: [] }]);
    await Supervisor.stop(sup);
  });
});
