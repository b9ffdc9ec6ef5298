/**
 * The compaction worker thread: writes a base file off the main thread
 * (see `_compact.ts`), then posts `{ ok, records, bytes }` or
 * `{ ok: false, error }`. Private to `lib/disk_log/`.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { nodeFileSystem } from "./fs.ts";
import { type Compactor, writeBase } from "./_compact.ts";

interface Job {
  files: string[];
  tmp: string;
  header: Uint8Array;
  compactor: string;
  maxSize: number;
}

// Loaded outside a worker (a tool importing every module), it has no job and does nothing.
if (parentPort !== null) {
  const port = parentPort;
  const job = workerData as Job;
  try {
    const compactor = await import(job.compactor) as Compactor;
    const written = await writeBase(nodeFileSystem, job.files, job.tmp, job.header, compactor, job.maxSize);
    port.postMessage({ ok: true, ...written });
  } catch (error) {
    port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
}
