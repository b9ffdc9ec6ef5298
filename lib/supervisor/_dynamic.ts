/**
 * The DynamicSupervisor process: children started on demand, all alike in
 * treatment (`one_for_one`), stopped together. Private: the client API is
 * `dynamic_supervisor.ts`; `task_supervisor.ts` also adopts children here.
 *
 * @module
 */
import type { Pid } from "../process/pid.ts";
import { currentProc, deliver, lookup, type Proc } from "../process/_runtime.ts";
import { ExitMessage } from "../process/messages.ts";
import { isNormalExit } from "../process/reason.ts";
import { call, type Callbacks, CallError, StartError } from "../gen_server.ts";
import { GenServerProcess, startBehaviour } from "../_gen_server.ts";
import type { FullChildSpec } from "./child_spec.ts";
import { checkIntensity, RestartIntensity, shutdownAction } from "./_restart_intensity.ts";
import { reportChildExit } from "./_report.ts";
import { shutdownChild, startChildProc } from "./_child_ops.ts";
import { SupervisorError } from "./supervisor_error.ts";
import type { ChildCounts, ChildInfo } from "./supervisor.ts";

/** Options of a DynamicSupervisor (and a Task.Supervisor). */
export interface DynamicSupervisorOptions {
  /** Register it under this name. */
  name?: string;
  /** Only `"one_for_one"`, the default, as in Elixir. */
  strategy?: "one_for_one";
  /** Restarts allowed within `maxSeconds` before it gives up. Default 3. */
  maxRestarts?: number;
  /** The intensity window, in seconds. Default 5. */
  maxSeconds?: number;
  /** Most children at once; `startChild` past it fails with `"max_children"`. Default `Infinity`. */
  maxChildren?: number;
}

interface DynChild {
  readonly spec: FullChildSpec;
  pid: Pid | "restarting";
}

/** @ignore The process state. */
export class DynState {
  readonly self: Proc;
  readonly intensity: RestartIntensity;
  readonly maxChildren: number;
  /**
   * Running children started with {@linkcode common}, the spec of the first
   * child (children are usually all alike: a million buckets is the common
   * case), kept as their bare pids in a `Set` (no record per child, and a
   * `Set` entry costs JavaScriptCore about 40 bytes where a `Map` entry costs
   * 55); children with any other spec are kept as records by pid id.
   */
  readonly commonPids = new Set<Pid>();
  readonly others = new Map<number, DynChild>();
  common: FullChildSpec | undefined = undefined;
  /** Children whose restart failed and will be tried again. */
  readonly restarting = new Set<DynChild>();
  stopping = false;
  constructor(self: Proc, opts: DynamicSupervisorOptions) {
    this.self = self;
    this.intensity = new RestartIntensity(opts.maxRestarts ?? 3, opts.maxSeconds ?? 5);
    this.maxChildren = opts.maxChildren ?? Infinity;
  }
  add(spec: FullChildSpec, pid: Pid): void {
    if (this.common === undefined) this.common = spec;
    if (spec === this.common) this.commonPids.add(pid);
    else this.others.set(pid.id, { spec, pid });
  }
  /** Removes and returns the running child `pid` (a local pid is one object for its process's life). */
  take(pid: Pid): DynChild | undefined {
    if (this.commonPids.delete(pid)) return { spec: this.common!, pid };
    const rec = this.others.get(pid.id);
    if (rec === undefined) return undefined;
    this.others.delete(pid.id);
    return rec;
  }
  /** How many children, running or restarting. */
  get count(): number {
    return this.commonPids.size + this.others.size + this.restarting.size;
  }
  /** Forgets every running child. */
  clear(): void {
    this.commonPids.clear();
    this.others.clear();
  }
  /** Every child, running ones first. */
  all(): DynChild[] {
    const out: DynChild[] = [];
    const common = this.common!;
    for (const pid of this.commonPids) out.push({ spec: common, pid });
    for (const rec of this.others.values()) out.push(rec);
    for (const rec of this.restarting) out.push(rec);
    return out;
  }
}

class RetryRestart {
  constructor(readonly rec: DynChild) {}
}

type Request =
  | readonly ["start_child", FullChildSpec]
  | readonly ["terminate_child", Pid]
  | readonly ["which_children" | "count_children"];

type Reply = readonly ["ok", unknown] | readonly ["error", unknown] | readonly ["start_error", unknown];

type InfoResult = readonly ["noreply", DynState] | readonly ["stop", unknown, DynState];

async function restart(state: DynState, rec: DynChild): Promise<InfoResult> {
  if (!state.intensity.add(performance.now())) return ["stop", "shutdown", state];
  const r = await startChildProc(state.self, rec.spec);
  if (r[0] === "error") {
    rec.pid = "restarting";
    state.restarting.add(rec);
    deliver(state.self, new RetryRestart(rec));
  } else {
    state.restarting.delete(rec);
    if (r[1] !== undefined) {
      rec.pid = r[1];
      state.add(rec.spec, r[1]);
    }
  }
  return ["noreply", state];
}

function info(rec: DynChild): ChildInfo {
  return { id: undefined, pid: rec.pid, type: rec.spec.type, modules: rec.spec.modules };
}

