import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DiskLog, Process } from "../../mod.ts";

const { MemoryFileSystem } = DiskLog;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
let counter = 0;
const fresh = () => `t${++counter}`;

async function readAll(log: DiskLog.Log): Promise<string[]> {
  const out: string[] = [];
  for (let c = await DiskLog.chunk(log); c !== "eof"; c = await DiskLog.chunk(log, c[0])) {
    for (const r of c[1]) out.push(dec(r));
  }
  return out;
}

function durable(log: DiskLog.Log, position: number): Promise<unknown> {
  return new Promise((resolve) => DiskLog.onDurable(log, position, (e) => resolve(e)));
}

/** Waits for the owner's exit reason. */
function exitReason(pid: DiskLog.Log["pid"]): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    const down = await Process.receive<Process.DownMessage>({ ref });
    return down.reason;
  });
}

async function writeRecords(fs: DiskLog.MemoryFileSystem, name: string, records: string[]): Promise<string> {
  const [, log] = await DiskLog.open({ name, dir: "/d", fs, sync: "always" });
  for (const r of records) DiskLog.alog(log, enc(r));
  await DiskLog.sync(log);
  const file = DiskLog.info(log).files.at(-1)!.path;
  await DiskLog.close(log);
  return file;
}

describe("DiskLog", () => {
  it("round-trips records of every size and byte, across reopen and chunks", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const all = new Uint8Array(256).map((_, i) => i);
    const records = [new Uint8Array(0), all, new Uint8Array(200_000).fill(0xff), enc("__proto__"), new Uint8Array(127)];
    const [, log] = await DiskLog.open({ name, dir: "/d", fs });
    for (const r of records) DiskLog.alog(log, r);
    await DiskLog.close(log);
    const [status, again] = await DiskLog.open({ name, dir: "/d", fs });
    assert.equal(status, "ok");
    const got: Uint8Array[] = [];
    for (let c = await DiskLog.chunk(again); c !== "eof"; c = await DiskLog.chunk(again, c[0])) {
      got.push(...c[1].map((r) => r.slice()));
    }
    assert.deepEqual(got, records);
    // Appending after reopen goes on at the end.
    await DiskLog.log(again, enc("more"));
    assert.equal((await readAll(again)).at(-1), "more");
    await DiskLog.close(again);
  });

  it("cuts a torn last record at every byte offset, reports it, and appends after the cut", async () => {
    const base = new MemoryFileSystem();
    const name = fresh();
    const file = await writeRecords(base, name, ["first", "second", "the last record"]);
    const full = base.size(file);
    const lastStart = full - (1 + "the last record".length + 4);
    for (let cut = lastStart + 1; cut < full; cut++) {
      const fs = base.powerLoss(); // a copy
      fs.cut(file, cut);
      const r = await DiskLog.open({ name, dir: "/d", fs });
      assert.equal(r[0], "repaired", `cut at ${cut}`);
      if (r[0] === "repaired") {
        assert.deepEqual(r[2], { file, recovered: 2, badBytes: cut - lastStart, offset: lastStart });
      }
      assert.equal(fs.size(file), lastStart, "the file is cut");
      assert.deepEqual(await readAll(r[1]), ["first", "second"]);
      await DiskLog.log(r[1], enc("after"));
      assert.deepEqual(await readAll(r[1]), ["first", "second", "after"]);
      await DiskLog.close(r[1]);
    }
  });

  it("refuses a flipped byte mid-file, naming file and offset, unless repair is truncate", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const file = await writeRecords(fs, name, ["aaaa", "bbbb", "cccc"]);
    const second = 20 + 9; // header, then "aaaa" framed in 9 bytes
    fs.flipByte(file, second + 2);
    await assert.rejects(
      DiskLog.open({ name, dir: "/d", fs }),
      (e: unknown) =>
        e instanceof DiskLog.DiskLogError && e.code === "damaged" && e.message.includes(file) &&
        e.message.includes(`offset ${second}`),
    );
    await assert.rejects(DiskLog.open({ name, dir: "/d", fs, repair: false }), /damaged/);
    const r = await DiskLog.open({ name, dir: "/d", fs, repair: "truncate" });
    assert.equal(r[0], "repaired");
    assert.deepEqual(await readAll(r[1]), ["aaaa"]);
    await DiskLog.close(r[1]);
  });

  it("refuses an unknown format version, naming the file", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const file = await writeRecords(fs, name, ["x"]);
    fs.flipByte(file, 9); // the version's high byte
    await assert.rejects(
      DiskLog.open({ name, dir: "/d", fs }),
      (e: unknown) =>
        e instanceof DiskLog.DiskLogError && e.code === "version" && e.message.includes(file) &&
        /unknown disk log format version \d+/.test(e.message),
    );
  });

  it("a failed fdatasync is never retried: the owner exits and waiters fail", async () => {
    const fs = new MemoryFileSystem();
    const [, log] = await DiskLog.open({ name: fresh(), dir: "/d", fs, sync: "always" });
    const exited = exitReason(log.pid);
    fs.failFsync = true;
    const before = fs.fsyncs;
    const error = await durable(log, DiskLog.alog(log, enc("x")));
    assert.ok(error instanceof DiskLog.DiskLogError && error.code === "failed");
    const reason = await exited as unknown[];
    assert.equal(reason[0], "disk_log");
    assert.equal(reason[1], "fsync");
    assert.equal(fs.fsyncs, before + 1, "exactly one fdatasync");
    assert.throws(() => DiskLog.alog(log, enc("y")), (e: unknown) => (e as DiskLog.DiskLogError).code === "failed");
  });

  it("a short write under always cuts the file back to the last record and stops the log", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    // No zeros written ahead: the next record must need new space.
    const [, log] = await DiskLog.open({ name, dir: "/d", fs, sync: "always", preallocate: 0 });
    await DiskLog.log(log, enc("kept"));
    const file = DiskLog.info(log).files[0].path;
    const size = fs.size(file);
    const exited = exitReason(log.pid);
    fs.capacity = size + 5; // room for part of the next record only
    const error = await durable(log, DiskLog.alog(log, enc("does not fit")));
    assert.ok(error instanceof DiskLog.DiskLogError);
    assert.equal(((await exited) as unknown[])[1], "full");
    assert.equal(fs.size(file), size, "no torn record left");
    fs.capacity = Infinity;
    const [status, again] = await DiskLog.open({ name, dir: "/d", fs });
    assert.equal(status, "ok");
    assert.deepEqual(await readAll(again), ["kept"]);
    await DiskLog.close(again);
  });

  it("a full disk under everysec refuses writes, then resumes when space returns", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const [, log] = await DiskLog.open({ name, dir: "/d", fs, sync: "everysec" });
    await DiskLog.log(log, enc("one"));
    const file = DiskLog.info(log).files[0].path;
    fs.capacity = fs.size(file) + 3;
    const stuck = DiskLog.alog(log, enc("two, stuck"));
    const waiting = durable(log, stuck);
    // The flush runs after this turn: wait for the log to notice.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(DiskLog.isWritable(log), false);
    assert.equal(DiskLog.info(log).full, true);
    assert.throws(() => DiskLog.alog(log, enc("three")), (e: unknown) => (e as DiskLog.DiskLogError).code === "full");
    assert.equal(fs.size(file), fs.capacity - 3, "the torn bytes were cut");
    const refused = await waiting;
    assert.ok(refused instanceof DiskLog.DiskLogError && refused.code === "full", "not acknowledged");
    fs.capacity = Infinity;
    for (let i = 0; !DiskLog.isWritable(log); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(i < 1000, "the retry writes it");
    }
    assert.equal(DiskLog.isWritable(log), true);
    DiskLog.alog(log, enc("three"));
    assert.deepEqual(await readAll(log), ["one", "two, stuck", "three"]);
    await DiskLog.close(log);
  });

  for (const fsync of ["thread", "inline"] as const) {
    it(`power loss drops only unsynced bytes: nothing durable is lost under always (fsync ${fsync})`, async () => {
      const fs = new MemoryFileSystem();
      const name = fresh();
      const [, log] = await DiskLog.open({ name, dir: "/d", fs, sync: "always", fsync, preallocate: 64 });
      const acked: string[] = [];
      for (let i = 0; i < 50; i++) {
        const r = `r${i}`;
        const end = DiskLog.alog(log, enc(r));
        DiskLog.onDurable(log, end, (e) => e === undefined && acked.push(r));
        if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setImmediate(resolve));
      const after = fs.powerLoss();
      await DiskLog.close(log);
      const [status, again] = await DiskLog.open({ name, dir: "/d", fs: after });
      assert.equal(status, "ok", "the zeros written ahead are no torn record");
      const got = await readAll(again);
      assert.ok(acked.length > 0);
      for (const r of acked) assert.ok(got.includes(r), `acknowledged ${r} survives`);
      assert.deepEqual(got, got.map((_, i) => `r${i}`), "a prefix, nothing invented");
      await DiskLog.close(again);
    });
  }

  it("power loss under everysec/no loses the unsynced window but never breaks the log", async () => {
    for (const sync of ["everysec", "no"] as const) {
      const fs = new MemoryFileSystem();
      const name = fresh();
      const [, log] = await DiskLog.open({ name, dir: "/d", fs, sync });
      await DiskLog.log(log, enc("synced"));
      await DiskLog.sync(log);
      await DiskLog.log(log, enc("written only"));
      const after = fs.powerLoss();
      await DiskLog.close(log);
      const [status, again] = await DiskLog.open({ name, dir: "/d", fs: after });
      assert.equal(status, "ok");
      assert.deepEqual(await readAll(again), ["synced"], sync);
      await DiskLog.close(again);
    }
  });

  it("groups the records of one turn into one write and, under always, one fsync in flight", async () => {
    const fs = new MemoryFileSystem();
    const [, log] = await DiskLog.open({ name: fresh(), dir: "/d", fs, sync: "always" });
    const before = fs.fsyncs;
    const ends: number[] = [];
    for (let i = 0; i < 100; i++) ends.push(DiskLog.alog(log, enc(`x${i}`)));
    await Promise.all(ends.map((e) => durable(log, e)));
    assert.equal(fs.fsyncs - before, 1);
    await DiskLog.close(log);
  });

  it("under always, two fsyncs run at once; records appended meanwhile go out in one write when one completes", async () => {
    const fs = new MemoryFileSystem();
    const held: (() => void)[] = [];
    // The file's size tells what was written: no zeros written ahead.
    const [, log] = await DiskLog.open({ name: fresh(), dir: "/d", fs, sync: "always", preallocate: 0 });
    const file = DiskLog.info(log).files.at(-1)!.path;
    fs.defer = (fn) => held.push(fn); // fdatasync completes only when the test says
    const first = DiskLog.alog(log, enc("first"));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    while (held.length === 0) await turn();
    assert.equal(log.written, first);
    // The next turn's record does not wait for the first fsync: it is written and synced beside it.
    const second = DiskLog.alog(log, enc("second"));
    while (held.length === 1) await turn();
    assert.equal(log.written, second);
    const sizeAtTwo = fs.size(file);
    // Appended over several turns while two fsyncs are in flight: nothing is written yet.
    const later: number[] = [];
    for (let i = 0; i < 3; i++) {
      later.push(DiskLog.alog(log, enc(`later ${i}`)));
      await turn();
    }
    assert.equal(fs.size(file), sizeAtTwo, "no write while two fsyncs are in flight");
    assert.equal(held.length, 2);
    const done = new Set<string>();
    DiskLog.onDurable(log, first, () => done.add("first"));
    DiskLog.onDurable(log, second, () => done.add("second"));
    DiskLog.onDurable(log, later[2], () => done.add("later"));
    // The second fsync completes first: it covers both records, and the later ones go out in one write.
    held.splice(1, 1)[0]();
    assert.deepEqual([...done].sort(), ["first", "second"]);
    assert.equal(log.written, later[2]);
    assert.ok(fs.size(file) > sizeAtTwo);
    assert.equal(held.length, 2, "the next fsync started beside the first, still running");
    // The first completes late: it covers nothing new and starts nothing.
    held.shift()!();
    assert.ok(!done.has("later"), "the later records wait for their own fsync");
    assert.equal(held.length, 1);
    fs.defer = (fn) => queueMicrotask(fn);
    held.shift()!();
    assert.ok(done.has("later"));
    assert.deepEqual(await readAll(log), ["first", "second", "later 0", "later 1", "later 2"]);
    await DiskLog.close(log);
  });

  it("closing waits for every fsync in flight before the file is closed", async () => {
    const fs = new MemoryFileSystem();
    const held: (() => void)[] = [];
    const [, log] = await DiskLog.open({ name: fresh(), dir: "/d", fs, sync: "always" });
    fs.defer = (fn) => held.push(fn);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    DiskLog.alog(log, enc("a"));
    while (held.length === 0) await turn();
    const b = DiskLog.alog(log, enc("b"));
    while (held.length === 1) await turn();
    // The later fsync covers everything: the close's own sync is satisfied, but the older one still runs.
    held.splice(1, 1)[0]();
    assert.equal(log.synced, b);
    let closed = false;
    const closing = DiskLog.close(log).then(() => closed = true);
    for (let i = 0; i < 5; i++) await turn();
    assert.ok(!closed, "the fd stays open while an fsync of it runs");
    const open = fs.openFds;
    assert.ok(open > 0);
    held.shift()!();
    await closing;
    assert.equal(fs.openFds, open - 1);
  });

  it("truncate empties the log; bad options are refused", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const [, log] = await DiskLog.open({ name, dir: "/d", fs });
    await DiskLog.log(log, enc("x"));
    await DiskLog.truncate(log);
    assert.equal(await DiskLog.chunk(log), "eof");
    await assert.rejects(DiskLog.open({ name, dir: "/d", fs }), /already open/);
    await DiskLog.close(log);
    await assert.rejects(DiskLog.open({ name: "../x", dir: "/d", fs }), /name must match/);
    await assert.rejects(DiskLog.open({ name, dir: "/d", fs, sync: "sometimes" as "no" }), /"sync" must be/);
  });
});

