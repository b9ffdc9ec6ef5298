/**
 * Supervisor: a process that starts children, watches them, and restarts
 * them by strategy, as Elixir's `Supervisor` (OTP's `supervisor`).
 *
 * - Children start in the order given, each inside the supervisor process so
 *   that `startLink` links it to the supervisor; they stop in reverse order.
 * - Strategies: `one_for_one` restarts only the child that exited;
 *   `one_for_all` stops the others and restarts all; `rest_for_one` stops and
 *   restarts the children started after it.
 * - Restart types (per child): `permanent`, `transient`, `temporary`; see
 *   {@linkcode RestartType}.
 * - More than `maxRestarts` restarts within `maxSeconds` (default 3 in 5 s):
 *   the supervisor stops all its children and exits with `shutdown`, so its
 *   own supervisor decides what to do.
 * - A child is stopped by an exit signal `shutdown`, then `kill` after its
 *   `shutdown` ms (or `kill` at once with `"brutal_kill"`).
 *
 * The supervisor traps exits. It stops (children first) when its parent
 * exits, on {@linkcode stop}, or, when it was started from plain code (it then
 * has no parent), on an exit signal sent from plain code with
 * `Process.exit(sup, reason)`.
 *
 * @example
 * ```ts
 * import { Agent, Process, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([
 *   { id: "cache", start: () => Agent.startLink(() => new Map(), { name: "doc_cache" }) },
 * ], { strategy: "one_for_one" });
 * const [{ pid }] = await Supervisor.whichChildren(sup);
 * await Process.run(async () => {
 *   const ref = Process.monitor(pid as Process.Pid);
 *   Process.exit(pid as Process.Pid, "kill"); // the supervisor restarts it
 *   await Process.receive({ ref });
 * });
 * await Supervisor.stop(sup);
 * ```
 *
 * @module
 */
import type { Pid } from "../process/pid.ts";
import { currentProc, deliver, type Proc } from "../process/_runtime.ts";
import { ExitMessage } from "../process/messages.ts";
import { isNormalExit } from "../process/reason.ts";
import { call, type Callbacks, StartError, stop as genStop } from "../gen_server.ts";
import { GenServerProcess, startBehaviour } from "../_gen_server.ts";
import {
  type Child,
  type ChildId,
  childSpec as toSpec,
  type ChildType,
  type FullChildSpec,
  showId,
} from "./child_spec.ts";
import { checkIntensity, RestartIntensity, shutdownAction } from "./_restart_intensity.ts";
import { reportChildExit } from "./_report.ts";
import { shutdownChild, startChildProc } from "./_child_ops.ts";
import { SupervisorError } from "./supervisor_error.ts";

export {
  type Child,
  type ChildId,
  type ChildModule,
  childModule,
  type ChildSpec,
  childSpec,
  type ChildSpecOverrides,
  type ChildType,
  type FullChildSpec,
  type RestartType,
  type Shutdown,
  type StartResult,
} from "./child_spec.ts";
export { SupervisorError } from "./supervisor_error.ts";
export { StartError } from "../gen_server.ts";

/** How the supervisor reacts when a child must be restarted. */
export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one";

/** The supervisor's flags. */
export interface SupervisorFlags {
  /** Restart strategy. */
  strategy: Strategy;
  /** Restarts allowed within `maxSeconds` before the supervisor gives up. Default 3. */
  maxRestarts?: number;
  /** The intensity window, in seconds. Default 5. */
  maxSeconds?: number;
}

/** Options for {@linkcode startLink} with a list of children. */
export interface SupervisorOptions extends SupervisorFlags {
  /** Register the supervisor under this name. */
  name?: string;
}

/** What a supervisor module's `init` returns: flags and children (see {@linkcode init}). */
export interface SupervisorInit extends SupervisorFlags {
  /** The children, in start order. */
  children: readonly Child[];
}

