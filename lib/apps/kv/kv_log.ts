/**
 * `KV.Log`: what makes the KV tree durable. With a directory (the `"kv"`
 * application's `dir`, or `kv serve --dir`), the tree gets a
 * {@linkcode DiskLog} child, and every change is appended to it as one
 * record, in the order the changes happen:
 *
 * | record | payload after the type byte |
 * |---|---|
 * | `CREATE` (1) | bucket |
 * | `PUT` (2) | bucket, key, value |
 * | `DELETE` (3) | bucket, key |
 * | `DROP` (4) | bucket (it died: its name and data are gone) |
 *
 * Each string is its byte length (LEB128) then its bytes: one byte per char
 * when every char of the record is below 256 (the server's binary strings),
 * else UTF-16LE for the whole record (type byte | 0x80). Every record is
 * absolute, so replaying one twice is harmless. A `PUT` of a 16-byte key and
 * value into bucket `b` is a 37-byte payload, 42 bytes framed.
 *
 * The bucket appends its own `PUT`/`DELETE` records, inside its process, as
 * it applies them; the registry appends `CREATE` and `DROP`. A bucket finds
 * its log and name with {@linkcode durableOf}, which the registry fills.
 *
 * **Replay** (`replay.ts`) folds the records into each bucket's state;
 * the registry then starts every bucket at once with its state
 * (`Agent.startChildren`) before the tree's start returns, so a server over
 * it starts on the recovered state.
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * import assert from "node:assert/strict";
 * const bytes = KVLog.encode({ type: "put", bucket: "b", key: "__proto__", value: "\u00ff" });
 * assert.deepEqual(KVLog.decode(bytes), { type: "put", bucket: "b", key: "__proto__", value: "\u00ff" });
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DiskLog, type Pid, type Supervisor } from "../../../mod.ts";

/** One change to the KV data, as logged. */
export type LogRecord =
  | { readonly type: "create"; readonly bucket: string }
  | { readonly type: "put"; readonly bucket: string; readonly key: string; readonly value: string }
  | { readonly type: "delete"; readonly bucket: string; readonly key: string }
  | { readonly type: "drop"; readonly bucket: string };

const CREATE = 1, PUT = 2, DELETE = 3, DROP = 4, WIDE = 0x80;
/** @ignore Record type bytes. */
export const _TYPES = { CREATE, PUT, DELETE, DROP, WIDE } as const;
const TYPES = ["", "create", "put", "delete", "drop"] as const;

/** Durability options of a KV tree. */
export interface KVLogOptions {
  /** Directory of the log's files. */
  dir: string;
  /** Default `"everysec"`. */
  sync?: DiskLog.SyncPolicy;
  /**
   * Under `"always"`, where the fdatasync runs (see `DiskLog.FsyncMode`).
   * Default `"inline"`, as Redis does it, where the file system can (`fdatasyncSync`), else `"thread"`.
   */
  fsync?: DiskLog.FsyncMode;
  /** Default `true` (cut a torn tail); `"truncate"` also cuts at damage. */
  repair?: boolean | "truncate";
  /** Told about a repair on open. Default: one line on stderr. */
  onRepaired?: (repaired: DiskLog.Repaired) => void;
  /** Default: the real file system. */
  fs?: DiskLog.FileSystem;
  /** Compact automatically at this many incremental bytes (see `DiskLog.OpenOptions.compactAt`). Default 64 MiB. */
  compactAt?: number;
  /** The log's compactor; the KV tree passes `compactor.ts`'s. */
  compactor?: DiskLog.Compactor;
}

/** A durable bucket's log and name. */
export interface DurableBucket {
  /** The tree's log. */
  readonly log: DiskLog.Log;
  /** The bucket's name. */
  readonly name: string;
}

/** Durable buckets by pid id (filled by the registry), except those of a {@linkcode RestoredRange}. */
const durable = new Map<number, DurableBucket>();

/**
 * Buckets restored at once (`Registry` on start): their pids have consecutive
 * ids, so their names sit in one array by `id - first` instead of a million
 * map entries and records. A bucket's record is made on its first write.
 */
