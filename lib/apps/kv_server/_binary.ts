/**
 * Binary strings: one char code (0..255) per byte. Protocol tokens travel as
 * binary strings so that any byte sequence, invalid UTF-8 included, survives a
 * round trip and can key a `Map`. Never use `TextDecoder("latin1")` for this:
 * WHATWG maps that label to windows-1252, which rewrites bytes 0x80..0x9f.
 *
 * @module
 */

const fromCharCode = String.fromCharCode;

/** Keeps `apply` far below engines' argument count limits. */
const APPLY_CHUNK = 8192;

/** What Node-style `Buffer`s (Bun's socket chunks) have: a native, flat latin1 decode. */
interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

/**
 * Decodes `bytes[start, end)` as a binary string.
 *
 * Short tokens (the common case: names and keys) take one `fromCharCode`
 * call with the bytes as arguments, which gives a flat string: building it
 * with `+=` makes a rope that every later `Map` lookup has to flatten, and
 * `apply` on a `subarray` allocates a view per token. A `Buffer`'s native
 * `latin1Slice` (true ISO-8859-1, unlike `TextDecoder("latin1")`) is faster
 * still, so it is used when the bytes have it.
 *
 * @param bytes The bytes.
 * @param start First byte, inclusive.
 * @param end Last byte, exclusive.
 * @returns A string whose char codes are the bytes.
 */
export function toBinaryString(bytes: Uint8Array, start = 0, end: number = bytes.length): string {
  if (typeof (bytes as unknown as Partial<Latin1Sliceable>).latin1Slice === "function") {
    return (bytes as unknown as Latin1Sliceable).latin1Slice(start, end);
  }
  const b = bytes;
  const s = start;
  switch (end - start) {
    case 0:
      return "";
    case 1:
      return fromCharCode(b[s]);
    case 2:
      return fromCharCode(b[s], b[s + 1]);
    case 3:
      return fromCharCode(b[s], b[s + 1], b[s + 2]);
    case 4:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7]);
    case 9:
      return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8]);
    case 10:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
      );
    case 11:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
      );
    case 12:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
      );
    case 13:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
      );
    case 14:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
        b[s + 13],
      );
    case 15:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
        b[s + 13],
        b[s + 14],
      );
    case 16:
      return fromCharCode(
        b[s],
        b[s + 1],
        b[s + 2],
        b[s + 3],
        b[s + 4],
        b[s + 5],
        b[s + 6],
        b[s + 7],
        b[s + 8],
        b[s + 9],
        b[s + 10],
        b[s + 11],
        b[s + 12],
        b[s + 13],
        b[s + 14],
        b[s + 15],
      );
  }
  let result = "";
  for (let i = start; i < end; i += APPLY_CHUNK) {
    const chunk = bytes.subarray(i, Math.min(end, i + APPLY_CHUNK));
    result += fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return result;
}

/**
 * Encodes a binary string as bytes (each char code's low 8 bits).
 *
 * @param s The binary string.
 * @returns Its bytes.
 */
export function fromBinaryString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
