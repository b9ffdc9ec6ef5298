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
 * bucket per read, not one per request.
 *
 * @example
 * ```ts
 * import { RegistryStore } from "./kv_store.ts";
 * import * as KVSupervisor from "./kv_supervisor.ts";
 * import { Supervisor } from "../../mod.ts";
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

import type { Table } from "../ets/ets.ts";
import type { Pid } from "../process/pid.ts";
import {
  type Command,
  EMPTY_OK,
  ERROR,
  type KvStore,
  NOT_FOUND,
  OK,
  type Reply,
  UNKNOWN_COMMAND,
} from "./command.ts";
import { BucketOps, runBucketOps } from "./_bucket_ops.ts";
import * as Bucket from "./bucket.ts";
import * as Registry from "./registry.ts";
import { names } from "./kv_supervisor.ts";

/** The registry's name, and its name table's, in the `"kv"` application. */
export const REGISTRY: string = names().registry;

/** A {@linkcode KvStore} over `KV.Registry` and `KV.Bucket` processes. */
export class RegistryStore implements KvStore<Pid> {
  readonly #registry: Pid | string;
  readonly #table: string | Table;

  /**
   * Makes a store over a running registry.
   *
   * @param registry The registry process (pid or name). Defaults to {@linkcode REGISTRY}.
   * @param table Its name table (name or table). Defaults to {@linkcode REGISTRY}.
   *   Until it exists (the tree is not running), `lookup` throws, which the
   *   server answers with `ERROR`.
   */
  constructor(registry: Pid | string = REGISTRY, table: string | Table = names().table) {
    this.#registry = registry;
    this.#table = table;
  }

  /** Creates the bucket through the registry (a call); an existing one is kept. */
  create(bucket: string): Promise<Pid> {
    return Registry.create(this.#registry, bucket);
  }

  /** The bucket's process, read from the name table, or `undefined`. */
  lookup(bucket: string): Pid | undefined {
    return Registry.lookup(this.#table, bucket);
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
   * @param onError Told about each failure.
   * @returns The replies, in order; synchronously when no bucket was asked.
   */
  executeMany(commands: readonly Command[], onError?: (error: unknown) => void): Reply[] | Promise<Reply[]> {
    const replies: Reply[] = new Array(commands.length);
    const calls: Promise<void>[] = [];
    const ran = this.#run(commands, 0, replies, calls, onError);
    if (ran !== undefined) return ran.then(() => Promise.all(calls)).then(() => replies);
    return calls.length === 0 ? replies : Promise.all(calls).then(() => replies);
  }

  /** Runs from `from` on; a promise when it had to wait for a `CREATE`. */
  #run(
    commands: readonly Command[],
    from: number,
    replies: Reply[],
    calls: Promise<void>[],
    onError: ((error: unknown) => void) | undefined,
  ): Promise<void> | undefined {
    // Most batches touch one bucket: no map for that case.
    let oneBucket: Pid | undefined;
    let oneOps: BucketOps | undefined;
    let more: Map<Pid, BucketOps> | undefined;
    for (let i = from; i < commands.length; i++) {
      const command = commands[i];
      switch (command.kind) {
        case "unknown":
          replies[i] = UNKNOWN_COMMAND;
          continue;
        case "create": {
          // What came before goes now; later lookups may need this bucket.
          this.#send(oneBucket, oneOps, more, replies, calls, onError);
          return this.create(command.bucket).then(
            () => void (replies[i] = OK),
            (error) => void (replies[i] = failed(error, onError)),
          ).then(() => this.#run(commands, i + 1, replies, calls, onError));
        }
      }
      let bucket: Pid | undefined;
      try {
        bucket = this.lookup(command.bucket);
      } catch (error) {
        replies[i] = failed(error, onError);
        continue;
      }
      if (bucket === undefined) {
        replies[i] = NOT_FOUND;
        continue;
      }
      let ops: BucketOps | undefined;
      if (oneBucket === undefined || oneBucket === bucket) {
        oneBucket = bucket;
        ops = oneOps ??= new BucketOps();
      } else {
        more ??= new Map();
        ops = more.get(bucket);
        if (ops === undefined) more.set(bucket, ops = new BucketOps());
      }
      if (command.kind === "get") ops.add(0, command.key, undefined, i);
      else if (command.kind === "put") ops.add(1, command.key, command.value, i);
      else ops.add(2, command.key, undefined, i);
    }
    this.#send(oneBucket, oneOps, more, replies, calls, onError);
    return undefined;
  }

  /** Sends each bucket its operations; `calls` gets a promise per call that fills `replies`. */
  #send(
    oneBucket: Pid | undefined,
    oneOps: BucketOps | undefined,
    more: Map<Pid, BucketOps> | undefined,
    replies: Reply[],
    calls: Promise<void>[],
    onError: ((error: unknown) => void) | undefined,
  ): void {
    if (oneBucket !== undefined) calls.push(call(oneBucket, oneOps!, replies, onError));
    if (more !== undefined) for (const [bucket, ops] of more) calls.push(call(bucket, ops, replies, onError));
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

/** One call to a bucket; fills the replies of its operations. */
function call(bucket: Pid, ops: BucketOps, replies: Reply[], onError: ((error: unknown) => void) | undefined): Promise<void> {
  return runBucketOps(bucket, ops).then(
    () => {
      const { kinds, indexes, results } = ops;
      for (let j = 0; j < kinds.length; j++) {
        replies[indexes[j]] = kinds[j] === 0 ? results[j] ?? EMPTY_OK : OK;
      }
    },
    (error) => {
      const reply = failed(error, onError);
      for (const index of ops.indexes) replies[index] = reply;
    },
  );
}

/**
 * The store of the running `"kv"` application (registry `"KV.Registry"`), or
 * of an independent tree started with `KVSupervisor.startLink({ prefix })`.
 *
 * @example
 * ```ts
 * import { registryStore } from "./kv_store.ts";
 * import assert from "node:assert/strict";
 *
 * import * as KVSupervisor from "./kv_supervisor.ts";
 * import { Supervisor } from "../../mod.ts";
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
  return new RegistryStore(n.registry, n.table);
}
