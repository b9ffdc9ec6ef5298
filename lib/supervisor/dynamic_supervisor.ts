/**
 * DynamicSupervisor: a supervisor that starts with no children and starts
 * them on demand, as Elixir's `DynamicSupervisor` (OTP's
 * `simple_one_for_one`). Each child is restarted on its own by its restart
 * type (`one_for_one`), within the same restart intensity as
 * {@linkcode Supervisor} (default 3 in 5 s, past which it stops its children
 * and exits with `shutdown`). At exit it stops all children at once, each
 * with its own `shutdown`.
 *
 * The namespace is itself a child module, so a supervisor lists it as
 * `[DynamicSupervisor, { name: "buckets" }]`.
 *
 * @example
 * ```ts
 * import { Agent, DynamicSupervisor } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink({ name: "doc_buckets" });
 * const bucket = await DynamicSupervisor.startChild("doc_buckets", {
 *   id: "bucket",
 *   start: () => Agent.startLink(() => new Map()),
 *   restart: "temporary",
 * });
 * console.assert((await DynamicSupervisor.countChildren(sup)).active === 1);
 * await DynamicSupervisor.terminateChild(sup, bucket!);
 * await DynamicSupervisor.stop(sup);
 * ```
 *
 * @module
 */
import type { Pid } from "../process/pid.ts";
import { stop as genStop } from "../gen_server.ts";
import { type Child, type ChildSpec, childSpec as toSpec, type FullChildSpec } from "./child_spec.ts";
import { type DynamicSupervisorOptions, request, startDynamic } from "./_dynamic.ts";
import type { ChildCounts, ChildInfo } from "./supervisor.ts";

export type { DynamicSupervisorOptions } from "./_dynamic.ts";
export type { ChildCounts, ChildInfo } from "./supervisor.ts";
export { SupervisorError } from "./supervisor_error.ts";
export { StartError } from "../gen_server.ts";

/** Options of {@linkcode childSpec}: the supervisor's options plus the child id. */
export interface DynamicSupervisorChildOptions extends DynamicSupervisorOptions {
  /** The child id under the parent supervisor. Default `"DynamicSupervisor"`. */
  id?: string;
}

/**
 * Starts a DynamicSupervisor with no children, linked to the caller (when the
 * caller is a process). Rejects with a `TypeError` for invalid options, or a
 * `StartError` `["already_started", pid]` if the name is taken.
 *
 * @example
 * ```ts
 * import { DynamicSupervisor } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink({ maxChildren: 100 });
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function startLink(opts?: DynamicSupervisorOptions): Promise<Pid> {
  return startDynamic(opts, "DynamicSupervisor");
}

/**
 * The child spec to run a DynamicSupervisor under another supervisor
 * (`type: "supervisor"`, so `shutdown: Infinity`).
 *
 * @example
 * ```ts
 * import { DynamicSupervisor, Supervisor } from "../../mod.ts";
 * const top = await Supervisor.startLink([[DynamicSupervisor, { name: "doc_dyn" }]], { strategy: "one_for_one" });
 * const [child] = await Supervisor.whichChildren(top);
 * console.assert(child.id === "DynamicSupervisor" && child.type === "supervisor");
 * await Supervisor.stop(top);
 * ```
 */
export function childSpec(opts?: DynamicSupervisorChildOptions): ChildSpec {
  const { id, ...supOpts } = opts ?? {};
  return { id: id ?? "DynamicSupervisor", start: () => startLink(supOpts), type: "supervisor" };
}

/**
 * Starts a child under `sup` (its `id` is not used). Resolves with its pid,
 * or `undefined` if its start returned ignore. Rejects with a `StartError`:
 * `"max_children"` when full, or the child's start failure reason.
 *
 * @example
 * ```ts
 * import { DynamicSupervisor, GenServer } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink();
 * const pid = await DynamicSupervisor.startChild(sup, {
 *   id: "worker",
 *   start: () => GenServer.startLink({ init: () => ["ok", 0] }, undefined),
 * });
 * console.assert(pid !== undefined);
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function startChild(sup: Pid | string, child: Child): Promise<Pid | undefined> {
  let spec: FullChildSpec;
  try {
    spec = normalised(child);
  } catch (e) {
    return Promise.reject(e);
  }
  return request(sup, ["start_child", spec], `DynamicSupervisor.startChild(${String(sup)})`);
}

/**
 * Spec objects passed again and again (a bucket supervisor passes one spec a
 * million times) are normalised once and shared by their children, so a spec
 * object must not be changed after it is first used.
 */
const normalisedSpecs = new WeakMap<object, FullChildSpec>();
function normalised(child: Child): FullChildSpec {
  if (Array.isArray(child)) return toSpec(child);
  let spec = normalisedSpecs.get(child as object);
  if (spec === undefined) {
    spec = toSpec(child);
    normalisedSpecs.set(child as object, spec);
  }
  return spec;
}

/**
 * Stops the child `pid` (its `shutdown`, then `kill`) and forgets it. Rejects
 * with a `SupervisorError` `"not_found"` if it is not a child of `sup`.
 *
 * @example
 * ```ts
 * import { Agent, DynamicSupervisor, Process } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink();
 * const pid = (await DynamicSupervisor.startChild(sup, { id: "a", start: () => Agent.startLink(() => 0) }))!;
 * await DynamicSupervisor.terminateChild(sup, pid);
 * console.assert(!Process.isAlive(pid));
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function terminateChild(sup: Pid | string, pid: Pid): Promise<void> {
  return request(sup, ["terminate_child", pid], `DynamicSupervisor.terminateChild(${String(sup)}, ${pid})`);
}

/**
 * The children, in no particular order (as in OTP; a restarted child comes
 * last), each with `id: undefined` as in Elixir, and `pid:
 * "restarting"` while a failed restart is being retried.
 *
 * @example
 * ```ts
 * import { DynamicSupervisor } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink();
 * console.assert((await DynamicSupervisor.whichChildren(sup)).length === 0);
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function whichChildren(sup: Pid | string): Promise<ChildInfo[]> {
  return request(sup, ["which_children"], `DynamicSupervisor.whichChildren(${String(sup)})`);
}

/**
 * Counts the children: specs, running, supervisors, workers.
 *
 * @example
 * ```ts
 * import { DynamicSupervisor } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink();
 * console.assert((await DynamicSupervisor.countChildren(sup)).active === 0);
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function countChildren(sup: Pid | string): Promise<ChildCounts> {
  return request(sup, ["count_children"], `DynamicSupervisor.countChildren(${String(sup)})`);
}

/**
 * Stops the supervisor (all its children first), with `reason` (default
 * `"normal"`). Resolves once it is dead.
 *
 * @example
 * ```ts
 * import { DynamicSupervisor } from "../../mod.ts";
 * const sup = await DynamicSupervisor.startLink();
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function stop(sup: Pid | string, reason: unknown = "normal", timeout: number = Infinity): Promise<void> {
  return genStop(sup, reason, timeout);
}
