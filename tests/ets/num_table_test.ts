import { test } from "node:test";
import assert from "node:assert/strict";
import { NumTable } from "../../lib/ets/_num_table.ts";
import * as Ets from "../../lib/ets/ets.ts";

/** A fixed-seed generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** Every value in slot order. */
function walk<V>(t: NumTable<V>): V[] {
  const out: V[] = [];
  for (let i = 0; i < t.slotCount; i++) {
    const v = t.at(i);
    if (v !== undefined) out.push(v);
  }
  return out;
}

test("number table: random sets and deletes match a Map model", () => {
  const t = new NumTable<number>();
  const model = new Map<number, number>();
  const rnd = lcg(11);
  // Integers, negative numbers, floats and numbers past 32 bits.
  const key = () => {
    const r = rnd() % 5_000;
    return r % 4 === 0 ? r / 8 : r % 4 === 1 ? -r : r % 4 === 2 ? r * 2 ** 33 : r;
  };
  for (let i = 0; i < 100_000; i++) {
    const k = key();
    if (rnd() % 3 === 0) {
      assert.equal(t.delete(k), model.get(k));
      model.delete(k);
    } else {
      t.set(k, i);
      model.set(k, i);
    }
    assert.equal(t.size, model.size);
  }
  for (const [k, v] of model) assert.equal(t.get(k), v);
  for (let i = 0; i < 1_000; i++) {
    const k = key();
    assert.equal(t.get(k), model.get(k));
  }
  assert.deepEqual(walk(t).sort((a, b) => a - b), [...model.values()].sort((a, b) => a - b));
});

test("number table: -0 is 0, and NaN is never found", () => {
  const t = new NumTable<string>();
  t.set(0, "zero");
  assert.equal(t.get(-0), "zero");
  t.set(-0, "still zero");
  assert.equal(t.size, 1);
  assert.equal(t.get(0), "still zero");
  assert.equal(t.get(NaN), undefined);
  assert.equal(t.delete(NaN), undefined);
});

