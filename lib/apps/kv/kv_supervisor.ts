/**
 * `KV.Supervisor`: the top of the KV tree. It owns the name table and
 * supervises, in start order:
 *
 * 1. `KV.EventManager`, the {@linkcode EventManager} the registry notifies;
 * 2. `KV.BucketSupervisor`, under which every bucket runs;
 * 3. `KV.Registry`, which names buckets in the table.
 *
 * **The table belongs to this supervisor**, not to the registry: it is
 * created in the supervisor's own `init` (so this process owns it), `public`
 * (the registry writes it, anyone reads it) and `readConcurrency` (a hint:
 * lookups far outnumber writes). It therefore lives exactly as long as the
 * tree: it survives any child's crash and disappears when the supervisor
 * stops. A restarted registry finds it intact and re-monitors every bucket in
 * it (see `registry.ts`), so a registry crash loses no bucket and no key.
 *
 * **Strategy: `rest_for_one`**, children in the order above. Why:
 *
 * - *Registry crash*: only the registry restarts (it is last). The buckets and
 *   the table are untouched; the new registry re-monitors them. `one_for_all`
 *   would instead restart the bucket supervisor and kill every bucket — the
 *   data loss the table's ownership exists to avoid — and so would
 *   `rest_for_one` with the registry listed before the bucket supervisor (the
 *   guide's first version).
 * - *Bucket supervisor crash*: every bucket dies with it (linked, not
 *   trapping). The registry, listed after it, is stopped and restarted too, and
 *   its `init` removes every entry whose bucket is dead *before it answers any
 *   call*: when the tree is back, no name points at a dead bucket, and no
 *   `create` can hand out one. Under `one_for_one` the registry would only
 *   learn of the deaths through a `DOWN` per bucket (a million of them for a
 *   million buckets), racing the `create` calls that arrive meanwhile.
 * - *Event manager crash*: everything after it restarts, buckets included.
 *   The manager survives its handlers' crashes (a crashing handler is only
 *   removed), so only a deliberate kill does this. Listed after the registry
 *   instead, it would be restarted by every registry crash: its subscribers'
 *   handlers would be dropped, and the restarted registry's first events
 *   (the dead buckets it sweeps out) would go to no one.
 *
 * With `prefix` (e.g. `"test42."`), every name (supervisor, registry, table,
 * bucket supervisor, event manager) is prefixed, so several trees can run
 * side by side, as tests do.
 *
 * @example
 * ```ts
 * import { Supervisor } from "../../../mod.ts";
 * import * as KVSupervisor from "./kv_supervisor.ts";
 * import * as Registry from "./registry.ts";
 * import * as Bucket from "./bucket.ts";
 * const sup = await KVSupervisor.startLink({ prefix: "doc_kv." });
 * const names = KVSupervisor.names("doc_kv.");
 * const bucket = await Registry.create(names.registry, "shopping");
 * await Bucket.put(bucket, "milk", "1");
 * console.assert(Registry.lookup(names.table, "shopping") === bucket);
 * await Supervisor.stop(sup);
 * ```
 *
 * @module
 */
import { Ets, EventManager, type Pid, Supervisor } from "../../../mod.ts";
import * as BucketSupervisor from "./bucket_supervisor.ts";
import * as Registry from "./registry.ts";
import * as KVLog from "./kv_log.ts";
import { COMPACTOR } from "./compactor.ts";

/** The registered names of one KV tree. */
export interface Names {
  /** The top supervisor. */
  readonly supervisor: string;
  /** The registry process. */
  readonly registry: string;
  /** The name table (same name as the registry; tables and processes have separate namespaces). */
  readonly table: string;
  /** The bucket supervisor. */
  readonly buckets: string;
  /** The event manager. */
  readonly events: string;
  /** The disk log (a durable tree only): `DiskLog.whereis(names.log)`. */
  readonly log: string;
}

