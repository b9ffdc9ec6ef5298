/**
 * Heap per bucket, in-process: starts the KV application, makes N one-key
 * buckets (`Registry.create` + `Bucket.put`, 1,000 at a time), and prints
 * the heap used per bucket after full collections, then the RSS and (on Bun)
 * the collector's heap size and capacity after 5 s of idling. Bun's capacity
 * over size is how much its non-compacting collector's blocks are left part
 * empty; `bucket_memory.ts` measures the server's RSS over the protocol.
 *
 * ```sh
 * bun scripts/bucket_heap.ts 300000
 * deno run -A --v8-flags=--expose-gc scripts/bucket_heap.ts 300000
 * ```
 *
 * @module
 */
import process from "node:process";
import { Bucket, REGISTRY, Registry, start } from "../lib/apps/kv/mod.ts";

const count = Number(process.argv[2] ?? "100000");
const g = globalThis as { gc?: (full?: boolean) => void; Bun?: { gc(full: boolean): void } };
const gc = g.Bun !== undefined ? () => g.Bun!.gc(true) : g.gc;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc?.(true);
  return process.memoryUsage().heapUsed;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

await start();
// Warm up: the first buckets make the code and the tables' first slots.
for (let i = 0; i < 100; i++) await Bucket.put(await Registry.create(REGISTRY, `w${i}`), "k", "v");
const before = heapUsed();
for (let i = 0; i < count; i += 1000) {
  const batch: Promise<void>[] = [];
  for (let j = i; j < Math.min(count, i + 1000); j++) {
    batch.push(Registry.create(REGISTRY, `b${j}`).then((pid) => Bucket.put(pid, "k", "v")));
  }
  await Promise.all(batch);
}
const perBucket = (heapUsed() - before) / count;
await new Promise((resolve) => setTimeout(resolve, 5000));
heapUsed();
let collector = "";
if (g.Bun !== undefined) {
  // A specifier in a variable: Deno does not resolve it while checking this file.
  const bunJsc = "bun:jsc";
  const jsc = await import(bunJsc) as { heapStats(): { heapSize: number; heapCapacity: number } };
  const s = jsc.heapStats();
  collector = ` ${mib(s.heapSize)} | ${mib(s.heapCapacity)} |`;
}
console.log(
  `| buckets | heap per bucket | RSS after 5 s idle |${g.Bun !== undefined ? " heap size | heap capacity |" : ""}`,
);
console.log(`|---:|---:|---:|${g.Bun !== undefined ? "---:|---:|" : ""}`);
console.log(
  `| ${count.toLocaleString("en")} | ${perBucket.toFixed(0)} B | ${mib(process.memoryUsage().rss)} |${collector}`,
);
process.exit(0);
