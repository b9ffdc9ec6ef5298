// Agent functions must be synchronous (issue 12): a returned promise is refused with a clear error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, GenServer, Process } from "../mod.ts";

test("get, update and getAndUpdate refuse a function that returns a promise; the value is unchanged", async () => {
  const agent = await Agent.start(() => 1);
  const refused = (e: unknown) => e instanceof TypeError && /must be synchronous/.test(e.message);
  // What an `async` function returns: a promise.
  const later = <T>(v: T) => Promise.resolve(v);
  await assert.rejects(Agent.get(agent, (n) => later(n)), refused);
  await assert.rejects(Agent.update(agent, ((n: number) => later(n + 1)) as never), refused); // the types refuse it too
  await assert.rejects(Agent.getAndUpdate(agent, ((n: number) => later([n, n + 1])) as never), refused);
  const viaCallback = await new Promise((resolve) =>
    Agent.updateWith(agent, ((n: number) => later(n)) as never, resolve)
  );
  assert.ok(refused(viaCallback));
  assert.equal(await Agent.get(agent, (n) => n), 1);
  assert.ok(Process.isAlive(agent));
  await Agent.stop(agent);
});

test("start refuses an async initial function; a cast of one crashes the agent with the error", async () => {
  const err = await Agent.start(() => Promise.resolve(1)).catch((e) => e);
  assert.ok(err instanceof GenServer.StartError);
  assert.match(String((err.reason as [string, Error])[1].message), /must be synchronous/);
  const agent = await Agent.start(() => 1);
  await Process.run(async ({ receive }) => {
    const ref = Process.monitor(agent);
    Agent.cast(agent, ((n: number) => Promise.resolve(n)) as never);
    const down = await receive<Process.DownMessage>({ ref });
    assert.match(String((down.reason as [string, Error])[1].message), /Agent.cast: .*must be synchronous/);
  });
});
