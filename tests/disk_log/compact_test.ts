// Compaction: a crash at each step leaves a complete set (process crash and
// power loss), the worker-thread path on a real disk, automatic compaction,
// service going on during it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import { DiskLog } from "../../mod.ts";
import { type Bucket, KVCompactor, KVLog, Replay } from "../../lib/apps/kv/mod.ts";

const { MemoryFileSystem } = DiskLog;
let n = 0;

/** A KV workload: creates, overwrites, deletes, a dropped bucket; also applied to `model` if given. */
function workload(log: DiskLog.Log, from: number, to: number, model?: Map<string, Bucket.State>): void {
  const put = (r: KVLog.LogRecord) => {
    const payload = KVLog.encode(r);
    DiskLog.alog(log, payload);
    if (model !== undefined) Replay.applyRecord(model, payload);
  };
  for (let i = from; i < to; i++) {
    const bucket = `b${i % 3}`;
    if (i % 50 === 0) put({ type: "create", bucket });
    put({ type: "put", bucket, key: `k${i % 17}`, value: `v${i}` });
    if (i % 7 === 0) put({ type: "delete", bucket, key: `k${(i + 3) % 17}` });
    if (i % 101 === 0) put({ type: "drop", bucket: "b2" });
  }
}

async function state(log: DiskLog.Log): Promise<string> {
  return show(await Replay.replay(log));
}

function show(buckets: Map<string, Bucket.State>): string {
  const rows: string[] = [];
  for (const [name, s] of buckets) {
    const pairs = s === null ? [] : s instanceof Map ? [...s] : [[s.key, s.value]];
    rows.push(`${name}:${JSON.stringify(pairs.sort())}`);
  }
  return rows.sort().join("\n");
}

