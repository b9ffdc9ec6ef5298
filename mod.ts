/**
 * OTP in TypeScript: processes, GenServer, Agent, Task, and (as they land)
 * supervisors, applications, events and ETS-like tables. No dependencies; runs
 * on Bun, Deno and Node.
 *
 * Each namespace is named after its Elixir module:
 *
 * ```ts
 * import { GenServer, Process } from "./mod.ts";
 * const pid = await GenServer.start({
 *   init: () => ["ok", 0],
 *   handleCall: (_req: "next", _from, n: number) => ["reply", n + 1, n + 1],
 * }, undefined);
 * console.assert(await GenServer.call(pid, "next") === 1);
 * ```
 *
 * @module
 */
export * as Process from "./lib/process/process.ts";
export * as GenServer from "./lib/gen_server.ts";
export * as Agent from "./lib/agent.ts";
export * as Task from "./lib/task.ts";
export { Pid, Ref } from "./lib/process/pid.ts";
export { DownMessage, ExitMessage } from "./lib/process/messages.ts";
export { _, matches, type Pattern } from "./lib/process/pattern.ts";
export { type ExitReason, formatReason, isNormalExit } from "./lib/process/reason.ts";
export * as Application from "./lib/application.ts";
// The application types again, flat: the applications' entry points (`./kv`, `./kv-server`)
// name them in their own exports, and documentation tools link only to flat exports.
export type {
  Env as ApplicationEnv,
  RestartType as ApplicationRestartType,
  Spec as ApplicationSpec,
  StartOptions as ApplicationStartOptions,
  StartType as ApplicationStartType,
} from "./lib/application.ts";
export * as EventManager from "./lib/event_manager.ts";
/** Helpers for tests: `assertReceive`, `testProcess`, `startSupervised`, ... */
export * as Testing from "./lib/testing/mod.ts";
export * as Supervisor from "./lib/supervisor/supervisor.ts";
export * as DynamicSupervisor from "./lib/supervisor/dynamic_supervisor.ts";
export * as TaskSupervisor from "./lib/task_supervisor.ts";
export * as Ets from "./lib/ets/ets.ts";
export * as Logger from "./lib/logger.ts";
/** The logger's levels, flat: the CLI's flags name them. */
export type { Level as LogLevel } from "./lib/logger.ts";
export * as DiskLog from "./lib/disk_log/disk_log.ts";
export * as Term from "./lib/node/term.ts";
export * as Node from "./lib/node/node.ts";
export { RemotePid } from "./lib/node/remote_pid.ts";
export { type RemoteNodeInfo, remoteNodes } from "./lib/node/remote_nodes.ts";
// Distribution: pids and names of other nodes in send, link, monitor, exit and calls.
import "./lib/node/_remote.ts";
