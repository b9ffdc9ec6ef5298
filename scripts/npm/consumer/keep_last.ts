// The consumer's compactor for its disk log: keeps the last record. The module is also the
// compaction worker's script (DiskLog runs it in a worker thread by its URL).
import { DiskLog } from "@otp-ts/otp";

function* keepLast(records: Iterable<Uint8Array>): Iterable<Uint8Array> {
  let last: Uint8Array | undefined;
  for (const record of records) last = record;
  if (last !== undefined) yield last;
}

/** Pass as the log's `compactor`. */
export const KEEP_LAST: DiskLog.Compactor = { worker: import.meta.url, compact: keepLast };

DiskLog.serveCompaction(keepLast);
