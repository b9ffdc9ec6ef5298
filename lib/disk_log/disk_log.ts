/**
 * `DiskLog`: an append-only log of binary records on disk, after OTP's
 * `disk_log` (`open` with repair, `log`/`alog`, `sync`, `chunk` to read it
 * back, `truncate`, `close`, `info`).
 *
 * **One process owns the files** and does all their I/O; it is what
 * `open` starts (linked to the caller, or under a supervisor with
 * {@linkcode childSpec}). Writers append to its buffer directly, without a
 * message (the ETS pattern: owned by one process, written by others), and
 * read its counters (`appended`, `written`, `synced`) without one either.
 *
 * **Group commit.** Whatever was appended during one turn of the event loop
 * goes out in one write, after that turn (`setImmediate`). The sync policy
 * then decides when it reaches the disk: `"always"` writes each turn's records and
 * starts an `fdatasync` for them at once, with at most two in flight (what is
 * appended while two run stays in the buffer; when one completes, all of that
 * goes out in one write and the next fdatasync starts at once, before the
 * completed one's waiters are called), `"everysec"` runs one each
 * second (a monotonic timer), `"no"` leaves it to the kernel. With
 * `fsync: "inline"`, `"always"` instead syncs on the owner's thread, after
 * waiting up to 4 more turns while they bring records (see
 * {@linkcode FsyncMode}); under `"always"` the active file runs ahead of its
 * records in zeros ({@linkcode OpenOptions.preallocate}).
 * {@linkcode onDurable} calls back once a position is *durable*: written
 * (`"no"`, `"everysec"`) or synced (`"always"`). {@linkcode log} is the same
 * as a promise.
 *
 * **Format.** Each file starts with a header (magic, version, kind, sequence
 * number); each record is its length, its payload and a CRC-32 of both. A
 * file with an unknown version or no magic is refused, naming the file.
 *
 * **Repair on open** (`repair`, default `true`): a short or corrupt *last*
 * record (an interrupted write) is cut off and reported (`["repaired", log,
 * { recovered, badBytes }]`). A bad record *followed by valid ones* is
 * damage, not an interrupted write: `open` refuses, naming the file and
 * offset, unless `repair: "truncate"` (cut there, dropping what follows).
 * `repair: false` refuses any problem.
 *
 * **Disk errors fail safe.** A failed `fdatasync` is never retried (the kernel
 * may have dropped the dirty pages, and a retry could falsely succeed): the
 * owner process exits with `["disk_log", "fsync", error]` and its supervisor
 * rebuilds from the file. A short or failed write is truncated back to the
 * last whole record. A full disk (`ENOSPC`) under `"everysec"`/`"no"` makes
 * the log *full*: records already appended stay buffered and are retried
 * (their waiters fail at once with `full`: not acknowledged, though they
 * may still reach the disk), and {@linkcode isWritable} is false (callers
 * refuse new writes) until a retry succeeds. Under `"always"` it ends the owner like a failed fsync.
 *
 * **Files** live in `dir`: `NAME.SEQ.log` (incremental, the last one is
 * appended to) and at most one `NAME.SEQ.base` (a compacted snapshot of every
 * record of the incremental files up to `SEQ`; see {@linkcode compact}).
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * import assert from "node:assert/strict";
 *
 * const fs = new MemoryFileSystem();
 * const [, log] = await DiskLog.open({ name: "doc_log", dir: "/data", fs, sync: "always" });
 * await DiskLog.log(log, new TextEncoder().encode("hello"));
 * await DiskLog.close(log);
 *
 * const [status, again] = await DiskLog.open({ name: "doc_log", dir: "/data", fs });
 * assert.equal(status, "ok");
 * const read = await DiskLog.chunk(again);
 * assert.notEqual(read, "eof");
 * if (read !== "eof") assert.equal(new TextDecoder().decode(read[1][0]), "hello");
 * await DiskLog.close(again);
 * ```
 *
 * @module
 */
import { setImmediate } from "node:timers";
import process from "node:process";
import * as GenServer from "../gen_server.ts";
import * as Process from "../process/process.ts";
import type { Pid } from "../process/pid.ts";
import type { ChildSpec } from "../supervisor/child_spec.ts";
import { type FileSystem, nodeFileSystem } from "./fs.ts";
import { type BaseWritten, type CompactFn, writeBase } from "./_compact.ts";
import { fdatasync, readAll } from "./_io.ts";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
export { type FileSystem, FsError, MemoryFileSystem, nodeFileSystem } from "./fs.ts";
import {
  BAD,
  decodeHeader,
  encodeHeader,
  frameEnd,
  frameStart,
  HEADER_SIZE,
  KIND_BASE,
  KIND_INCREMENTAL,
  scan,
  sealFrame,
  SHORT,
  varintSize,
  VERSION,
  writeVarint,
} from "./_format.ts";

/** When appended records reach the disk: see the module doc. */
export type SyncPolicy = "always" | "everysec" | "no";

/**
 * Where an `"always"` log runs its fdatasync ({@linkcode OpenOptions.fsync}).
 *
 * `"inline"` is the faster one at low concurrency where cores are few:
 * with the load generator on the same 2-core machine,
 * `scripts/bench_durable.ts` measured kv `always` PUTs at 0.62-0.68 of the
 * in-memory server at P=1 (C=50) inline, against 0.48-0.56 on a thread,
 * whose fdatasync waited for a core (400-1000 us per fsync seen from the
 * owner, 190 us when idle). At P=16 the runs were mixed (thread 0.58-0.72,
 * inline 0.61-0.66): a big turn's work can hide a thread's fsync. Inline's price: a
 * slow disk stalls every process on the thread, not just the writers (an
 * fdatasync over 500 ms is reported on stderr).
 */
export type FsyncMode = "thread" | "inline";

/** Why a disk log operation failed. */
export type DiskLogErrorCode =
  | "damaged"
  | "version"
  | "not_a_log"
  | "need_repair"
  | "already_open"
  | "no_such_log"
  | "failed"
  | "full"
  | "busy"
  | "badarg";

/**
 * Thrown (or rejected with) by disk log operations; `code` says why.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => DiskLog.info("doc_no_such_log"), (e) => e instanceof DiskLog.DiskLogError && e.code === "no_such_log");
 * ```
 */
export class DiskLogError extends Error {
  /** What went wrong, for programs. */
  readonly code: DiskLogErrorCode;
  /**
   * Makes an error.
   *
   * @param code What went wrong.
   * @param message One line for people.
   */
  constructor(code: DiskLogErrorCode, message: string) {
    super(message);
    this.name = "DiskLogError";
    this.code = code;
  }
}

/** Options of {@linkcode open}. */
export interface OpenOptions {
  /** The log's name (letters, digits, `_`, `-`, `.`): it names its files, and finds the log. */
  name: string;
  /** The directory of its files (created if missing). */
  dir: string;
  /** See the module doc. Default `true`. */
  repair?: boolean | "truncate";
  /** Default `"everysec"`. */
  sync?: SyncPolicy;
  /**
   * Where an `"always"` log's fdatasync runs: `"thread"` (default) off the
   * JavaScript thread, at most two in flight, while every process goes on;
   * `"inline"` on the owner's thread at the end of the turn that wrote the
   * records, as Redis does it: every process waits for it, and no thread
   * hand-off or contention for a core is paid. See {@linkcode FsyncMode}.
   * Needs a file system with `fdatasyncSync`.
   */
  fsync?: FsyncMode;
  /**
   * Zero bytes written ahead of the records in the active file, in steps of
   * this many bytes, so that an fdatasync flushes the records only and not
   * the file's new size as well (no journal commit). Default 1 MiB under
   * `"always"`, 0 (off) otherwise. Measured on this machine's ext4
   * (`scripts/bench_fsync.ts`, Bun and Deno): 95-132 us and 40-60 us of the
   * machine's CPU per fdatasync instead of 170-279 us and 60-113 us. The
   * zeros past the last record are unused space: readers stop there and
   * {@linkcode close}, a file switch and the next `open` cut them off.
   */
  preallocate?: number;
  /** Default {@linkcode nodeFileSystem}. */
  fs?: FileSystem;
  /** Longest payload accepted (a longer length on disk is damage). Default 1 GiB + 1 KiB. */
  maxRecordSize?: number;
  /** Register the owner process under this name. */
  processName?: string;
  /** Told why, when the log fails (its owner then exits with that reason). */
  onFailure?: (reason: unknown) => void;
  /** Enables {@linkcode compact} and automatic compaction: see {@linkcode Compactor}. */
  compactor?: Compactor;
  /**
   * Compact automatically once the incremental files hold this many bytes
   * and more than the base (Redis's rule of thumb). Default 64 MiB; `Infinity`
   * turns automatic compaction off. Needs `compactor`.
   */
  compactAt?: number;
}

