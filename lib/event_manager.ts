/**
 * EventManager: a process that dispatches events to handlers, as Erlang's
 * `gen_event` (Elixir's former `GenEvent`) does. Handlers are plain objects
 * whose state lives in the manager; they run one after another inside the
 * manager's process, the most recently added first, as in `gen_event`.
 *
 * A handler:
 *
 * | callback | returns |
 * |---|---|
 * | `init?(arg)` | the initial state (without `init`, the state is `arg`); throwing fails `addHandler` |
 * | `handleEvent(event, state)` | the new state, `["ok", state]`, or `"remove_handler"` |
 * | `handleCall?(request, state)` | `[reply, state]` |
 * | `handleInfo?(msg, state)` | as `handleEvent`; gets the other messages sent to the manager |
 * | `terminate?(reason, state)` | anything; `removeHandler` resolves to it |
 *
 * Return `["ok", state]` when the state itself could be mistaken for one of
 * the other shapes (the string `"remove_handler"` or an `["ok", x]` pair).
 * Any callback may return a promise; the manager handles nothing else until
 * it settles.
 *
 * A handler whose callback throws is removed (`terminate` gets
 * `["error", thrown]`); the manager and the other handlers carry on.
 *
 * `terminate`'s reason says why a handler goes: the argument given to
 * `removeHandler`, `"remove_handler"` when it asked, `["error", thrown]` when
 * it crashed, `["stop", reason]` when the process that added it with
 * `addMonHandler` died, and `"stop"` when the manager stops.
 *
 * @example Collecting events
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const log: string[] = [];
 * const manager = await EventManager.start<string>();
 * await EventManager.addHandler(manager, {
 *   handleEvent: (event: string, n: number) => { log.push(event); return n + 1; },
 *   handleCall: (_req: "count", n: number) => [n, n],
 * }, 0, { id: "logger" });
 * EventManager.notify(manager, "hello");
 * await EventManager.syncNotify(manager, "world");
 * console.assert(log.join() === "hello,world");
 * console.assert(await EventManager.call(manager, "logger", "count") === 2);
 * await EventManager.stop(manager);
 * ```
 *
 * @module
 */
import type { Pid, Ref } from "./process/pid.ts";
import {
  addMonitor,
  als,
  currentProc,
  dropMonitor,
  findMatch,
  holdMonitor,
  lookup,
  type Proc,
  ProcMonitor,
  releaseMonitor,
  takeAt,
} from "./process/_runtime.ts";
import { DownMessage } from "./process/messages.ts";
import { formatReason } from "./process/reason.ts";
import { call as genCall, type Callbacks, cast, type StartOptions, stop as genStop } from "./gen_server.ts";
import { GenServerProcess, startBehaviour } from "./_gen_server.ts";
import { send } from "./process/process.ts";

type MaybePromise<T> = T | Promise<T>;

/** What `handleEvent` and `handleInfo` return: a new state, `["ok", state]`, or `"remove_handler"`. */
export type HandlerResult<S> = S | readonly ["ok", S] | "remove_handler";

/**
 * An event handler. `E` is the event type, `S` its state, `A` the argument
 * given to `addHandler`, `Req`/`Rep` what `call` sends and gets back.
 */
// deno-lint-ignore no-explicit-any
export interface Handler<E = any, S = any, A = any, Req = any, Rep = any> {
  /** Builds the state from the `addHandler` argument (default: the argument itself). */
  init?(arg: A): MaybePromise<S>;
  /** Handles one event. */
  handleEvent(event: E, state: S): MaybePromise<HandlerResult<S>>;
  /** Answers `EventManager.call`. */
  handleCall?(request: Req, state: S): MaybePromise<readonly [Rep, S]>;
  /** Handles any other message sent to the manager. */
  handleInfo?(msg: unknown, state: S): MaybePromise<HandlerResult<S>>;
  /** Runs when the handler is removed, for any reason. */
  terminate?(reason: unknown, state: S): unknown;
}

/** Identifies an installed handler: the `id` option of `addHandler`, or the handler object. */
export type HandlerId = unknown;

