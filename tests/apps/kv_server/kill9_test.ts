// `kill -9` of the durable server under load, then a restart: every
// acknowledged write is there, no acknowledged delete is undone, nothing is
// invented. A few runs per policy here; `scripts/kill9.ts` does 100 each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kill9Run } from "../../../scripts/_kill9.ts";

for (const [policy, fsync] of [["always", "inline"], ["always", "thread"], ["everysec"], ["no"]] as const) {
  test(`kill -9 under load loses no acknowledged write (${policy}${fsync ? `, fsync ${fsync}` : ""})`, {
    timeout: 120_000,
  }, async () => {
    for (const pipeline of [1, 16]) {
      const r = await kill9Run({
        policy,
        ...(fsync ? { fsync } : {}),
        connections: 50,
        pipeline,
        minMs: 30,
        maxMs: 200,
      });
      assert.ok(r.acknowledged > 0, "the load got answers before the kill");
      assert.deepEqual(r.violations, [], `pipeline ${pipeline}`);
    }
  });
}
