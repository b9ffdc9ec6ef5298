/**
 * CRC-32 (IEEE, the `zlib.crc32` one) of a range of a byte array, in
 * JavaScript, slicing by 8. Private to `lib/disk_log/`.
 *
 * Why not `zlib.crc32`: it takes a whole array, so a record inside the log's
 * buffer needs a `subarray` view per record (an allocation) and a native call.
 * For the 38 bytes of a PUT record, this loop costs about 68 ns on Bun and 71
 * ns on Deno, against 108 and 162 ns for a view plus `zlib.crc32`.
 *
 * @module
 */

/** Eight 256-entry tables: `T[k * 256 + n]` is the CRC of byte `n` followed by `k` zero bytes. */
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let k = 1; k < 8; k++) {
    const prev = T[(k - 1) * 256 + n];
    T[k * 256 + n] = (prev >>> 8) ^ T[prev & 0xff];
  }
}

/**
 * The CRC-32 of `bytes[start..end)`, as an unsigned 32-bit number (what `zlib.crc32` returns).
 *
 * @example
 * ```ts
 * import { crc32Range } from "./_crc32.ts";
 * const bytes = new TextEncoder().encode("..123456789..");
 * console.assert(crc32Range(bytes, 2, 11) === 0xcbf43926);
 * ```
 */
export function crc32Range(bytes: Uint8Array, start: number, end: number): number {
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = T[1792 + (c & 0xff)] ^ T[1536 + ((c >>> 8) & 0xff)] ^ T[1280 + ((c >>> 16) & 0xff)] ^ T[1024 + (c >>> 24)] ^
      T[768 + bytes[i + 4]] ^ T[512 + bytes[i + 5]] ^ T[256 + bytes[i + 6]] ^ T[bytes[i + 7]];
  }
  for (; i < end; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
