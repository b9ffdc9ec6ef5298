/**
 * Agent: a process that holds one value, read and changed with functions, as
 * Elixir's `Agent`. The functions run inside the agent's process, one at a
 * time, in the order the requests arrive.
 *
 * **The functions must be synchronous.** An `async` function's promise would
 * become the reply or the value, so a returned promise is refused: `get`,
 * `update` and `getAndUpdate` reject with a `TypeError` and the value stays
 * as it was; `start` fails; a `cast` crashes the agent with that error, as a
 * throwing function does. Do the asynchronous work first, then hand the
 * agent its result.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const agent = await Agent.start(() => new Map<string, number>());
 * await Agent.update(agent, (m) => m.set("milk", 3));
 * console.assert(await Agent.get(agent, (m) => m.get("milk")) === 3);
 * await Agent.stop(agent);
 * ```
 *
 * @module
 */
import type { Pid } from "./process/pid.ts";
import { call, type Callbacks, callWith, cast as genCast, type StartOptions, stop as genStop } from "./gen_server.ts";
import { GenServerProcess, startBehaviour } from "./_gen_server.ts";
import { type AgentRequest, GET, GET_AND_UPDATE, UPDATE } from "./_agent_request.ts";
import { linkProcs, type Proc, setLabelOf, spawnProc } from "./process/_runtime.ts";
import { adoptChild } from "./supervisor/_dynamic.ts";
import { childSpec as toSpec, type FullChildSpec } from "./supervisor/child_spec.ts";

/** An agent's pid, carrying the type of its value. */
export type AgentRef<S> = (Pid & { readonly __agent?: AgentMessage<S> }) | string;
/** Phantom message type of an agent (for typing only). */
export interface AgentMessage<S> {
  /** The agent's value type (never set). */
  readonly __state?: S;
}

type Request = AgentRequest;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as PromiseLike<unknown>).then === "function";
}

/** The error for a function that returned a promise (whose own failure is then ignored). */
function asyncRefused(what: string, r: PromiseLike<unknown>, becomes: string): TypeError {
  Promise.resolve(r).catch(() => {});
  return new TypeError(
    `${what}: the function returned a promise, but Agent functions must be synchronous (it would become ${becomes})`,
  );
}

const WHAT = ["Agent.get", "Agent.update", "Agent.getAndUpdate"];
const BECOMES = ["the reply", "the value", "the reply and the value"];

const agentCallbacks: Callbacks<unknown, () => unknown, Request, unknown, (s: unknown) => unknown> = {
  init(fn) {
    const state = fn();
    if (isThenable(state)) throw asyncRefused("Agent.start", state, "the value");
    return ["ok", state];
  },
  handleCall(req, from, state) {
    const r = req[1](state);
    if (isThenable(r)) {
      from.refuse(asyncRefused(WHAT[req[0]] ?? "Agent", r, BECOMES[req[0]] ?? "the reply"));
      return ["noreply", state];
    }
    switch (req[0]) {
      case GET:
        return ["reply", r, state];
      case UPDATE:
        return ["reply", undefined, r];
      default: {
        const [value, next] = r as [unknown, unknown];
        return ["reply", value, next];
      }
    }
  },
  handleCast(fn, state) {
    const next = fn(state);
    if (isThenable(next)) throw asyncRefused("Agent.cast", next, "the value");
    return ["noreply", next];
  },
};

function startAgent<S>(
  fn: () => S,
  opts: StartOptions | undefined,
  link: boolean,
): Promise<Pid & { readonly __agent?: AgentMessage<S> }> {
  return startBehaviour(new GenServerProcess(agentCallbacks as Callbacks<any, any>, "Agent"), fn, opts, link);
}

/**
 * Starts an agent whose value is `fn()` (run inside the agent).
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 1, { name: "doc_agent" });
 * console.assert(await Agent.get("doc_agent", (n: number) => n) === 1);
 * ```
 */
export function start<S>(fn: () => S, opts?: StartOptions): Promise<Pid & { readonly __agent?: AgentMessage<S> }> {
  return startAgent(fn, opts, false);
}

/**
 * Starts an agent linked to the caller.
 *
 * @example
 * ```ts
 * import { Agent, Process } from "../mod.ts";
 * await Process.run(async () => {
 *   const a = await Agent.startLink(() => []);
 *   await Agent.stop(a);
 * });
 * ```
 */
export function startLink<S>(fn: () => S, opts?: StartOptions): Promise<Pid & { readonly __agent?: AgentMessage<S> }> {
  return startAgent(fn, opts, true);
}

/**
 * Returns `fn(value)`, computed in the agent.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => [1, 2, 3]);
 * console.assert(await Agent.get(a, (xs) => xs.length) === 3);
 * ```
 */
export function get<S, R>(agent: AgentRef<S>, fn: (state: S) => R, timeout = 5000): Promise<R> {
  return call(agent as Pid, [GET, fn] as Request, timeout) as Promise<R>;
}

/**
 * Replaces the value with `fn(value)`; resolves once done.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 1);
 * await Agent.update(a, (n) => n + 1);
 * console.assert(await Agent.get(a, (n) => n) === 2);
 * ```
 */
export function update<S>(agent: AgentRef<S>, fn: (state: S) => S, timeout = 5000): Promise<void> {
  return call(agent as Pid, [UPDATE, fn] as Request, timeout);
}

/**
 * `fn(value)` returns `[reply, newValue]`: stores `newValue`, resolves to `reply`.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 5);
 * console.assert(await Agent.getAndUpdate(a, (n) => [n, 0]) === 5);
 * ```
 */
export function getAndUpdate<S, R>(agent: AgentRef<S>, fn: (state: S) => [R, S], timeout = 5000): Promise<R> {
  return call(agent as Pid, [GET_AND_UPDATE, fn] as Request, timeout) as Promise<R>;
}