/** What a repair cut off. */
export interface Repaired {
  /** The file that was cut. */
  file: string;
  /** Records kept, in all files. */
  recovered: number;
  /** Bytes dropped. */
  badBytes: number;
  /** Where the cut was. */
  offset: number;
}

/** What {@linkcode open} resolves with (OTP: `{ok, Log}` or `{repaired, Log, {recovered, N}, {badbytes, B}}`). */
export type OpenResult = readonly ["ok", Log] | readonly ["repaired", Log, Repaired];

/** One file of a log, as {@linkcode info} shows it. */
export interface FileInfo {
  /** Its path. */
  path: string;
  /** `"incremental"` (appended to, or closed by a switch) or `"base"` (compacted). */
  kind: "incremental" | "base";
  /** Its size in bytes. */
  bytes: number;
}

/** What {@linkcode info} returns. */
export interface LogInfo {
  /** The log's name. */
  name: string;
  /** The directory of its files. */
  dir: string;
  /** Its sync policy. */
  policy: SyncPolicy;
  /** Where its fdatasyncs run under `"always"` ({@linkcode OpenOptions.fsync}). */
  fsync: FsyncMode;
  /** The owner process. */
  owner: Pid;
  /** Every file, oldest first (the last one is appended to). */
  files: FileInfo[];
  /** Bytes appended since open (written or not). */
  appended: number;
  /** Bytes written since open. */
  written: number;
  /** Bytes synced since open. */
  synced: number;
  /** Appended and not yet durable (written, or synced under `"always"`). */
  pendingBytes: number;
  /** When the last fdatasync completed (ms since the epoch), or `null`. */
  lastSync: number | null;
  /** Records appended since open. */
  records: number;
  /** A full disk stopped writing (see the module doc). */
  full: boolean;
  /** fdatasync calls since open. */
  fsyncs: number;
  /** Compactions since open. */
  compactions: number;
}

/** Where {@linkcode chunk} goes on. */
export interface Continuation {
  /** @ignore */ readonly file: number;
  /** @ignore */ readonly offset: number;
  /** @ignore */ readonly generation: number;
}

/** A log, by its handle or its name. */
export type LogRef = Log | string;

const NAME_RE = /^[A-Za-z0-9_.-]+$/;
const FILE_RE = /^(.+)\.(\d+)\.(log|base)(\.tmp)?$/;
const DEFAULT_MAX = 2 ** 30 + 1024;
const FULL_RETRY_MS = 100;
const INITIAL_BUFFER = 64 * 1024;
/** {@linkcode OpenOptions.preallocate} under `"always"`: a zero write of this size every ~25,000 PUTs of the kv server. */
const DEFAULT_PREALLOCATE = 1 << 20;
const CHUNK_BYTES = 1 << 20;

const logs = new Map<string, Log>();

interface LogFile {
  path: string;
  kind: number;
  seq: number;
  /**
   * The records before this offset had their CRCs checked when the log was
   * opened (and the file has not been replaced since): a read skips them.
   */
  checked?: number;
}

class Failure {
  constructor(readonly reason: unknown) {}
}

/** An open log: the handle {@linkcode open} gives. Its fields are read-only for users. */
export class Log {
  /** The log's name. */
  readonly name: string;
  /** The directory of its files. */
  readonly dir: string;
  /** Its sync policy. */
  readonly policy: SyncPolicy;
  /** Where its fdatasyncs run under `"always"`. */
  fsyncMode: FsyncMode = "thread";
  /** @ignore Bytes of zeros written ahead of the records at a time (0: none). */
  preallocate = 0;
  /** @ignore The active file's size on disk: `fileSize` plus the zeros written ahead. */
  allocated = 0;
  /** @ignore Inline fsync: the turns a flush has waited for more records ({@linkcode INLINE_SYNC_WAIT_TURNS}). */
  flushWaits = 0;
  /** @ignore Inline fsync: `appended` when the scheduled flush last looked. */
  appendedAtFlushCheck = -1;
  /** @ignore When a slow inline fdatasync was last reported (ms, performance.now). */
  slowSyncReported = -Infinity;
  /** @ignore */ readonly fs: FileSystem;
  /** @ignore */ readonly maxRecordSize: number;
  /** The owner process. */
  pid!: Pid;
  /** @ignore */ files: LogFile[] = [];
  /** @ignore */ generation = 0;
  /** @ignore */ fd = -1;
  /** @ignore Size of the active file (where the buffer's first byte goes). */
  fileSize = 0;
  /** Bytes appended since open. */
  appended = 0;
  /** Bytes written since open. */
  written = 0;
  /** Bytes synced since open. */
  synced = 0;
  /** Records appended since open. */
  records = 0;
  /** @ignore */ buf: Uint8Array = new Uint8Array(INITIAL_BUFFER);
  /** @ignore */ bufLen = 0;
  /** @ignore */ flushScheduled = false;
  /** @ignore fdatasyncs started and not completed (at most {@linkcode MAX_SYNCS_IN_FLIGHT}). */
  syncsInFlight = 0;
  /** @ignore The highest position an fdatasync in flight covers. */
  syncTarget = 0;
  /** @ignore Called once no fdatasync is in flight (before the fd is closed or cut). */
  syncIdleWaiters: (() => void)[] = [];
  /** @ignore A file switch is under way: writes wait. */
  switching = false;
  /** @ignore */ lastSync: number | null = null;
  /** @ignore */ fsyncs = 0;
  /** @ignore */ compactions = 0;
  /** @ignore */ full = false;
  /** @ignore */ failed: unknown = undefined;
  /** @ignore */ closed = false;
  /** @ignore */ timer: ReturnType<typeof setInterval> | undefined;
  /** @ignore */ retry: ReturnType<typeof setTimeout> | undefined;
  /** @ignore Waiters, by position: parallel arrays from `waitHead`. */
  waitPos: number[] = [];
  /** @ignore */ waitFn: ((error?: unknown) => void)[] = [];
  /** @ignore */ waitHead = 0;
  /** @ignore Sync requests (`sync`) waiting for `synced >= position`. */
  syncWaiters: [number, (error?: unknown) => void][] = [];
  /** @ignore */ compacting = false;
  /** @ignore The owner is stopping: a compaction cut short is expected. */
  stopping = false;
  /** @ignore The longest synchronous step of the current (or last) compaction, ms. */
  longestStep = 0;
  /** @ignore */ compactor: Compactor | undefined;
  /** @ignore */ onFailure: ((reason: unknown) => void) | undefined;
  /** @ignore The log's compaction worker thread (real file system only). */
  job: CompactionWorker | undefined;
  /** @ignore */ compactAt = 64 << 20;
  /** @ignore Bytes of the closed incremental files. */
  closedBytes = 0;
  /** @ignore Bytes of the base file. */
  baseBytes = 0;

  /** @ignore */
  constructor(name: string, dir: string, policy: SyncPolicy, fs: FileSystem, maxRecordSize: number) {
    this.name = name;
    this.dir = dir;
    this.policy = policy;
    this.fs = fs;
    this.maxRecordSize = maxRecordSize;
  }

  /** The position up to which appended records are durable under the policy. */
  get durable(): number {
    return this.policy === "always" ? this.synced : this.written;
  }
}

function path(dir: string, name: string, seq: number, kind: number): string {
  return `${dir}/${name}.${String(seq).padStart(8, "0")}.${kind === KIND_BASE ? "base" : "log"}`;
}

function writeAll(fs: FileSystem, fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = fs.write(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new DiskLogError("failed", `short write`);
    done += n;
  }
}

/** Lists a log's files and deletes leftovers of an interrupted compaction. */
function listFiles(fs: FileSystem, dir: string, name: string): LogFile[] {
  let base: LogFile | undefined;
  const incrementals: LogFile[] = [];
  const bases: LogFile[] = [];
  for (const entry of fs.list(dir)) {
    const m = FILE_RE.exec(entry);
    if (m === null || m[1] !== name) continue;
    const full = `${dir}/${entry}`;
    if (m[4] !== undefined) {
      fs.unlink(full); // a base never renamed into place: the incremental files still hold it all
      continue;
    }
    const file = { path: full, kind: m[3] === "base" ? KIND_BASE : KIND_INCREMENTAL, seq: Number(m[2]) };
    if (file.kind === KIND_BASE) bases.push(file);
    else incrementals.push(file);
  }
  for (const b of bases) if (base === undefined || b.seq > base.seq) base = b;
  const files: LogFile[] = [];
  // Files a complete base covers are leftovers of a compaction that crashed before deleting them.
  for (const b of bases) if (b !== base) fs.unlink(b.path);
  if (base !== undefined) files.push(base);
  incrementals.sort((a, b) => a.seq - b.seq);
  for (const f of incrementals) {
    if (base !== undefined && f.seq <= base.seq) fs.unlink(f.path);
    else files.push(f);
  }
  return files;
}