/** The longest run of occupied slots (wrapping around). */
function longestCluster<V>(t: NumTable<V>): number {
  let longest = 0, run = 0;
  for (let i = 0; i < t.slotCount * 2; i++) {
    run = t.at(i % t.slotCount) === undefined ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

test("number table: structured keys spread over the slots", () => {
  const families: Array<[string, (i: number) => number]> = [
    ["consecutive integers", (i) => i],
    ["multiples of 2^16", (i) => i * 2 ** 16],
    ["multiples of 2^32", (i) => i * 2 ** 32],
    ["halves", (i) => i / 2],
    ["millisecond timestamps", (i) => 1_700_000_000_000 + i * 1000],
    ["powers of two, times odd numbers", (i) => 2 ** (i % 1000) * (2 * Math.floor(i / 1000) + 1)],
  ];
  for (const [name, key] of families) {
    const t = new NumTable<number>();
    for (let i = 0; i < 4_096; i++) t.set(key(i), i);
    // At most half full, so a sound spread leaves no long clusters.
    const longest = longestCluster(t);
    assert.ok(longest < 64, `${name}: longest cluster ${longest}`);
    for (let i = 0; i < 4_096; i++) assert.equal(t.get(key(i)), i, name);
  }
});

test("number table: deleting during a walk visits every other key exactly once", () => {
  const t = new NumTable<number>();
  for (let i = 0; i < 10_000; i++) t.set(i, i);
  const seen = new Set<number>();
  t.pinned(() => {
    for (let i = 0; i < t.slotCount; i++) {
      const v = t.at(i);
      if (v === undefined) continue;
      assert.ok(!seen.has(v));
      seen.add(v);
      t.delete(v);
      if (v + 1 < 10_000) t.delete(v + 1);
    }
  });
  assert.equal(t.size, 0);
  // A key not seen was deleted, as its predecessor's neighbour, before the walk got there.
  for (let i = 0; i < 10_000; i++) assert.ok(seen.has(i) || seen.has(i - 1), `key ${i} neither seen nor deleted`);
});

test("number table: interleaved deletes and inserts at a steady size stay fast and correct", () => {
  const t = new NumTable<number>();
  for (let i = 0; i < 1_000; i++) t.set(i, i);
  // A sliding window: always 1,000 live keys, 200,000 tombstones made in all.
  for (let i = 1_000; i < 201_000; i++) {
    t.delete(i - 1_000);
    t.set(i, i);
  }
  assert.equal(t.size, 1_000);
  assert.ok(t.slotCount <= 4_096, `slots grew to ${t.slotCount}`);
  for (let i = 200_000; i < 201_000; i++) assert.equal(t.get(i), i);
  assert.equal(t.get(199_999), undefined);
});

test("ETS set with number keys: first/next walks every key once while deleting and while inserting", () => {
  const t = Ets.new<[number, number]>("num_walk");
  for (let i = 0; i < 5_000; i++) Ets.insert(t, [i, i]);
  const seen: number[] = [];
  for (let k = Ets.first(t); k !== Ets.END_OF_TABLE;) {
    seen.push(k as number);
    const next = Ets.next(t, k);
    Ets.delete(t, k);
    k = next;
  }
  assert.equal(seen.length, 5_000);
  assert.equal(new Set(seen).size, 5_000);
  assert.equal(Ets.info(t)!.size, 0);

  // next(key) right after deleting key, the other common pattern.
  for (let i = 0; i < 1_000; i++) Ets.insert(t, [i, i]);
  let count = 0;
  for (let k = Ets.first(t); k !== Ets.END_OF_TABLE; count++) {
    Ets.delete(t, k);
    k = Ets.next(t, k);
  }
  assert.equal(count, 1_000);

  // A walk whose inserts force a rehash finds its place again by key.
  for (let i = 0; i < 100; i++) Ets.insert(t, [i, i]);
  const visited = new Set<number>();
  let k = Ets.first(t);
  for (let step = 0; k !== Ets.END_OF_TABLE && step < 10; step++) {
    visited.add(k as number);
    if (step === 5) { for (let i = 1_000; i < 3_000; i++) Ets.insert(t, [i, i]); }
    k = Ets.next(t, k);
  }
  assert.equal(visited.size, 10);
  assert.throws(() => Ets.next(t, 999), /not in the table/);
  Ets.delete(t);
});

test("ETS set: foldl sees each number key once while its callback deletes others", () => {
  const t = Ets.new<[number]>("num_fold");
  for (let i = 0; i < 2_000; i++) Ets.insert(t, [i]);
  const seen = Ets.foldl(t, (o, acc: number[]) => {
    acc.push(o[0]);
    Ets.delete(t, o[0] ^ 1);
    return acc;
  }, []);
  assert.equal(new Set(seen).size, seen.length);
  assert.equal(seen.length, 1_000);
  assert.equal(Ets.info(t)!.size, 1_000);
  Ets.delete(t);
});

test("ETS set: number, string and compound keys stay distinct", () => {
  const t = Ets.new<[unknown, string]>("num_mixed");
  Ets.insertMany(t, [[1, "num"], ["1", "str"], [[1], "tuple"], [1.5, "float"], [2 ** 40, "big"]]);
  assert.equal(Ets.lookupOne(t, 1)?.[1], "num");
  assert.equal(Ets.lookupOne(t, "1")?.[1], "str");
  assert.equal(Ets.lookupOne(t, [1])?.[1], "tuple");
  assert.equal(Ets.lookupOne(t, 1.5)?.[1], "float");
  assert.equal(Ets.lookupOne(t, 2 ** 40)?.[1], "big");
  assert.equal(Ets.info(t)!.size, 5);
  assert.throws(() => Ets.insert(t, [NaN, "nan"]), /Unsupported key/);
  assert.equal(Ets.info(t)!.size, 5);
  assert.equal(Ets.tab2list(t).length, 5);
  Ets.delete(t);
});