/** Options of {@linkcode startLink}. */
export interface KVSupervisorOptions {
  /** The supervisor's registered name. Default `prefix + "KV.Supervisor"`. */
  name?: string;
  /** Prefixed to every name of the tree. Default `""`. */
  prefix?: string;
  /**
   * Makes the tree durable: a `DiskLog` child (named {@linkcode Names.log})
   * logs every change, and the registry restores every bucket from it on start.
   * See `kv_log.ts`.
   */
  log?: KVLog.KVLogOptions;
}

/** The child id of the event manager. */
export const EVENT_MANAGER_ID = "KV.EventManager";

/**
 * The names of the tree started with `prefix`.
 *
 * @example
 * ```ts
 * import * as KVSupervisor from "./kv_supervisor.ts";
 * console.assert(KVSupervisor.names().registry === "KV.Registry");
 * console.assert(KVSupervisor.names("t1.").buckets === "t1.KV.BucketSupervisor");
 * ```
 */
export function names(prefix: string = ""): Names {
  return {
    supervisor: `${prefix}KV.Supervisor`,
    registry: `${prefix}KV.Registry`,
    table: `${prefix}KV.Registry`,
    buckets: `${prefix}KV.BucketSupervisor`,
    events: `${prefix}KV.EventManager`,
    log: `${prefix}KV.Log`,
  };
}

/** The supervisor module: its `init` runs in the supervisor process, which thus owns the table. */
const KVSupervisor: Supervisor.SupervisorModule<[Names, KVLog.KVLogOptions | undefined]> = {
  init([n, log]) {
    const table = Ets.new<Registry.Entry>(n.table, { named: true, access: "public", readConcurrency: true });
    // Durable: the log comes before the buckets, so that a log crash (a failed
    // fsync) restarts them and the registry rebuilds them from the file.
    return Supervisor.init([
      { id: EVENT_MANAGER_ID, start: () => EventManager.startLink<Registry.Event>({ name: n.events }) },
      ...(log === undefined ? [] : [KVLog.childSpec(n.log, { compactor: COMPACTOR, ...log })]),
      BucketSupervisor.childSpec({ name: n.buckets }),
      Registry.childSpec({
        name: n.registry,
        table,
        buckets: n.buckets,
        events: n.events,
        ...(log === undefined ? {} : { log: n.log }),
      }),
    ], {
      strategy: "rest_for_one",
      // Restart intensity: a registry restart loses nothing (the table is
      // this supervisor's, the buckets live on) and costs one re-monitor per
      // bucket, so operators killing it from the Observer, or a bug that
      // crashes it now and then, must not take the tree down (OTP's default,
      // 3 in 5 s, lost every bucket after four registry kills). 200 in 10 s
      // survives a kill every 50 ms; a crash loop (a child that dies at once
      // after each start) still runs out within a second, and the `"kv"`
      // application's exit then stops the node.
      maxRestarts: 200,
      maxSeconds: 10,
    });
  },
};

/**
 * Starts the KV tree linked to the caller; resolves with the top
 * supervisor's pid once every child runs. Rejects with `GenServer.StartError`
 * (`["already_started", pid]`) if a tree with this prefix is running.
 *
 * @example
 * ```ts
 * import { Process, Supervisor } from "../../../mod.ts";
 * import * as KVSupervisor from "./kv_supervisor.ts";
 * const sup = await KVSupervisor.startLink({ prefix: "doc_kv_start." });
 * console.assert(Process.whereis("doc_kv_start.KV.Registry") !== undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function startLink(opts?: KVSupervisorOptions): Promise<Pid> {
  const n = names(opts?.prefix ?? "");
  return Supervisor.startLink(KVSupervisor, [n, opts?.log], { name: opts?.name ?? n.supervisor });
}

/**
 * The child spec to run a KV tree under another supervisor
 * (`type: "supervisor"`).
 *
 * @example
 * ```ts
 * import * as KVSupervisor from "./kv_supervisor.ts";
 * console.assert(KVSupervisor.childSpec().type === "supervisor");
 * ```
 */
export function childSpec(opts?: KVSupervisorOptions): Supervisor.ChildSpec {
  return { id: "KV.Supervisor", start: () => startLink(opts), type: "supervisor" };
}
