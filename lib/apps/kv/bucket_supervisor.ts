/**
 * `KV.BucketSupervisor`: the {@linkcode DynamicSupervisor} that buckets run
 * under. The registry asks it for a new bucket with {@linkcode startBucket};
 * buckets are `temporary`, so one that dies is forgotten, never restarted
 * (the registry, which monitors every bucket, drops its name).
 *
 * If this supervisor dies, every bucket dies with it (they are linked to it
 * and do not trap exits). `KV.Supervisor` is `rest_for_one` with this
 * supervisor *before* the registry, so the registry is restarted too and
 * sweeps the dead buckets out of the name table: see `kv_supervisor.ts`.
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * import { DynamicSupervisor } from "../../../mod.ts";
 * const sup = await BucketSupervisor.startLink();
 * const bucket = await BucketSupervisor.startBucket(sup);
 * await Bucket.put(bucket, "k", "v");
 * await DynamicSupervisor.stop(sup);
 * ```
 *
 * @module
 */
import { DynamicSupervisor, type Pid, type Supervisor } from "../../../mod.ts";
import * as Bucket from "./bucket.ts";

/** The child id (and default registered name, see `kv_supervisor.ts`). */
export const ID = "KV.BucketSupervisor";

/** Options of {@linkcode startLink}. */
export interface BucketSupervisorOptions {
  /** Register the supervisor under this name. */
  name?: string;
}

/**
 * One spec object for every bucket, so a bucket start allocates no spec of its
 * own. Made on first use: building it at load time would break when
 * `bucket.ts` is the first module imported (its `mod.ts` import cycles back here).
 */
let bucketSpec: Supervisor.ChildSpec | undefined;

/**
 * Starts the bucket supervisor (no children yet), linked to the caller.
 *
 * @example
 * ```ts
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * import { DynamicSupervisor } from "../../../mod.ts";
 * const sup = await BucketSupervisor.startLink({ name: "doc_bucket_sup" });
 * await DynamicSupervisor.stop("doc_bucket_sup");
 * ```
 */
export function startLink(opts?: BucketSupervisorOptions): Promise<Pid> {
  return DynamicSupervisor.startLink(opts?.name === undefined ? undefined : { name: opts.name });
}

/**
 * Starts a new, empty bucket under `sup`; resolves with its pid. Rejects
 * with `GenServer.CallError` `noproc` if the supervisor is not running.
 *
 * @example
 * ```ts
 * import * as Bucket from "./bucket.ts";
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * import { DynamicSupervisor } from "../../../mod.ts";
 * const sup = await BucketSupervisor.startLink();
 * const a = await BucketSupervisor.startBucket(sup);
 * const b = await BucketSupervisor.startBucket(sup);
 * console.assert(a !== b && (await Bucket.get(a, "k")) === undefined);
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export async function startBucket(sup: Pid | string): Promise<Pid> {
  const pid = await DynamicSupervisor.startChild(sup, bucketSpec ??= Bucket.childSpec());
  // A bucket's start never returns ignore; guard the type anyway.
  if (pid === undefined) throw new Error(`Bucket supervisor ${String(sup)} did not start a bucket`);
  return pid;
}

/**
 * The child spec to run the bucket supervisor under `KV.Supervisor`
 * (`type: "supervisor"`, so it gets all the time it needs to stop its buckets).
 *
 * @example
 * ```ts
 * import * as BucketSupervisor from "./bucket_supervisor.ts";
 * const spec = BucketSupervisor.childSpec({ name: "x.KV.BucketSupervisor" });
 * console.assert(spec.id === "KV.BucketSupervisor" && spec.type === "supervisor");
 * ```
 */
export function childSpec(opts?: BucketSupervisorOptions): Supervisor.ChildSpec {
  return { id: ID, start: () => startLink(opts), type: "supervisor" };
}
