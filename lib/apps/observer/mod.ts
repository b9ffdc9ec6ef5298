/**
 * Observer: a live view of the running system in the browser (Erlang's
 * Observer), and the introspection functions it is built on.
 *
 * ```ts
 * import * as Observer from "./mod.ts";
 * const obs = await Observer.start({ port: 0 }); // loopback by default
 * console.assert(obs.url.startsWith("http://127.0.0.1:"));
 * console.assert(Observer.system().processes >= 0);
 * await obs.close();
 * ```
 *
 * @module
 */
export {
  applications,
  type AppTree,
  describeLabel,
  diskLogs,
  type DiskLogSummary,
  type EtsSummary,
  etsTables,
  kill,
  type LabelDescriber,
  nodes,
  type NodesInfo,
  preview,
  type ProcessDetail,
  processes,
  processInfo,
  type ProcessListOptions,
  type ProcessSortKey,
  type ProcessSummary,
  type RemoteRelation,
  resolvePid,
  type Sampler,
  type SamplerOptions,
  startSampler,
  supervisionTree,
  system,
  type SystemInfo,
  type TreeNode,
  type TreeOptions,
} from "./introspect.ts";
export { type ObserverOptions, type ObserverServer, start } from "./server.ts";
export { type ObserverFlags, observerLine, parseObserverAddress } from "./cli_flags.ts";
