import { test } from "node:test";
import assert from "node:assert/strict";
import { BTree } from "../../lib/ets/_btree.ts";
import { compare } from "../../lib/ets/_term.ts";

/** A fixed-seed generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

test("B+ tree: random inserts and deletes keep every invariant and match a model", () => {
  const t = new BTree<number>();
  const model = new Map<number, number>();
  const rnd = lcg(7);
  for (let i = 0; i < 60_000; i++) {
    const k = rnd() % 20_000;
    if (rnd() % 3 === 0) {
      assert.equal(t.delete(k), model.get(k));
      model.delete(k);
    } else {
      t.set(k, i);
      model.set(k, i);
    }
    if (i % 10_000 === 0) t.check();
  }
  t.check();
  const keys = [...model.keys()].sort((a, b) => a - b);
  const walked: number[] = [];
  t.each((k) => {
    walked.push(k as number);
  });
  assert.deepEqual(walked, keys);
  for (const k of keys) assert.equal(t.get(k), model.get(k));
  // Delete everything, in a scrambled order: the tree shrinks back to one leaf.
  for (const k of keys.sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009))) t.delete(k);
  t.check();
  assert.equal(t.size, 0);
  assert.equal(t.nodeCount(), 1);
});

test("B+ tree: after/before find strict neighbours, present or not", () => {
  const t = new BTree<string>();
  for (let i = 0; i < 1000; i += 2) t.set(i, `v${i}`);
  assert.equal(t.after(10)![0].keys[t.after(10)![1]], 12);
  assert.equal(t.after(11)![0].keys[t.after(11)![1]], 12);
  assert.equal(t.before(10)![0].keys[t.before(10)![1]], 8);
  assert.equal(t.after(998), null);
  assert.equal(t.before(0), null);
  assert.equal(t.after(-1)![0].keys[t.after(-1)![1]], 0);
});

test("B+ tree: a walk survives deletes made by its callback", () => {
  const t = new BTree<number>();
  for (let i = 0; i < 5000; i++) t.set(i, i);
  const seen: number[] = [];
  t.each((k) => {
    seen.push(k as number);
    t.delete(k);
    t.delete((k as number) + 1); // also drop the next one
  });
  assert.equal(seen.length, 2500);
  assert.ok(seen.every((k) => k % 2 === 0));
  assert.equal(t.size, 0);
  t.check();
});

test("B+ tree: compound keys in term order", () => {
  const t = new BTree<number>();
  const keys: unknown[] = [];
  for (let a = 0; a < 30; a++) for (const b of ["x", "y", 3]) keys.push([a % 7, b, [a]]);
  keys.forEach((k, i) => t.set(k, i));
  t.check();
  const walked: unknown[] = [];
  t.each((k) => {
    walked.push(k);
  });
  assert.deepEqual(walked, [...keys].sort(compare));
  assert.equal(t.get([3, "x", [3]]), keys.findIndex((k) => compare(k, [3, "x", [3]]) === 0));
});
