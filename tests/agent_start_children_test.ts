// Agent.startChildren: many agents under a DynamicSupervisor at once, each with its value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, DynamicSupervisor, GenServer, Process } from "../mod.ts";

test("Agent.startChildren: values given, children known at once, temporary, stopped with the supervisor", async () => {
  const sup = await DynamicSupervisor.startLink();
  const pids = Agent.startChildren<unknown>(sup, [{ n: 1 }, null, "x"]);
  assert.equal((await DynamicSupervisor.countChildren(sup)).active, 3);
  assert.deepEqual(await Agent.get(pids[0], (s) => s), { n: 1 });
  assert.equal(await Agent.get(pids[1], (s) => s), null);
  await Agent.update(pids[2], (s) => String(s) + "y");
  assert.equal(await Agent.get(pids[2], (s) => s), "xy");
  // Temporary: a killed one is forgotten, not restarted.
  await Process.run(async () => {
    const ref = Process.monitor(pids[0]);
    Process.exit(pids[0], "kill");
    await Process.receive({ ref });
  });
  assert.equal((await DynamicSupervisor.countChildren(sup)).active, 2);
  const [, p1, p2] = pids;
  await DynamicSupervisor.stop(sup);
  assert.equal(Process.isAlive(p1) || Process.isAlive(p2), false);
});

test("Agent.startChildren: a full supervisor or none at all is an error", async () => {
  const sup = await DynamicSupervisor.startLink({ maxChildren: 2 });
  assert.throws(() => Agent.startChildren(sup, [1, 2, 3]), (e: unknown) => e instanceof GenServer.StartError);
  assert.equal((await DynamicSupervisor.countChildren(sup)).active, 2, "the ones before stay");
  await DynamicSupervisor.stop(sup);
  assert.throws(() => Agent.startChildren(sup, [1]), (e: unknown) => e instanceof GenServer.CallError);
  assert.deepEqual(Agent.startChildren(sup, []), []);
});
