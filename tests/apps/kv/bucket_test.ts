import { test } from "node:test";
import assert from "node:assert/strict";
import * as KV from "../../../lib/apps/kv/mod.ts";
import { DynamicSupervisor, Process, Supervisor, Testing } from "../../../mod.ts";

const { Bucket, BucketSupervisor } = KV;
const { startSupervised, testProcess, testSupervisor } = Testing;

/** Kills `pid` and waits for its DOWN. */
function kill(pid: Process.Pid): Promise<unknown> {
  return testProcess(async () => {
    const ref = Process.monitor(pid);
    Process.exit(pid, "kill");
    return (await Testing.assertReceive<Process.DownMessage>({ ref })).reason;
  });
}

test("a bucket stores values by key", async (t) => {
  const bucket = await startSupervised(t, Bucket);
  assert.equal(await Bucket.get(bucket, "milk"), undefined);
  await Bucket.put(bucket, "milk", "3");
  assert.equal(await Bucket.get(bucket, "milk"), "3");
  await Bucket.put(bucket, "milk", "4");
  assert.equal(await Bucket.get(bucket, "milk"), "4");
});

test("delete returns the old value", async (t) => {
  const bucket = await startSupervised(t, Bucket);
  await Bucket.put(bucket, "milk", "3");
  assert.equal(await Bucket.delete(bucket, "milk"), "3");
  assert.equal(await Bucket.get(bucket, "milk"), undefined);
  assert.equal(await Bucket.del(bucket, "milk"), undefined);
});

test("a bucket keeps every key through its one-key and many-key forms", async (t) => {
  const bucket = await startSupervised(t, Bucket);
  const keys = ["a", "b", "c", "d"];
  for (const k of keys) await Bucket.put(bucket, k, k.toUpperCase());
  assert.equal(await Bucket.size(bucket), 4);
  for (const k of keys) assert.equal(await Bucket.get(bucket, k), k.toUpperCase());
  assert.equal(await Bucket.delete(bucket, "a"), "A");
  assert.equal(await Bucket.delete(bucket, "b"), "B");
  assert.equal(await Bucket.delete(bucket, "c"), "C");
  assert.equal(await Bucket.size(bucket), 1);
  assert.equal(await Bucket.get(bucket, "d"), "D");
  assert.equal(await Bucket.get(bucket, "a"), undefined);
  await Bucket.put(bucket, "d", "again");
  assert.equal(await Bucket.get(bucket, "d"), "again");
  assert.equal(await Bucket.delete(bucket, "nope"), undefined);
  assert.equal(await Bucket.delete(bucket, "d"), "again");
  assert.equal(await Bucket.size(bucket), 0);
});

test("a bucket is temporary: it is never restarted", async (t) => {
  assert.equal(Supervisor.childSpec(Bucket).restart, "temporary");
  const bucket = await startSupervised(t, Bucket);
  assert.equal(await kill(bucket), "killed");
  const counts = await Supervisor.countChildren(await testSupervisor(t));
  assert.equal(counts.specs, 0, "the test supervisor forgot the bucket instead of restarting it");

  const sup = await startSupervised(t, BucketSupervisor);
  const b = await BucketSupervisor.startBucket(sup);
  await Bucket.put(b, "k", "v");
  await kill(b);
  assert.equal((await DynamicSupervisor.countChildren(sup)).active, 0);
});

test("keys such as __proto__ and constructor are ordinary keys", async (t) => {
  const bucket = await startSupervised(t, Bucket);
  const keys = ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf", "prototype"];
  for (const k of keys) assert.equal(await Bucket.get(bucket, k), undefined, k);
  for (const k of keys) await Bucket.put(bucket, k, `v:${k}`);
  for (const k of keys) assert.equal(await Bucket.get(bucket, k), `v:${k}`);
  for (const k of keys) assert.equal(await Bucket.delete(bucket, k), `v:${k}`);
  assert.equal(await Bucket.size(bucket), 0);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("keys and values are binary strings, kept byte for byte", async (t) => {
  const bucket = await startSupervised(t, Bucket);
  let all = "";
  for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
  const key = "\x00k\xff\r\n";
  await Bucket.put(bucket, key, all);
  await Bucket.put(bucket, "", "");
  assert.equal(await Bucket.get(bucket, key), all);
  assert.equal(await Bucket.get(bucket, ""), "");
  assert.equal(await Bucket.get(bucket, "\x00k\xff\r"), undefined);
});

test("a call to a dead bucket fails with noproc", async (t) => {
  const bucket = await startSupervised(t, Bucket);
  await kill(bucket);
  await assert.rejects(Bucket.get(bucket, "k"), (e: { reason?: unknown }) => e.reason === "noproc");
});

test("the bucket supervisor starts independent buckets", async (t) => {
  const sup = await startSupervised(t, BucketSupervisor.childSpec({ name: "kv_bucket_test.sup" }));
  const a = await BucketSupervisor.startBucket("kv_bucket_test.sup");
  const b = await BucketSupervisor.startBucket(sup);
  assert.notEqual(a, b);
  await Bucket.put(a, "k", "a");
  assert.equal(await Bucket.get(b, "k"), undefined);
  assert.equal((await DynamicSupervisor.countChildren(sup)).active, 2);
  const [child] = await Supervisor.whichChildren(await testSupervisor(t));
  assert.equal(child.type, "supervisor");
});
