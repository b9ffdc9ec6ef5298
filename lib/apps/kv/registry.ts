/**
 * `KV.Registry`: names buckets. A {@linkcode GenServer} that creates buckets
 * through the bucket supervisor, monitors each one, and keeps the name →
 * bucket pairs in an ETS table that anyone can read without a message
 * (Elixir's `KV.Registry` at the end of the guide's ETS chapter).
 *
 * **Reads skip the registry.** {@linkcode lookup} reads the table directly
 * (one `Map.get`), so readers never queue behind the registry. Only
 * {@linkcode create} is a call: it is the one operation that must be
 * serialised, so that concurrent creates of one name make one bucket.
 *
 * **The registry does not own the table.** `KV.Supervisor` creates it
 * (`public`, named, `readConcurrency`) and passes it in. When the registry
 * crashes, the table and every bucket survive; the restarted registry's
 * `init` walks the table: each live bucket is monitored again (so its later
 * death still removes its name), and each dead one (it died while no
 * registry was watching, e.g. with the bucket supervisor) is removed at once,
 * before the new registry answers any call. No bucket and no key is lost, and
 * no name is left pointing at a dead bucket. It also stops the bucket
 * supervisor's children that no name points at: a registry killed between
 * starting a bucket and naming it leaves such an orphan, which no client
 * could ever reach.
 *
 * **Events come after the table changes.** The registry notifies the event
 * manager of `["create", name, pid]` after inserting the name and of
 * `["exit", name, pid]` after removing it, so a test that waits for the event
 * and then calls `lookup` never races the table.
 *
 * **Names are user input.** They are ETS keys (a `Map` inside), never object
 * properties: `"__proto__"` is an ordinary name, and a removed name leaves
 * nothing behind.
 *
 * @example
 * ```ts
 * import { Ets } from "../../../mod.ts";
 * import * as Bucket from "./bucket.ts";
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * import * as Registry from "./registry.ts";
 * const table = Ets.new("doc_registry_names", { access: "public" });
 * const buckets = await BucketSupervisor.startLink();
 * const registry = await Registry.startLink({ table, buckets });
 * console.assert(Registry.lookup(table, "shopping") === undefined);
 * const bucket = await Registry.create(registry, "shopping");
 * console.assert(Registry.lookup(table, "shopping") === bucket);
 * await Bucket.put(bucket, "milk", "1");
 * ```
 *
 * @module
 */
import {
  Agent,
  DiskLog,
  DownMessage,
  DynamicSupervisor,
  Ets,
  EventManager,
  GenServer,
  Pid,
  Process,
  type Supervisor,
} from "../../../mod.ts";
import * as BucketSupervisor from "./bucket_supervisor.ts";
import * as Bucket from "./bucket.ts";
import * as KVLog from "./kv_log.ts";
import { replayBuckets } from "./replay.ts";

/** What the registry tells the event manager, each after the table has changed. */
export type Event = readonly ["create", string, Pid] | readonly ["exit", string, Pid];

/** One row of the name table: `[name, bucket]`. */
export type Entry = [string, Pid];

/** The child id (and default registered name, see `kv_supervisor.ts`). */
export const ID = "KV.Registry";

/** Options of {@linkcode startLink}. */
export interface RegistryOptions {
  /** Register the registry under this name. */
  name?: string;
  /** The name table (its id, or its name if named); must be writable by the registry (`public`). */
  table: string | Ets.Table;
  /** The bucket supervisor (pid or registered name). */
  buckets: Pid | string;
  /** The event manager to notify (pid or registered name); no events without it. */
  events?: Pid | string;
  /**
   * The name of an open `DiskLog` (see `kv_log.ts`): the registry then logs
   * every creation and removal, and restores every bucket from the log when it
   * starts over a fresh bucket supervisor.
   */
  log?: string;
}

type Request = readonly ["create", string];

/** A `create` that could not start a bucket: the client rethrows `error`. */
class CreateFailed {
  constructor(readonly error: unknown) {}
}

type Reply = Pid | CreateFailed;

class State {
  constructor(
    readonly table: Ets.Table<Entry>,
    readonly buckets: Pid | string,
    readonly events: Pid | string | undefined,
    readonly log: DiskLog.Log | undefined,
  ) {}
  notify(event: Event): void {
    if (this.events !== undefined) EventManager.notify<Event>(this.events, event);
  }
  /** Removes `name` if it still names `pid`, then tells the event manager. */
  forget(name: string, pid: Pid): void {
    const entry = Ets.lookupOne(this.table, name);
    if (this.log !== undefined) KVLog._unregister(pid);
    if (entry !== undefined && entry[1] === pid) {
      Ets.delete(this.table, name);
      // A killed bucket stays dead across a restart: its name and data are gone.
      if (this.log !== undefined) logQuietly(() => KVLog._logDrop(this.log!, name));
    }
    this.notify(["exit", name, pid]);
  }
}