/** Opens the files: validates every record, repairs or refuses. Runs in the owner's `init`. */
function openFiles(log: Log, repair: boolean | "truncate"): Repaired | undefined {
  const fs = log.fs;
  fs.mkdir(log.dir);
  const files = listFiles(fs, log.dir, log.name);
  // A compaction that crashed after preparing the next file and before
  // switching to it leaves that file empty (a header, or less): it holds
  // nothing, and the file before it is the one that was appended to.
  while (files.length > 1) {
    const last = files[files.length - 1];
    if (last.kind !== KIND_INCREMENTAL || fs.size(last.path) > HEADER_SIZE) break;
    const prev = files[files.length - 2];
    if (prev.kind !== KIND_INCREMENTAL) break;
    fs.unlink(last.path);
    files.pop();
  }
  let repaired: Repaired | undefined;
  let total = 0;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const last = i === files.length - 1 && file.kind === KIND_INCREMENTAL;
    const bytes = readAll(fs, file.path);
    const header = decodeHeader(bytes);
    if (typeof header === "string") {
      if (header === "short" && last && isPrefixOfHeader(bytes, file)) {
        // Created, then interrupted before its header was whole: an empty file.
        rewriteHeader(fs, file);
        continue;
      }
      if (header.startsWith("version")) {
        throw new DiskLogError(
          "version",
          `${file.path}: unknown disk log format ${header} (this build reads version ${VERSION}); refusing to start`,
        );
      }
      throw new DiskLogError("not_a_log", `${file.path}: not a disk log (bad header: ${header}); refusing to start`);
    }
    const s = scan(bytes, HEADER_SIZE, log.maxRecordSize);
    total += s.records;
    file.checked = s.validEnd;
    if (s.problemAt < 0) {
      // Zeros after the last record: space written ahead, unused. Cut so that only the active file ever has it.
      if (s.validEnd < bytes.length) cut(fs, file.path, s.validEnd);
      continue;
    }
    const damage = s.validAfter >= 0 || !last;
    const dropped = bytes.length - s.validEnd;
    if (repair === false || (damage && repair !== "truncate")) {
      const why = damage
        ? `damaged record at offset ${s.problemAt}, followed by ${
          s.validAfter >= 0 ? `a valid record at offset ${s.validAfter}` : "later files"
        }; start with repair "truncate" to cut the log there (dropping ${dropped} bytes${
          i < files.length - 1 ? " and every later file" : ""
        })`
        : `torn last record at offset ${s.problemAt} (${dropped} bytes); open with repair to cut it`;
      throw new DiskLogError(damage ? "damaged" : "need_repair", `${file.path}: ${why}`);
    }
    cut(fs, file.path, s.validEnd);
    // Later files come after the damage: a cut there drops them too.
    for (const later of files.splice(i + 1)) fs.unlink(later.path);
    repaired = { file: file.path, recovered: 0, badBytes: dropped, offset: s.problemAt };
  }
  if (repaired !== undefined) repaired.recovered = total;
  const lastFile = files[files.length - 1];
  if (lastFile === undefined || lastFile.kind !== KIND_INCREMENTAL) {
    const seq = lastFile === undefined ? 1 : lastFile.seq + 1;
    const file = { path: path(log.dir, log.name, seq, KIND_INCREMENTAL), kind: KIND_INCREMENTAL, seq };
    rewriteHeader(fs, file);
    fs.syncDir(log.dir);
    files.push(file);
  }
  log.files = files;
  const active = files[files.length - 1];
  log.fd = fs.open(active.path);
  log.fileSize = log.allocated = fs.size(active.path);
  for (const f of files.slice(0, -1)) {
    if (f.kind === KIND_BASE) log.baseBytes += fs.size(f.path);
    else log.closedBytes += fs.size(f.path);
  }
  return repaired;
}

function cut(fs: FileSystem, path: string, length: number): void {
  const fd = fs.open(path);
  try {
    fs.truncate(fd, length);
  } finally {
    fs.close(fd);
  }
}

function isPrefixOfHeader(bytes: Uint8Array, file: LogFile): boolean {
  const h = encodeHeader(file.kind, file.seq);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== h[i]) return false;
  return true;
}

function rewriteHeader(fs: FileSystem, file: LogFile): void {
  const fd = fs.open(file.path);
  try {
    fs.truncate(fd, 0);
    writeAll(fs, fd, encodeHeader(file.kind, file.seq), 0);
  } finally {
    fs.close(fd);
  }
}

// --- writing -----------------------------------------------------------------

function scheduleFlush(log: Log): void {
  if (log.flushScheduled) return;
  log.flushScheduled = true;
  setImmediate(flushNow, log);
}

/**
 * Under "always", how many fdatasyncs may run at once. With one, the records
 * of a turn that comes while it runs wait for it to end and then for their
 * own: about 1.5 fsyncs per request. With two, they are written and their
 * fsync starts at once, beside the first (a second concurrent fdatasync of
 * one file on this machine's disk costs little more than one: 400 in a row
 * took 150-540 us each, two at a time 90-260 us per completion). End to end
 * (`scripts/bench_durable_ab.ts`, always, P=1, C=50, against one in flight):
 * 0.48 -> 0.56 and 0.49 -> 0.66 of the in-memory server's median in two
 * loaded runs, equal (0.58 / 0.57) in a third; four in flight was no better
 * than two. It also keeps an older fsync from running on a closed fd.
 */
const MAX_SYNCS_IN_FLIGHT = 2;

/**
 * Under "always" with fsync "inline", a flush waits up to this many more
 * turns of the event loop while each brings new records: requests that
 * arrived while this turn ran join its fdatasync instead of waiting behind it
 * for their own (group commit with a short delay, like PostgreSQL's
 * `commit_delay`, but only while input keeps coming). Measured with
 * `scripts/bench_durable_ab.ts` (Bun, C=50, median of 4 rounds, P=1 / P=16):
 * 0.62 / 0.64 of the in-memory server without it, 0.68 / 0.71 with 4 (1: 0.66
 * / 0.69; 16 or unbounded: no better than 4). No gain measured on Deno (0.62
 * / 0.62 against 0.63 / 0.61): there the next immediate ran with no new input.
 */
const INLINE_SYNC_WAIT_TURNS = 4;

function flushNow(log: Log): void {
  log.flushScheduled = false;
  if (log.policy === "always" && log.fsyncMode === "inline") {
    if (log.appended !== log.appendedAtFlushCheck && log.flushWaits < INLINE_SYNC_WAIT_TURNS) {
      log.appendedAtFlushCheck = log.appended;
      log.flushWaits++;
      scheduleFlush(log);
      return;
    }
    log.flushWaits = 0;
    log.appendedAtFlushCheck = log.appended;
  }
  // Under "always" nothing is acknowledged before an fsync covers it: while
  // the most fsyncs allowed are in flight, the records wait in the buffer and
  // go out in one write when one completes, just before the next fsync (one
  // write per fsync, not one per turn).
  if (log.policy === "always" && log.fsyncMode === "thread" && log.syncsInFlight >= MAX_SYNCS_IN_FLIGHT) return;
  flush(log);
}

/** Zeros written ahead of the records (`preallocate`), a chunk at a time; shared by every log. */
let zeros: Uint8Array | undefined;
const ZERO_CHUNK = 1 << 20;

/**
 * Makes room for `n` more bytes of records: writes zeros from the end of the
 * file to `preallocate` bytes past them. Zeros are never data (see
 * `_format.ts`), so a failure here loses nothing: the file is cut back and
 * the records simply extend it.
 */
function preallocate(log: Log, n: number): void {
  const end = log.fileSize + n;
  if (end <= log.allocated) return;
  const from = Math.max(log.allocated, end);
  const to = end + log.preallocate;
  try {
    zeros ??= new Uint8Array(ZERO_CHUNK);
    for (let at = from; at < to; at += ZERO_CHUNK) {
      writeAll(log.fs, log.fd, zeros.subarray(0, Math.min(ZERO_CHUNK, to - at)), at);
    }
    log.allocated = to;
  } catch {
    try {
      log.fs.truncate(log.fd, Math.max(log.fileSize, log.allocated));
    } catch {
      // The records' own write reports a failing disk.
    }
  }
}

/** Cuts the zeros written ahead off the active file (before it is closed or switched from). */
function trimPreallocated(log: Log): void {
  if (log.allocated <= log.fileSize) return;
  log.fs.truncate(log.fd, log.fileSize);
  log.allocated = log.fileSize;
}

