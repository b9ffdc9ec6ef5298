/**
 * The on-disk format of a disk log. Private to `lib/disk_log/`.
 *
 * A file is a 20-byte header then records:
 *
 * | bytes | field |
 * |---|---|
 * | 8 | magic `OTPTSLOG` |
 * | 2 | format version (u16 LE), {@linkcode VERSION} |
 * | 1 | kind: 1 incremental (appended to), 2 base (a compacted snapshot) |
 * | 1 | 0 |
 * | 4 | the file's sequence number (u32 LE) |
 * | 4 | CRC-32 of the 16 bytes above |
 *
 * A record is its payload's length (unsigned LEB128, 1–5 bytes), the payload,
 * then the CRC-32 (u32 LE) of the length bytes and the payload (one
 * contiguous range, one CRC call). A 34-byte payload thus costs 39 bytes.
 *
 * **Zeros end a file.** A file may end in zero bytes after its last record:
 * space written ahead of the records (see `preallocate` in `disk_log.ts`), or
 * left by a crash before the records reached it. A zero byte cannot start a
 * valid record there (a zero length's CRC is not zero), so an all-zero tail
 * is unused space, not a torn record: readers stop at it and open cuts it.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { crc32Range } from "./_crc32.ts";

export const MAGIC: Uint8Array = new TextEncoder().encode("OTPTSLOG");
export const VERSION = 1;
export const HEADER_SIZE = 20;
export const KIND_INCREMENTAL = 1;
export const KIND_BASE = 2;

/** Below this many bytes the JS table is faster than `zlib.crc32` (a native call and a view per record). */
const SHORT_CRC = 512;

/**
 * The CRC-32 (zlib's) of `bytes[start..end)`, as an unsigned number. Records
 * are short: for them `_crc32.ts`'s table is 3x faster than `zlib.crc32` on
 * Bun and Deno; long ones go to zlib.
 */
export function crc(bytes: Uint8Array, start: number, end: number): number {
  return end - start < SHORT_CRC ? crc32Range(bytes, start, end) : crc32(bytes.subarray(start, end)) >>> 0;
}

/**
 * Ends the frame that starts at `start` (its length) and whose payload ends
 * at `end`: writes the CRC-32 of `bytes[start..end)` after it, little-endian.
 * Returns where the frame ends. The writer's half of {@linkcode frameEnd}.
 */
export function sealFrame(bytes: Uint8Array, start: number, end: number): number {
  const c = crc(bytes, start, end);
  bytes[end] = c & 0xff;
  bytes[end + 1] = (c >>> 8) & 0xff;
  bytes[end + 2] = (c >>> 16) & 0xff;
  bytes[end + 3] = c >>> 24;
  return end + 4;
}

export function encodeHeader(kind: number, seq: number): Uint8Array {
  const h = new Uint8Array(HEADER_SIZE);
  h.set(MAGIC, 0);
  const v = new DataView(h.buffer);
  v.setUint16(8, VERSION, true);
  h[10] = kind;
  v.setUint32(12, seq, true);
  v.setUint32(16, crc(h, 0, 16), true);
  return h;
}

export interface Header {
  version: number;
  kind: number;
  seq: number;
}

/** Parses a header; a string says why it is not one. */
export function decodeHeader(bytes: Uint8Array): Header | string {
  if (bytes.length < HEADER_SIZE) return "short";
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return "magic";
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const version = v.getUint16(8, true);
  if (version !== VERSION) return `version ${version}`;
  if (v.getUint32(16, true) !== crc(bytes, 0, 16)) return "crc";
  return { version, kind: bytes[10], seq: v.getUint32(12, true) };
}

/** Bytes of `n`'s LEB128 encoding. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Writes `n` as LEB128 at `at`; returns the position after it. */
export function writeVarint(bytes: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    bytes[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  bytes[at++] = n;
  return at;
}

/** {@linkcode frameEnd}: the record runs past the limit. */
export const SHORT = -1;
/** {@linkcode frameEnd}: bad length or CRC. */
export const BAD = -2;

/** Where the payload of the record {@linkcode frameEnd} last found starts. */
export let frameStart = 0;

/**
 * Reads the record at `at` of `bytes[0..limit]` without allocating: the end
 * of its payload (its CRC follows: the record ends 4 bytes later; the payload
 * starts at {@linkcode frameStart}), or {@linkcode SHORT} (the record runs
 * past `limit`) or {@linkcode BAD} (bad length or CRC). With `check` false
 * the CRC is not computed: for bytes already checked (see `scan`).
 */
export function frameEnd(bytes: Uint8Array, at: number, limit: number, maxSize: number, check = true): number {
  let n = 0;
  let shift = 1;
  let p = at;
  for (let i = 0; i < 5; i++) {
    if (p >= limit) return SHORT;
    const b = bytes[p++];
    n += (b & 0x7f) * shift;
    shift *= 128;
    if ((b & 0x80) === 0) break;
    if (i === 4) return BAD;
  }
  // A non-minimal encoding never comes from the writer.
  if (p - at !== varintSize(n) || n > maxSize) return BAD;
  const end = p + n;
  if (end + 4 > limit) return SHORT;
  if (check) {
    const stored = (bytes[end] | (bytes[end + 1] << 8) | (bytes[end + 2] << 16) | (bytes[end + 3] << 24)) >>> 0;
    if (crc(bytes, at, end) !== stored) return BAD;
  }
  frameStart = p;
  return end;
}

/** The outcome of scanning one file's records. */
export interface Scan {
  /** Records whose frames are valid, in order, before `validEnd`. */
  records: number;
  /** The end of the last valid record before the first problem or a zero tail (else the file's size). */
  validEnd: number;
  /** Where the first problem is, or -1. */
  problemAt: number;
  /** A valid record exists after the problem: damage, not a torn tail. */
  validAfter: number;
}

/** Whether `bytes[from..limit)` are all zero: unused space, not a record (see the module doc). */
export function zeroFrom(bytes: Uint8Array, from: number, limit: number): boolean {
  for (let p = from; p < limit; p++) if (bytes[p] !== 0) return false;
  return true;
}

/**
 * Scans `bytes` from `from`: counts valid records and locates the first
 * problem. An all-zero tail is no problem: `validEnd` is where it starts.
 */
export function scan(bytes: Uint8Array, from: number, maxSize: number): Scan {
  const limit = bytes.length;
  let at = from;
  let records = 0;
  while (at < limit) {
    const end = frameEnd(bytes, at, limit, maxSize);
    if (end < 0) {
      if (zeroFrom(bytes, at, limit)) break;
      // Is there any valid record after the problem? Then it is damage.
      for (let p = at + 1; p < limit; p++) {
        if (frameEnd(bytes, p, limit, maxSize) >= 0) {
          return { records, validEnd: at, problemAt: at, validAfter: p };
        }
      }
      return { records, validEnd: at, problemAt: at, validAfter: -1 };
    }
    records++;
    at = end + 4;
  }
  return { records, validEnd: at, problemAt: -1, validAfter: -1 };
}
