/**
 * The KV application, as built in Elixir's "Mix and OTP" guide: buckets of
 * key/value pairs ({@linkcode Bucket}) under a dynamic supervisor
 * ({@linkcode BucketSupervisor}), named by a registry with an ETS name table
 * ({@linkcode Registry}), all under one top supervisor
 * ({@linkcode KVSupervisor}) started by the `kv` application (`app`,
 * `start`, `stop`).
 *
 * @example
 * ```ts
 * import * as KV from "./mod.ts";
 * await KV.start();
 * const bucket = await KV.Registry.create(KV.REGISTRY, "shopping");
 * await KV.Bucket.put(bucket, "eggs", "12");
 * console.assert(await KV.Bucket.get(KV.Registry.lookup(KV.TABLE, "shopping")!, "eggs") === "12");
 * await KV.stop();
 * ```
 *
 * @module
 */
export * as Bucket from "./bucket.ts";
export * as BucketSupervisor from "./bucket_supervisor.ts";
export * as Registry from "./registry.ts";
export * as KVSupervisor from "./kv_supervisor.ts";
export * as KVLog from "./kv_log.ts";
export * as Replay from "./replay.ts";
export * as KVCompactor from "./compactor.ts";
export {
  app,
  BUCKET_SUPERVISOR,
  EVENT_MANAGER,
  type KVEnv,
  LOG,
  REGISTRY,
  start,
  stop,
  SUPERVISOR,
  TABLE,
} from "./kv.ts";
export { checkRoutes, parseRoutes, type Route, routeOf, ROUTING_TABLE, type RoutingTable } from "./routing.ts";
