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
  const fold = new Fold();
  for (let c = await DiskLog.chunkRanges(log); c !== "eof"; c = await DiskLog.chunkRanges(log, c[0])) {
    const { bytes, ranges } = c[1];
    for (let i = 0; i < ranges.length; i += 2) fold.apply(bytes, ranges[i], ranges[i + 1]);
  }
  fold.flush();
  return fold.buckets;
}

/**
 * Folds records parsed in place (no object per record) into bucket states.
 * The bucket of the last record is kept aside, its state written back to
 * `buckets` only when a record names another bucket: a log's records come in
 * runs per bucket (a compacted base is one `CREATE` and then its `PUT`s), so
 * a run costs one lookup and one store, and its name one string, whatever
 * its length. Same outcome as {@linkcode applyRecord}, record by record.
 */
class Fold {
  readonly buckets = new Map<string, State>();
  /** The bucket of the last record (it exists), or undefined. */
  name: string | undefined = undefined;
  /** Its state, not yet written back. */
  state: State = null;

  /** Writes the kept bucket's state back. */
  flush(): void {
    if (this.name !== undefined) {
      this.buckets.set(this.name, this.state);
      this.name = undefined;
    }
  }

  /** Keeps `name` aside (writing the previous one back); false if it does not exist and `create` is false. */
  private take(name: string, create: boolean): boolean {
    this.flush();
    const s = this.buckets.get(name);
    if (s === undefined && !create) return false;
    this.name = name;
    this.state = s === undefined ? null : s;
    return true;
  }

  /** Applies the record `bytes[start..end)`. */
  apply(bytes: Uint8Array, start: number, end: number): void {
    const type = bytes[start];
    if ((type & WIDE) !== 0) {
      this.flush();
      return applyWide(this.buckets, bytes.subarray(start, end));
    }
    // The bucket's name: the kept one's string when the bytes are the same.
    let at = start + 1, n = 0, shift = 1, b: number;
    do {
      if (at >= end) throw new BadRecord("record ends inside a string");
      b = bytes[at++];
      n += (b & 0x7f) * shift;
      shift *= 128;
    } while (b & 0x80);
    const nameEnd = at + n;
    if (nameEnd > end) throw new BadRecord("record ends inside a string");
    const kept = this.name;
    let same = kept !== undefined && kept.length === n;
    for (let i = 0; same && i < n; i++) if (kept!.charCodeAt(i) !== bytes[at + i]) same = false;
    const name = same ? kept! : _latin1(bytes, at, nameEnd);
    switch (type) {
      case CREATE:
        if (!same) this.take(name, true);
        return;
      case PUT: {
        const key = narrowStr(bytes, nameEnd, end);
        const value = key === undefined ? undefined : narrowStr(bytes, next, end);
        if (value === undefined) throw new BadRecord("record ends inside a string");
        if (!same) this.take(name, true);
        this.state = statePut(this.state, key!, value);
        return;
      }
      case DELETE: {
        const key = narrowStr(bytes, nameEnd, end);
        if (key === undefined) throw new BadRecord("record ends inside a string");
        if (!same && !this.take(name, false)) return;
        this.state = stateDelete(this.state, key);
        return;
      }
      case DROP:
        if (same) this.name = undefined; // dropped: nothing to write back
        this.buckets.delete(name);
        return;
      default:
        throw new BadRecord(`unknown record type ${type}`);
    }
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
