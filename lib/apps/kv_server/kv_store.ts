/**
 * {@linkcode RegistryStore}: the {@linkcode KvStore} the server runs the
 * protocol against, over the `"kv"` application: `CREATE` asks the registry
 * (`KV.Registry.create`), a bucket is found by a direct read of the
 * registry's name table (no message), and `GET`/`PUT`/`DELETE` are calls to
 * the bucket's process.
 *
 * Operations on one bucket are messages to one process, so they take effect
 * in the order the server issues them, as pipelining requires.
 *
 * The server hands it each read's requests at once
 * ({@linkcode RegistryStore.executeMany}): the requests on one bucket then
 * travel in **one** message, so a pipelining client costs one call per
 * bucket per read, not one per request. Called from plain code (a socket
 * callback), it lets the buckets run before it returns (`runAfter`), so the
 * replies usually come back at once and go out in that callback's write.
 *
 * @example
 * ```ts
 * import { RegistryStore } from "./kv_store.ts";
 * import * as KVSupervisor from "../kv/kv_supervisor.ts";
 * import { Supervisor } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const sup = await KVSupervisor.startLink({ prefix: "doc_store." });
 * const store = new RegistryStore("doc_store.KV.Registry", "doc_store.KV.Registry");
 * await store.create("shopping");
 * const bucket = store.lookup("shopping")!;
 * await store.put(bucket, "milk", "1");
 * assert.equal(await store.get(bucket, "milk"), "1");
 * await store.delete(bucket, "milk");
 * assert.equal(await store.get(bucket, "milk"), undefined);
 * assert.equal(store.lookup("nothing"), undefined);
 * await Supervisor.stop(sup);
 * ```
 *
 * @module
 */

import { DiskLog, Ets, Pid, Process } from "../../../mod.ts";
import { Bucket, KVSupervisor, Registry } from "../kv/mod.ts";
import { type Command, ERROR, type KvStore, NOT_FOUND, OK, type Reply, UNKNOWN_COMMAND } from "./command.ts";
import { BucketBatch, OneBucketRun } from "./_bucket_ops.ts";

type Table = Ets.Table;
type Log = DiskLog.Log;
const { whereis } = Ets;
const { runAfter } = Process;
const { names } = KVSupervisor;
const { onDurable, whereis: logWhereis } = DiskLog;

/** The registry's name, and its name table's, in the `"kv"` application. */
export const REGISTRY: string = names().registry;

/** A {@linkcode KvStore} over `KV.Registry` and `KV.Bucket` processes. */
export class RegistryStore implements KvStore<Pid> {
  readonly #registry: Pid | string;
  readonly #table: string | Table;
  /** The name table, once found by name. */
  #resolved: Table | undefined;
  /** The durable tree's log name, if any. */
  readonly #logName: string | undefined;
  /** The log, once found by name. */
  #log: Log | undefined;

  /**
   * Makes a store over a running registry.
   *
   * @param registry The registry process (pid or name). Defaults to {@linkcode REGISTRY}.
   * @param table Its name table (name or table). Defaults to {@linkcode REGISTRY}.
   *   Until it exists (the tree is not running), `lookup` throws, which the
   *   server answers with `ERROR`.
   */
  constructor(registry: Pid | string = REGISTRY, table: string | Table = names().table, log?: string) {
    this.#registry = registry;
    this.#table = table;
    this.#logName = log;
  }

  /** The tree's log while it is open (a durable tree), else `undefined`. */
  #currentLog(): Log | undefined {
    const log = this.#log;
    if (log !== undefined && log.failed === undefined && !log.closed) return log;
    if (this.#logName === undefined) return undefined;
    return this.#log = logWhereis(this.#logName);
  }