/** An event manager's pid, carrying its event type. */
export type ManagerRef<E = unknown> = Pid<EventManagerMessage<E>>;
/** Phantom message type of an event manager (for typing only). */
export interface EventManagerMessage<E> {
  /** The event type (never set). */
  readonly __event?: E;
}

/** Options for `addHandler` and `addMonHandler`. */
export interface AddHandlerOptions {
  /** The id the handler goes by; defaults to the handler object. Needed to add one handler twice. */
  id?: HandlerId;
}

/**
 * Sent to the process that added a handler with `addMonHandler` when the
 * handler is removed for any reason but that process's death (Erlang's
 * `{gen_event_EXIT, Handler, Reason}`). `reason` is `"normal"` (removed with
 * `removeHandler`, or it returned `"remove_handler"`), `["error", thrown]` (it
 * crashed) or `"shutdown"` (the manager stopped).
 */
export class HandlerExitMessage {
  /** The event manager. */
  readonly manager: Pid;
  /** The handler's id. */
  readonly handler: HandlerId;
  /** Why it was removed. */
  readonly reason: unknown;
  /** @ignore */
  constructor(manager: Pid, handler: HandlerId, reason: unknown) {
    this.manager = manager;
    this.handler = handler;
    this.reason = reason;
  }
}

/**
 * A handler operation failed. `reason` is `"already_present"` (an add with an
 * id in use), `"module_not_found"` (`removeHandler`: no handler with that id)
 * or `"bad_module"` (`call`: no handler with that id), as `gen_event` says, or `["error", thrown]`
 * (the handler's `init` or `handleCall` threw; a throwing `handleCall` also
 * removes the handler).
 */
export class EventManagerError extends Error {
  /** Why it failed. */
  readonly reason: unknown;
  /** The handler's id. */
  readonly handler: HandlerId;
  /**
   * Creates the error.
   *
   * @param reason Why.
   * @param handler The handler.
   * @param manager The manager.
   */
  constructor(reason: unknown, handler: HandlerId, manager: Pid | string) {
    const what = reason === "already_present"
      ? "is already installed"
      : reason === "module_not_found" || reason === "bad_module"
      ? "is not installed"
      : `failed: ${formatReason(reason)}`;
    super(`Event handler ${showId(handler)} in event manager ${String(manager)} ${what}`);
    this.name = "EventManagerError";
    this.reason = reason;
    this.handler = handler;
  }
}

function showId(id: HandlerId): string {
  if (typeof id === "string") return JSON.stringify(id);
  if (typeof id === "function") return id.name || "<anonymous>";
  if (id !== null && typeof id === "object") {
    const name = (id as { name?: unknown }).name;
    if (typeof name === "string") return name;
    const ctor = (id as object).constructor?.name;
    return ctor && ctor !== "Object" ? ctor : "<handler object>";
  }
  return formatReason(id);
}

// ---------------------------------------------------------------- requests

class AddRequest {
  constructor(
    readonly id: HandlerId,
    readonly handler: Handler,
    readonly arg: unknown,
    readonly adder: Pid | null,
  ) {}
}
class RemoveRequest {
  constructor(readonly id: HandlerId, readonly arg: unknown) {}
}
class SyncNotify {
  constructor(readonly event: unknown) {}
}
class HandlerCall {
  constructor(readonly id: HandlerId, readonly request: unknown) {}
}
class WhichHandlers {}

type Outcome = readonly ["ok", unknown] | readonly ["error", unknown];

// ---------------------------------------------------------------- the manager

interface Entry {
  readonly id: HandlerId;
  readonly handler: Handler;
  state: unknown;
  /** Monitor on the adder (addMonHandler). */
  readonly monRef: Ref | null;
  readonly adder: Pid | null;
  removed: boolean;
}

interface ManagerState {
  readonly proc: Proc;
  entries: Entry[];
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as PromiseLike<unknown>).then === "function";
}

const AsyncFunction = (async () => {}).constructor;

/** Calls a handler callback; `async` ones run in the manager's context so `Process.self()` holds after `await`. */
function invoke(st: ManagerState, h: Handler, fn: (...args: any[]) => unknown, a: unknown, b: unknown): unknown {
  if (fn.constructor === AsyncFunction) return als.run(st.proc, () => fn.call(h, a, b));
  return fn.call(h, a, b);
}