/** Writes the buffer to the active file. Returns false when it could not (full, failed, switching). */
function flush(log: Log): boolean {
  if (log.failed !== undefined || log.closed) return false;
  if (log.switching) return false;
  const n = log.bufLen;
  if (n === 0) return true;
  if (log.preallocate > 0) preallocate(log, n);
  let done = 0;
  try {
    while (done < n) {
      const w = log.fs.write(log.fd, log.buf, done, n - done, log.fileSize + done);
      if (w <= 0) throw Object.assign(new Error("short write: no progress"), { code: "ENOSPC" });
      done += w;
    }
  } catch (error) {
    // A torn record must not stay: cut the file back to the last whole record.
    try {
      log.fs.truncate(log.fd, log.fileSize);
      log.allocated = log.fileSize;
    } catch (e) {
      fail(log, ["disk_log", "truncate", e]);
      return false;
    }
    const code = (error as { code?: string }).code;
    if (code === "ENOSPC" && log.policy !== "always") {
      if (!log.full) console.error(`disk_log ${log.name}: disk full, writes refused until space returns (${code})`);
      log.full = true;
      // Their records stay buffered and are written when space returns, but
      // nobody waits for that: they fail now (not acknowledged), so their
      // callers answer at once instead of hanging behind a full disk.
      failWaiters(log, new DiskLogError("full", `disk log ${log.name}: disk full`));
      log.retry ??= setTimeout(retryFull, FULL_RETRY_MS, log);
      return false;
    }
    fail(log, ["disk_log", code === "ENOSPC" ? "full" : "write", error]);
    return false;
  }
  log.fileSize += n;
  if (log.fileSize > log.allocated) log.allocated = log.fileSize;
  log.written += n;
  log.bufLen = 0;
  if (log.buf.length > 4 * INITIAL_BUFFER) log.buf = new Uint8Array(INITIAL_BUFFER);
  if (log.full) {
    log.full = false;
    console.error(`disk_log ${log.name}: space is back, writing again`);
  }
  if (log.policy !== "always") release(log);
  else if (log.fsyncMode === "thread") startSync(log);
  else if (!syncInline(log)) return false;
  if (
    log.compactor !== undefined && !log.compacting &&
    log.fileSize + log.closedBytes >= Math.max(log.compactAt, log.baseBytes)
  ) {
    compact(log).catch((e) => {
      // Closed meanwhile: the leftover `.tmp` is deleted on the next open.
      if (!log.closed && !log.stopping && log.failed === undefined) {
        console.error(`disk_log ${log.name}: compaction failed: ${describe(e)}`);
      }
    });
  }
  return true;
}

function retryFull(log: Log): void {
  log.retry = undefined;
  if (log.failed !== undefined || log.closed) return;
  if (!flush(log) && log.full) log.retry ??= setTimeout(retryFull, FULL_RETRY_MS, log);
}

/** An inline fdatasync taking this long is reported (at most once a minute). */
const SLOW_INLINE_SYNC_MS = 500;

/** Syncs what was written, on this thread, and releases its waiters. False when the log failed. */
function syncInline(log: Log): boolean {
  const t = performance.now();
  log.fsyncs++;
  try {
    log.fs.fdatasyncSync!(log.fd);
  } catch (error) {
    // Never retried: the kernel may have dropped the pages a retry would report as synced.
    fail(log, ["disk_log", "fsync", error]);
    return false;
  }
  const ms = performance.now() - t;
  if (ms >= SLOW_INLINE_SYNC_MS && t - log.slowSyncReported >= 60_000) {
    log.slowSyncReported = t;
    console.error(
      `disk_log ${log.name}: an fdatasync took ${
        Math.round(ms)
      } ms on the main thread, and every process waited (a slow disk? fsync: "thread" keeps the rest running)`,
    );
  }
  if (log.written > log.synced) log.synced = log.written;
  log.lastSync = Date.now();
  release(log);
  return true;
}

function startSync(log: Log): void {
  if (log.failed !== undefined || log.closed) return;
  const target = log.written;
  if (log.synced >= target) {
    release(log);
    return;
  }
  // Already covered by an fsync in flight (it started after these bytes were written), or no room for another.
  if (log.syncTarget >= target || log.syncsInFlight >= MAX_SYNCS_IN_FLIGHT) return;
  log.syncsInFlight++;
  log.syncTarget = target;
  log.fsyncs++;
  log.fs.fdatasync(log.fd, (error) => {
    log.syncsInFlight--;
    if (log.failed !== undefined || log.closed) return syncIdle(log);
    if (error !== null) {
      // Never retried: the kernel may have dropped the pages a retry would report as synced.
      fail(log, ["disk_log", "fsync", error]);
      return syncIdle(log);
    }
    // Fsyncs may complete out of order: one that started later covers everything written before it.
    if (target > log.synced) log.synced = target;
    log.lastSync = Date.now();
    if (log.policy === "always") {
      // The next fsync starts before the replies this one releases go out.
      // flush writes, then starts it; it writes nothing during a switch, and a sync may still be owed.
      if ((log.bufLen === 0 || !flush(log)) && log.written > log.synced) startSync(log);
      release(log);
      return syncIdle(log);
    }
    release(log);
    if (log.written > log.synced && log.syncWaiters.length > 0) startSync(log);
    syncIdle(log);
  });
}

/** Tells those waiting for no fsync in flight, once there is none. */
function syncIdle(log: Log): void {
  if (log.syncsInFlight > 0 || log.syncIdleWaiters.length === 0) return;
  const waiters = log.syncIdleWaiters;
  log.syncIdleWaiters = [];
  for (const fn of waiters) fn();
}

/** Resolves once no fdatasync is in flight: the fd may be closed or cut then. */
function syncsDone(log: Log): Promise<void> {
  if (log.syncsInFlight === 0) return Promise.resolve();
  return new Promise((resolve) => log.syncIdleWaiters.push(resolve));
}

/** Calls back the waiters whose positions are durable now. */
function release(log: Log): void {
  const durable = log.durable;
  const pos = log.waitPos, fns = log.waitFn;
  let i = log.waitHead;
  while (i < pos.length && pos[i] <= durable) {
    const fn = fns[i];
    fns[i] = noop;
    i++;
    fn();
  }
  if (i === pos.length) {
    pos.length = 0;
    fns.length = 0;
    log.waitHead = 0;
  } else {
    log.waitHead = i;
  }
  if (log.syncWaiters.length > 0) {
    const synced = log.synced;
    const ready = log.syncWaiters.filter(([p]) => p <= synced);
    if (ready.length > 0) {
      log.syncWaiters = log.syncWaiters.filter(([p]) => p > synced);
      for (const [, fn] of ready) fn();
    }
  }
}

function noop(): void {}

/** The log cannot go on: every waiter fails, the owner exits with `reason`. */
function fail(log: Log, reason: unknown): void {
  if (log.failed !== undefined) return;
  log.failed = reason;
  stopTimers(log);
  const error = new DiskLogError("failed", `disk log ${log.name} failed: ${describe(reason)}`);
  failWaiters(log, error);
  try {
    log.fs.close(log.fd);
  } catch {
    // Already failing.
  }
  if (logs.get(log.name) === log) logs.delete(log.name);
  try {
    log.onFailure?.(reason);
  } catch {
    // A broken hook must not keep the log from failing.
  }
  Process.send(log.pid, new Failure(reason));
}

function failWaiters(log: Log, error: unknown): void {
  const fns = log.waitFn.slice(log.waitHead);
  log.waitPos = [];
  log.waitFn = [];
  log.waitHead = 0;
  const syncs = log.syncWaiters;
  log.syncWaiters = [];
  for (const fn of fns) fn(error);
  for (const [, fn] of syncs) fn(error);
}

function describe(reason: unknown): string {
  if (Array.isArray(reason)) return reason.map(describe).join(" ");
  return reason instanceof Error ? reason.message : String(reason);
}

function stopTimers(log: Log): void {
  if (log.timer !== undefined) clearInterval(log.timer);
  if (log.retry !== undefined) clearTimeout(log.retry);
  log.timer = undefined;
  log.retry = undefined;
}

function everySecond(log: Log): void {
  if (log.written > log.synced) startSync(log);
}

/** Writes, then syncs, everything appended so far; resolves once synced. */
function syncAll(log: Log): Promise<void> {
  flush(log);
  return syncTo(log, log.appended);
}

/** Resolves once `target` bytes are synced. */
function syncTo(log: Log, target: number): Promise<void> {
  if (log.failed !== undefined) return Promise.reject(new DiskLogError("failed", `disk log ${log.name} failed`));
  if (log.synced >= target) return Promise.resolve();
  return new Promise((resolve, reject) => {
    log.syncWaiters.push([target, (e) => e === undefined ? resolve() : reject(e)]);
    startSync(log);
  });
}

