/**
 * Replay of the KV log (`kv_log.ts`): folds its records into every bucket's
 * state, in the bucket's own representation (`Bucket.State`), so that the
 * registry can start every bucket with its state at once.
 *
 * @module
 */
import { DiskLog } from "../../../mod.ts";
import { Single, type State } from "./bucket.ts";
import { _latin1, _Reader, _TYPES, BadRecord } from "./kv_log.ts";

const { CREATE, PUT, DELETE, DROP, WIDE } = _TYPES;

/** A bucket's state with `key` set (see `Bucket.State`). */
export function statePut(s: State, key: string, value: string): State {
  if (s === null) return new Single(key, value);
  if (s instanceof Single) {
    if (s.key === key) return new Single(key, value);
    return new Map([[s.key, s.value], [key, value]]);
  }
  s.set(key, value);
  return s;
}

/** A bucket's state without `key`. */
export function stateDelete(s: State, key: string): State {
  if (s === null) return null;
  if (s instanceof Single) return s.key === key ? null : s;
  if (s.delete(key) && s.size === 1) {
    const [[k, v]] = s;
    return new Single(k, v);
  }
  return s;
}

/** The buckets a replay found: `names[i]` holds `states[i]`. */
export interface Buckets {
  /** Their names, each once. */
  readonly names: string[];
  /** Their states. */
  readonly states: State[];
}

/**
 * Reads the whole log and folds it into every bucket's state: the buckets
 * that exist after the last record, by name.
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * import { replay } from "./replay.ts";
 * import { DiskLog } from "../../../mod.ts";
 * const [, log] = await DiskLog.open({ name: "doc_kv_replay", dir: "/d", fs: new DiskLog.MemoryFileSystem() });
 * for (const r of [
 *   { type: "create", bucket: "a" }, { type: "put", bucket: "a", key: "k", value: "v" },
 *   { type: "create", bucket: "gone" }, { type: "drop", bucket: "gone" },
 * ] as const) DiskLog.alog(log, KVLog.encode(r));
 * const buckets = await replay(log);
 * console.assert(buckets.size === 1 && buckets.has("a"));
 * await DiskLog.close(log);
 * ```
 */
export async function replay(log: DiskLog.LogRef): Promise<Map<string, State>> {
  const { names, states } = await replayBuckets(log);
  const out = new Map<string, State>();
  for (let i = 0; i < names.length; i++) out.set(names[i], states[i]);
  return out;
}

/**
 * {@linkcode replay} as two parallel arrays, for starting every bucket at
 * once (`Agent.startChildren`) without a map in between.
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * import { replayBuckets } from "./replay.ts";
 * import { DiskLog } from "../../../mod.ts";
 * const [, log] = await DiskLog.open({ name: "doc_kv_replay_buckets", dir: "/d", fs: new DiskLog.MemoryFileSystem() });
 * DiskLog.alog(log, KVLog.encode({ type: "create", bucket: "a" }));
 * const { names, states } = await replayBuckets(log);
 * console.assert(names[0] === "a" && states[0] === null);
 * await DiskLog.close(log);
 * ```
 */
export async function replayBuckets(log: DiskLog.LogRef): Promise<Buckets> {
  const fold = new Fold();
  for (let c = await DiskLog.chunkRanges(log); c !== "eof"; c = await DiskLog.chunkRanges(log, c[0])) {
    const { bytes, ranges } = c[1];
    for (let i = 0; i < ranges.length; i += 2) fold.apply(bytes, ranges[i], ranges[i + 1]);
  }
  return fold.result();
}

/**
 * Folds payloads (a log's records, oldest first) into the buckets that exist
 * after them: what the compactor does, with {@linkcode replayBuckets}'s fold.
 *
 * @example
 * ```ts
 * import * as KVLog from "./kv_log.ts";
 * import { foldPayloads } from "./replay.ts";
 * const { names } = foldPayloads([KVLog.encode({ type: "create", bucket: "a" }), KVLog.encode({ type: "drop", bucket: "a" })]);
 * console.assert(names.length === 0);
 * ```
 */
export function foldPayloads(payloads: Iterable<Uint8Array>): Buckets {
  const fold = new Fold();
  for (const p of payloads) fold.apply(p, 0, p.length);
  return fold.result();
}

/** A dropped bucket's state in the fold (its name stays in the table, for a later re-creation). */
const DROPPED = Symbol("dropped");

/** FNV-1a of one char code, continuing `h`. */
function fnv(h: number, c: number): number {
  return Math.imul(h ^ c, 0x01000193);
}
const FNV_BASIS = 0x811c9dc5 | 0;

