/**
 * ETS benchmark: insert and lookup rates on 1,000,000-entry `set` and
 * `ordered_set` tables, and heap bytes per entry.
 *
 * Keys are the integers 0..N-1, inserted in a shuffled order. Lookups are
 * measured several ways, because at this size memory latency dominates:
 * random keys (nearly every lookup misses the CPU caches), keys in the
 * table's own order (cache-friendly for the tree), and 1,000 hot keys (what a
 * cache of popular names sees); with `lookup` (which allocates the result
 * array), `lookupOne`, and `lookupOne` followed by reading the object (one
 * more cache miss, the object's own). Objects are `[key, value]` pairs. Run standalone with
 * `bun scripts/_bench_ets.ts` or `deno run -A --v8-flags=--expose-gc scripts/_bench_ets.ts`.
 *
 * @module
 */
import * as Ets from "../lib/ets/ets.ts";
import { type BenchRow, printTable } from "./_bench_table.ts";
import process from "node:process";

const N = 1_000_000;

/** A permutation of 0..n-1 (a fixed-seed shuffle, so runs are comparable). */
function shuffled(n: number, seed: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const x = a[i];
    a[i] = a[j];
    a[j] = x;
  }
  return a;
}

function gc(): void {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else if (typeof g.gc === "function") g.gc();
}

function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Best of `rounds` timed runs of `fn` (which does `ops` operations): ops/s. */
function best(rounds: number, ops: number, fn: () => unknown): number {
  let top = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    top = Math.max(top, ops / (dt / 1000));
  }
  return top;
}

let sink = 0;

/** How a lookup row reads: `lookup`, `lookupOne`, or `lookupOne` then the object's value. */
type LookupKind = "lookup" | "one" | "value";

/** Lookups per second over `keys`, repeated to `ops` operations. */
function lookupRate(t: Ets.Table<[number, number]>, keys: Uint32Array, ops: number, kind: LookupKind): number {
  // One loop per kind, so each is compiled for its own call.
  return best(5, ops, () => {
    let found = 0;
    const n = keys.length;
    for (let done = 0; done < ops; done += n) {
      if (kind === "lookup") {
        for (let i = 0; i < n; i++) found += Ets.lookup(t, keys[i]).length;
      } else if (kind === "one") {
        for (let i = 0; i < n; i++) if (Ets.lookupOne(t, keys[i]) !== undefined) found++;
      } else {
        for (let i = 0; i < n; i++) found += Ets.lookupOne(t, keys[i])![1];
      }
    }
    sink += found;
  });
}

function benchType(type: "set" | "ordered_set", rows: BenchRow[]): void {
  const insertOrder = shuffled(N, 1);
  const randomOrder = shuffled(N, 2);
  // Ascending keys: cache-friendly for the tree; for the hash table (whose
  // number keys are spread by hash) as random as any other order.
  const friendly = shuffled(N, 0).sort();
  const hot = randomOrder.slice(0, 1000);
  let t = Ets.new<[number, number]>(`bench_${type}`, { type });
  const before = heapUsed();
  const ins = best(3, N, () => {
    Ets.delete(t);
    t = Ets.new<[number, number]>(`bench_${type}`, { type });
    for (let i = 0; i < N; i++) Ets.insert(t, [insertOrder[i], i]);
  });
  const bytes = (heapUsed() - before) / N;
  const random = lookupRate(t, randomOrder, N, "lookup");
  const randomOne = lookupRate(t, randomOrder, N, "one");
  const randomValue = lookupRate(t, randomOrder, N, "value");
  const inOrder = lookupRate(t, friendly, N, "lookup");
  const hotRate = lookupRate(t, hot, N, "lookup");
  const hotOne = lookupRate(t, hot, N, "one");
  const overwrite = best(2, N, () => {
    for (let i = 0; i < N; i++) Ets.insert(t, [randomOrder[i], i]);
  });
  if (Ets.info(t)!.size !== N) throw new Error(`Expected ${N} entries in the ${type}`);
  Ets.delete(t);
  // Ascending keys (ids, timestamps): every insert lands in the same, cached, last leaf.
  const ascending = best(2, N, () => {
    const a = Ets.new<[number, number]>(`bench_${type}_asc`, { type });
    for (let i = 0; i < N; i++) Ets.insert(a, [i, i]);
    Ets.delete(a);
  });
  const lookupTarget = type === "set" ? "≥ 30M" : undefined;
  rows.push(
    { name: `${type}: lookup, random keys (1M entries)`, value: random, unit: "ops/s", target: lookupTarget },
    { name: `${type}: lookupOne, random keys (1M entries)`, value: randomOne, unit: "ops/s", target: lookupTarget },
    { name: `${type}: lookupOne and read the value, random keys`, value: randomValue, unit: "ops/s" },
    { name: `${type}: lookup, ascending keys (1M entries)`, value: inOrder, unit: "ops/s", target: lookupTarget },
    { name: `${type}: lookup, 1,000 hot keys (1M entries)`, value: hotRate, unit: "ops/s", target: lookupTarget },
    { name: `${type}: lookupOne, 1,000 hot keys (1M entries)`, value: hotOne, unit: "ops/s" },
    {
      name: `${type}: insert new keys, random order (to 1M entries)`,
      value: ins,
      unit: "ops/s",
      target: type === "ordered_set" ? "≥ 1M" : undefined,
    },
    {
      name: `${type}: insert new keys, ascending (to 1M entries)`,
      value: ascending,
      unit: "ops/s",
      target: type === "ordered_set" ? "≥ 1M" : undefined,
    },
    { name: `${type}: insert overwriting, random keys (1M entries)`, value: overwrite, unit: "ops/s" },
    { name: `${type}: heap per entry ([int, int] objects)`, value: bytes, unit: "bytes" },
  );
}

/** Runs the ETS benchmark; rows as {@linkcode printTable} prints them. */
export async function benchEts(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  benchType("set", rows);
  await Promise.resolve();
  benchType("ordered_set", rows);
  if (sink < 0) console.log(sink);
  return rows;
}

if (import.meta.main) {
  printTable("ETS tables", await benchEts());
}