function find(st: ManagerState, id: HandlerId): Entry | undefined {
  for (const e of st.entries) if (e.id === id) return e;
  return undefined;
}

/** Monitors `pid` on behalf of the manager process. */
function monitorFrom(proc: Proc, pid: Pid): Ref {
  const target = lookup(pid);
  const m = new ProcMonitor(proc);
  if (target !== null && target.alive) holdMonitor(m, target);
  addMonitor(target, m.id, m);
  return m;
}

/** Removes a monitor and any DOWN it already queued. */
function demonitorFlush(proc: Proc, ref: Ref): void {
  const target = releaseMonitor(proc, ref);
  if (target !== null) dropMonitor(target, ref.id);
  const i = findMatch(proc, (m) => m instanceof DownMessage && m.ref === ref, proc.mqHead);
  if (i >= 0) takeAt(proc, i);
}

/**
 * Takes the handler out, runs its `terminate`, and tells a monitoring adder
 * (unless `tell` is null). Returns what `terminate` returned.
 */
function removeEntry(st: ManagerState, e: Entry, reason: unknown, tell: unknown | null): unknown {
  if (e.removed) return undefined;
  e.removed = true;
  const i = st.entries.indexOf(e);
  if (i >= 0) st.entries.splice(i, 1);
  if (e.monRef !== null) demonitorFlush(st.proc, e.monRef);
  let r: unknown;
  const t = e.handler.terminate;
  if (t !== undefined) {
    try {
      r = invoke(st, e.handler, t, reason, e.state);
    } catch {
      r = undefined; // a throwing terminate changes nothing: the handler is gone anyway
    }
    if (isThenable(r)) r = Promise.resolve(r).catch(() => undefined);
  }
  if (tell !== null && e.adder !== null) send(e.adder, new HandlerExitMessage(st.proc.pid, e.id, tell));
  return r;
}

/** Applies a `handleEvent`/`handleInfo` result. */
function applyResult(st: ManagerState, e: Entry, r: unknown): void {
  if (e.removed) return;
  if (r === "remove_handler") {
    removeEntry(st, e, "remove_handler", "normal");
  } else if (Array.isArray(r) && r.length === 2 && r[0] === "ok") {
    e.state = r[1];
  } else {
    e.state = r;
  }
}

function crashed(st: ManagerState, e: Entry, thrown: unknown): void {
  removeEntry(st, e, ["error", thrown], ["error", thrown]);
}

/** Runs every handler on `msg`, in order; returns a promise only if some handler is async. */
function dispatch(st: ManagerState, msg: unknown, info: boolean): void | Promise<void> {
  return dispatchFrom(st, st.entries.slice(), 0, msg, info);
}

function dispatchFrom(
  st: ManagerState,
  list: Entry[],
  start: number,
  msg: unknown,
  info: boolean,
): void | Promise<void> {
  for (let i = start; i < list.length; i++) {
    const e = list[i];
    if (e.removed) continue;
    const fn = info ? e.handler.handleInfo : e.handler.handleEvent;
    if (fn === undefined) continue;
    let r: unknown;
    try {
      r = invoke(st, e.handler, fn, msg, e.state);
    } catch (thrown) {
      crashed(st, e, thrown);
      continue;
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then(
        (v) => applyResult(st, e, v),
        (thrown) => crashed(st, e, thrown),
      ).then(() => dispatchFrom(st, list, i + 1, msg, info));
    }
    applyResult(st, e, r);
  }
}