/** Whether the narrow name `bytes[at..at+n)` is `name`. */
function sameName(name: string, bytes: Uint8Array, at: number, n: number): boolean {
  if (name.length !== n) return false;
  for (let j = 0; j < n; j++) if (name.charCodeAt(j) !== bytes[at + j]) return false;
  return true;
}

/**
 * Folds records parsed in place (no object per record) into bucket states,
 * with the same outcome as {@linkcode applyRecord} record by record.
 *
 * Buckets are found through an open-addressing table of int32s hashed from
 * the name's bytes, not a `Map` of strings: a new name costs one probe into
 * a typed array and one string, where a `Map` lookup that misses reads
 * several strings of a million scattered over the heap (it was most of the
 * replay of a million buckets). And a log's records come in runs per bucket
 * (a compacted base is a `CREATE` then its `PUT`s): a record naming the
 * bucket of the one before costs a byte comparison, no lookup.
 */
class Fold {
  readonly names: string[] = [];
  readonly states: (State | typeof DROPPED)[] = [];
  /** The hash of `names[i]`. */
  hashes = new Int32Array(1024);
  /** Open addressing: `index + 1` of a name, 0 for a free slot. */
  slots = new Int32Array(2048);
  dropped = 0;
  /** The bucket of the last narrow record, or -1. */
  last = -1;

  /** The buckets that exist at the end. */
  result(): Buckets {
    const names = this.names, states = this.states;
    if (this.dropped === 0) return { names, states: states as State[] };
    const liveNames: string[] = [], liveStates: State[] = [];
    for (let i = 0; i < names.length; i++) {
      const s = states[i];
      if (s !== DROPPED) {
        liveNames.push(names[i]);
        liveStates.push(s);
      }
    }
    return { names: liveNames, states: liveStates };
  }

  /** The index of the name `bytes[at..at+n)` (narrow), adding it if `add`; -1 if absent and not added. */
  private findBytes(bytes: Uint8Array, at: number, n: number, add: boolean): number {
    let h = FNV_BASIS;
    for (let i = 0; i < n; i++) h = fnv(h, bytes[at + i]);
    const mask = this.slots.length - 1;
    for (let slot = h & mask;; slot = (slot + 1) & mask) {
      const s = this.slots[slot];
      if (s === 0) return add ? this.add(_latin1(bytes, at, at + n), h, slot) : -1;
      const i = s - 1;
      if (this.hashes[i] !== h) continue;
      if (sameName(this.names[i], bytes, at, n)) return i;
    }
  }

  /** The index of `name`, adding it if `add`; -1 if absent and not added. */
  private findString(name: string, add: boolean): number {
    let h = FNV_BASIS;
    for (let i = 0; i < name.length; i++) h = fnv(h, name.charCodeAt(i));
    const mask = this.slots.length - 1;
    for (let slot = h & mask;; slot = (slot + 1) & mask) {
      const s = this.slots[slot];
      if (s === 0) return add ? this.add(name, h, slot) : -1;
      if (this.hashes[s - 1] === h && this.names[s - 1] === name) return s - 1;
    }
  }

