// The timer lanes behind call timeouts, receive's `after` and sendAfter: a
// cancelled newest entry leaves its lane at once (an answered call keeps
// nothing alive), and whatever the order of cancels, live timers fire and
// cancelled ones do not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { schedule, Timer } from "../../lib/process/_timers.ts";

test("cancelling the newest timers empties the lane's tail at once; the others still fire, in order", async () => {
  const fired: string[] = [];
  const all = Promise.withResolvers<void>();
  const a = schedule(5, () => fired.push("a"));
  const b = schedule(5, () => fired.push("b"));
  const c = schedule(5, () => fired.push("c"));
  const lane = a.lane!;
  assert.equal(lane.entries.length, 3);
  assert.equal(c.cancel(), true);
  assert.equal(lane.entries.length, 2, "the newest entry left at once");
  // A cancel in the middle stays until the tail goes: then both leave.
  const d = schedule(5, () => fired.push("d"));
  assert.equal(b.cancel(), true);
  assert.equal(lane.entries.length, 3);
  assert.equal(d.cancel(), true);
  assert.equal(lane.entries.length, 1, "the cancelled run behind the tail left with it");
  assert.equal(d.cancel(), false, "a second cancel does nothing");
  schedule(6, () => {
    fired.push("e");
    all.resolve();
  });
  await all.promise;
  assert.deepEqual(fired, ["a", "e"]);
  assert.ok(a instanceof Timer && a.lane === null);
});

test("nested calls answered innermost first leave no entry behind", () => {
  const outer = schedule(5000, () => assert.fail("outer fired"));
  const lane = outer.lane!;
  const before = lane.entries.length;
  const inner = schedule(5000, () => assert.fail("inner fired"));
  assert.equal(lane.entries.length, before + 1);
  inner.cancel();
  outer.cancel();
  assert.equal(lane.entries.length, before - 1);
});
