/**
 * KV application benchmark, through the public API only (`KV` from mod.ts):
 *
 * - `Registry.create` of new names per second (each starts a bucket through
 *   the bucket supervisor), with 1,000 creates in flight, and one at a time;
 * - `Registry.lookup` per second (a direct read of the name table), over
 *   names that exist;
 * - bucket `put` + `get` round trips per second, one at a time and with
 *   1,000 buckets in flight;
 * - heap for 1,000,000 buckets holding one key each (everything they cost:
 *   processes, supervisor and registry bookkeeping, monitors, table rows,
 *   keys and values), target under 1 GB.
 *
 *   bun scripts/_bench_kv.ts [--quick]
 *   deno run -A --v8-flags=--expose-gc scripts/_bench_kv.ts [--quick]
 *
 * `--quick` measures for 300 ms instead of 1.5 s and fills 100,000 buckets
 * instead of 1,000,000 (the per-bucket figure still holds; the total is
 * scaled to a million).
 *
 * @module
 */
import process from "node:process";
import * as KV from "../lib/apps/kv/mod.ts";
import { Supervisor } from "../mod.ts";
import type { Pid } from "../mod.ts";
import { type BenchRow, printTable } from "./_bench_table.ts";

const quick = process.argv.includes("--quick");
const DURATION = quick ? 300 : 1500;
const MEMORY_BUCKETS = quick ? 100_000 : 1_000_000;
const now = () => performance.now();

function gc(): void {
  const g = globalThis as { Bun?: { gc(full: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else if (typeof g.gc === "function") g.gc();
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let tree = 0;
/** Starts a KV tree with its own prefix; returns its names and a stopper. */
async function startTree(): Promise<{ names: KV.KVSupervisor.Names; stop: () => Promise<void> }> {
  const prefix = `bench${tree++}.`;
  const sup = await KV.KVSupervisor.startLink({ prefix });
  return { names: KV.KVSupervisor.names(prefix), stop: () => Supervisor.stop(sup) };
}

/** Creates `count` buckets named `${tag}${i}`, `inFlight` at a time. */
async function createMany(registry: string, tag: string, count: number, inFlight: number): Promise<Pid[]> {
  const out: Pid[] = new Array(count);
  for (let i = 0; i < count; i += inFlight) {
    const end = Math.min(count, i + inFlight);
    const ps: Promise<Pid>[] = new Array(end - i);
    for (let j = i; j < end; j++) ps[j - i] = KV.Registry.create(registry, `${tag}${j}`);
    const got = await Promise.all(ps);
    for (let j = i; j < end; j++) out[j] = got[j - i];
  }
  return out;
}

/** New-name creates per second, `inFlight` at a time. */
async function createRate(inFlight: number): Promise<number> {
  const { names, stop } = await startTree();
  const batch = inFlight === 1 ? 500 : 5 * inFlight;
  let n = 0;
  const t0 = now();
  while (now() - t0 < DURATION) {
    await createMany(names.registry, `c${n}_`, batch, inFlight);
    n += batch;
  }
  const rate = n / ((now() - t0) / 1000);
  await stop();
  return rate;
}

let sink = 0;

/** Lookups per second over 10,000 existing names. */
async function lookupRate(): Promise<number> {
  const { names, stop } = await startTree();
  const count = 10_000;
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push(`bucket${i}`);
  await createMany(names.registry, "bucket", count, 1000);
  const table = names.table;
  let best = 0;
  for (let round = 0; round < 5; round++) {
    let n = 0;
    const t0 = now();
    while (now() - t0 < DURATION / 5) {
      for (let i = 0; i < count; i++) if (KV.Registry.lookup(table, keys[i]) !== undefined) sink++;
      n += count;
    }
    best = Math.max(best, n / ((now() - t0) / 1000));
  }
  await stop();
  return best;
}

/** `put` then `get` round trips per second over `buckets` buckets, one request per bucket in flight. */
async function putGetRate(buckets: number): Promise<number> {
  const { names, stop } = await startTree();
  const pids = await createMany(names.registry, "pg", buckets, 1000);
  let n = 0;
  const t0 = now();
  const one = async (b: Pid, i: number) => {
    const k = `key${i & 1023}`;
    await KV.Bucket.put(b, k, "value");
    if ((await KV.Bucket.get(b, k)) !== "value") throw new Error("lost a value");
  };
  while (now() - t0 < DURATION) {
    if (buckets === 1) {
      for (let i = 0; i < 1000; i++) await one(pids[0], i);
      n += 1000;
    } else {
      const ps: Promise<void>[] = new Array(buckets);
      for (let i = 0; i < buckets; i++) ps[i] = one(pids[i], n + i);
      await Promise.all(ps);
      n += buckets;
    }
  }
  const rate = n / ((now() - t0) / 1000);
  await stop();
  return rate;
}

/** Heap bytes per bucket with `count` one-key buckets alive, and the create rate while filling. */
async function memory(count: number): Promise<{ perBucket: number; totalMB: number; fillRate: number }> {
  const before = heapUsed();
  const { names, stop } = await startTree();
  const chunk = 1000;
  const t0 = now();
  for (let i = 0; i < count; i += chunk) {
    const end = Math.min(count, i + chunk);
    const ps: Promise<void>[] = [];
    for (let j = i; j < end; j++) {
      ps.push(KV.Registry.create(names.registry, `bucket${j}`).then((b) => KV.Bucket.put(b, `key${j}`, `value${j}`)));
    }
    await Promise.all(ps);
  }
  const fillRate = count / ((now() - t0) / 1000);
  const after = heapUsed();
  const perBucket = (after - before) / count;
  if (KV.Registry.lookup(names.table, `bucket${count - 1}`) === undefined) throw new Error("a bucket is missing");
  await stop();
  return { perBucket, totalMB: (after - before) / 1048576, fillRate };
}

/** Runs every KV figure; returns the rows. */
export async function benchKv(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push({
    name: "KV.Registry.create, new names, 1,000 in flight",
    value: await createRate(1000),
    unit: "creates/s",
  });
  rows.push({ name: "KV.Registry.create, new names, one at a time", value: await createRate(1), unit: "creates/s" });
  rows.push({ name: "KV.Registry.lookup (ETS read, 10,000 names)", value: await lookupRate(), unit: "lookups/s" });
  rows.push({ name: "KV.Bucket put+get, one at a time", value: await putGetRate(1), unit: "round trips/s" });
  rows.push({
    name: "KV.Bucket put+get, 1,000 buckets in flight",
    value: await putGetRate(1000),
    unit: "round trips/s",
  });
  const m = await memory(MEMORY_BUCKETS);
  const label = MEMORY_BUCKETS.toLocaleString("en-US");
  rows.push({ name: `heap per one-key bucket (${label} alive)`, value: m.perBucket, unit: "bytes/bucket" });
  rows.push({
    name: `heap for 1,000,000 one-key buckets${quick ? " (scaled from 100,000)" : ""}`,
    value: (m.perBucket * 1_000_000) / 1048576,
    unit: "MB",
    target: "< 1,024",
  });
  rows.push({ name: `create + put while filling ${label} buckets`, value: m.fillRate, unit: "buckets/s" });
  return rows;
}

if (import.meta.main) {
  printTable("KV application", await benchKv());
}