function addEntry(st: ManagerState, req: AddRequest): MaybePromise<Outcome> {
  if (find(st, req.id) !== undefined) return ["error", "already_present"];
  const h = req.handler;
  const install = (state: unknown): Outcome => {
    if (find(st, req.id) !== undefined) return ["error", "already_present"];
    const monRef = req.adder !== null ? monitorFrom(st.proc, req.adder) : null;
    // Newest first, as gen_event runs, lists and terminates them.
    st.entries.unshift({ id: req.id, handler: h, state, monRef, adder: req.adder, removed: false });
    return ["ok", undefined];
  };
  if (h.init === undefined) return install(req.arg);
  let s: unknown;
  try {
    s = invoke(st, h, h.init, req.arg, undefined);
  } catch (thrown) {
    return ["error", ["error", thrown]];
  }
  if (isThenable(s)) return Promise.resolve(s).then(install, (thrown): Outcome => ["error", ["error", thrown]]);
  return install(s);
}

function callEntry(st: ManagerState, req: HandlerCall): MaybePromise<Outcome> {
  const e = find(st, req.id);
  if (e === undefined) return ["error", "bad_module"];
  const fn = e.handler.handleCall;
  if (fn === undefined) {
    const thrown = new Error(`Event handler ${showId(e.id)} has no handleCall callback`);
    crashed(st, e, thrown);
    return ["error", ["error", thrown]];
  }
  const settle = (r: unknown): Outcome => {
    if (!Array.isArray(r) || r.length !== 2) {
      const thrown = new Error(`Bad return value from handleCall of event handler ${showId(e.id)}: ${formatReason(r)}`);
      crashed(st, e, thrown);
      return ["error", ["error", thrown]];
    }
    if (!e.removed) e.state = r[1];
    return ["ok", r[0]];
  };
  const fail = (thrown: unknown): Outcome => {
    crashed(st, e, thrown);
    return ["error", ["error", thrown]];
  };
  let r: unknown;
  try {
    r = invoke(st, e.handler, fn, req.request, e.state);
  } catch (thrown) {
    return fail(thrown);
  }
  if (isThenable(r)) return Promise.resolve(r).then(settle, fail);
  return settle(r);
}

function reply(st: ManagerState, v: MaybePromise<unknown>) {
  if (isThenable(v)) return Promise.resolve(v).then((x) => ["reply", x, st] as const);
  return ["reply", v, st] as const;
}

const managerCallbacks: Callbacks<ManagerState, undefined> = {
  init() {
    const proc = currentProc()!;
    proc.trapExit = true; // as gen_event: an exit from the parent runs the handlers' terminate
    return ["ok", { proc, entries: [] }];
  },
  handleCall(req: unknown, _from, st) {
    if (req instanceof SyncNotify) {
      const r = dispatch(st, req.event, false);
      return reply(st, r === undefined ? "ok" : r.then(() => "ok"));
    }
    if (req instanceof AddRequest) return reply(st, addEntry(st, req));
    if (req instanceof RemoveRequest) {
      const e = find(st, req.id);
      if (e === undefined) return ["reply", ["error", "module_not_found"], st];
      const r = removeEntry(st, e, req.arg, "normal");
      return reply(st, isThenable(r) ? Promise.resolve(r).then((v) => ["ok", v]) : ["ok", r]);
    }
    if (req instanceof HandlerCall) return reply(st, callEntry(st, req));
    if (req instanceof WhichHandlers) return ["reply", st.entries.map((e) => e.id), st];
    throw new Error(`Unknown event manager request: ${formatReason(req)}`);
  },
  handleCast(event, st) {
    const r = dispatch(st, event, false);
    if (r === undefined) return ["noreply", st];
    return r.then(() => ["noreply", st] as const);
  },
  handleInfo(msg, st) {
    if (msg instanceof DownMessage) {
      for (const e of st.entries) {
        if (e.monRef === msg.ref) {
          const r = removeEntry(st, e, ["stop", msg.reason], null);
          if (isThenable(r)) return Promise.resolve(r).then(() => ["noreply", st] as const);
          return ["noreply", st];
        }
      }
    }
    const r = dispatch(st, msg, true);
    if (r === undefined) return ["noreply", st];
    return r.then(() => ["noreply", st] as const);
  },
  terminate(_reason, st) {
    const pending: Promise<unknown>[] = [];
    for (const e of st.entries.slice()) {
      const r = removeEntry(st, e, "stop", "shutdown");
      if (isThenable(r)) pending.push(Promise.resolve(r));
    }
    return pending.length === 0 ? undefined : Promise.all(pending);
  },
};