  /** Creates the bucket through the registry (a call); an existing one is kept. */
  create(bucket: string): Promise<Pid> {
    return Registry.create(this.#registry, bucket);
  }

  /**
   * The bucket's process, read from the name table, or `undefined`. Throws
   * `Ets.EtsError` (`no_table`) while the table does not exist.
   */
  lookup(bucket: string): Pid | undefined {
    const table = this.#resolved;
    if (table !== undefined) {
      try {
        // A table id skips the name lookup and the access check.
        return Registry.lookup(table, bucket);
      } catch {
        // Deleted (its tree restarted): find the new one by name.
        this.#resolved = undefined;
      }
    }
    const found = typeof this.#table === "string" ? whereis(this.#table) : this.#table;
    if (found === undefined) return Registry.lookup(this.#table, bucket);
    this.#resolved = found;
    return Registry.lookup(found, bucket);
  }

  /** The value under `key`, or `undefined`. */
  get(bucket: Pid, key: string): Promise<string | undefined> {
    return Bucket.get(bucket, key);
  }

  /** Stores `value` under `key`. */
  put(bucket: Pid, key: string, value: string): Promise<void> {
    return Bucket.put(bucket, key, value);
  }

  /** Removes `key`. */
  delete(bucket: Pid, key: string): Promise<string | undefined> {
    return Bucket.del(bucket, key);
  }

  /**
   * Runs `commands` in order: one call per bucket for the requests between
   * two `CREATE`s, and the requests after a `CREATE` once it is done.
   * Never throws nor rejects: a failure answers `ERROR`.
   *
   * @param commands The commands, in request order.
   * @param done Gets the replies, in order, when they were not returned.
   * @param onError Told about each failure.
   * @returns The replies when no process had to be asked, else `undefined`.
   */
  executeMany(
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError?: (error: unknown) => void,
  ): Reply[] | undefined {
    const log = this.#currentLog();
    if (log === undefined) return this.#executeMany(commands, done, onError);
    // Durable: no reply leaves before every record it could have observed is
    // durable (written; synced under "always"). While the disk is full, the
    // changes answer ERROR and reads go on without waiting.
    const gate = ReplyGate.take(log, done);
    const replies = this.#executeMany(commands, gate.late, onError);
    if (replies === undefined) return undefined; // the gate gets them
    if (log.durable >= log.appended || log.full) {
      gate.release();
      return replies;
    }
    gate.hold(replies);
    return undefined;
  }

  #executeMany(
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError?: (error: unknown) => void,
  ): Reply[] | undefined {
    const name = oneBucket(commands);
    if (name === undefined) return new BatchRun(this, commands, done, onError).start();
    // The usual read: every request on one bucket, so one lookup and one call.
    const bucket = findBucket(this, name, onError);
    if (!(bucket instanceof Pid)) return new Array<Reply>(commands.length).fill(bucket);
    return OneBucketRun.run(bucket, commands, done, onError);
  }
}

/** Gates not in use, for reuse: the durable hot path then allocates no closure per read. */
const gates: ReplyGate[] = [];
const GATE_POOL_LIMIT = 1024;
const NO_REPLIES: Reply[] = [];

/**
 * Holds one batch's replies until the log is durable up to what was
 * appended when they were made (every record they could have observed);
 * `ERROR` for all of them if the log fails first.
 */
class ReplyGate {
  #log: Log | undefined;
  #done: ((replies: Reply[]) => void) | undefined;
  #replies: Reply[] = NO_REPLIES;

  static take(log: Log, done: (replies: Reply[]) => void): ReplyGate {
    const gate = gates.pop() ?? new ReplyGate();
    gate.#log = log;
    gate.#done = done;
    return gate;
  }

  /** The store's callback for replies made later. */
  readonly late = (replies: Reply[]): void => {
    const log = this.#log!;
    if (log.durable >= log.appended || log.full) this.#pass(replies);
    else this.hold(replies);
  };

  /** Waits for the log, then passes `replies` on. */
  hold(replies: Reply[]): void {
    const log = this.#log!;
    this.#replies = replies;
    onDurable(log, log.appended, this.#durable);
  }

  readonly #durable = (error?: unknown): void => {
    const replies = this.#replies;
    this.#pass(error === undefined ? replies : replies.fill(ERROR));
  };

  #pass(replies: Reply[]): void {
    const done = this.#done!;
    // Back in the pool first: `done` may start the next batch, which takes a gate.
    this.release();
    done(replies);
  }

  release(): void {
    this.#log = undefined;
    this.#done = undefined;
    this.#replies = NO_REPLIES;
    if (gates.length < GATE_POOL_LIMIT) gates.push(this);
  }
}

/**
 * The bucket every command of `commands` works on, if they are all
 * `GET`/`PUT`/`DELETE` on one bucket (a pipelining client's usual read).
 */
function oneBucket(commands: readonly Command[]): string | undefined {
  const first = commands[0];
  if (first === undefined || first.kind === "create" || first.kind === "unknown") return undefined;
  const name = first.bucket;
  for (let i = 1; i < commands.length; i++) {
    const c = commands[i];
    if (c.kind === "create" || c.kind === "unknown" || c.bucket !== name) return undefined;
  }
  return name;
}

/**
 * The bucket's process, or the reply its requests get without one:
 * `NOT FOUND`, or `ERROR` when the lookup fails (reported to `onError`).
 */
function findBucket(store: RegistryStore, name: string, onError: ((error: unknown) => void) | undefined): Pid | Reply {
  try {
    return store.lookup(name) ?? NOT_FOUND;
  } catch (error) {
    return failed(error, onError);
  }
}

/** One {@linkcode RegistryStore.executeMany}: counts the calls in flight, resolves when none is left. */
class BatchRun {
  readonly #store: RegistryStore;
  readonly #commands: readonly Command[];
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #replies: Reply[];
  readonly #done: (replies: Reply[]) => void;
  /** Calls (and a `CREATE`) not settled yet. */
  #pending = 0;
  /** Still gathering: the run cannot be over yet. */
  #gathering = true;
  /** `start` returned without the replies: `done` will get them. */
  #deferred = false;

