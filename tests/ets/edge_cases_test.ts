// ETS edge cases, checked against Erlang/OTP 25 (issue 12, item 12).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ets } from "../../mod.ts";

test("updateCounter with [] returns [] and updateElement with [] returns true (false for a missing key)", () => {
  const t = Ets.new("edge_empty_ops", { access: "public" });
  Ets.insert(t, ["k", 1, "x"]);
  assert.deepEqual(Ets.updateCounter(t, "k", []), []);
  assert.equal(Ets.updateElement(t, "k", []), true);
  assert.equal(Ets.updateElement(t, "missing", []), false);
  assert.throws(() => Ets.updateCounter(t, "missing", []), Ets.EtsError);
  Ets.delete(t);
});

test("updateCounter: a non-integer increment, threshold, set value or counter is badarg, and changes nothing", () => {
  const t = Ets.new("edge_non_integer", { access: "public" });
  Ets.insert(t, ["k", 1, 2.5]);
  const badarg = (fn: () => unknown) =>
    assert.throws(fn, (e: unknown) => e instanceof Ets.EtsError && e.code === "badarg");
  badarg(() => Ets.updateCounter(t, "k", [2, 1.5]));
  badarg(() => Ets.updateCounter(t, "k", 0.5));
  badarg(() => Ets.updateCounter(t, "k", [3, 1]));
  badarg(() => Ets.updateCounter(t, "k", [2, 1, 10.5, 0]));
  badarg(() => Ets.updateCounter(t, "k", [[2, 1], [2, 1.5]]));
  badarg(() => Ets.updateCounter(t, "k2", 1, ["k2", 0.5]));
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 1, 2.5]]);
  assert.deepEqual(Ets.lookup(t, "k2"), []);
  Ets.delete(t);
});

test("renaming an unnamed table returns the table; a named one returns the new name", () => {
  const unnamed = Ets.new("edge_unnamed");
  assert.equal(Ets.rename(unnamed, "edge_unnamed_2"), unnamed);
  assert.equal(Ets.info(unnamed)!.name, "edge_unnamed_2");
  const named = Ets.new("edge_named", { named: true });
  assert.equal(Ets.rename(named, "edge_named_2"), "edge_named_2");
  Ets.delete(unnamed);
  Ets.delete(named);
});
