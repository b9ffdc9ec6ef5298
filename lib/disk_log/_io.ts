/**
 * File helpers shared by the log's owner (`disk_log.ts`) and its compaction
 * worker (`_compact.ts`), over the {@linkcode FileSystem} seam.
 *
 * @module
 */

import type { FileSystem } from "./fs.ts";

/** The whole of `file` (shorter if it shrank while read). */
export function readAll(fs: FileSystem, file: string): Uint8Array {
  const size = fs.size(file);
  const bytes = new Uint8Array(size);
  const fd = fs.open(file);
  try {
    let got = 0;
    while (got < size) {
      const n = fs.read(fd, bytes, got, size - got, got);
      if (n <= 0) break;
      got += n;
    }
    return got === size ? bytes : bytes.subarray(0, got);
  } finally {
    fs.close(fd);
  }
}

/** `fs.fdatasync` as a promise. */
export function fdatasync(fs: FileSystem, fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => e === null ? resolve() : reject(e)));
}
