// Task edge cases, checked against Elixir 1.14 (issue 12, item 11).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Process, Task } from "../mod.ts";

test("Task.shutdown that has to kill the task gives ['exit', 'killed'], as Elixir's {:exit, :killed}", async () => {
  await Process.run(async ({ self, receive }) => {
    const stubborn = Task.async(async () => {
      Process.trapExit(true);
      Process.send(self, "trapping");
      await Process.receive(() => false);
    });
    await receive("trapping");
    assert.deepEqual(await Task.shutdown(stubborn, 1), ["exit", "killed"]);
    // Killed by brutal_kill, or stopped by the shutdown signal itself: nil in Elixir.
    assert.equal(await Task.shutdown(Task.async(() => new Promise(() => {})), "brutal_kill"), null);
    assert.equal(await Task.shutdown(Task.async(() => new Promise(() => {}))), null);
  });
});

test("a task's outcome is handed out once: a second yield gives null, as in Elixir", async () => {
  const t = Task.async(() => 42);
  assert.deepEqual(await Task.yield(t), ["ok", 42]);
  assert.equal(await Task.yield(t, 1), null);
  assert.equal((await Task.await(t, 1).catch((e) => e)).reason, "timeout");
  assert.deepEqual(await Task.shutdown(t), ["exit", "noproc"]);
});

test("Task.await, yield and shutdown from a process that does not own the task are refused", async () => {
  const t = Task.async(() => 7);
  const errors = await Process.run(async () => [
    await Task.await(t).catch((e) => e),
    await Task.yield(t).catch((e) => e),
    await Task.shutdown(t).catch((e) => e),
  ]);
  for (const e of errors) assert.match(String(e.message), /must be queried from its owner/);
  assert.equal(await Task.await(t), 7); // the owner still gets it
});
