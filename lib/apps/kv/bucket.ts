/**
 * `KV.Bucket`: an {@linkcode Agent} holding the key → value pairs of one
 * bucket (Elixir's `KV.Bucket`).
 *
 * **Keys and values are user input**, JS strings (the TCP server passes
 * "binary strings", one char per byte, so nothing here assumes UTF-8). They
 * live in a `Map`, never as object properties: `"__proto__"`, `"constructor"`
 * or `"hasOwnProperty"` are ordinary keys, and a deleted key leaves nothing
 * behind.
 *
 * **Small buckets stay small.** The agent's state starts as `null` (no key),
 * holds a single pair in a two-field {@linkcode Single}, and only becomes a
 * `Map` at the second key (and a `Single` again when a delete leaves one
 * key). A `Map` with one entry costs about 180 bytes on V8 and 250 on
 * JavaScriptCore, a `Single` about 30: a million one-key buckets save some
 * 200 MB. The representation never leaks: the API speaks keys and values
 * only.
 *
 * **Temporary.** A bucket is started under `KV.BucketSupervisor` as a
 * `temporary` child: if it dies it is not restarted (a restarted, empty
 * bucket under the old name would silently lose its data; the registry
 * instead forgets the name, and the next `create` makes a fresh bucket).
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const b = await Bucket.startLink();
 * await Bucket.put(b, "milk", "3");
 * console.assert(await Bucket.get(b, "milk") === "3");
 * console.assert(await Bucket.del(b, "milk") === "3");
 * console.assert(await Bucket.get(b, "milk") === undefined);
 * ```
 *
 * @module
 */
import { Agent, DiskLog, type Pid, Process, type Supervisor } from "../../../mod.ts";
import * as KVLog from "./kv_log.ts";

/** One key and its value: a bucket's state while it holds exactly one key. */
export class Single {
  /** @ignore */
  constructor(readonly key: string, readonly value: string) {}
}

/** A bucket's state: no key, one key, or a `Map` of two keys or more. */
export type State = null | Single | Map<string, string>;

/** The child id buckets get under their supervisor. */
export const ID = "KV.Bucket";

/** Options of {@linkcode startLink}. */
export interface BucketOptions {
  /** Register the bucket under this name (buckets made by the registry have none). */
  name?: string;
}

const empty = (): State => null;

/**
 * Starts an empty bucket linked to the caller (when the caller is a process).
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const b = await Bucket.startLink({ name: "doc_bucket" });
 * await Bucket.put("doc_bucket", "k", "v");
 * console.assert(await Bucket.get(b, "k") === "v");
 * ```
 */
export function startLink(opts?: BucketOptions): Promise<Pid> {
  return Agent.startLink(empty, opts?.name === undefined ? undefined : { name: opts.name });
}

function read(s: State, key: string): string | undefined {
  if (s === null) return undefined;
  if (s instanceof Single) return s.key === key ? s.value : undefined;
  return s.get(key);
}

function write(s: State, key: string, value: string): State {
  if (s === null) return new Single(key, value);
  if (s instanceof Single) {
    if (s.key === key) return new Single(key, value);
    return new Map([[s.key, s.value], [key, value]]);
  }
  s.set(key, value);
  return s;
}

function remove(s: State, key: string): [string | undefined, State] {
  if (s === null) return [undefined, null];
  if (s instanceof Single) return s.key === key ? [s.value, null] : [undefined, s];
  const old = s.get(key);
  if (old === undefined) return [undefined, s];
  s.delete(key);
  if (s.size === 1) {
    const [[k, v]] = s;
    return [old, new Single(k, v)];
  }
  return [old, s];
}

/**
 * The value stored under `key`, or `undefined`. Rejects with
 * `GenServer.CallError` (`noproc`) if the bucket is gone.
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const b = await Bucket.startLink();
 * console.assert(await Bucket.get(b, "__proto__") === undefined);
 * ```
 */
export function get(bucket: Pid | string, key: string): Promise<string | undefined> {
  return Agent.get(bucket, (s: State) => read(s, key));
}