/**
 * An update request built once by {@linkcode prepareUpdate}, to be sent any
 * number of times with {@linkcode updateWith} (no request allocated per send).
 */
export type PreparedUpdate<S> = { readonly __preparedUpdate: (state: S) => S };

/**
 * Builds the request of an update once: `updateWith(agent, prepared, done)`
 * then sends it as is. For servers that apply the same function (one that
 * reads its input from a buffer it owns, say) again and again.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 0);
 * const increment = Agent.prepareUpdate((n: number) => n + 1);
 * for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => Agent.updateWith(a, increment, () => resolve()));
 * console.assert(await Agent.get(a, (n) => n) === 3);
 * ```
 */
export function prepareUpdate<S>(fn: (state: S) => S): PreparedUpdate<S> {
  if (typeof fn !== "function") throw new TypeError("Agent.prepareUpdate expects a function");
  return [UPDATE, fn] as Request as unknown as PreparedUpdate<S>;
}

/**
 * `update` for hot paths: `done()` runs once the value is replaced, or
 * `done(error)` with the {@linkcode GenServer.CallError} if the agent is gone
 * or exits first; no promise is made (see `GenServer.callWith`). `fn` may be
 * a {@linkcode PreparedUpdate}, sent without building a request.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 1);
 * await new Promise<void>((resolve) => Agent.updateWith(a, (n) => n + 1, () => resolve()));
 * console.assert(await Agent.get(a, (n) => n) === 2);
 * ```
 */
export function updateWith<S>(
  agent: AgentRef<S>,
  fn: ((state: S) => S) | PreparedUpdate<S>,
  done: (error?: unknown) => void,
  timeout = 5000,
): void {
  // An update's reply is undefined, so `done` serves for both outcomes.
  const request = typeof fn === "function" ? [UPDATE, fn] as Request : fn as unknown as Request;
  callWith(agent as Pid, request, done, done, timeout);
}

/**
 * Replaces the value with `fn(value)` without waiting.
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 1);
 * Agent.cast(a, (n) => n * 10);
 * console.assert(await Agent.get(a, (n) => n) === 10);
 * ```
 */
export function cast<S>(agent: AgentRef<S>, fn: (state: S) => S): void {
  genCast(agent as Pid, fn);
}

/**
 * Stops the agent with `reason` (default `"normal"`).
 *
 * @example
 * ```ts
 * import { Agent } from "../mod.ts";
 * const a = await Agent.start(() => 1);
 * await Agent.stop(a);
 * ```
 */
export function stop<S>(agent: AgentRef<S>, reason: unknown = "normal", timeout = Infinity): Promise<void> {
  return genStop(agent as Pid, reason, timeout);
}

let adoptedSpec: FullChildSpec | undefined;

/**
 * Options of {@linkcode startChildren}.
 *
 * @example
 * ```ts
 * import type { Agent } from "../mod.ts";
 * const names = ["a", "b"];
 * const options: Agent.StartChildrenOptions = { label: (i) => ["bucket", names[i]] };
 * console.assert(options.label !== undefined);
 * ```
 */
export interface StartChildrenOptions {
  /** The label of the agent at index `i` (as `Process.setLabel`); none when omitted. */
  label?: (index: number) => unknown;
}

/**
 * Starts one agent per value of `states` under the DynamicSupervisor `sup`,
 * at once and synchronously: each agent's value is given (no function to
 * run), and `sup` knows every child before this returns. The bulk path for
 * restoring many agents (a million take about a second, where a million
 * `DynamicSupervisor.startChild` calls take several). The children are
 * `temporary` (there is no start function to restart them with) and get
 * `shutdown: 5000`. Throws `GenServer.CallError` (`noproc`) if `sup` is not
 * running, `DynamicSupervisor.StartError` (`"max_children"`) when it fills up
 * (the agents started before stay).
 *
 * `options.label`, if given, labels agent `i` with `label(i)` as if it had
 * called `Process.setLabel` itself (there is no init in which it could).
 *
 * @example
 * ```ts
 * import { Agent, DynamicSupervisor, Process } from "../mod.ts";
 * const sup = await DynamicSupervisor.startLink();
 * const [a, b] = Agent.startChildren(sup, [1, 2], { label: (i) => ["counter", i] });
 * console.assert(await Agent.get(b, (n: number) => n) === 2);
 * console.assert((await DynamicSupervisor.countChildren(sup)).active === 2);
 * console.assert(Process.formatLabel(Process.getLabel(a)) === "counter 0");
 * await DynamicSupervisor.stop(sup);
 * ```
 */
export function startChildren<S>(
  sup: Pid | string,
  states: readonly S[],
  options: StartChildrenOptions = {},
): (Pid & { readonly __agent?: AgentMessage<S> })[] {
  const spec = adoptedSpec ??= toSpec({
    id: "Agent",
    start: () => {
      throw new Error("An agent started with Agent.startChildren is never restarted");
    },
    restart: "temporary",
    shutdown: 5000,
  });
  const pids: Pid[] = new Array(states.length);
  const label = options.label;
  for (let i = 0; i < states.length; i++) {
    const state = states[i];
    pids[i] = adoptChild(sup, spec, (supProc: Proc) => {
      // deno-lint-ignore no-explicit-any
      const server = new GenServerProcess(agentCallbacks as Callbacks<any, any>, "Agent");
      const proc = spawnProc(supProc, "Agent", null, server);
      server.proc = proc;
      server.state = state;
      linkProcs(supProc, proc);
      if (label !== undefined) setLabelOf(proc, label(i));
      return proc.pid;
    });
  }
  return pids;
}