/**
 * Monitors the bucket `pid`, its DOWN tagged with the bucket's name: the
 * registry keeps no ref → name map (a million buckets would pay a map entry
 * each), the DOWN itself says which name to drop.
 */
function watch(pid: Pid, name: string): void {
  Process.monitor(pid, { tag: name });
}

function resolveTable(table: string | Ets.Table): Ets.Table<Entry> {
  if (typeof table !== "string") return table as Ets.Table<Entry>;
  const t = Ets.whereis<Entry>(table);
  if (t === undefined) throw new Error(`No name table ${JSON.stringify(table)}: the registry needs an existing table`);
  return t;
}

/** Appends a record the registry cannot refuse (a drop); a failed or full log is reported, not thrown. */
function logQuietly(append: () => number): void {
  try {
    append();
  } catch (error) {
    console.error("KV.Registry: could not log a bucket's removal:", error instanceof Error ? error.message : error);
  }
}

/** Which log a registry restored from, over which bucket supervisor: a restart over the same two re-monitors instead. */
const restoredFrom = new Map<string, { log: DiskLog.Log; buckets: Pid | undefined }>();

/**
 * Starts every bucket of the log with its state, all at once: the table's
 * old entries (their buckets died with their supervisor) are replaced.
 */
async function restore(state: State, log: DiskLog.Log): Promise<void> {
  Ets.foldl(state.table, (entry, acc: null) => {
    KVLog._unregister(entry[1]);
    return acc;
  }, null);
  Ets.deleteAllObjects(state.table);
  KVLog._sweep();
  await dropOrphans(state);
  const { names, states } = await replayBuckets(log);
  // Labelled as `create` labels a bucket (`bucket "shopping"` in the Observer and in reports).
  const pids = Agent.startChildren(state.buckets, states, { label: (i) => ["bucket", names[i]] });
  // One range for them all, not a map entry per bucket (see `KVLog._registerAll`).
  KVLog._registerAll(pids, log, names);
  // Bulk inserts (about twice as fast as one insert per bucket), in batches:
  // the table copies each row, so the batch's rows die young instead of a
  // million of them outliving a garbage collection or two. All synchronous:
  // no process sees the table half filled.
  const rows: Entry[] = [];
  for (let i = 0; i < pids.length; i++) {
    const pid = pids[i], name = names[i];
    watch(pid, name);
    rows.push([name, pid]);
    if (rows.length === ROW_BATCH) {
      Ets.insertMany(state.table, rows);
      rows.length = 0;
    }
  }
  if (rows.length > 0) Ets.insertMany(state.table, rows);
}

const ROW_BATCH = 4096;

/** Stops the buckets no name points at (see the module doc). */
async function dropOrphans(state: State): Promise<void> {
  let children: Supervisor.ChildInfo[];
  try {
    children = await DynamicSupervisor.whichChildren(state.buckets);
  } catch {
    return; // No bucket supervisor to ask: nothing can be orphaned under it.
  }
  if (children.length === 0) return;
  const named = new Set<number>();
  Ets.foldl(state.table, (entry, acc: null) => {
    named.add(entry[1].id);
    return acc;
  }, null);
  for (const { pid } of children) {
    if (pid instanceof Pid && !named.has(pid.id)) {
      await DynamicSupervisor.terminateChild(state.buckets, pid).catch(() => {});
    }
  }
}