/** A module-based supervisor, as an Elixir module with `use Supervisor`. */
export interface SupervisorModule<A = undefined> {
  /** Runs inside the supervisor process; returns flags and children, or `"ignore"`. */
  init(arg: A): SupervisorInit | "ignore" | Promise<SupervisorInit | "ignore">;
}

/** One child as {@linkcode whichChildren} reports it (Elixir's `{id, child, type, modules}`). */
export interface ChildInfo {
  /** The child's id (`undefined` for a DynamicSupervisor's children, as in Elixir). */
  id: ChildId | undefined;
  /** Its pid, `"restarting"` while a restart is being retried, or `undefined` when not running. */
  pid: Pid | "restarting" | undefined;
  /** `"supervisor"` children can be asked for their own children. */
  type: ChildType;
  /** What implements it. */
  modules: readonly unknown[];
}

/** What {@linkcode countChildren} reports. */
export interface ChildCounts {
  /** Children known, running or not. */
  specs: number;
  /** Children running. */
  active: number;
  /** Children of type `supervisor`. */
  supervisors: number;
  /** Children of type `worker`. */
  workers: number;
}

// ---------------------------------------------------------------- server

interface ChildRecord {
  readonly spec: FullChildSpec;
  pid: Pid | "restarting" | undefined;
}

class State {
  readonly self: Proc;
  readonly strategy: Strategy;
  readonly intensity: RestartIntensity;
  children: ChildRecord[] = [];
  readonly byPid = new Map<number, ChildRecord>();
  constructor(self: Proc, flags: SupervisorFlags) {
    this.self = self;
    this.strategy = flags.strategy;
    this.intensity = new RestartIntensity(flags.maxRestarts ?? 3, flags.maxSeconds ?? 5);
  }
  find(id: ChildId): ChildRecord | undefined {
    return this.children.find((c) => c.spec.id === id);
  }
  setPid(rec: ChildRecord, pid: Pid | undefined): void {
    rec.pid = pid;
    if (pid !== undefined) this.byPid.set(pid.id, rec);
  }
  remove(rec: ChildRecord): void {
    const i = this.children.indexOf(rec);
    if (i >= 0) this.children.splice(i, 1);
  }
}

/** A restart that failed, to be tried again (OTP's `try_again_restart`). */
class RetryRestart {
  constructor(readonly rec: ChildRecord) {}
}

type InitArg =
  | { readonly kind: "list"; readonly flags: SupervisorFlags; readonly specs: readonly FullChildSpec[] }
  | { readonly kind: "module"; readonly module: SupervisorModule<unknown>; readonly arg: unknown };

type Request =
  | readonly ["start_child", FullChildSpec]
  | readonly ["terminate_child" | "restart_child" | "delete_child", ChildId]
  | readonly ["which_children" | "count_children"];

type Reply = readonly ["ok", unknown] | readonly ["error", unknown] | readonly ["start_error", unknown];

const STRATEGIES: readonly string[] = ["one_for_one", "one_for_all", "rest_for_one"];

function checkFlags(flags: SupervisorFlags): void {
  if (flags === null || typeof flags !== "object") {
    throw new TypeError(`Supervisor options must be an object with a "strategy", got ${String(flags)}`);
  }
  if (!STRATEGIES.includes(flags.strategy)) {
    throw new TypeError(
      `"strategy" must be "one_for_one", "one_for_all" or "rest_for_one", got ${JSON.stringify(flags.strategy)}`,
    );
  }
  checkIntensity(flags.maxRestarts ?? 3, flags.maxSeconds ?? 5);
}

function normalizeChildren(children: readonly Child[]): FullChildSpec[] {
  if (!Array.isArray(children)) throw new TypeError(`Supervisor children must be an array, got ${String(children)}`);
  const specs = children.map((c) => toSpec(c));
  const seen = new Set<ChildId>();
  for (const s of specs) {
    if (seen.has(s.id)) throw new TypeError(`Invalid children: duplicate child id ${showId(s.id)}`);
    seen.add(s.id);
  }
  return specs;
}