function startManager<E>(opts: StartOptions | undefined, link: boolean): Promise<ManagerRef<E>> {
  return startBehaviour(new GenServerProcess(managerCallbacks, "EventManager"), undefined, opts, link);
}

/**
 * Starts an event manager with no handlers (not linked). `E` is the type of
 * its events. With `name`, it is registered under that name; a taken name
 * rejects with `GenServer.StartError` `["already_started", pid]`.
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const manager = await EventManager.start<{ type: "login"; user: string }>({ name: "doc_events" });
 * EventManager.notify("doc_events", { type: "login", user: "ada" });
 * await EventManager.stop(manager);
 * ```
 */
export function start<E = unknown>(opts?: StartOptions): Promise<ManagerRef<E>> {
  return startManager<E>(opts, false);
}

/**
 * Starts an event manager linked to the caller (for supervision trees). It
 * traps exits: an exit signal from its parent runs every handler's
 * `terminate` before it exits.
 *
 * @example
 * ```ts
 * import { EventManager, Process } from "../mod.ts";
 * await Process.run(async () => {
 *   const manager = await EventManager.startLink();
 *   console.assert(Process.info(manager)!.links.includes(Process.self()));
 *   await EventManager.stop(manager);
 * });
 * ```
 */
export function startLink<E = unknown>(opts?: StartOptions): Promise<ManagerRef<E>> {
  return startManager<E>(opts, true);
}

/**
 * Stops the manager: each handler's `terminate` gets `"stop"`, each
 * `addMonHandler` adder a {@linkcode HandlerExitMessage} with `"shutdown"`,
 * then it exits with `reason` (default `"normal"`). Rejects as `GenServer.stop`.
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const manager = await EventManager.start();
 * await EventManager.stop(manager);
 * ```
 */
export function stop(manager: ManagerRef | string, reason: unknown = "normal", timeout?: number): Promise<void> {
  return genStop(manager, reason, timeout);
}

async function managerRequest(manager: ManagerRef | string, id: HandlerId, req: unknown, timeout = 5000) {
  const r = await genCall<unknown, Outcome>(manager as Pid, req, timeout);
  if (r[0] === "error") throw new EventManagerError(r[1], id, manager);
  return r[1];
}

/**
 * Installs `handler` with `init(arg)` as its state (or `arg` itself when it
 * has no `init`). Rejects with {@linkcode EventManagerError}:
 * `"already_present"` if its id is taken, `["error", thrown]` if `init` threw.
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const manager = await EventManager.start<number>();
 * const sum = { handleEvent: (n: number, total: number) => total + n, handleCall: (_: "sum", t: number) => [t, t] as const };
 * await EventManager.addHandler(manager, sum, 0);
 * await EventManager.syncNotify(manager, 5);
 * console.assert(await EventManager.call(manager, sum, "sum") === 5);
 * await EventManager.stop(manager);
 * ```
 */
export async function addHandler<E, S, A>(
  manager: ManagerRef<E> | string,
  handler: Handler<E, S, A>,
  arg: A,
  opts?: AddHandlerOptions,
): Promise<void> {
  const id = opts !== undefined && "id" in opts ? opts.id : handler;
  await managerRequest(manager, id, new AddRequest(id, handler as Handler, arg, null));
}

/**
 * Installs `handler` tied to the calling process (Erlang's
 * `add_sup_handler`, Elixir's `add_mon_handler`): the manager monitors the
 * caller and removes the handler (`terminate` gets `["stop", reason]`) when
 * it dies. If the handler is removed for any other reason, the caller is sent
 * a {@linkcode HandlerExitMessage}. Must be called from a process.
 *
 * @example
 * ```ts
 * import { EventManager, Process } from "../mod.ts";
 * const manager = await EventManager.start<string>();
 * await Process.run(async () => {
 *   const h = { handleEvent: () => "remove_handler" as const };
 *   await EventManager.addMonHandler(manager, h, undefined);
 *   EventManager.notify(manager, "bye");
 *   const msg = await Process.receive((m) => m instanceof EventManager.HandlerExitMessage);
 *   console.assert(msg.handler === h && msg.reason === "normal");
 * });
 * await EventManager.stop(manager);
 * ```
 */