const callbacks: GenServer.Callbacks<State, RegistryOptions, Request, Reply> = {
  async init(opts) {
    let log: DiskLog.Log | undefined;
    if (opts.log !== undefined) {
      log = DiskLog.whereis(opts.log);
      if (log === undefined) throw new Error(`No disk log ${JSON.stringify(opts.log)}: the registry needs it open`);
    }
    const state = new State(resolveTable(opts.table), opts.buckets, opts.events, log);
    if (log !== undefined) {
      const buckets = typeof opts.buckets === "string" ? Process.whereis(opts.buckets) : opts.buckets;
      const before = restoredFrom.get(log.name);
      if (before === undefined || before.log !== log || before.buckets !== buckets) {
        // First start, or the buckets died with their supervisor (or the log restarted): rebuild from the file.
        await restore(state, log);
        restoredFrom.set(log.name, { log, buckets });
        return ["ok", state] as const;
      }
    }
    // A restarted registry finds the names its predecessor made: watch the
    // live buckets again, and drop those that died while nobody watched.
    const dead: Entry[] = [];
    Ets.foldl(state.table, (entry, acc: null) => {
      const [name, pid] = entry;
      if (Process.isAlive(pid)) watch(pid, name);
      else dead.push([name, pid]);
      return acc;
    }, null);
    for (const [name, pid] of dead) state.forget(name, pid);
    await dropOrphans(state);
    return ["ok", state] as const;
  },

  async handleCall(req, _from, state) {
    const name = req[1];
    const found = Ets.lookupOne(state.table, name);
    // A dead bucket whose DOWN is still queued does not count: make a new one
    // (the queued DOWN then only reports the old bucket's exit).
    if (found !== undefined && Process.isAlive(found[1])) return ["reply", found[1], state];
    const log = state.log;
    if (log !== undefined && !DiskLog.isWritable(log)) {
      return [
        "reply",
        new CreateFailed(new DiskLog.DiskLogError("full", `disk log ${log.name} takes no writes`)),
        state,
      ];
    }
    let pid: Pid;
    try {
      pid = await BucketSupervisor.startBucket(state.buckets);
    } catch (e) {
      return ["reply", new CreateFailed(e), state];
    }
    // The bucket labels itself (Observer, supervisor reports: `bucket "shopping"`).
    Bucket.setLabel(pid, name);
    // Monitor before publishing: a bucket in the table is always watched.
    watch(pid, name);
    if (log !== undefined) {
      if (found !== undefined) KVLog._unregister(found[1]);
      // The dead bucket's DOWN is still queued: its removal goes before the new creation.
      if (found !== undefined) logQuietly(() => KVLog._logDrop(log, name));
      KVLog._register(pid, log, name);
      logQuietly(() => KVLog._logCreate(log, name));
    }
    Ets.insert(state.table, [name, pid]);
    state.notify(["create", name, pid]);
    return ["reply", pid, state];
  },

  handleInfo(msg, state) {
    // Only the registry's own monitors are tagged with a name (see `watch`).
    if (msg instanceof DownMessage && typeof msg.tag === "string") state.forget(msg.tag, msg.pid);
    // Anything else is dropped, as the guide's catch-all handle_info does.
    return ["noreply", state];
  },
};

/**
 * Starts the registry linked to the caller. The table must exist and be
 * writable by the registry (`public`); rejects with `GenServer.StartError`
 * otherwise, or `["already_started", pid]` if the name is taken.
 *
 * @example
 * ```ts
 * import { Ets, GenServer } from "../../../mod.ts";
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * import * as Registry from "./registry.ts";
 * Ets.new("doc_registry_start", { named: true, access: "public" });
 * const buckets = await BucketSupervisor.startLink();
 * await Registry.startLink({ name: "doc_registry", table: "doc_registry_start", buckets });
 * await GenServer.stop("doc_registry");
 * ```
 */
export function startLink(opts: RegistryOptions): Promise<Pid> {
  return GenServer.startLink(callbacks, opts, opts.name === undefined ? undefined : { name: opts.name });
}

/**
 * Returns the bucket named `name`, starting one through the bucket
 * supervisor if there is none. A call: concurrent creates of one name get one
 * bucket. Rejects with `GenServer.CallError` if the registry is not running,
 * or with the bucket supervisor's error if no bucket could be started.
 *
 * @example
 * ```ts
 * import { Ets } from "../../../mod.ts";
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * import * as Registry from "./registry.ts";
 * const table = Ets.new("doc_registry_create", { access: "public" });
 * const registry = await Registry.startLink({ table, buckets: await BucketSupervisor.startLink() });
 * const a = await Registry.create(registry, "__proto__");
 * console.assert(await Registry.create(registry, "__proto__") === a);
 * ```
 */
export async function create(registry: Pid | string, name: string, timeout: number = 5000): Promise<Pid> {
  if (typeof name !== "string") throw new TypeError(`A bucket name must be a string, got ${typeof name}`);
  const r = await GenServer.call<Request, Reply>(registry, ["create", name], timeout);
  if (r instanceof CreateFailed) throw r.error;
  return r;
}

/**
 * The bucket named `name`, or `undefined`: a direct read of the name table,
 * without a message to the registry. Throws `Ets.EtsError` (`no_table`) if the
 * table does not exist (the tree is not running).
 *
 * @example
 * ```ts
 * import { Ets } from "../../../mod.ts";
 * import * as Registry from "./registry.ts";
 * const table = Ets.new("doc_registry_lookup", { access: "public" });
 * console.assert(Registry.lookup(table, "constructor") === undefined);
 * ```
 */
export function lookup(table: string | Ets.Table, name: string): Pid | undefined {
  const entry = Ets.lookupOne<Entry>(table as Ets.TableRef<Entry>, name);
  return entry === undefined ? undefined : entry[1];
}

/**
 * The child spec of the registry: `permanent` (a crashed registry is
 * restarted and re-monitors the table's buckets).
 *
 * @example
 * ```ts
 * import * as Registry from "./registry.ts";
 * const spec = Registry.childSpec({ table: "KV.Registry", buckets: "KV.BucketSupervisor" });
 * console.assert(spec.id === "KV.Registry" && spec.restart === "permanent");
 * ```
 */
export function childSpec(opts: RegistryOptions): Supervisor.ChildSpec {
  return { id: ID, start: () => startLink(opts), restart: "permanent" };
}