/** Starts `specs` in order; on a failure stops those started and returns the stop reason. */
async function startAll(state: State, specs: readonly FullChildSpec[]): Promise<unknown> {
  for (const spec of specs) {
    const r = await startChildProc(state.self, spec);
    if (r[0] === "error") {
      await terminateChildren(state, state.children);
      return ["shutdown", ["failed_to_start_child", spec.id, r[1]]];
    }
    if (r[1] === undefined && spec.restart === "temporary") continue;
    const rec: ChildRecord = { spec, pid: undefined };
    state.children.push(rec);
    state.setPid(rec, r[1]);
  }
  return undefined;
}

/** Stops `recs` in reverse order; temporary ones are forgotten. */
async function terminateChildren(state: State, recs: readonly ChildRecord[]): Promise<void> {
  const list = recs.slice();
  for (let i = list.length - 1; i >= 0; i--) await terminateOne(state, list[i]);
}

async function terminateOne(state: State, rec: ChildRecord): Promise<void> {
  const pid = rec.pid;
  rec.pid = undefined;
  if (pid !== undefined && pid !== "restarting") {
    state.byPid.delete(pid.id);
    await shutdownChild(state.self, pid, rec.spec.shutdown);
  }
  if (rec.spec.restart === "temporary") state.remove(rec);
}

/** Starts children from index `from` on that are not running; a failure schedules a retry. */
async function restartFrom(state: State, from: number): Promise<void> {
  const list = state.children.slice(from);
  for (const rec of list) {
    if (rec.pid !== undefined && rec.pid !== "restarting") continue;
    const r = await startChildProc(state.self, rec.spec);
    if (r[0] === "error") {
      rec.pid = "restarting";
      deliver(state.self, new RetryRestart(rec));
      return;
    }
    state.setPid(rec, r[1]);
  }
}

type InfoResult = readonly ["noreply", State] | readonly ["stop", unknown, State];

async function restart(state: State, rec: ChildRecord): Promise<InfoResult> {
  if (!state.intensity.add(performance.now())) return ["stop", "shutdown", state];
  const i = state.children.indexOf(rec);
  if (i < 0) return ["noreply", state];
  switch (state.strategy) {
    case "one_for_one": {
      const r = await startChildProc(state.self, rec.spec);
      if (r[0] === "error") {
        rec.pid = "restarting";
        deliver(state.self, new RetryRestart(rec));
      } else {
        state.setPid(rec, r[1]);
      }
      break;
    }
    case "one_for_all":
      await terminateChildren(state, state.children.filter((c) => c !== rec));
      await restartFrom(state, 0);
      break;
    case "rest_for_one":
      await terminateChildren(state, state.children.slice(i + 1));
      await restartFrom(state, state.children.indexOf(rec));
      break;
  }
  return ["noreply", state];
}

function childExited(state: State, rec: ChildRecord, reason: unknown): Promise<InfoResult> | InfoResult {
  rec.pid = undefined;
  if (rec.spec.restart === "temporary") {
    state.remove(rec);
    return ["noreply", state];
  }
  if (rec.spec.restart === "transient" && isNormalExit(reason)) return ["noreply", state];
  return restart(state, rec);
}

/** What the supervisor did about a child's exit, for its report. */
function actionTaken(state: State, rec: ChildRecord, result: InfoResult): string {
  if (result[0] === "stop") return shutdownAction(state.intensity);
  if (rec.spec.restart === "temporary") return "not restarted (temporary)";
  if (rec.pid === "restarting") return "restart failed, will retry";
  return rec.pid === undefined ? "not restarted" : `restarted as ${rec.pid}`;
}

function info(rec: ChildRecord): ChildInfo {
  return { id: rec.spec.id, pid: rec.pid, type: rec.spec.type, modules: rec.spec.modules };
}

function counts(recs: Iterable<ChildRecord>): ChildCounts {
  const c: ChildCounts = { specs: 0, active: 0, supervisors: 0, workers: 0 };
  for (const r of recs) {
    c.specs++;
    if (r.pid !== undefined && r.pid !== "restarting") c.active++;
    if (r.spec.type === "supervisor") c.supervisors++;
    else c.workers++;
  }
  return c;
}