// --- the owner process ----------------------------------------------------------

type Request =
  | readonly ["sync"]
  | readonly ["chunk", Continuation | "start"]
  | readonly ["chunk_ranges", Continuation | "start"]
  | readonly ["truncate"]
  | readonly ["switch", string, number]
  | readonly ["install_base", number, string, number];

interface InitArg {
  log: Log;
  repair: boolean | "truncate";
  repaired?: Repaired;
}

const callbacks: GenServer.Callbacks<Log, InitArg, Request, unknown> = {
  init(arg) {
    const log = arg.log;
    log.pid = Process.self();
    Process.trapExit(true);
    arg.repaired = openFiles(log, arg.repair);
    logs.set(log.name, log);
    if (log.policy === "everysec") log.timer = setInterval(everySecond, 1000, log);
    if (log.compactor !== undefined && log.fs === nodeFileSystem) {
      log.job = new CompactionWorker(log, log.compactor.worker);
    }
    return ["ok", log];
  },
  async handleCall(req, _from, log) {
    switch (req[0]) {
      case "sync":
        await syncAll(log);
        return ["reply", "ok", log];
      case "chunk":
        return ["reply", readChunk(log, req[1]), log];
      case "chunk_ranges":
        return ["reply", readRanges(log, req[1]), log];
      case "truncate":
        await truncateAll(log);
        return ["reply", "ok", log];
      case "switch":
        return ["reply", await switchFile(log, req[1], req[2]), log];
      case "install_base":
        installBase(log, req[1], req[2], req[3]);
        return ["reply", "ok", log];
    }
  },
  handleInfo(msg, log) {
    if (msg instanceof Failure) return ["stop", msg.reason, log];
    // Linked to whoever opened it: it goes when they go.
    if (msg instanceof Process.ExitMessage) return ["stop", msg.reason, log];
    return ["noreply", log];
  },
  async terminate(_reason, log) {
    log.stopping = true;
    stopTimers(log);
    const job = log.job;
    if (job !== undefined) {
      // Stop the worker (a compaction still working leaves a half-written base, which an open deletes).
      log.job = undefined;
      await job.worker.terminate();
    }
    if (logs.get(log.name) === log) logs.delete(log.name);
    if (log.failed === undefined && !log.closed) {
      try {
        if (!log.full) await syncAll(log);
      } catch {
        // Closing anyway.
      }
      // Nothing more is written or synced; the fd stays open until the fsyncs in flight end.
      log.closed = true;
      await syncsDone(log);
      failWaiters(log, new DiskLogError("failed", `disk log ${log.name} closed`));
      try {
        trimPreallocated(log);
      } catch {
        // Unused zeros left behind: the next open cuts them.
      }
      try {
        log.fs.close(log.fd);
      } catch {
        // Nothing more to do.
      }
    }
    log.closed = true;
  },
};

function resolveLog(ref: LogRef): Log {
  if (ref instanceof Log) return ref;
  const log = logs.get(ref);
  if (log === undefined) throw new DiskLogError("no_such_log", `no disk log named ${JSON.stringify(ref)} is open`);
  return log;
}

function checkOptions(opts: OpenOptions): void {
  if (typeof opts?.name !== "string" || !NAME_RE.test(opts.name)) {
    throw new DiskLogError("badarg", `a disk log name must match ${NAME_RE}, got ${JSON.stringify(opts?.name)}`);
  }
  if (typeof opts.dir !== "string" || opts.dir === "") {
    throw new DiskLogError("badarg", `a disk log needs a directory ("dir"), got ${JSON.stringify(opts.dir)}`);
  }
  if (opts.sync !== undefined && !["always", "everysec", "no"].includes(opts.sync)) {
    throw new DiskLogError("badarg", `"sync" must be "always", "everysec" or "no", got ${JSON.stringify(opts.sync)}`);
  }
  if (opts.fsync !== undefined && opts.fsync !== "thread" && opts.fsync !== "inline") {
    throw new DiskLogError("badarg", `"fsync" must be "thread" or "inline", got ${JSON.stringify(opts.fsync)}`);
  }
  if (opts.fsync === "inline" && typeof (opts.fs ?? nodeFileSystem).fdatasyncSync !== "function") {
    throw new DiskLogError("badarg", `fsync "inline" needs a file system with fdatasyncSync`);
  }
  if (opts.preallocate !== undefined && !(Number.isSafeInteger(opts.preallocate) && opts.preallocate >= 0)) {
    throw new DiskLogError(
      "badarg",
      `"preallocate" must be a whole number of bytes, 0 or more, got ${JSON.stringify(opts.preallocate)}`,
    );
  }
  if (opts.repair !== undefined && opts.repair !== true && opts.repair !== false && opts.repair !== "truncate") {
    throw new DiskLogError("badarg", `"repair" must be true, false or "truncate", got ${JSON.stringify(opts.repair)}`);
  }
  if (logs.has(opts.name)) throw new DiskLogError("already_open", `a disk log named ${opts.name} is already open`);
}

async function start(opts: OpenOptions, link: boolean): Promise<OpenResult> {
  checkOptions(opts);
  const log = new Log(
    opts.name,
    opts.dir.replace(/\/+$/, "") || "/",
    opts.sync ?? "everysec",
    opts.fs ?? nodeFileSystem,
    opts.maxRecordSize ?? DEFAULT_MAX,
  );
  log.compactor = opts.compactor;
  log.onFailure = opts.onFailure;
  log.fsyncMode = opts.fsync ?? "thread";
  log.preallocate = opts.preallocate ?? (log.policy === "always" ? DEFAULT_PREALLOCATE : 0);
  if (opts.compactAt !== undefined) log.compactAt = opts.compactAt;
  const arg: InitArg = { log, repair: opts.repair ?? true };
  const startOpts = opts.processName === undefined ? undefined : { name: opts.processName };
  try {
    await (link ? GenServer.startLink(callbacks, arg, startOpts) : GenServer.start(callbacks, arg, startOpts));
  } catch (e) {
    // The open's own error (damage, version), not the start's wrapper.
    const reason = (e as { reason?: unknown }).reason;
    const inner = Array.isArray(reason) && reason[1] instanceof DiskLogError ? reason[1] : undefined;
    throw inner ?? e;
  }
  return arg.repaired === undefined ? ["ok", log] : ["repaired", log, arg.repaired];
}

/**
 * Opens a log (creating its directory and first file if needed), starting
 * its owner process linked to the caller. Rejects with
 * {@linkcode DiskLogError}: `damaged`/`need_repair` (see the module doc),
 * `version` (an unknown format version: the message names the file),
 * `not_a_log`, `already_open`, `badarg`.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [status, log] = await DiskLog.open({ name: "doc_open", dir: "/d", fs: new MemoryFileSystem() });
 * console.assert(status === "ok" && log.policy === "everysec");
 * await DiskLog.close(log);
 * ```
 */