describe("DiskLog: zeros written ahead, and inline fsync", () => {
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it("under always the active file runs ahead in zeros; readers, a crash and a reopen see only the records", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const [, log] = await DiskLog.open({ name, dir: "/d", fs, sync: "always", preallocate: 100 });
    const file = DiskLog.info(log).files[0].path;
    await DiskLog.log(log, enc("one"));
    const logical = DiskLog.info(log).files[0].bytes;
    assert.equal(fs.size(file), logical + 100, "100 zero bytes past the record");
    // Records go into the zeros without growing the file until they reach their end.
    await DiskLog.log(log, enc("two"));
    assert.equal(fs.size(file), logical + 100);
    for (let i = 0; i < 30; i++) DiskLog.alog(log, enc(`r${i}`));
    await DiskLog.sync(log);
    assert.ok(fs.size(file) > DiskLog.info(log).files[0].bytes, "still ahead after growing");
    assert.deepEqual(await readAll(log), ["one", "two", ...Array.from({ length: 30 }, (_, i) => `r${i}`)]);
    // kill -9: the zeros stay. A clean close cuts them.
    const crashed = fs.snapshot();
    const logicalAtCrash = DiskLog.info(log).files[0].bytes;
    assert.ok(crashed.size(file) > logicalAtCrash);
    await DiskLog.close(log);
    assert.equal(fs.size(file), logicalAtCrash, "closed at its last record");
    // The next open reads the records, reports nothing, and cuts the zeros.
    const [status, again] = await DiskLog.open({ name, dir: "/d", fs: crashed, preallocate: 0 });
    assert.equal(status, "ok");
    assert.equal(crashed.size(file), logicalAtCrash, "cut to the last record");
    assert.equal((await readAll(again)).length, 32);
    await DiskLog.log(again, enc("after"));
    assert.equal((await readAll(again)).at(-1), "after");
    await DiskLog.close(again);
  });

  it("zeros end a file only at its end: a torn record before them is repaired, a record after them is damage", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const file = await writeRecords(fs, name, ["a", "bb", "ccc"]);
    const size = fs.size(file);
    // A torn write into zeros written ahead: the last record's end (its CRC) never came.
    const torn = fs.snapshot();
    const fd = torn.open(file);
    torn.write(fd, new Uint8Array(4), 0, 4, size - 4);
    torn.truncate(fd, size + 50);
    torn.close(fd);
    const [status, log, repaired] = await DiskLog.open({ name, dir: "/d", fs: torn });
    assert.equal(status, "repaired");
    assert.equal(repaired!.offset, size - 8);
    assert.equal(repaired!.badBytes, 58);
    assert.deepEqual(await readAll(log), ["a", "bb"]);
    await DiskLog.close(log);
    // Zeros over a record in the middle, valid records after: refused.
    const holed = fs.snapshot();
    const hfd = holed.open(file);
    holed.write(hfd, new Uint8Array(6), 0, 6, 20);
    holed.close(hfd);
    await assert.rejects(
      DiskLog.open({ name, dir: "/d", fs: holed }),
      /damaged record at offset 20, followed by a valid/,
    );
  });

  it("a file switch cuts the zeros off the closed file, so the compaction reads its records only", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    const [, log] = await DiskLog.open({
      name,
      dir: "/d",
      fs,
      sync: "always",
      preallocate: 4096,
      compactor: { worker: "unused:", compact: (records) => records },
    });
    for (let i = 0; i < 20; i++) DiskLog.alog(log, enc(`r${i}`));
    await DiskLog.sync(log);
    const closed = DiskLog.info(log).files[0].path;
    let sizeAtSwitch = -1;
    await DiskLog.compact(log, {
      step: (s) => {
        if (s === "switched") sizeAtSwitch = fs.size(closed);
      },
    });
    assert.equal(sizeAtSwitch, 20 + 10 * 7 + 10 * 8, "the header and 20 records, no zeros");
    assert.deepEqual(await readAll(log), Array.from({ length: 20 }, (_, i) => `r${i}`));
    await DiskLog.close(log);
  });

  it("fsync inline: records of turns that follow each other join one fdatasync, on the owner's thread", async () => {
    const fs = new MemoryFileSystem();
    const held: (() => void)[] = [];
    const [, log] = await DiskLog.open({ name: fresh(), dir: "/d", fs, sync: "always", fsync: "inline" });
    assert.equal(log.fsyncMode, "inline");
    fs.defer = (fn) => held.push(fn); // a thread fdatasync would never complete
    const before = fs.fsyncs;
    // Three turns in a row bring records: the flush waits for them (at most 4 turns), then one fdatasync covers all.
    const ends = [DiskLog.alog(log, enc("a")), DiskLog.alog(log, enc("b"))];
    await turn();
    ends.push(DiskLog.alog(log, enc("c")));
    await turn();
    ends.push(DiskLog.alog(log, enc("d")));
    const durableAt = Promise.all(ends.map((end) => durable(log, end)));
    let turns = 0;
    while (log.synced < ends[3]) {
      await turn();
      assert.ok(++turns <= 5, "synced within the turns a flush may wait");
    }
    assert.deepEqual(await durableAt, [undefined, undefined, undefined, undefined]);
    assert.equal(fs.fsyncs - before, 1, "one fdatasync for the three turns' records");
    assert.equal(held.length, 0, "none on a thread");
    // A turn with nothing new after it: synced a turn later, alone.
    const e = DiskLog.alog(log, enc("e"));
    await turn();
    await turn();
    assert.equal(log.synced, e);
    assert.equal(fs.fsyncs - before, 2);
    fs.defer = (fn) => queueMicrotask(fn);
    await DiskLog.close(log);
  });

  it("fsync inline: a failed fdatasync is not retried, the owner exits and the waiters fail", async () => {
    const fs = new MemoryFileSystem();
    const [, log] = await DiskLog.open({ name: fresh(), dir: "/d", fs, sync: "always", fsync: "inline" });
    await DiskLog.log(log, enc("kept"));
    const exited = exitReason(log.pid);
    const before = fs.fsyncs;
    fs.failFsync = true;
    const error = await durable(log, DiskLog.alog(log, enc("lost")));
    assert.ok(error instanceof DiskLog.DiskLogError && error.code === "failed");
    const reason = await exited as unknown[];
    assert.deepEqual(reason.slice(0, 2), ["disk_log", "fsync"]);
    assert.equal(fs.fsyncs, before + 1, "exactly one fdatasync");
  });

  it("refuses bad fsync and preallocate options, and inline on a file system without fdatasyncSync", async () => {
    const fs = new MemoryFileSystem();
    const name = fresh();
    await assert.rejects(DiskLog.open({ name, dir: "/d", fs, fsync: "later" as "inline" }), /"fsync" must be/);
    await assert.rejects(DiskLog.open({ name, dir: "/d", fs, preallocate: -1 }), /"preallocate" must be/);
    await assert.rejects(DiskLog.open({ name, dir: "/d", fs, preallocate: 1.5 }), /"preallocate" must be/);
    const noSync: DiskLog.FileSystem = { ...DiskLog.nodeFileSystem, fdatasyncSync: undefined };
    await assert.rejects(
      DiskLog.open({ name, dir: "/d", fs: noSync, fsync: "inline" }),
      /needs a file system with fdatasyncSync/,
    );
    assert.throws(() => DiskLog.info(name), /no disk log named/, "nothing was opened");
  });
});