  private add(name: string, h: number, slot: number): number {
    const i = this.names.length;
    this.names.push(name);
    this.states.push(DROPPED);
    this.dropped++;
    if (i === this.hashes.length) {
      const hashes = new Int32Array(i * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.hashes[i] = h;
    this.slots[slot] = i + 1;
    // At most half full: short probes.
    if (2 * (i + 1) > this.slots.length) this.grow();
    return i;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let i = 0; i < this.names.length; i++) {
      let slot = this.hashes[i] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = i + 1;
    }
    this.slots = slots;
  }

  /** Applies a record to the bucket at `i` (of the table): the bucket's state after it. */
  private change(i: number, type: number, key: string | undefined, value: string | undefined): void {
    const s = this.states[i];
    switch (type) {
      case CREATE:
        if (s === DROPPED) {
          this.states[i] = null;
          this.dropped--;
        }
        return;
      case PUT:
        if (s === DROPPED) this.dropped--;
        this.states[i] = statePut(s === DROPPED ? null : s, key!, value!);
        return;
      case DELETE:
        if (s !== DROPPED) this.states[i] = stateDelete(s, key!);
        return;
      case DROP:
        if (s !== DROPPED) {
          this.states[i] = DROPPED;
          this.dropped++;
        }
        return;
    }
  }

  /** Applies the record `bytes[start..end)`. */
  apply(bytes: Uint8Array, start: number, end: number): void {
    const type = bytes[start];
    if ((type & WIDE) !== 0) return this.applyWide(bytes.subarray(start, end));
    if (type < CREATE || type > DROP) throw new BadRecord(`unknown record type ${type}`);
    let at = start + 1, n = 0, shift = 1, b: number;
    do {
      if (at >= end) throw new BadRecord("record ends inside a string");
      b = bytes[at++];
      n += (b & 0x7f) * shift;
      shift *= 128;
    } while (b & 0x80);
    const nameEnd = at + n;
    if (nameEnd > end) throw new BadRecord("record ends inside a string");
    let key: string | undefined, value: string | undefined;
    if (type === PUT || type === DELETE) {
      key = narrowStr(bytes, nameEnd, end);
      if (key === undefined) throw new BadRecord("record ends inside a string");
      if (type === PUT) {
        value = narrowStr(bytes, next, end);
        if (value === undefined) throw new BadRecord("record ends inside a string");
      }
    }
    // The bucket of the record before? Then no lookup.
    let i = this.last;
    if (i >= 0 && !sameName(this.names[i], bytes, at, n)) i = -1;
    if (i < 0) {
      // A DELETE or DROP of a bucket never seen changes nothing: no need to remember its name.
      i = this.findBytes(bytes, at, n, type === CREATE || type === PUT);
      if (i < 0) return;
      this.last = i;
    }
    this.change(i, type, key, value);
  }

  private applyWide(payload: Uint8Array): void {
    const type = payload[0] & ~WIDE;
    if (type < CREATE || type > DROP) throw new BadRecord(`unknown record type ${payload[0]}`);
    const r = new _Reader(payload, true);
    const name = r.str();
    const key = type === PUT || type === DELETE ? r.str() : undefined;
    const value = type === PUT ? r.str() : undefined;
    const i = this.findString(name, type === CREATE || type === PUT);
    if (i >= 0) this.change(i, type, key, value);
  }
}

/** Where the string after the one `narrowStr` read starts. */
let next = 0;

/**
 * The narrow string at `at` of `bytes[..limit)` (one char per byte); sets
 * `next`. Undefined when it runs past `limit`.
 */
function narrowStr(bytes: Uint8Array, at: number, limit: number = bytes.length): string | undefined {
  let n = 0, shift = 1, b: number;
  do {
    if (at >= limit) return undefined;
    b = bytes[at++];
    n += (b & 0x7f) * shift;
    shift *= 128;
  } while (b & 0x80);
  const end = at + n;
  if (end > limit) return undefined;
  next = end;
  return _latin1(bytes, at, end);
}

/**
 * Applies one payload to the states: a direct parse for the narrow records
 * (the server's), no reader or record object per record.
 */
export function applyRecord(buckets: Map<string, State>, payload: Uint8Array): void {
  const type = payload[0];
  if ((type & WIDE) !== 0) return applyWide(buckets, payload);
  const bucket = narrowStr(payload, 1);
  if (bucket === undefined) throw new BadRecord("record ends inside a string");
  switch (type) {
    case CREATE:
      if (!buckets.has(bucket)) buckets.set(bucket, null);
      return;
    case PUT: {
      const key = narrowStr(payload, next);
      const value = key === undefined ? undefined : narrowStr(payload, next);
      if (value === undefined) throw new BadRecord("record ends inside a string");
      const s = buckets.get(bucket) ?? null;
      const after = statePut(s, key!, value);
      // A Map state changes in place: no second hash lookup.
      if (after !== s) buckets.set(bucket, after);
      return;
    }
    case DELETE: {
      const key = narrowStr(payload, next);
      if (key === undefined) throw new BadRecord("record ends inside a string");
      const s = buckets.get(bucket);
      if (s !== undefined) {
        const after = stateDelete(s, key);
        if (after !== s) buckets.set(bucket, after);
      }
      return;
    }
    case DROP:
      buckets.delete(bucket);
      return;
    default:
      throw new BadRecord(`unknown record type ${type}`);
  }
}

function applyWide(buckets: Map<string, State>, payload: Uint8Array): void {
  const t = payload[0] & ~WIDE;
  const r = new _Reader(payload, true);
  const bucket = r.str();
  switch (t) {
    case CREATE:
      if (!buckets.has(bucket)) buckets.set(bucket, null);
      break;
    case PUT: {
      const key = r.str();
      buckets.set(bucket, statePut(buckets.get(bucket) ?? null, key, r.str()));
      break;
    }
    case DELETE: {
      const s = buckets.get(bucket);
      if (s !== undefined) buckets.set(bucket, stateDelete(s, r.str()));
      break;
    }
    case DROP:
      buckets.delete(bucket);
      break;
    default:
      throw new BadRecord(`unknown record type ${payload[0]}`);
  }
}