  constructor(
    store: RegistryStore,
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError: ((error: unknown) => void) | undefined,
  ) {
    this.#store = store;
    this.#commands = commands;
    this.#done = done;
    this.#onError = onError;
    this.#replies = new Array(commands.length);
  }

  start(): Reply[] | undefined {
    // The buckets run as soon as the requests are sent: when they all
    // answer, the replies are returned at once and go out in the write of
    // this very read.
    runAfter(BatchRun.#gatherAll, this);
    if (this.#pending === 0 && !this.#gathering) return this.#replies;
    this.#deferred = true;
    return undefined;
  }

  /** `#gather(0)` for `runAfter`, made once. */
  static readonly #gatherAll = (run: BatchRun): void => run.#gather(0);

  /** Runs from `from` on, until the end or a `CREATE`, which resumes it once settled. */
  #gather(from: number): void {
    const commands = this.#commands;
    const replies = this.#replies;
    // Most batches touch one bucket: no map for that case.
    let oneBucket: Pid | undefined;
    let one: BucketBatch | undefined;
    let more: Map<Pid, BucketBatch> | undefined;
    for (let i = from; i < commands.length; i++) {
      const command = commands[i];
      if (command.kind === "unknown") {
        replies[i] = UNKNOWN_COMMAND;
        continue;
      }
      if (command.kind === "create") {
        // What came before goes now; later lookups may need this bucket.
        this.#send(oneBucket, one, more);
        this.#pending++;
        this.#store.create(command.bucket).then(
          () => this.#created(i, OK),
          (error) => this.#created(i, failed(error, this.#onError)),
        );
        return;
      }
      const bucket = findBucket(this.#store, command.bucket, this.#onError);
      if (!(bucket instanceof Pid)) {
        replies[i] = bucket;
        continue;
      }
      let batch: BucketBatch | undefined;
      if (oneBucket === undefined || oneBucket === bucket) {
        oneBucket = bucket;
        batch = one ??= new BucketBatch(replies);
      } else {
        more ??= new Map();
        batch = more.get(bucket);
        if (batch === undefined) more.set(bucket, batch = new BucketBatch(replies));
      }
      batch.add(command, i);
    }
    this.#send(oneBucket, one, more);
    this.#gathering = false;
  }

  #created(i: number, reply: Reply): void {
    this.#replies[i] = reply;
    this.#pending--;
    this.#gather(i + 1);
    this.#check();
  }

  #send(oneBucket: Pid | undefined, one: BucketBatch | undefined, more: Map<Pid, BucketBatch> | undefined): void {
    if (oneBucket !== undefined) this.#call(oneBucket, one!);
    if (more !== undefined) { for (const [bucket, batch] of more) this.#call(bucket, batch); }
  }

  #call(bucket: Pid, batch: BucketBatch): void {
    this.#pending++;
    batch.run(bucket, this);
  }

  /** A bucket's batch ran (its replies are written). */
  ran(): void {
    this.#settled();
  }

  /** A bucket's call failed. */
  failed(batch: BucketBatch, error: unknown): void {
    batch.fail(failed(error, this.#onError));
    this.#settled();
  }

  #settled(): void {
    this.#pending--;
    this.#check();
  }

  #check(): void {
    if (this.#pending === 0 && !this.#gathering && this.#deferred) this.#done(this.#replies);
  }
}

function failed(error: unknown, onError: ((error: unknown) => void) | undefined): Reply {
  try {
    onError?.(error);
  } catch {
    // A broken error hook must not break the reply.
  }
  return ERROR;
}

/**
 * The store of the running `"kv"` application (registry `"KV.Registry"`), or
 * of an independent tree started with `KVSupervisor.startLink({ prefix })`.
 *
 * @example
 * ```ts
 * import { registryStore } from "./kv_store.ts";
 * import assert from "node:assert/strict";
 * import * as KVSupervisor from "../kv/kv_supervisor.ts";
 * import { Supervisor } from "../../../mod.ts";
 *
 * const sup = await KVSupervisor.startLink({ prefix: "doc_registry_store." });
 * const store = registryStore("doc_registry_store.");
 * assert.equal(store.lookup("shopping"), undefined);
 * await store.create("shopping");
 * assert.ok(store.lookup("shopping"));
 * await Supervisor.stop(sup);
 * ```
 *
 * @param prefix The tree's name prefix. Defaults to `""`.
 * @returns The store.
 */
export function registryStore(prefix = ""): RegistryStore {
  const n = names(prefix);
  return new RegistryStore(n.registry, n.table, n.log);
}
