/**
 * The KV log's compactor ({@linkcode COMPACTOR}, see `DiskLog.compact`):
 * folds the records of the closed log files into the buckets that exist at
 * their end, and yields one `CREATE` per bucket and one `PUT` per key. This
 * module is also the compaction worker thread's entry: loaded there, it
 * serves the compaction (`DiskLog.serveCompaction`).
 *
 * @example
 * ```ts
 * import { compact } from "./compactor.ts";
 * import * as KVLog from "./kv_log.ts";
 * const records = [
 *   { type: "create", bucket: "a" }, { type: "put", bucket: "a", key: "k", value: "1" },
 *   { type: "put", bucket: "a", key: "k", value: "2" }, { type: "create", bucket: "gone" },
 *   { type: "drop", bucket: "gone" },
 * ] as const;
 * const out = [...compact(records.map(KVLog.encode))].map(KVLog.decode);
 * console.assert(out.length === 2 && out[1].type === "put" && out[1].value === "2");
 * ```
 *
 * @module
 */
import { DiskLog } from "../../../mod.ts";
import { decode, encode } from "./kv_log.ts";

/** Yields the compacted records of `records`. */
export function* compact(records: Iterable<Uint8Array>): Generator<Uint8Array> {
  const buckets = new Map<string, Map<string, string>>();
  for (const payload of records) {
    const r = decode(payload);
    switch (r.type) {
      case "create":
        if (!buckets.has(r.bucket)) buckets.set(r.bucket, new Map());
        break;
      case "put": {
        let b = buckets.get(r.bucket);
        if (b === undefined) buckets.set(r.bucket, b = new Map());
        b.set(r.key, r.value);
        break;
      }
      case "delete":
        buckets.get(r.bucket)?.delete(r.key);
        break;
      case "drop":
        buckets.delete(r.bucket);
        break;
    }
  }
  for (const [bucket, pairs] of buckets) {
    yield encode({ type: "create", bucket });
    for (const [key, value] of pairs) yield encode({ type: "put", bucket, key, value });
  }
}

/**
 * The KV log's compactor: {@linkcode compact}, run in a worker thread from
 * this module.
 *
 * @example
 * ```ts
 * import { COMPACTOR } from "./compactor.ts";
 * console.assert(COMPACTOR.worker.endsWith("compactor.ts"));
 * ```
 */
export const COMPACTOR: DiskLog.Compactor = { worker: import.meta.url, compact };

// In a compaction worker thread: do the work. On the main thread: nothing.
void DiskLog.serveCompaction(compact);
