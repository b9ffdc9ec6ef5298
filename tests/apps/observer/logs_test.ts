// The Observer shows the disk logs: GET /api/logs (policy, files, sizes, last sync, pending bytes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DiskLog } from "../../../mod.ts";
import * as Observer from "../../../lib/apps/observer/mod.ts";

test("observer: /api/logs shows each open disk log", async () => {
  const fs = new DiskLog.MemoryFileSystem();
  const [, log] = await DiskLog.open({ name: "obs_test_log", dir: "/obs", fs, sync: "everysec" });
  await DiskLog.log(log, new Uint8Array(10)); // written, not synced
  const obs = await Observer.start({ port: 0 });
  try {
    const res = await fetch(`${obs.url}api/logs`);
    assert.equal(res.status, 200);
    const body = await res.json() as { logs: Observer.DiskLogSummary[] };
    const found = body.logs.find((l) => l.name === "obs_test_log")!;
    assert.equal(found.policy, "everysec");
    assert.equal(found.fsync, "thread", "the library's default");
    assert.equal(found.dir, "/obs");
    assert.deepEqual(found.files.map((f) => [f.path, f.kind]), [["/obs/obs_test_log.00000001.log", "incremental"]]);
    assert.equal(found.bytes, 20 + 15);
    assert.equal(found.pendingBytes, 0);
    assert.equal(found.unsyncedBytes, 15);
    assert.equal(found.lastSync, null);
    assert.equal(found.owner, String(log.pid));
    await DiskLog.sync(log);
    const after = (await (await fetch(`${obs.url}api/logs`)).json()).logs.find((l: { name: string }) =>
      l.name === "obs_test_log"
    );
    assert.equal(after.unsyncedBytes, 0);
    assert.equal(typeof after.lastSync, "number");
  } finally {
    await obs.close();
    await DiskLog.close(log);
  }
});
