import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { crc32Range } from "../../lib/disk_log/_crc32.ts";

describe("crc32Range (the log's CRC-32 of a buffer range)", () => {
  it("matches zlib.crc32 for every range of a buffer of all byte values", () => {
    const bytes = new Uint8Array(300);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + 7) & 0xff;
    for (let start = 0; start < 20; start++) {
      for (let end = start; end <= bytes.length; end += 1 + (end % 7)) {
        assert.equal(crc32Range(bytes, start, end), crc32(bytes.subarray(start, end)) >>> 0, `${start}..${end}`);
      }
    }
  });

  it("gives the standard check value and 0 for an empty range", () => {
    assert.equal(crc32Range(new TextEncoder().encode("123456789"), 0, 9), 0xcbf43926);
    assert.equal(crc32Range(new Uint8Array(4), 2, 2), 0);
  });
});