const callbacks: Callbacks<State, InitArg, Request, Reply> = {
  async init(arg) {
    const self = currentProc()!;
    self.trapExit = true;
    let flags: SupervisorFlags;
    let specs: readonly FullChildSpec[];
    if (arg.kind === "list") {
      flags = arg.flags;
      specs = arg.specs;
    } else {
      const r = await arg.module.init(arg.arg);
      if (r === "ignore") return "ignore";
      checkFlags(r);
      flags = r;
      specs = normalizeChildren(r.children);
    }
    const state = new State(self, flags);
    const failed = await startAll(state, specs);
    if (failed !== undefined) return ["stop", failed];
    return ["ok", state];
  },

  async handleCall(req, _from, state) {
    switch (req[0]) {
      case "which_children":
        // Newest first, as OTP's which_children.
        return ["reply", ["ok", state.children.map(info).reverse()], state];
      case "count_children":
        return ["reply", ["ok", counts(state.children)], state];
      case "start_child": {
        const spec = req[1];
        const existing = state.find(spec.id);
        if (existing !== undefined) {
          const pid = existing.pid;
          const reason = pid !== undefined && pid !== "restarting" ? ["already_started", pid] : "already_present";
          return ["reply", ["start_error", reason], state];
        }
        const r = await startChildProc(state.self, spec);
        if (r[0] === "error") return ["reply", ["start_error", r[1]], state];
        if (r[1] !== undefined || spec.restart !== "temporary") {
          const rec: ChildRecord = { spec, pid: undefined };
          state.children.push(rec);
          state.setPid(rec, r[1]);
        }
        return ["reply", ["ok", r[1]], state];
      }
      case "terminate_child": {
        const rec = state.find(req[1]);
        if (rec === undefined) return ["reply", ["error", "not_found"], state];
        await terminateOne(state, rec);
        return ["reply", ["ok", undefined], state];
      }
      case "restart_child": {
        const rec = state.find(req[1]);
        if (rec === undefined) return ["reply", ["error", "not_found"], state];
        if (rec.pid === "restarting") return ["reply", ["error", "restarting"], state];
        if (rec.pid !== undefined) return ["reply", ["error", "running"], state];
        const r = await startChildProc(state.self, rec.spec);
        if (r[0] === "error") return ["reply", ["start_error", r[1]], state];
        state.setPid(rec, r[1]);
        return ["reply", ["ok", r[1]], state];
      }
      case "delete_child": {
        const rec = state.find(req[1]);
        if (rec === undefined) return ["reply", ["error", "not_found"], state];
        if (rec.pid === "restarting") return ["reply", ["error", "restarting"], state];
        if (rec.pid !== undefined) return ["reply", ["error", "running"], state];
        state.remove(rec);
        return ["reply", ["ok", undefined], state];
      }
    }
  },

  async handleInfo(msg: unknown, state) {
    if (msg instanceof ExitMessage) {
      const rec = state.byPid.get(msg.from.id);
      if (rec !== undefined) {
        state.byPid.delete(msg.from.id);
        const result = await childExited(state, rec, msg.reason);
        reportChildExit(state.self, rec.spec.id, msg.from, msg.reason, () => actionTaken(state, rec, result));
        return result;
      }
      // Started from plain code, the supervisor has no parent: plain code's exit signals stand in for one.
      if (state.self.parent === null && msg.from.id === 0) return ["stop", msg.reason, state];
      return ["noreply", state];
    }
    if (msg instanceof RetryRestart) {
      if (msg.rec.pid === "restarting" && state.children.includes(msg.rec)) return await restart(state, msg.rec);
    }
    return ["noreply", state];
  },

  async terminate(_reason, state) {
    await terminateChildren(state, state.children);
  },
};