const callbacks: Callbacks<DynState, DynamicSupervisorOptions, Request, Reply> = {
  init(opts) {
    const self = currentProc()!;
    self.trapExit = true;
    return ["ok", new DynState(self, opts)];
  },

  async handleCall(req, _from, state) {
    switch (req[0]) {
      case "start_child": {
        if (state.count >= state.maxChildren) return ["reply", ["start_error", "max_children"], state];
        const spec = req[1];
        const r = await startChildProc(state.self, spec);
        if (r[0] === "error") return ["reply", ["start_error", r[1]], state];
        if (r[1] !== undefined) state.add(spec, r[1]);
        return ["reply", ["ok", r[1]], state];
      }
      case "terminate_child": {
        const rec = state.take(req[1]);
        if (rec === undefined) return ["reply", ["error", "not_found"], state];
        await shutdownChild(state.self, req[1], rec.spec.shutdown);
        return ["reply", ["ok", undefined], state];
      }
      case "which_children":
        return ["reply", ["ok", state.all().map(info)], state];
      case "count_children": {
        const c: ChildCounts = { specs: 0, active: 0, supervisors: 0, workers: 0 };
        for (const rec of state.all()) {
          c.specs++;
          if (rec.pid !== "restarting") c.active++;
          if (rec.spec.type === "supervisor") c.supervisors++;
          else c.workers++;
        }
        return ["reply", ["ok", c], state];
      }
    }
  },

  async handleInfo(msg: unknown, state) {
    if (msg instanceof ExitMessage) {
      const rec = state.take(msg.from);
      if (rec !== undefined) {
        const restartType = rec.spec.restart;
        if (restartType === "temporary" || (restartType === "transient" && isNormalExit(msg.reason))) {
          reportChildExit(state.self, undefined, msg.from, msg.reason, () => "not restarted (temporary)");
          return ["noreply", state];
        }
        const result = await restart(state, rec);
        reportChildExit(
          state.self,
          undefined,
          msg.from,
          msg.reason,
          () =>
            result[0] === "stop"
              ? shutdownAction(state.intensity)
              : rec.pid === "restarting"
              ? "restart failed, will retry"
              : `restarted as ${rec.pid}`,
        );
        return result;
      }
      // Started from plain code, it has no parent: plain code's exit signals stand in for one.
      if (state.self.parent === null && msg.from.id === 0) return ["stop", msg.reason, state];
      return ["noreply", state];
    }
    if (msg instanceof RetryRestart && msg.rec.pid === "restarting" && state.restarting.has(msg.rec)) {
      return await restart(state, msg.rec);
    }
    return ["noreply", state];
  },

  async terminate(_reason, state) {
    state.stopping = true;
    const stopping: Promise<unknown>[] = [];
    for (const rec of state.all()) {
      if (rec.pid !== "restarting") stopping.push(shutdownChild(state.self, rec.pid, rec.spec.shutdown));
    }
    state.restarting.clear();
    state.clear();
    await Promise.all(stopping);
  },
};

/** @ignore Starts a DynamicSupervisor process; `kind` names it for introspection. */
export function startDynamic(opts: DynamicSupervisorOptions | undefined, kind: string): Promise<Pid> {
  const o = opts ?? {};
  try {
    if (o.strategy !== undefined && o.strategy !== "one_for_one") {
      throw new TypeError(`"strategy" of a DynamicSupervisor must be "one_for_one", got ${JSON.stringify(o.strategy)}`);
    }
    checkIntensity(o.maxRestarts ?? 3, o.maxSeconds ?? 5);
    const max = o.maxChildren ?? Infinity;
    if (typeof max !== "number" || !(max >= 0)) {
      throw new TypeError(`"maxChildren" must be a non-negative number, got ${String(max)}`);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  return startBehaviour(new GenServerProcess(callbacks, kind), o, { name: o.name }, true);
}

/** @ignore Sends a request and turns the reply into a value or an error. */
export async function request<T>(sup: Pid | string, req: Request, op: string): Promise<T> {
  const r = await call<Request, Reply>(sup, req, Infinity);
  if (r[0] === "ok") return r[1] as T;
  if (r[0] === "start_error") throw new StartError(r[1]);
  throw new SupervisorError(op, r[1]);
}

/**
 * Makes a child under the DynamicSupervisor `sup` synchronously, from the
 * caller: `spawn(supProc)` must create the child linked to `supProc`; the
 * supervisor then knows it before it can run. Throws `CallError` `noproc`
 * if `sup` is not running, `StartError` `"max_children"` when it is full, and
 * a `TypeError` if `sup` is not a DynamicSupervisor.
 *
 * @ignore
 */
export function adoptChild(sup: Pid | string, spec: FullChildSpec, spawn: (supProc: Proc) => Pid): Pid {
  const p = lookup(sup);
  const b = p?.behaviour;
  if (p === null || !p.alive) throw new CallError("noproc", sup, "start_child", Infinity);
  if (!(b instanceof GenServerProcess) || !(b.state instanceof DynState)) {
    throw new TypeError(`Process ${String(sup)} is not a DynamicSupervisor`);
  }
  const state = b.state;
  if (state.stopping) throw new CallError("noproc", sup, "start_child", Infinity);
  if (state.count >= state.maxChildren) throw new StartError("max_children");
  const pid = spawn(p);
  state.add(spec, pid);
  return pid;
}
