// The record format's CRC (a JS table below 512 bytes, zlib above) and frame reader.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { BAD, crc, frameEnd, frameStart, SHORT } from "../../lib/disk_log/_format.ts";

describe("disk log format", () => {
  it("crc equals zlib.crc32 for every length 0..1100, at any offset", () => {
    const bytes = new Uint8Array(1200);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    for (let start = 0; start < 9; start++) {
      for (let n = 0; n <= 1100; n++) {
        assert.equal(crc(bytes, start, start + n), crc32(bytes.subarray(start, start + n)) >>> 0, `${start}+${n}`);
      }
    }
    assert.equal(crc(new TextEncoder().encode("123456789"), 0, 9), 0xcbf43926);
  });

  it("frameEnd reads a frame, reports short and bad ones, and skips the CRC when told", () => {
    const payload = new TextEncoder().encode("hello");
    const rec = new Uint8Array(1 + payload.length + 4);
    rec[0] = payload.length;
    rec.set(payload, 1);
    const c = crc(rec, 0, 1 + payload.length);
    new DataView(rec.buffer).setUint32(1 + payload.length, c, true);
    assert.equal(frameEnd(rec, 0, rec.length, 100), 6);
    assert.equal(frameStart, 1);
    assert.equal(frameEnd(rec, 0, rec.length - 1, 100), SHORT);
    assert.equal(frameEnd(rec, 0, rec.length, 4), BAD); // longer than the limit
    rec[3] ^= 1;
    assert.equal(frameEnd(rec, 0, rec.length, 100), BAD);
    assert.equal(frameEnd(rec, 0, rec.length, 100, false), 6);
  });
});