/** @ignore Spawns a supervisor process. */
function spawnSupervisor(arg: InitArg, name: string | undefined): Promise<Pid> {
  return startBehaviour(new GenServerProcess(callbacks, "Supervisor"), arg, { name }, true);
}

// ---------------------------------------------------------------- client API

/**
 * Starts a supervisor linked to the caller (when the caller is a process) and
 * starts its children in order. Resolves with its pid once every child has
 * started. Rejects with a `TypeError` for invalid options or child specs, and
 * with {@linkcode StartError} when the supervisor cannot start: a child
 * failed (`["shutdown", ["failed_to_start_child", id, reason]]`, after the
 * children already started were stopped), the name is taken
 * (`["already_started", pid]`), or the module's `init` returned `"ignore"`.
 *
 * The second form takes a module whose `init(arg)` runs in the supervisor
 * process and returns {@linkcode init}`(children, flags)`.
 *
 * @example
 * ```ts
 * import { GenServer, Supervisor } from "../../mod.ts";
 * const worker = (id: string) => ({ id, start: () => GenServer.startLink({ init: () => ["ok", id] }, undefined) });
 * const sup = await Supervisor.startLink([worker("a"), worker("b")], {
 *   strategy: "rest_for_one",
 *   maxRestarts: 10,
 *   maxSeconds: 1,
 *   name: "doc_sup",
 * });
 * console.assert((await Supervisor.countChildren("doc_sup")).active === 2);
 * await Supervisor.stop(sup);
 * ```
 */
