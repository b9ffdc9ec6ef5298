// The routing table: parsing, lookup by first byte, checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRoutes, parseRoutes, routeOf } from "../../../lib/apps/kv/routing.ts";

test("routes cover byte ranges; the first matching entry wins; bytes, not characters", () => {
  const table = parseRoutes(" a-m=foo@h , n-z=bar@h,a=baz@h,\x80-\xff=hi@h");
  assert.equal(routeOf(table, "apple"), "foo@h");
  assert.equal(routeOf(table, "m"), "foo@h");
  assert.equal(routeOf(table, "n"), "bar@h");
  assert.equal(routeOf(table, "\xff\xfe"), "hi@h");
  assert.equal(routeOf(table, "Z"), undefined);
  assert.equal(routeOf([], "a"), undefined);
});

test("bad routes are refused with the entry named", () => {
  for (const bad of ["a-m", "m-a=x@h", "ab-c=x@h", "a-m=foo", "a-m=@h", "\u0100=x@h"]) {
    assert.throws(() => parseRoutes(bad), RangeError, bad);
  }
  assert.throws(() => checkRoutes("a-m=x@h"), TypeError);
  assert.throws(() => checkRoutes([{ first: 0, last: 300, node: "x@h" }]), TypeError);
  assert.deepEqual(checkRoutes([{ first: 0, last: 255, node: "x@h" }]), [{ first: 0, last: 255, node: "x@h" }]);
});
