/**
 * The `kv` application: starts the KV tree (`KV.Supervisor`, see
 * `kv_supervisor.ts`) as Elixir's `KV` module with `use Application` does.
 * The registry, the name table, the bucket supervisor and the event manager
 * are then reachable by the names below; the TCP server's application
 * (`kv_server`) lists `kv` as a dependency, so `Application.ensureAllStarted`
 * starts this one first.
 *
 * Its environment has one key, `prefix` (default `""`), prefixed to every
 * name of the tree; the constants below are the unprefixed names.
 *
 * Stopping the application stops the tree in reverse order (registry, bucket
 * supervisor with every bucket, event manager), then the supervisor, whose
 * death deletes the name table: nothing is left behind.
 *
 * @example
 * ```ts
 * import * as KV from "./kv.ts";
 * import * as Registry from "./registry.ts";
 * import * as Bucket from "./bucket.ts";
 * await KV.start();
 * const bucket = await Registry.create(KV.REGISTRY, "shopping");
 * await Bucket.put(bucket, "milk", "1");
 * console.assert(Registry.lookup(KV.TABLE, "shopping") === bucket);
 * await KV.stop();
 * ```
 *
 * @module
 */
import { Application, type Pid } from "../../../mod.ts";
import * as KVSupervisor from "./kv_supervisor.ts";

const DEFAULT = KVSupervisor.names();

/** The top supervisor's registered name. */
export const SUPERVISOR: string = DEFAULT.supervisor;
/** The registry's registered name: pass it to `Registry.create`. */
export const REGISTRY: string = DEFAULT.registry;
/** The name table's name: pass it to `Registry.lookup`. */
export const TABLE: string = DEFAULT.table;
/** The bucket supervisor's registered name. */
export const BUCKET_SUPERVISOR: string = DEFAULT.buckets;
/** The event manager's registered name: add handlers there to see `create`/`exit` events. */
export const EVENT_MANAGER: string = DEFAULT.events;
/** The log's name, when the environment has a `dir`: pass it to `DiskLog.info`. */
export const LOG: string = DEFAULT.log;

/** The application's environment. */
export interface KVEnv {
  /** Prefixed to every name of the tree. */
  prefix: string;
  /** A directory makes the tree durable (an append-only log there, see `kv_log.ts`). Default: none, in memory. */
  dir?: string;
  /** When the log reaches the disk: `"always"`, `"everysec"` (default) or `"no"`. */
  appendfsync?: "always" | "everysec" | "no";
  /** Under `appendfsync` `"always"`, where the fdatasync runs: `"inline"` (default, as Redis) or `"thread"` (see `DiskLog.FsyncMode`). */
  fsync?: "inline" | "thread";
  /** `true` (default) cuts a torn last record; `"truncate"` also cuts at damage (dropping what follows). */
  repair?: boolean | "truncate";
  /** Compact the log automatically once its incremental files hold this many bytes (and more than the base). Default 64 MiB. */
  compactAt?: number;
  /** Other keys, as any application environment may have. */
  [key: string]: unknown;
}

/**
 * The application spec, named `"kv"`, for `Application.start` and
 * `Application.ensureAllStarted` (or a dependent's `dependencies`).
 *
 * @example
 * ```ts
 * import { Application, Process } from "../../../mod.ts";
 * import * as KV from "./kv.ts";
 * await Application.ensureAllStarted(KV.app);
 * console.assert(Process.whereis(KV.REGISTRY) !== undefined);
 * await Application.stop(KV.app);
 * ```
 */
export const app: Application.Spec<KVEnv> = {
  name: "kv",
  description: "Buckets of key/value pairs, named by a registry",
  version: "0.1.0",
  env: { prefix: "" },
  start: (_type, env) =>
    KVSupervisor.startLink({
      prefix: env.prefix,
      ...(env.dir === undefined || env.dir === "" ? {} : {
        log: {
          dir: env.dir,
          sync: env.appendfsync ?? "everysec",
          ...(env.fsync === undefined ? {} : { fsync: env.fsync }),
          repair: env.repair ?? true,
          ...(env.compactAt === undefined ? {} : { compactAt: env.compactAt }),
        },
      }),
    }),
};

/**
 * Starts the `kv` application; resolves with the top supervisor's pid.
 * Rejects with `Application.ApplicationError` `["already_started", "kv"]`
 * if it is running.
 *
 * @example
 * ```ts
 * import { Process } from "../../../mod.ts";
 * import * as KV from "./kv.ts";
 * const top = await KV.start();
 * console.assert(Process.whereis(KV.SUPERVISOR) === top);
 * await KV.stop();
 * ```
 */
export function start(opts?: Application.StartOptions<KVEnv>): Promise<Pid> {
  return Application.start(app, opts);
}

/**
 * Stops the `kv` application and everything it started; resolves once all
 * of it is gone. Rejects with `Application.ApplicationError`
 * `["not_started", "kv"]` if it is not running.
 *
 * @example
 * ```ts
 * import { Ets } from "../../../mod.ts";
 * import * as KV from "./kv.ts";
 * await KV.start();
 * await KV.stop();
 * console.assert(Ets.whereis(KV.TABLE) === undefined);
 * ```
 */
export function stop(): Promise<void> {
  return Application.stop(app);
}