describe("DiskLog.compact", () => {
  for (const step of ["prepared", "switched", "written", "renamed", "done"] as const) {
    for (const crash of ["process", "power"] as const) {
      it(`a ${crash} crash after "${step}" leaves a complete set`, async () => {
        const disk = new MemoryFileSystem();
        const name = `c${n++}`;
        const [, log] = await DiskLog.open({
          name,
          dir: "/d",
          fs: disk,
          compactor: KVCompactor.COMPACTOR,
          sync: "always",
        });
        workload(log, 0, 400);
        await DiskLog.sync(log);
        const expected = await state(log);
        let copy: DiskLog.MemoryFileSystem | undefined;
        await assert.rejects(
          DiskLog.compact(log, {
            step: (s) => {
              if (s !== step) return;
              copy = crash === "process" ? disk.snapshot() : disk.powerLoss();
              throw new Error("crash");
            },
          }),
          /crash/,
        );
        await DiskLog.close(log);
        const [status, again] = await DiskLog.open({ name, dir: "/d", fs: copy!, compactor: KVCompactor.COMPACTOR });
        assert.equal(status, "ok");
        assert.equal(await state(again), expected);
        assert.ok(copy!.list("/d").every((f) => !f.endsWith(".tmp")), "no leftover");
        // And it goes on: more writes, a full compaction, the same state as without one.
        workload(again, 400, 500);
        const before = await state(again);
        await DiskLog.compact(again);
        assert.equal(await state(again), before);
        await DiskLog.close(again);
      });
    }
  }

  it("a crash after preparing the next file, with a torn tail in the active one, opens repaired", async () => {
    const disk = new MemoryFileSystem();
    const name = `c${n++}`;
    const [, log] = await DiskLog.open({ name, dir: "/d", fs: disk, compactor: KVCompactor.COMPACTOR, sync: "always" });
    workload(log, 0, 100);
    await DiskLog.sync(log);
    const expected = await state(log);
    const active = DiskLog.info(log).files.at(-1)!.path;
    let copy: DiskLog.MemoryFileSystem | undefined;
    await assert.rejects(
      DiskLog.compact(log, {
        step: (s) => {
          if (s !== "prepared") return;
          copy = disk.snapshot();
          // A record being written when the crash came.
          const fd = copy.open(active);
          copy.write(fd, new Uint8Array([40, 1, 2]), 0, 3, copy.size(active));
          copy.close(fd);
          throw new Error("crash");
        },
      }),
      /crash/,
    );
    await DiskLog.close(log);
    const r = await DiskLog.open({ name, dir: "/d", fs: copy!, onRepaired: undefined } as DiskLog.OpenOptions);
    assert.equal(r[0], "repaired");
    assert.equal(await state(r[1]), expected);
    await DiskLog.close(r[1]);
  });

  it("a half-written base is ignored", async () => {
    const disk = new MemoryFileSystem();
    const name = `c${n++}`;
    const [, log] = await DiskLog.open({ name, dir: "/d", fs: disk, compactor: KVCompactor.COMPACTOR, sync: "always" });
    workload(log, 0, 300);
    await DiskLog.sync(log);
    const expected = await state(log);
    let copy: DiskLog.MemoryFileSystem | undefined;
    await assert.rejects(
      DiskLog.compact(log, {
        step: (s) => {
          if (s === "written") {
            copy = disk.snapshot();
            const tmp = copy.list("/d").find((f) => f.endsWith(".tmp"))!;
            copy.cut(`/d/${tmp}`, copy.size(`/d/${tmp}`) >> 1);
            throw new Error("crash");
          }
        },
      }),
      /crash/,
    );
    await DiskLog.close(log);
    const [, again] = await DiskLog.open({ name, dir: "/d", fs: copy! });
    assert.equal(await state(again), expected);
    await DiskLog.close(again);
  });

  // Under always the active file runs ahead in zeros and syncs inline: the worker must read the closed files' records only.
  for (const sync of ["no", "always"] as const) {
    it(`compacts on a real disk in a worker thread, automatically on growth, while appends go on (${sync})`, {
      timeout: 120_000,
    }, async () => {
      const dir = fs.mkdtempSync(`${os.tmpdir()}/disk-log-compact-`);
      try {
        const name = `c${n++}`;
        const [, log] = await DiskLog.open({
          name,
          dir,
          compactor: KVCompactor.COMPACTOR,
          compactAt: 20_000,
          sync,
          ...(sync === "always" ? { fsync: "inline" as const } : {}),
        });
        const model = new Map<string, Bucket.State>();
        let i = 0;
        // Appends go on (a few per turn) while the worker compacts, which may take a while on a loaded machine.
        for (let turn = 0; DiskLog.info(log).compactions === 0; turn++) {
          workload(log, i, i + 20, model);
          i += 20;
          await new Promise((resolve) => setTimeout(resolve, turn < 100 ? 0 : 5));
          assert.ok(turn < 20_000, "compacts on growth");
        }
        workload(log, i, i + 100, model);
        const expected = show(model);
        await DiskLog.close(log);
        const [, again] = await DiskLog.open({ name, dir });
        assert.equal(await state(again), expected);
        const kinds = DiskLog.info(again).files.map((f) => f.kind);
        assert.equal(kinds[0], "base");
        assert.ok(fs.readdirSync(dir).every((f) => !f.endsWith(".tmp")));
        await DiskLog.close(again);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("refuses without a compactor, and a second compaction at once", async () => {
    const [, log] = await DiskLog.open({ name: `c${n++}`, dir: "/d", fs: new MemoryFileSystem() });
    await assert.rejects(DiskLog.compact(log), (e: unknown) => (e as DiskLog.DiskLogError).code === "badarg");
    await DiskLog.close(log);
    const [, log2] = await DiskLog.open({
      name: `c${n++}`,
      dir: "/d",
      fs: new MemoryFileSystem(),
      compactor: KVCompactor.COMPACTOR,
    });
    const first = DiskLog.compact(log2);
    await assert.rejects(DiskLog.compact(log2), (e: unknown) => (e as DiskLog.DiskLogError).code === "busy");
    await first;
    await DiskLog.close(log2);
  });
});