class RestoredRange {
  /** Buckets of the range still registered. */
  live: number;
  constructor(
    readonly log: DiskLog.Log,
    readonly first: number,
    readonly entries: (string | DurableBucket | undefined)[],
  ) {
    this.live = entries.length;
  }
}
const ranges: RestoredRange[] = [];

/** The range `id` falls in, or undefined. */
function rangeOf(id: number): RestoredRange | undefined {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i];
    if (id >= r.first && id < r.first + r.entries.length) return r;
  }
  return undefined;
}

/**
 * The log and name of the bucket `pid`, if it belongs to a durable tree.
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * import { Process } from "../../../mod.ts";
 * await Process.run(() => console.assert(KVLog.durableOf(Process.self()) === undefined));
 * ```
 */
export function durableOf(pid: Pid): DurableBucket | undefined {
  const id = pid.id;
  const r = ranges.length === 0 ? undefined : rangeOf(id);
  if (r === undefined) return durable.get(id);
  const e = r.entries[id - r.first];
  if (typeof e !== "string") return e;
  const d = { log: r.log, name: e };
  r.entries[id - r.first] = d;
  return d;
}

/** @ignore The registry marks a bucket durable (before publishing it). */
export function _register(pid: Pid, log: DiskLog.Log, name: string): void {
  durable.set(pid.id, { log, name });
}

/**
 * @ignore The registry marks restored buckets durable: `pids[i]` is named
 * `names[i]` (the array is kept). One range when the ids are consecutive (a
 * bulk start makes them so), else one entry each.
 */
export function _registerAll(pids: readonly Pid[], log: DiskLog.Log, names: string[]): void {
  if (pids.length === 0) return;
  const first = pids[0].id;
  let consecutive = pids.length === names.length;
  for (let i = 1; consecutive && i < pids.length; i++) consecutive = pids[i].id === first + i;
  if (consecutive && rangeOf(first) === undefined && rangeOf(first + pids.length - 1) === undefined) {
    ranges.push(new RestoredRange(log, first, names));
    return;
  }
  for (let i = 0; i < pids.length; i++) _register(pids[i], log, names[i]);
}

/**
 * @ignore Forgets the buckets of logs that are closed or failed (their trees
 * stopped without a registry to see the buckets go); run on each restore.
 */
export function _sweep(): void {
  for (const [id, d] of durable) if (DiskLog.whereis(d.log.name) !== d.log) durable.delete(id);
  for (let i = ranges.length - 1; i >= 0; i--) {
    if (DiskLog.whereis(ranges[i].log.name) !== ranges[i].log) ranges.splice(i, 1);
  }
}

/** @ignore The registry forgets a bucket. */
export function _unregister(pid: Pid): void {
  const id = pid.id;
  const r = ranges.length === 0 ? undefined : rangeOf(id);
  if (r === undefined) {
    durable.delete(id);
    return;
  }
  if (r.entries[id - r.first] === undefined) return;
  r.entries[id - r.first] = undefined;
  if (--r.live === 0) ranges.splice(ranges.indexOf(r), 1);
}