export function startLink(children: readonly Child[], opts: SupervisorOptions): Promise<Pid>;
/** Starts a module-based supervisor: `module.init(arg)` returns its flags and children. */
export function startLink<A>(module: SupervisorModule<A>, arg: A, opts?: { name?: string }): Promise<Pid>;
export function startLink(a: unknown, b: unknown, c?: { name?: string }): Promise<Pid> {
  try {
    if (Array.isArray(a)) {
      const opts = b as SupervisorOptions;
      checkFlags(opts);
      const flags: SupervisorFlags = {
        strategy: opts.strategy,
        maxRestarts: opts.maxRestarts,
        maxSeconds: opts.maxSeconds,
      };
      return spawnSupervisor({ kind: "list", flags, specs: normalizeChildren(a) }, opts.name);
    }
    if (a === null || typeof a !== "object" || typeof (a as SupervisorModule).init !== "function") {
      throw new TypeError(`Supervisor.startLink expects an array of children or a module with an init function`);
    }
    return spawnSupervisor({ kind: "module", module: a as SupervisorModule<unknown>, arg: b }, c?.name);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Builds what a supervisor module's `init` returns (Elixir's `Supervisor.init/2`).
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const KVSupervisor = {
 *   init: (_arg: undefined) => Supervisor.init([
 *     { id: "store", start: () => Agent.startLink(() => new Map()) },
 *   ], { strategy: "one_for_one" }),
 * };
 * const sup = await Supervisor.startLink(KVSupervisor, undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function init(children: readonly Child[], flags: SupervisorFlags): SupervisorInit {
  return { ...flags, children };
}

async function request<T>(sup: Pid | string, req: Request, op: string): Promise<T> {
  const r = await call<Request, Reply>(sup, req, Infinity);
  if (r[0] === "ok") return r[1] as T;
  if (r[0] === "start_error") throw new StartError(r[1]);
  throw new SupervisorError(op, r[1]);
}

/**
 * Adds a child to a running supervisor and starts it; resolves with its pid
 * (`undefined` if its start returned ignore). Rejects with
 * {@linkcode StartError}: `["already_started", pid]` or `"already_present"`
 * when the id is taken, or the child's start failure reason.
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([], { strategy: "one_for_one" });
 * const pid = await Supervisor.startChild(sup, { id: "extra", start: () => Agent.startLink(() => 0) });
 * console.assert(pid !== undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function startChild(sup: Pid | string, child: Child): Promise<Pid | undefined> {
  let spec: FullChildSpec;
  try {
    spec = toSpec(child);
  } catch (e) {
    return Promise.reject(e);
  }
  return request(sup, ["start_child", spec], `Supervisor.startChild(${String(sup)}, ${showId(spec.id)})`);
}

/**
 * Stops the child `id` (shutdown protocol as at supervisor exit). Its spec is
 * kept (so it can be restarted with {@linkcode restartChild}), unless it is
 * temporary. Rejects with {@linkcode SupervisorError} `"not_found"`.
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([{ id: "a", start: () => Agent.startLink(() => 0) }], { strategy: "one_for_one" });
 * await Supervisor.terminateChild(sup, "a");
 * console.assert((await Supervisor.whichChildren(sup))[0].pid === undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function terminateChild(sup: Pid | string, id: ChildId): Promise<void> {
  return request(sup, ["terminate_child", id], `Supervisor.terminateChild(${String(sup)}, ${showId(id)})`);
}

/**
 * Starts again a child that was terminated with {@linkcode terminateChild}.
 * Rejects with {@linkcode SupervisorError} `"running"`, `"restarting"` or
 * `"not_found"`, or with {@linkcode StartError} if it fails to start.
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([{ id: "a", start: () => Agent.startLink(() => 0) }], { strategy: "one_for_one" });
 * await Supervisor.terminateChild(sup, "a");
 * const pid = await Supervisor.restartChild(sup, "a");
 * console.assert(pid !== undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function restartChild(sup: Pid | string, id: ChildId): Promise<Pid | undefined> {
  return request(sup, ["restart_child", id], `Supervisor.restartChild(${String(sup)}, ${showId(id)})`);
}

/**
 * Forgets the spec of a child that is not running. Rejects with
 * {@linkcode SupervisorError} `"running"`, `"restarting"` or `"not_found"`.
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([{ id: "a", start: () => Agent.startLink(() => 0) }], { strategy: "one_for_one" });
 * await Supervisor.terminateChild(sup, "a");
 * await Supervisor.deleteChild(sup, "a");
 * console.assert((await Supervisor.countChildren(sup)).specs === 0);
 * await Supervisor.stop(sup);
 * ```
 */
export function deleteChild(sup: Pid | string, id: ChildId): Promise<void> {
  return request(sup, ["delete_child", id], `Supervisor.deleteChild(${String(sup)}, ${showId(id)})`);
}

/**
 * The supervisor's children, the last started first (as OTP's
 * `which_children`: the reverse of the start order). `type: "supervisor"` children
 * with a pid can be asked in turn, to walk the whole tree.
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([{ id: "a", start: () => Agent.startLink(() => 0) }], { strategy: "one_for_one" });
 * const [child] = await Supervisor.whichChildren(sup);
 * console.assert(child.id === "a" && child.type === "worker");
 * await Supervisor.stop(sup);
 * ```
 */
export function whichChildren(sup: Pid | string): Promise<ChildInfo[]> {
  return request(sup, ["which_children"], `Supervisor.whichChildren(${String(sup)})`);
}

/**
 * Counts the supervisor's children: specs, running, supervisors, workers.
 *
 * @example
 * ```ts
 * import { Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([], { strategy: "one_for_one" });
 * console.assert((await Supervisor.countChildren(sup)).specs === 0);
 * await Supervisor.stop(sup);
 * ```
 */
export function countChildren(sup: Pid | string): Promise<ChildCounts> {
  return request(sup, ["count_children"], `Supervisor.countChildren(${String(sup)})`);
}

/**
 * Stops the supervisor: its children stop in reverse start order, then it
 * exits with `reason` (default `"normal"`). Resolves once it is dead; rejects
 * as `GenServer.stop` does.
 *
 * @example
 * ```ts
 * import { Process, Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([], { strategy: "one_for_one" });
 * await Supervisor.stop(sup);
 * console.assert(!Process.isAlive(sup));
 * ```
 */
export function stop(sup: Pid | string, reason: unknown = "normal", timeout: number = Infinity): Promise<void> {
  return genStop(sup, reason, timeout);
}