export async function addMonHandler<E, S, A>(
  manager: ManagerRef<E> | string,
  handler: Handler<E, S, A>,
  arg: A,
  opts?: AddHandlerOptions,
): Promise<void> {
  const caller = currentProc();
  if (caller === null) throw new Error("EventManager.addMonHandler must be called from a process");
  const id = opts !== undefined && "id" in opts ? opts.id : handler;
  await managerRequest(manager, id, new AddRequest(id, handler as Handler, arg, caller.pid));
}

/**
 * Removes the handler `id`: its `terminate(arg, state)` runs and this resolves
 * to what it returned. Rejects with {@linkcode EventManagerError}
 * `"module_not_found"` (gen_event's reason) if no such handler is installed.
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const manager = await EventManager.start();
 * await EventManager.addHandler(manager, { handleEvent: (_e, s) => s, terminate: (arg) => ["bye", arg] }, null, { id: "h" });
 * console.assert((await EventManager.removeHandler(manager, "h", 1) as unknown[])[1] === 1);
 * await EventManager.stop(manager);
 * ```
 */
export function removeHandler(
  manager: ManagerRef | string,
  id: HandlerId,
  arg?: unknown,
): Promise<unknown> {
  return managerRequest(manager, id, new RemoveRequest(id, arg));
}

/**
 * Sends `event` to every handler without waiting (a cast). Like
 * `GenServer.cast`, it never fails, even if the manager is gone.
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * EventManager.notify("no_such_manager", "lost"); // no error
 * ```
 */
export function notify<E>(manager: ManagerRef<E> | string, event: E): void {
  cast(manager as Pid, event);
}

/**
 * Sends `event` to every handler and resolves once each has handled it (and
 * every event notified before by the same caller). Rejects with
 * `GenServer.CallError` if the manager is not running.
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const seen: number[] = [];
 * const manager = await EventManager.start<number>();
 * await EventManager.addHandler(manager, { handleEvent: (n: number) => { seen.push(n); } }, undefined);
 * EventManager.notify(manager, 1);
 * await EventManager.syncNotify(manager, 2);
 * console.assert(seen.join() === "1,2");
 * await EventManager.stop(manager);
 * ```
 */
export async function syncNotify<E>(manager: ManagerRef<E> | string, event: E, timeout: number = 5000): Promise<void> {
  await genCall(manager as Pid, new SyncNotify(event), timeout);
}

/**
 * Calls handler `id`'s `handleCall(request, state)` and resolves to its
 * reply. Rejects with {@linkcode EventManagerError}: `"bad_module"` (gen_event's
 * reason for a handler not installed), or
 * `["error", thrown]` when the handler threw (it is then removed).
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const manager = await EventManager.start();
 * await EventManager.addHandler(manager, {
 *   handleEvent: (_e, s: number) => s,
 *   handleCall: (req: "get", s: number) => [s, s] as const,
 * }, 7, { id: "seven" });
 * console.assert(await EventManager.call(manager, "seven", "get") === 7);
 * await EventManager.stop(manager);
 * ```
 */
export function call<Rep = any>(
  manager: ManagerRef | string,
  id: HandlerId,
  request: unknown,
  timeout: number = 5000,
): Promise<Rep> {
  return managerRequest(manager, id, new HandlerCall(id, request), timeout) as Promise<Rep>;
}

/**
 * The ids of the installed handlers, the most recently added first (as `gen_event:which_handlers`).
 *
 * @example
 * ```ts
 * import { EventManager } from "../mod.ts";
 * const manager = await EventManager.start();
 * await EventManager.addHandler(manager, { handleEvent: (_e, s) => s }, null, { id: "a" });
 * console.assert((await EventManager.whichHandlers(manager)).join() === "a");
 * await EventManager.stop(manager);
 * ```
 */
export function whichHandlers(manager: ManagerRef | string, timeout: number = 5000): Promise<HandlerId[]> {
  return genCall(manager as Pid, new WhichHandlers(), timeout);
}