function isNarrow(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function strSize(s: string, wide: boolean): number {
  const n = wide ? s.length * 2 : s.length;
  return varintSize(n) + n;
}

function putStr(bytes: Uint8Array, at: number, s: string, wide: boolean): number {
  let n = wide ? s.length * 2 : s.length;
  while (n >= 0x80) {
    bytes[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  bytes[at++] = n;
  if (wide) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      bytes[at++] = c & 0xff;
      bytes[at++] = c >>> 8;
    }
  } else {
    for (let i = 0; i < s.length; i++) bytes[at++] = s.charCodeAt(i);
  }
  return at;
}

// The record being appended, for `fillRecord`: set just before `DiskLog.append`
// calls it (synchronously), so the hot path makes no closure per record.
let recordType = 0, recordWide = false, recordA = "", recordB: string | undefined, recordC: string | undefined;

function fillRecord(bytes: Uint8Array, at: number): void {
  const wide = recordWide;
  bytes[at++] = wide ? recordType | WIDE : recordType;
  at = putStr(bytes, at, recordA, wide);
  if (recordB !== undefined) at = putStr(bytes, at, recordB, wide);
  if (recordC !== undefined) putStr(bytes, at, recordC, wide);
}

/** Appends one record of `type` with up to three strings; returns its end position. */
function appendRecord(log: DiskLog.Log, type: number, a: string, b?: string, c?: string): number {
  const wide = !(isNarrow(a) && (b === undefined || isNarrow(b)) && (c === undefined || isNarrow(c)));
  const size = 1 + strSize(a, wide) + (b === undefined ? 0 : strSize(b, wide)) +
    (c === undefined ? 0 : strSize(c, wide));
  recordType = type;
  recordWide = wide;
  recordA = a;
  recordB = b;
  recordC = c;
  const end = DiskLog.append(log, size, fillRecord);
  // Keep no strings alive past the call (a throw before the fill leaves them until the next record).
  recordA = "";
  recordB = recordC = undefined;
  return end;
}

/** @ignore Logs a bucket's creation. */
export function _logCreate(log: DiskLog.Log, bucket: string): number {
  return appendRecord(log, CREATE, bucket);
}

/** @ignore Logs a bucket's removal. */
export function _logDrop(log: DiskLog.Log, bucket: string): number {
  return appendRecord(log, DROP, bucket);
}

/** @ignore Logs a put by the bucket `d`. */
export function _logPut(d: DurableBucket, key: string, value: string): number {
  return appendRecord(d.log, PUT, d.name, key, value);
}

/** @ignore Logs a delete by the bucket `d`. */
export function _logDelete(d: DurableBucket, key: string): number {
  return appendRecord(d.log, DELETE, d.name, key);
}

/**
 * A record's payload bytes (what the log frames).
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * const bytes = KVLog.encode({ type: "put", bucket: "b", key: "k".repeat(16), value: "v".repeat(16) });
 * console.assert(bytes.length === 37);
 * ```
 */
export function encode(record: LogRecord): Uint8Array {
  const a = record.bucket;
  const b = record.type === "put" || record.type === "delete" ? record.key : undefined;
  const c = record.type === "put" ? record.value : undefined;
  const wide = !(isNarrow(a) && (b === undefined || isNarrow(b)) && (c === undefined || isNarrow(c)));
  const size = 1 + strSize(a, wide) + (b === undefined ? 0 : strSize(b, wide)) +
    (c === undefined ? 0 : strSize(c, wide));
  const bytes = new Uint8Array(size);
  const type = { create: CREATE, put: PUT, delete: DELETE, drop: DROP }[record.type];
  bytes[0] = wide ? type | WIDE : type;
  let at = putStr(bytes, 1, a, wide);
  if (b !== undefined) at = putStr(bytes, at, b, wide);
  if (c !== undefined) putStr(bytes, at, c, wide);
  return bytes;
}

/** A payload that is not a KV record. */
export class BadRecord extends Error {
  /**
   * Makes an error.
   *
   * @param message What is wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "BadRecord";
  }
}

let viewOf: ArrayBufferLike | undefined;
let view: Buffer | undefined;
/** The array `_latin1` last read, and where it starts in `view`. */
let lastArray: Uint8Array | undefined;
let lastOffset = 0;

/** @ignore `bytes[start..end]` as a binary string (one char per byte). */
export function _latin1(bytes: Uint8Array, start: number, end: number): string {
  // A replay reads a chunk's strings off one array, the compactor off views into one buffer:
  // one Buffer view per buffer, not per string, and `.buffer` (a getter) read once per array.
  if (bytes !== lastArray || view === undefined) {
    if (bytes.buffer !== viewOf || view === undefined) {
      viewOf = bytes.buffer;
      view = Buffer.from(bytes.buffer);
    }
    lastArray = bytes;
    lastOffset = bytes.byteOffset;
  }
  return view.toString("latin1", lastOffset + start, lastOffset + end);
}

/** @ignore Reads strings off a payload. */
export class _Reader {
  /** Where the next string starts. */
  at = 1;
  /**
   * Reads `bytes` from after its type byte.
   *
   * @param bytes The payload.
   * @param wide Its strings are UTF-16LE.
   */
  constructor(readonly bytes: Uint8Array, readonly wide: boolean) {}
  /** The next string. */
  str(): string {
    const bytes = this.bytes;
    let n = 0, shift = 1, b: number;
    do {
      if (this.at >= bytes.length) throw new BadRecord("record ends inside a length");
      b = bytes[this.at++];
      n += (b & 0x7f) * shift;
      shift *= 128;
    } while (b & 0x80);
    const end = this.at + n;
    if (end > bytes.length) throw new BadRecord("record ends inside a string");
    let s: string;
    if (this.wide) {
      if (n % 2 !== 0) throw new BadRecord("odd UTF-16 length");
      s = "";
      for (let i = this.at; i < end; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
    } else {
      // One flat string, made natively (a char-by-char concatenation makes a rope, slow to hash as a Map key).
      s = _latin1(bytes, this.at, end);
    }
    this.at = end;
    return s;
  }
}

/**
 * A payload as a {@linkcode LogRecord}; throws {@linkcode BadRecord} if it is
 * not one.
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * const r = KVLog.decode(KVLog.encode({ type: "drop", bucket: "" }));
 * console.assert(r.type === "drop" && r.bucket === "");
 * ```
 */
export function decode(payload: Uint8Array): LogRecord {
  const t = payload[0] & ~WIDE;
  const r = new _Reader(payload, (payload[0] & WIDE) !== 0);
  let record: LogRecord;
  switch (t) {
    case CREATE:
    case DROP:
      record = { type: TYPES[t] as "create" | "drop", bucket: r.str() };
      break;
    case PUT:
      record = { type: "put", bucket: r.str(), key: r.str(), value: r.str() };
      break;
    case DELETE:
      record = { type: "delete", bucket: r.str(), key: r.str() };
      break;
    default:
      throw new BadRecord(`unknown record type ${payload[0]}`);
  }
  if (r.at !== payload.length) throw new BadRecord("bytes after the record");
  return record;
}

/**
 * The log's child spec in the KV tree (named `name`).
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * console.assert(KVLog.childSpec("KV.Log", { dir: "/tmp/x" }).id === "DiskLog.KV.Log");
 * ```
 */
export function childSpec(name: string, opts: KVLogOptions): Supervisor.ChildSpec {
  // A full disk under "always" is not something a restart fixes: the log
  // refuses to start again, so the tree gives up and the server stops.
  let fatal: string | undefined;
  const spec = DiskLog.childSpec({
    onFailure: (reason) => {
      if ((opts.sync ?? "everysec") === "always" && Array.isArray(reason) && reason[1] === "full") {
        fatal = `${opts.dir}: disk full under appendfsync always`;
      }
    },
    name,
    dir: opts.dir,
    sync: opts.sync ?? "everysec",
    fsync: opts.fsync ??
      (typeof (opts.fs ?? DiskLog.nodeFileSystem).fdatasyncSync === "function" ? "inline" : "thread"),
    repair: opts.repair ?? true,
    fs: opts.fs,
    ...(opts.compactor === undefined ? {} : { compactor: opts.compactor }),
    ...(opts.compactAt === undefined ? {} : { compactAt: opts.compactAt }),
    onRepaired: opts.onRepaired ?? ((r) =>
      console.error(
        `kv: ${r.file}: log cut at offset ${r.offset} (torn or damaged record): ${r.recovered} records recovered, ${r.badBytes} bytes dropped`,
      )),
  });
  const start = spec.start;
  return {
    ...spec,
    start: () => {
      if (fatal !== undefined) return Promise.reject(new Error(`${fatal}: not restarting the log`));
      return start();
    },
  };
}