/**
 * Stores `value` under `key` (replacing any previous value); resolves once
 * stored (and, in a durable tree, once its record is durable: see
 * `kv_log.ts`).
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const b = await Bucket.startLink();
 * await Bucket.put(b, "constructor", "1");
 * console.assert(await Bucket.get(b, "constructor") === "1");
 * ```
 */
export function put(bucket: Pid | string, key: string, value: string): Promise<void> {
  return Agent.getAndUpdate(bucket, (s: State): [Durable, State] => {
    const d = KVLog.durableOf(Process.self());
    if (d === undefined) return [undefined, write(s, key, value)];
    // Refused, not crashed: a full disk must not kill the bucket.
    if (!DiskLog.isWritable(d.log)) return [d.log, s];
    return [[d.log, KVLog._logPut(d, key, value)], write(s, key, value)];
  }).then((d) => whenDurable<void>(d));
}

/**
 * A durable bucket's change: its log and the record's end; `undefined` when
 * not durable; the log alone when it refused the change (full or failed).
 */
type Durable = readonly [DiskLog.Log, number] | DiskLog.Log | undefined;

function whenDurable<T>(d: Durable, value?: T): Promise<T> | T {
  if (d === undefined) return value as T;
  if (d instanceof DiskLog.Log) {
    throw new DiskLog.DiskLogError(
      d.full ? "full" : "failed",
      `disk log ${d.name} refused the change (disk full or failed)`,
    );
  }
  return new Promise((resolve, reject) =>
    DiskLog.onDurable(d[0], d[1], (e) => e === undefined ? resolve(value as T) : reject(e))
  );
}

/**
 * Deletes `key`; resolves to the value it had (`undefined` if none).
 * Exported as `delete` too.
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const b = await Bucket.startLink();
 * await Bucket.put(b, "eggs", "12");
 * console.assert(await Bucket.delete(b, "eggs") === "12");
 * console.assert(await Bucket.delete(b, "eggs") === undefined);
 * ```
 */
export function del(bucket: Pid | string, key: string): Promise<string | undefined> {
  return Agent.getAndUpdate(bucket, (s: State): [[Durable, string | undefined], State] => {
    const [old, next] = remove(s, key);
    const d = old === undefined ? undefined : KVLog.durableOf(Process.self());
    if (d === undefined) return [[undefined, old], next];
    if (!DiskLog.isWritable(d.log)) return [[d.log, old], s];
    return [[[d.log, KVLog._logDelete(d, key)], old], next];
  }).then(([d, old]) => whenDurable(d, old));
}
export { del as delete };

/**
 * How many keys the bucket holds (waiting at most `timeout` ms, default 5000).
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const b = await Bucket.startLink();
 * await Bucket.put(b, "a", "1");
 * await Bucket.put(b, "b", "2");
 * console.assert(await Bucket.size(b) === 2);
 * ```
 */
export function size(bucket: Pid | string, timeout = 5000): Promise<number> {
  return Agent.get(bucket, (s: State) => s === null ? 0 : s instanceof Single ? 1 : s.size, timeout);
}

/**
 * The child spec of a bucket: `temporary` (never restarted), so its
 * supervisor forgets it when it exits.
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * const spec = Bucket.childSpec();
 * console.assert(spec.restart === "temporary" && spec.id === "KV.Bucket");
 * ```
 */
export function childSpec(opts?: BucketOptions): Supervisor.ChildSpec {
  return { id: ID, start: () => startLink(opts), restart: "temporary" };
}

/**
 * Labels a bucket `["bucket", name]` (`Process.setLabel`, run by the bucket
 * itself: a cast, so it costs the caller no wait). The registry labels every
 * bucket it creates, so the Observer and supervisor reports show
 * `bucket "shopping"` instead of an anonymous Agent.
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * import { Process } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 * const bucket = await Bucket.startLink();
 * Bucket.setLabel(bucket, "shopping");
 * await Bucket.size(bucket); // the cast came first
 * assert.deepEqual(Process.getLabel(bucket), ["bucket", "shopping"]);
 * Process.exit(bucket, "kill");
 * ```
 *
 * @param bucket The bucket.
 * @param name Its name.
 */
export function setLabel(bucket: Pid | string, name: string): void {
  Agent.cast(bucket, (s: State) => {
    Process.setLabel(["bucket", name]);
    return s;
  });
}
