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
import { encode } from "./kv_log.ts";
import { Single } from "./bucket.ts";
import { foldPayloads } from "./replay.ts";

/** Yields the compacted records of `records`. */
export function* compact(records: Iterable<Uint8Array>): Generator<Uint8Array> {
  // Replay's fold: records parsed in place, buckets found by a typed-array hash of their bytes.
  const { names, states } = foldPayloads(records);
  for (let i = 0; i < names.length; i++) {
    const bucket = names[i], s = states[i];
    yield encode({ type: "create", bucket });
    if (s instanceof Single) yield encode({ type: "put", bucket, key: s.key, value: s.value });
    else if (s !== null) { for (const [key, value] of s) yield encode({ type: "put", bucket, key, value }); }
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
