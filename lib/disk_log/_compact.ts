/**
 * Writing a compacted base file: read the closed files' records, let the
 * compactor fold them, frame what it yields into `tmp`, syncing every few
 * MB (one huge final flush would stall the disk), then once at the end.
 * Runs in a worker thread (the compactor's module, through
 * `serveCompaction`) on the real file system, inline on another one
 * (tests). Private to `lib/disk_log/`.
 *
 * @module
 */
import type { FileSystem } from "./fs.ts";
import { fdatasync, readAll } from "./_io.ts";
import {
  decodeHeader,
  frameEnd,
  frameStart,
  HEADER_SIZE,
  sealFrame,
  SHORT,
  varintSize,
  writeVarint,
  zeroFrom,
} from "./_format.ts";

/** Folds a log's records into fewer, with the same replay. */
export type CompactFn = (records: Iterable<Uint8Array>) => Iterable<Uint8Array>;

/** What a base write did. */
export interface BaseWritten {
  records: number;
  bytes: number;
}

const SYNC_EVERY = 8 << 20;
const CHUNK = 1 << 20;

function* records(fs: FileSystem, files: readonly string[], maxSize: number): Generator<Uint8Array> {
  for (const file of files) {
    const bytes = readAll(fs, file);
    const h = decodeHeader(bytes);
    if (typeof h === "string") throw new Error(`${file}: bad header (${h})`);
    let at = HEADER_SIZE;
    while (at < bytes.length) {
      const end = frameEnd(bytes, at, bytes.length, maxSize);
      if (end < 0) {
        if (zeroFrom(bytes, at, bytes.length)) break;
        throw new Error(`${file}: ${end === SHORT ? "short" : "bad"} record at offset ${at}`);
      }
      yield bytes.subarray(frameStart, end);
      at = end + 4;
    }
  }
}

/** Writes the base to `tmp` (replacing it), synced. */
export async function writeBase(
  fs: FileSystem,
  files: readonly string[],
  tmp: string,
  header: Uint8Array,
  compact: CompactFn,
  maxSize: number,
): Promise<BaseWritten> {
  const fd = fs.open(tmp);
  try {
    fs.truncate(fd, 0);
    let buf = new Uint8Array(CHUNK);
    buf.set(header, 0);
    let len = header.length, position = 0, unsynced = 0, count = 0;
    const flush = async () => {
      let done = 0;
      while (done < len) {
        const n = fs.write(fd, buf, done, len - done, position + done);
        if (n <= 0) throw new Error(`short write to ${tmp}`);
        done += n;
      }
      position += len;
      unsynced += len;
      len = 0;
      if (unsynced >= SYNC_EVERY) {
        await fdatasync(fs, fd);
        unsynced = 0;
      }
    };
    for (const payload of compact(records(fs, files, maxSize))) {
      const total = varintSize(payload.length) + payload.length + 4;
      if (len + total > buf.length) {
        await flush();
        if (total > buf.length) buf = new Uint8Array(total);
      }
      const p = writeVarint(buf, len, payload.length);
      buf.set(payload, p);
      len = sealFrame(buf, len, p + payload.length);
      count++;
    }
    await flush();
    await fdatasync(fs, fd);
    return { records: count, bytes: position };
  } finally {
    fs.close(fd);
  }
}