export function open(opts: OpenOptions): Promise<OpenResult> {
  try {
    return start(opts, true);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * A child spec whose start opens the log (the owner is the child). The
 * opened {@linkcode Log} is then found by name ({@linkcode whereis}).
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * import { Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([DiskLog.childSpec({ name: "doc_child", dir: "/d", fs: new MemoryFileSystem() })], { strategy: "one_for_one" });
 * console.assert(DiskLog.whereis("doc_child") !== undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function childSpec(opts: OpenOptions & { onRepaired?: (r: Repaired) => void }): ChildSpec {
  return {
    id: `DiskLog.${opts.name}`,
    start: async () => {
      const r = await start(opts, true);
      if (r[0] === "repaired") opts.onRepaired?.(r[2]);
      return r[1].pid;
    },
    shutdown: 30_000,
  };
}

/**
 * The open log named `name`, or `undefined`.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * console.assert(DiskLog.whereis("doc_none") === undefined);
 * ```
 */
export function whereis(name: string): Log | undefined {
  const log = logs.get(name);
  return log !== undefined && log.failed === undefined && !log.closed ? log : undefined;
}

/**
 * Appends a record (any bytes) without waiting; returns the position its
 * end will have in the log, for {@linkcode onDurable}. Throws
 * {@linkcode DiskLogError} `full` while the disk is full, `failed` once
 * the log has failed or closed. OTP's `balog`.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_alog", dir: "/d", fs: new MemoryFileSystem() });
 * const end = DiskLog.alog(log, new Uint8Array([1, 2, 3]));
 * await new Promise<void>((resolve) => DiskLog.onDurable(log, end, () => resolve()));
 * console.assert(log.written >= end);
 * await DiskLog.close(log);
 * ```
 */
export function alog(ref: LogRef, payload: Uint8Array): number {
  return append(ref, payload.length, (bytes, at) => bytes.set(payload, at));
}

/**
 * The hot path of {@linkcode alog}: reserves room for a `size`-byte
 * payload in the log's buffer and lets `fill` write it at `at` (no copy, no
 * allocation); frames it; returns the record's end position.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_append", dir: "/d", fs: new MemoryFileSystem() });
 * DiskLog.append(log, 2, (bytes, at) => { bytes[at] = 7; bytes[at + 1] = 8; });
 * await DiskLog.sync(log);
 * await DiskLog.close(log);
 * ```
 */
export function append(ref: LogRef, size: number, fill: (bytes: Uint8Array, at: number) => void): number {
  const log = ref instanceof Log ? ref : resolveLog(ref);
  if (log.failed !== undefined || log.closed) {
    throw new DiskLogError("failed", `disk log ${log.name} is ${log.closed ? "closed" : "failed"}`);
  }
  if (log.full) throw new DiskLogError("full", `disk log ${log.name}: disk full`);
  if (!(size >= 0 && size <= log.maxRecordSize)) {
    throw new DiskLogError("badarg", `a record of ${size} bytes is over the log's limit (${log.maxRecordSize})`);
  }
  const total = varintSize(size) + size + 4;
  const at0 = log.bufLen;
  let buf = log.buf;
  if (at0 + total > buf.length) {
    let n = buf.length * 2;
    while (n < at0 + total) n *= 2;
    const grown = new Uint8Array(n);
    grown.set(buf.subarray(0, at0));
    log.buf = buf = grown;
  }
  const p = writeVarint(buf, at0, size);
  fill(buf, p);
  log.bufLen = sealFrame(buf, at0, p + size);
  log.appended += total;
  log.records++;
  if (!log.flushScheduled) scheduleFlush(log);
  return log.appended;
}

/**
 * Calls `done()` once everything up to `position` is durable (written;
 * synced under `"always"`), at once if it is already; `done(error)` if the
 * log fails or closes first. No promise, no message: the server's reply
 * path.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_durable", dir: "/d", fs: new MemoryFileSystem(), sync: "always" });
 * const end = DiskLog.alog(log, new Uint8Array(3));
 * await new Promise<void>((resolve) => DiskLog.onDurable(log, end, () => resolve()));
 * console.assert(log.synced >= end);
 * await DiskLog.close(log);
 * ```
 */
export function onDurable(ref: LogRef, position: number, done: (error?: unknown) => void): void {
  const log = ref instanceof Log ? ref : resolveLog(ref);
  if (log.durable >= position) {
    done();
    return;
  }
  if (log.failed !== undefined || log.closed) {
    done(new DiskLogError("failed", `disk log ${log.name} is ${log.closed ? "closed" : "failed"}`));
    return;
  }
  const pos = log.waitPos;
  // Positions only grow, except when a waiter asks for an older one: keep the queue sorted.
  if (pos.length > log.waitHead && pos[pos.length - 1] > position) {
    let i = pos.length;
    while (i > log.waitHead && pos[i - 1] > position) i--;
    pos.splice(i, 0, position);
    log.waitFn.splice(i, 0, done);
    return;
  }
  pos.push(position);
  log.waitFn.push(done);
}

/**
 * Appends a record and resolves once it is durable under the log's policy
 * (OTP's `blog`, which waits for the log process).
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_log_fn", dir: "/d", fs: new MemoryFileSystem() });
 * await DiskLog.log(log, new TextEncoder().encode("x"));
 * console.assert(DiskLog.info(log).records === 1);
 * await DiskLog.close(log);
 * ```
 */
export function log(ref: LogRef, payload: Uint8Array): Promise<void> {
  try {
    const log = resolveLog(ref);
    const end = alog(log, payload);
    return new Promise((resolve, reject) => onDurable(log, end, (e) => e === undefined ? resolve() : reject(e)));
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * True while records can be appended: open, not failed, disk not full.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_writable", dir: "/d", fs: new MemoryFileSystem() });
 * console.assert(DiskLog.isWritable(log));
 * await DiskLog.close(log);
 * console.assert(!DiskLog.isWritable(log));
 * ```
 */
export function isWritable(ref: LogRef): boolean {
  const log = ref instanceof Log ? ref : logs.get(ref);
  return log !== undefined && log.failed === undefined && !log.closed && !log.full;
}

/**
 * Writes and fdatasyncs everything appended so far; resolves once done.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_sync", dir: "/d", fs: new MemoryFileSystem(), sync: "no" });
 * DiskLog.alog(log, new Uint8Array(1));
 * await DiskLog.sync(log);
 * console.assert(log.synced === log.appended);
 * await DiskLog.close(log);
 * ```
 */
export async function sync(ref: LogRef): Promise<void> {
  const log = resolveLog(ref);
  await GenServer.call(log.pid, ["sync"], Infinity);
}

/**
 * Reads records back, oldest first, across every file of the log
 * (everything appended before the call): `[continuation, records]`, or
 * `"eof"`. Start with `"start"` (the default), then pass the continuation.
 * Each record is a view into a chunk's buffer: copy it to keep it.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_chunk", dir: "/d", fs: new MemoryFileSystem() });
 * for (let i = 0; i < 3; i++) DiskLog.alog(log, new Uint8Array([i]));
 * let n = 0;
 * for (let c = await DiskLog.chunk(log); c !== "eof"; c = await DiskLog.chunk(log, c[0])) n += c[1].length;
 * console.assert(n === 3);
 * await DiskLog.close(log);
 * ```
 */
export async function chunk(
  ref: LogRef,
  continuation: Continuation | "start" = "start",
): Promise<"eof" | [Continuation, Uint8Array[]]> {
  const log = resolveLog(ref);
  return await GenServer.call(log.pid, ["chunk", continuation], Infinity) as "eof" | [Continuation, Uint8Array[]];
}

/** What {@linkcode chunkRanges} reads: whole records, as ranges of one buffer. */
export interface RecordRanges {
  /** The bytes read. */
  readonly bytes: Uint8Array;
  /** Record `i`'s payload is `bytes[ranges[2 * i] .. ranges[2 * i + 1])`. */
  readonly ranges: readonly number[];
}

/**
 * {@linkcode chunk} without an object per record: the next chunk's records
 * as ranges of the buffer they were read into, for a replay of millions of
 * records that parses them in place. Each chunk is a fresh buffer.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_chunk_ranges", dir: "/d", fs: new MemoryFileSystem() });
 * for (let i = 0; i < 3; i++) DiskLog.alog(log, new Uint8Array([i, i]));
 * let sum = 0;
 * for (let c = await DiskLog.chunkRanges(log); c !== "eof"; c = await DiskLog.chunkRanges(log, c[0])) {
 *   const { bytes, ranges } = c[1];
 *   for (let i = 0; i < ranges.length; i += 2) sum += bytes[ranges[i]] + ranges[i + 1] - ranges[i];
 * }
 * console.assert(sum === 0 + 1 + 2 + 3 * 2);
 * await DiskLog.close(log);
 * ```
 */
export async function chunkRanges(
  ref: LogRef,
  continuation: Continuation | "start" = "start",
): Promise<"eof" | [Continuation, RecordRanges]> {
  const log = resolveLog(ref);
  return await GenServer.call(log.pid, ["chunk_ranges", continuation], Infinity) as "eof" | [
    Continuation,
    RecordRanges,
  ];
}

function readChunk(log: Log, cont: Continuation | "start"): "eof" | [Continuation, Uint8Array[]] {
  const r = readRanges(log, cont);
  if (r === "eof") return r;
  const { bytes, ranges } = r[1];
  const records: Uint8Array[] = new Array(ranges.length >> 1);
  for (let i = 0; i < records.length; i++) records[i] = bytes.subarray(ranges[2 * i], ranges[2 * i + 1]);
  return [r[0], records];
}

/** Reads the next chunk's whole records as ranges of one buffer (no object per record). */
function readRanges(log: Log, cont: Continuation | "start"): "eof" | [Continuation, RecordRanges] {
  flush(log);
  let file = 0, offset = HEADER_SIZE;
  if (cont !== "start") {
    if (cont.generation !== log.generation) {
      throw new DiskLogError("badarg", `disk log ${log.name}: stale continuation (the files changed since)`);
    }
    file = cont.file;
    offset = cont.offset;
  }
  const fs = log.fs;
  while (file < log.files.length) {
    const f = log.files[file];
    const size = file === log.files.length - 1 ? log.fileSize : fs.size(f.path);
    if (offset >= size) {
      file++;
      offset = HEADER_SIZE;
      continue;
    }
    let want = Math.min(CHUNK_BYTES, size - offset);
    for (;;) {
      const bytes = new Uint8Array(want);
      const fd = file === log.files.length - 1 ? log.fd : fs.open(f.path);
      let got = 0;
      try {
        while (got < want) {
          const n = fs.read(fd, bytes, got, want - got, offset + got);
          if (n <= 0) break;
          got += n;
        }
      } finally {
        if (fd !== log.fd) fs.close(fd);
      }
      // Records open already checked need no second CRC: only their frames are read.
      const checkedUpTo = (f.checked ?? 0) - offset;
      const ranges: number[] = [];
      let at = 0;
      while (at < got) {
        const end = frameEnd(bytes, at, got, log.maxRecordSize, at >= checkedUpTo);
        if (end === SHORT) break;
        if (end === BAD) throw new DiskLogError("damaged", `${f.path}: damaged record at offset ${offset + at}`);
        ranges.push(frameStart, end);
        at = end + 4;
      }
      if (ranges.length === 0) {
        if (want >= size - offset) {
          throw new DiskLogError("damaged", `${f.path}: torn record at offset ${offset} inside the log`);
        }
        want = Math.min(want * 4, size - offset); // one record bigger than a chunk
        continue;
      }
      return [{ file, offset: offset + at, generation: log.generation }, { bytes, ranges }];
    }
  }
  return "eof";
}

/**
 * Empties the log: every file but a fresh active one is deleted, buffered
 * records are dropped. Waiters are released (their records are gone by
 * request).
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_truncate", dir: "/d", fs: new MemoryFileSystem() });
 * await DiskLog.log(log, new Uint8Array(1));
 * await DiskLog.truncate(log);
 * console.assert(await DiskLog.chunk(log) === "eof");
 * await DiskLog.close(log);
 * ```
 */
export async function truncate(ref: LogRef): Promise<void> {
  const log = resolveLog(ref);
  await GenServer.call(log.pid, ["truncate"], Infinity);
}

async function truncateAll(log: Log): Promise<void> {
  flush(log);
  // What is appended meanwhile stays buffered (and is dropped below, as what came before the truncate).
  log.switching = true;
  try {
    await syncTo(log, log.written).catch(() => {});
    await syncsDone(log);
  } finally {
    log.switching = false;
  }
  const fs = log.fs;
  log.bufLen = 0;
  const active = log.files[log.files.length - 1];
  for (const f of log.files.slice(0, -1)) fs.unlink(f.path);
  fs.truncate(log.fd, HEADER_SIZE);
  log.allocated = HEADER_SIZE;
  // What open checked is gone: records written from here on are checked when read.
  active.checked = 0;
  await fdatasync(fs, log.fd);
  fs.syncDir(log.dir);
  log.files = [active];
  log.generation++;
  log.fileSize = HEADER_SIZE;
  // Nothing appended is pending any more.
  log.written = log.synced = log.appended;
  release(log);
}

/**
 * Closes the log: writes and syncs what was appended, closes the files,
 * stops the owner. Waiters still pending get an error.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_close", dir: "/d", fs: new MemoryFileSystem() });
 * await DiskLog.close(log);
 * console.assert(DiskLog.whereis("doc_close") === undefined);
 * ```
 */
export async function close(ref: LogRef): Promise<void> {
  const log = resolveLog(ref);
  await GenServer.stop(log.pid);
}

/**
 * What the log looks like now: policy, files and their sizes, counters,
 * last sync. A direct read, no message.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * import { MemoryFileSystem } from "./fs.ts";
 * const [, log] = await DiskLog.open({ name: "doc_info", dir: "/d", fs: new MemoryFileSystem(), sync: "no" });
 * DiskLog.alog(log, new Uint8Array(10));
 * console.assert(DiskLog.info(log).pendingBytes === 15);
 * await DiskLog.close(log);
 * ```
 */
export function info(ref: LogRef): LogInfo {
  const log = resolveLog(ref);
  const files = log.files.map((f, i): FileInfo => ({
    path: f.path,
    kind: f.kind === KIND_BASE ? "base" : "incremental",
    bytes: i === log.files.length - 1 ? log.fileSize + log.bufLen : log.fs.size(f.path),
  }));
  return {
    name: log.name,
    dir: log.dir,
    policy: log.policy,
    fsync: log.fsyncMode,
    owner: log.pid,
    files,
    appended: log.appended,
    written: log.written,
    synced: log.synced,
    pendingBytes: log.appended - log.durable,
    lastSync: log.lastSync,
    records: log.records,
    full: log.full,
    fsyncs: log.fsyncs,
    compactions: log.compactions,
  };
}

/**
 * Every open log's name.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * console.assert(Array.isArray(DiskLog.accessibleLogs()));
 * ```
 */
export function accessibleLogs(): string[] {
  return [...logs.keys()];
}

// --- compaction ------------------------------------------------------------------

/** @ignore The files a compaction folds: everything before the new active file. */
export interface Switched {
  /** The closed files, oldest first (a base first if any). */
  files: string[];
  /** The sequence number the new base gets (the last closed file's). */
  seq: number;
}

/** Records how long a synchronous step of a compaction held the main thread. */
function noteStep(log: Log, since: number): void {
  const ms = performance.now() - since;
  if (ms > log.longestStep) log.longestStep = ms;
}

/**
 * Makes the prepared file `next` (created, header written and synced, off
 * the main thread) the active one: everything appended so far is written and
 * synced to the old one first.
 */
async function switchFile(log: Log, next: string, seq: number): Promise<Switched> {
  let t = performance.now();
  flush(log);
  // From here on records stay in the buffer (they go to the new file), so the
  // old file's last fsync covers all it holds and no new one starts on it.
  log.switching = true;
  noteStep(log, t);
  try {
    await syncTo(log, log.written);
    // An older fsync of the file may still run (a later one covered it): the fd stays open until it ends.
    await syncsDone(log);
  } finally {
    log.switching = false;
  }
  t = performance.now();
  const fs = log.fs;
  const old = log.files[log.files.length - 1];
  // An existing file: no creation, no directory update on the main thread.
  const fd = fs.open(next);
  // Readers of a closed file (chunk, the compaction worker) then see its records only.
  try {
    trimPreallocated(log);
  } catch (e) {
    fs.close(fd);
    throw e;
  }
  fs.close(log.fd);
  log.closedBytes += log.fileSize;
  log.fd = fd;
  log.fileSize = log.allocated = HEADER_SIZE;
  log.files.push({ path: next, kind: KIND_INCREMENTAL, seq });
  log.generation++;
  noteStep(log, t);
  if (log.bufLen > 0) scheduleFlush(log);
  return { files: log.files.slice(0, -1).map((f) => f.path), seq: old.seq };
}

/** The new base `base` (already renamed into place) replaces every file up to `seq` in the list. */
function installBase(log: Log, seq: number, base: string, bytes: number): void {
  const t = performance.now();
  const keep: LogFile[] = [{ path: base, kind: KIND_BASE, seq }];
  for (const f of log.files) if (f.seq > seq) keep.push(f);
  log.files = keep;
  log.baseBytes = bytes;
  log.closedBytes = 0;
  for (const f of keep.slice(1, -1)) log.closedBytes += log.fs.size(f.path);
  log.generation++;
  log.compactions++;
  noteStep(log, t);
}

/** The steps of a compaction, for {@linkcode CompactOptions.step}. */
export type CompactStep = "prepared" | "switched" | "written" | "renamed" | "done";

/**
 * What compacts a log: a fold of its records into fewer with the same
 * replay, and the module that runs it in a worker thread. That module
 * (`worker`, a URL) calls {@linkcode serveCompaction} with the same fold when
 * it loads; on the main thread the call does nothing.
 */
export interface Compactor {
  /** The URL of the module that runs as the worker thread. */
  readonly worker: string;
  /** The fold: yields payloads whose replay gives the same result as replaying `records`. */
  readonly compact: CompactFn;
}

export type { CompactFn };

const WORKER_TAG = "otp-ts-disk-log-compaction";

/** A request to the compaction worker. */
type WorkerRequest =
  | { op: "prepare"; path: string; header: Uint8Array; dir: string }
  | {
    op: "base";
    files: string[];
    tmp: string;
    header: Uint8Array;
    base: string;
    dir: string;
    maxSize: number;
  };

/** The file work of a compaction: in the worker thread, or inline (another file system: tests). */
interface CompactionOps {
  /** Creates `path` with `header`, synced, and syncs `dir`. */
  prepare(path: string, header: Uint8Array, dir: string): Promise<void>;
  /** Writes the base to `tmp`, renames it to `base`, syncs the directory, deletes `files`, syncs again. */
  base(req: Extract<WorkerRequest, { op: "base" }>): Promise<BaseWritten>;
  close(): void;
}

/** Runs one request with `fs`; `step` is told "written" and "renamed". */
async function runRequest(
  fs: FileSystem,
  req: WorkerRequest,
  compact: CompactFn,
  step?: (s: CompactStep) => void | Promise<void>,
): Promise<BaseWritten | undefined> {
  if (req.op === "prepare") {
    const fd = fs.open(req.path);
    try {
      fs.truncate(fd, 0);
      writeAll(fs, fd, req.header, 0);
      await fdatasync(fs, fd);
    } finally {
      fs.close(fd);
    }
    fs.syncDir(req.dir);
    return undefined;
  }
  const written = await writeBase(fs, req.files, req.tmp, req.header, compact, req.maxSize);
  await step?.("written");
  fs.rename(req.tmp, req.base);
  fs.syncDir(req.dir);
  await step?.("renamed");
  // From here on the base holds everything the files held: an open would drop them anyway.
  for (const f of req.files) if (f !== req.base) fs.unlink(f);
  fs.syncDir(req.dir);
  return written;
}

function inlineOps(fs: FileSystem, compact: CompactFn, step?: (s: CompactStep) => void | Promise<void>): CompactionOps {
  return {
    prepare: async (path, header, dir) => void await runRequest(fs, { op: "prepare", path, header, dir }, compact),
    base: async (req) => (await runRequest(fs, req, compact, step))!,
    close() {},
  };
}

/**
 * A log's compaction worker thread, started with the log (creating a thread
 * holds the main thread for tens of ms: not during service) and kept idle
 * between compactions.
 */
class CompactionWorker {
  readonly worker: Worker;
  #pending: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined;
  exited = false;
  constructor(readonly log: Log, module: string) {
    this.worker = new Worker(new URL(toUrl(module)), { workerData: { tag: WORKER_TAG } });
    // An idle worker must not keep the program alive.
    this.worker.unref();
    this.worker.on(
      "message",
      (m: { ok: boolean; result?: BaseWritten; error?: string }) =>
        this.#settle((p) =>
          m.ok ? p.resolve(m.result) : p.reject(new DiskLogError("failed", `compaction: ${m.error}`))
        ),
    );
    this.worker.on("error", (e) => this.#settle((p) => p.reject(e)));
    this.worker.on("exit", () => {
      this.exited = true;
      this.#settle((p) => p.reject(new DiskLogError("failed", `disk log ${log.name}: compaction worker stopped`)));
    });
  }
  #settle(f: (p: { resolve: (v: unknown) => void; reject: (e: unknown) => void }) => void): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p !== undefined) f(p);
  }
  ask<T>(req: WorkerRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending = { resolve: resolve as (v: unknown) => void, reject };
      this.worker.ref(); // working: keep the program alive until it answers
      this.worker.postMessage(req);
    }).finally(() => this.worker.unref());
  }
}

function workerOps(log: Log, module: string): CompactionOps {
  if (log.job === undefined || log.job.exited) log.job = new CompactionWorker(log, module);
  const job = log.job;
  return {
    prepare: (path, header, dir) => job.ask<undefined>({ op: "prepare", path, header, dir }).then(() => {}),
    base: (req) => job.ask<BaseWritten>(req),
    close() {},
  };
}

/**
 * Call at the top level of a compactor's worker module: when the module runs
 * as a compaction worker thread, serves the compaction's file work with
 * `compact`; anywhere else it does nothing.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * DiskLog.serveCompaction((records) => records); // on the main thread: a no-op
 * ```
 */
export function serveCompaction(compact: CompactFn): void {
  const data = workerData as { tag?: string } | null | undefined;
  if (isMainThread || parentPort === null || data?.tag !== WORKER_TAG) return;
  lowerThreadPriority();
  const port = parentPort;
  port.on("message", async (req: WorkerRequest) => {
    try {
      port.postMessage({ ok: true, result: await runRequest(nodeFileSystem, req, compact) });
    } catch (error) {
      port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

/**
 * Lowers the calling thread's scheduling priority (nice 10), on Linux: the
 * compaction worker's, so that on a machine short of cores the thread that
 * serves requests gets a core first. A compaction is background work; the
 * worker competing at equal priority showed as main-thread gaps of tens of ms
 * spent waiting in the run queue (`scripts/bench_durable.ts`). Elsewhere, or
 * if not allowed, the worker keeps its priority.
 */
function lowerThreadPriority(): void {
  try {
    // The thread's own id: `setpriority` on a thread id applies to that thread alone on Linux.
    const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync("/proc/thread-self"))?.[1]);
    if (tid > 0) setPriority(tid, WORKER_NICE);
  } catch {
    // Not Linux, or not permitted: nothing to do.
  }
}

const WORKER_NICE = 10;

/** Options of {@linkcode compact}. */
export interface CompactOptions {
  /** Default the log's `compactor` option. */
  compactor?: Compactor;
  /** Do the file work on the main thread (default: only when the log's file system is not the real one). */
  inline?: boolean;
  /** Called after each step (tests inject crashes here: a throw stops the compaction there). */
  step?: (step: CompactStep) => void | Promise<void>;
}

/** What {@linkcode compact} did. */
export interface Compacted {
  /** Records in the new base. */
  records: number;
  /** Its size in bytes. */
  bytes: number;
  /** Files it replaced. */
  replaced: number;
  /** Its path. */
  base: string;
  /** How long, in ms, the longest synchronous step held the main thread (the file work is done in a worker). */
  longestStepMs: number;
}

/**
 * Compacts the log without stopping it. Off the main thread (a worker
 * thread running the compactor's module): the next file is created and
 * synced; then appends switch to it (the old one is written and synced
 * first, asynchronously); the closed files are folded by the compactor into
 * a new base, synced every few MB, renamed into place, the directory synced,
 * and the files it covers deleted. A crash at any step leaves a complete
 * set: before the rename the old files are whole (a leftover `.tmp` or an
 * empty next file is deleted on open), after it the base covers them (an
 * open deletes them). Rejects with {@linkcode DiskLogError} `busy` while
 * another compaction runs, `badarg` without a compactor.
 *
 * @example
 * ```ts
 * import * as DiskLog from "./disk_log.ts";
 * // Keeps the last record only (the worker module is used on a real disk).
 * const compact = function* (records: Iterable<Uint8Array>) {
 *   let last: Uint8Array | undefined;
 *   for (const r of records) last = r;
 *   if (last !== undefined) yield last;
 * };
 * const compactor = { worker: "file:///unused-in-memory.ts", compact };
 * const [, log] = await DiskLog.open({ name: "doc_compact", dir: "/d", fs: new DiskLog.MemoryFileSystem(), compactor });
 * for (let i = 0; i < 3; i++) DiskLog.alog(log, new Uint8Array([i]));
 * const done = await DiskLog.compact(log);
 * console.assert(done.records === 1 && DiskLog.info(log).files[0].kind === "base");
 * await DiskLog.close(log);
 * ```
 */
export async function compact(ref: LogRef, opts: CompactOptions = {}): Promise<Compacted> {
  const log = resolveLog(ref);
  const compactor = opts.compactor ?? log.compactor;
  if (compactor === undefined) throw new DiskLogError("badarg", `disk log ${log.name} has no compactor`);
  if (log.compacting) throw new DiskLogError("busy", `disk log ${log.name} is already compacting`);
  log.compacting = true;
  log.longestStep = 0;
  const inline = opts.inline ?? log.fs !== nodeFileSystem;
  let t = performance.now();
  const ops = inline ? inlineOps(log.fs, compactor.compact, opts.step) : workerOps(log, compactor.worker);
  noteStep(log, t);
  try {
    const seq = log.files[log.files.length - 1].seq + 1;
    const next = path(log.dir, log.name, seq, KIND_INCREMENTAL);
    await ops.prepare(next, encodeHeader(KIND_INCREMENTAL, seq), log.dir);
    await opts.step?.("prepared");
    const switched = await GenServer.call(log.pid, ["switch", next, seq], Infinity) as Switched;
    await opts.step?.("switched");
    const base = path(log.dir, log.name, switched.seq, KIND_BASE);
    const written = await ops.base({
      op: "base",
      files: switched.files,
      tmp: `${base}.tmp`,
      header: encodeHeader(KIND_BASE, switched.seq),
      base,
      dir: log.dir,
      maxSize: log.maxRecordSize,
    });
    await GenServer.call(log.pid, ["install_base", switched.seq, base, written.bytes], Infinity);
    await opts.step?.("done");
    return { ...written, replaced: switched.files.length, base, longestStepMs: log.longestStep };
  } finally {
    t = performance.now();
    ops.close();
    noteStep(log, t);
    log.compacting = false;
  }
}

function toUrl(module: string): string {
  return /^[a-z]+:/.test(module) ? module : new URL(module, `file://${process.cwd()}/`).href;
}
