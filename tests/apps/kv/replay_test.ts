// Replay's in-place fold (runs of records per bucket, parsed from the chunk
// buffer) against the record-by-record model, on random logs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DiskLog } from "../../../mod.ts";
import { type Bucket, KVLog, Replay } from "../../../lib/apps/kv/mod.ts";

function show(buckets: Map<string, Bucket.State>): string {
  const rows: string[] = [];
  for (const [name, s] of buckets) {
    const pairs = s === null ? [] : s instanceof Map ? [...s] : [[s.key, s.value]];
    rows.push(`${JSON.stringify(name)}:${JSON.stringify(pairs.sort())}`);
  }
  return rows.sort().join("\n");
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let logs = 0;

describe("Replay.replay", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`folds a random log of runs as the record-by-record model does (seed ${seed})`, async () => {
      const next = random(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
      // Names that share prefixes and lengths (the run check compares bytes), wide ones, __proto__.
      const names = ["a", "b", "ab", "ba", "aa", "__proto__", "", "\u20ac", "\u00ff", "bucket1", "bucket2"];
      const keys = ["k", "k2", "", "__proto__", "\u20ack"];
      const fs = new DiskLog.MemoryFileSystem();
      const [, log] = await DiskLog.open({ name: `replay${logs++}`, dir: "/d", fs });
      const model = new Map<string, Bucket.State>();
      const add = (r: KVLog.LogRecord) => {
        const payload = KVLog.encode(r);
        DiskLog.alog(log, payload);
        Replay.applyRecord(model, payload);
      };
      for (let run = 0; run < 400; run++) {
        const bucket = pick(names);
        for (let i = Math.floor(next() * 6); i >= 0; i--) {
          const x = next();
          if (x < 0.15) add({ type: "create", bucket });
          else if (x < 0.65) add({ type: "put", bucket, key: pick(keys), value: `v${run}.${i}` });
          else if (x < 0.9) add({ type: "delete", bucket, key: pick(keys) });
          else add({ type: "drop", bucket });
        }
      }
      await DiskLog.sync(log);
      assert.equal(show(await Replay.replay(log)), show(model));
      await DiskLog.close(log);
      // Again from the file, whose records open checked.
      const [, again] = await DiskLog.open({ name: log.name, dir: "/d", fs });
      assert.equal(show(await Replay.replay(again)), show(model));
      await DiskLog.close(again);
    });
  }

  it("a run that spans chunks keeps its bucket: one bucket of 200,000 keys", async () => {
    const fs = new DiskLog.MemoryFileSystem();
    const name = `replay${logs++}`;
    const [, log] = await DiskLog.open({ name, dir: "/d", fs });
    DiskLog.alog(log, KVLog.encode({ type: "create", bucket: "big" }));
    for (let i = 0; i < 200_000; i++) {
      DiskLog.alog(log, KVLog.encode({ type: "put", bucket: "big", key: `k${i}`, value: "v" }));
    }
    DiskLog.alog(log, KVLog.encode({ type: "delete", bucket: "big", key: "k7" }));
    DiskLog.alog(log, KVLog.encode({ type: "create", bucket: "small" }));
    await DiskLog.close(log);
    const [, again] = await DiskLog.open({ name, dir: "/d", fs });
    const buckets = await Replay.replay(again);
    const big = buckets.get("big");
    assert.ok(big instanceof Map);
    assert.equal(big.size, 199_999);
    assert.equal(big.get("k7"), undefined);
    assert.equal(big.get("k199999"), "v");
    assert.equal(buckets.get("small"), null);
    await DiskLog.close(again);
  });
});
