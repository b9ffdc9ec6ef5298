/**
 * GenServer: a process that keeps state and answers synchronous calls,
 * asynchronous casts and plain messages through callbacks, as Elixir's
 * `GenServer` does.
 *
 * Callbacks return Elixir-shaped tuples:
 *
 * | callback | returns |
 * |---|---|
 * | `init(arg)` | `["ok", state]`, `["ok", state, timeoutOrContinue]`, `["stop", reason]`, `"ignore"` |
 * | `handleCall(req, from, state)` | `["reply", reply, state, extra?]`, `["noreply", state, extra?]`, `["stop", reason, reply, state]`, `["stop", reason, state]` |
 * | `handleCast`/`handleInfo`/`handleContinue` | `["noreply", state, extra?]`, `["stop", reason, state]` |
 * | `terminate(reason, state)` | anything (ignored) |
 *
 * `extra` is a timeout in ms (a `"timeout"` message goes to `handleInfo` if no
 * other message arrives first) or `{ continue: value }` (runs
 * `handleContinue(value, state)` before the next message).
 *
 * Any callback may be `async`: the server takes no new message until the
 * promise settles. A callback that throws (or returns something else) ends the
 * server with `["error", thrown]` after `terminate` runs.
 *
 * **Start failures** are always thrown (the promise rejects) as a
 * {@linkcode StartError} whose `reason` is the `init` stop reason, `"ignore"`,
 * `["already_started", pid]` for a taken name, `["error", thrown]` for a
 * throwing init, or `"timeout"`. A failed `startLink` unlinks before the
 * process exits, so the caller is not sent an exit signal.
 *
 * @example A counter
 * ```ts
 * import { GenServer } from "../mod.ts";
 * const Counter: GenServer.Callbacks<number, number> = {
 *   init: (start) => ["ok", start],
 *   handleCall: (req, _from, n) => req === "get" ? ["reply", n, n] : ["reply", n + 1, n + 1],
 *   handleCast: (_req, n) => ["noreply", n + 1],
 * };
 * const pid = await GenServer.start(Counter, 10);
 * GenServer.cast(pid, "bump");
 * console.assert(await GenServer.call(pid, "get") === 11);
 * await GenServer.stop(pid);
 * ```
 *
 * @module
 */
import type { Pid } from "./process/pid.ts";
import { schedule, start as startTimer, Timer } from "./process/_timers.ts";
import {
  addMonitor,
  callerIsDead,
  currentProc,
  DEAD,
  deliver,
  type Dest,
  type DownTarget,
  dropMonitor,
  lookup,
  never,
  outsideProcess,
  type Proc,
  remote,
} from "./process/_runtime.ts";
import { nextRefId } from "./process/pid.ts";
import { formatReason } from "./process/reason.ts";

/** `{ continue: value }`: run `handleContinue(value, state)` next. */
export interface Continue {
  /** The value handed to `handleContinue`. */
  continue: unknown;
}
/** A timeout in ms, or a continue instruction. */
export type Extra = number | Continue;

/** What `init` returns. */
export type InitResult<S> =
  | readonly ["ok", S]
  | readonly ["ok", S, Extra]
  | readonly ["stop", unknown]
  | "ignore";
/** What `handleCall` returns. */
export type CallResult<S, R = unknown> =
  | readonly ["reply", R, S]
  | readonly ["reply", R, S, Extra]
  | readonly ["noreply", S]
  | readonly ["noreply", S, Extra]
  | readonly ["stop", unknown, R, S]
  | readonly ["stop", unknown, S];
/** What `handleCast`, `handleInfo` and `handleContinue` return. */
export type NoReplyResult<S> =
  | readonly ["noreply", S]
  | readonly ["noreply", S, Extra]
  | readonly ["stop", unknown, S];

type MaybeAsync<T> = T | Promise<T>;

/**
 * A GenServer's callbacks. `S` is the state, `A` the `init` argument, `Call`,
 * `Reply`, `Cast` and `Info` the message types.
 */
export interface Callbacks<S, A = undefined, Call = any, Reply = any, Cast = any, Info = any> {
  /** Sets up the state; runs in the new process before `start` returns. */
  init(arg: A): MaybeAsync<InitResult<S>>;
  /** Answers `call`. Without it, a call crashes the server, as in Elixir. */
  handleCall?(request: Call, from: From<Reply>, state: S): MaybeAsync<CallResult<S, Reply>>;
  /** Handles `cast`. Without it, a cast crashes the server, as in Elixir. */
  handleCast?(request: Cast, state: S): MaybeAsync<NoReplyResult<S>>;
  /** Handles any other message. Without it, such messages are dropped. */
  handleInfo?(msg: Info, state: S): MaybeAsync<NoReplyResult<S>>;
  /** Handles a `{ continue: value }` returned by another callback. */
  handleContinue?(value: any, state: S): MaybeAsync<NoReplyResult<S>>;
  /** Runs before the server exits on `stop`, a callback crash, or its parent's exit when trapping. */
  terminate?(reason: unknown, state: S): unknown;
}

/**
 * A GenServer's pid, carrying its call, reply, cast and info types, so that
 * `call`, `cast` and `Process.send` refuse a message outside them at compile
 * time. A server named by a string is not typed (a name says nothing of its
 * server's type).
 */
export type ServerRef<Call = any, Reply = any, Cast = any, Info = any> = Pid<Info> & {
  readonly __server?: GenServerMessage<Call, Reply, Cast>;
};
/** Phantom message type of a GenServer (for typing only). */
export interface GenServerMessage<Call, Reply, Cast> {
  /** The call request type (never set). */
  readonly __call?: Call;
  /** The reply type (never set). */
  readonly __reply?: Reply;
  /** The cast request type (never set). */
  readonly __cast?: Cast;
}

/** Options for `start`/`startLink`. */
export interface StartOptions {
  /** Register the server under this name. */
  name?: string;
  /** Fail the start with `"timeout"` if `init` takes longer (ms). Default: no limit. */
  timeout?: number;
}

/**
 * A `call` failed. `reason` is `"noproc"` (no such process), `"timeout"`,
 * `"calling_self"`, or the reason the server exited with while the call was
 * pending.
 */
export class CallError extends Error {
  /** Why the call failed. */
  readonly reason: unknown;
  /** The server called (pid or name). */
  readonly server: Dest;
  /** The request sent. */
  readonly request: unknown;
  /** The call's timeout in ms. */
  readonly timeout: number;
  /**
   * Creates the error.
   *
   * @param reason Why.
   * @param server The server called.
   * @param request The request.
   * @param timeout The timeout in ms.
   */
  constructor(reason: unknown, server: Dest, request: unknown, timeout: number) {
    const what = reason === "noproc"
      ? "no process"
      : reason === "timeout"
      ? "time out"
      : reason === "calling_self"
      ? "process attempted to call itself"
      : formatReason(reason);
    const dest = Array.isArray(server) ? formatReason(server) : String(server);
    super(`exited in: GenServer.call(${dest}, ${formatReason(request)}, ${timeout}): ${what}`);
    this.name = "CallError";
    this.reason = reason;
    this.server = server;
    this.request = request;
    this.timeout = timeout;
  }
}

/**
 * The caller of a pending `call`: pass it to {@linkcode reply} to answer later.
 * It is also the call's timeout timer, and (once the server holds it past
 * `handleCall`) a monitor on the server, so a call costs few allocations.
 */
export class From<R = unknown> extends Timer implements DownTarget {
  /** @ignore */ resolve: ((v: R) => void) | null;
  /** @ignore */ reject: (e: unknown) => void;
  /** @ignore */ server: Proc;
  /** @ignore */ refId = 0;
  /** @ignore */ dest: Dest;
  /** @ignore */ request: unknown;
  /** @ignore */ timeout: number;
  /** The calling process (undefined: plain code). */
  readonly caller: Pid | undefined;
  /** @ignore The calling process: once it is dead, the call's outcome is dropped. */
  callerProc: Proc | null;
  /** @ignore Callbacks (not a promise's): run them outside the server's dispatch. */
  direct = false;
  /** @ignore */
  constructor(
    resolve: (v: R) => void,
    reject: (e: unknown) => void,
    server: Proc,
    dest: Dest,
    request: unknown,
    timeout: number,
    caller: Proc | null,
  ) {
    super();
    this.resolve = resolve;
    this.reject = reject;
    this.server = server;
    this.dest = dest;
    this.request = request;
    this.timeout = timeout;
    this.callerProc = caller;
    this.caller = caller === null ? undefined : caller.pid;
  }
  /** @ignore The server keeps this call past `handleCall`: watch the server. */
  hold(): void {
    if (this.resolve !== null && this.refId === 0) {
      this.refId = nextRefId();
      addMonitor(this.server, this.refId, this);
    }
  }
  /** @ignore */
  fail(reason: unknown): void {
    if (this.resolve === null) return;
    this.resolve = null;
    if (this.refId !== 0) dropMonitor(this.server, this.refId);
    this.cancel();
    const caller = this.callerProc;
    if (caller !== null && caller.state === DEAD) return; // nobody left to tell
    const error = new CallError(reason, this.dest, this.request, this.timeout);
    if (this.direct) outsideProcess(this.reject, error);
    else this.reject(error);
  }
  /** @ignore Answers the call (see `reply`); a second answer, or one after the caller gave up, does nothing. */
  answer(value: R): void {
    const resolve = this.resolve;
    if (resolve === null) return;
    this.resolve = null;
    if (this.refId !== 0) dropMonitor(this.server, this.refId);
    this.cancel();
    const caller = this.callerProc;
    if (caller !== null && caller.state === DEAD) return; // nobody left to tell
    if (this.direct) outsideProcess(resolve, value);
    else resolve(value);
  }
  /** @ignore Rejects the call with `error` itself (not a CallError): the request was refused, the server lives on. */
  refuse(error: unknown): void {
    const reject = this.reject;
    if (this.resolve === null) return;
    this.resolve = null;
    if (this.refId !== 0) dropMonitor(this.server, this.refId);
    this.cancel();
    const caller = this.callerProc;
    if (caller !== null && caller.state === DEAD) return;
    if (this.direct) outsideProcess(reject, error);
    else reject(error);
  }
  /** @ignore Timeout. */
  override fire(): void {
    this.fail("timeout");
  }
  /** @ignore The server died. */
  down(_target: Proc, reason: unknown): void {
    this.fail(reason);
  }
}

export { StartError } from "./_gen_server.ts";
import {
  type AnyCallbacks,
  CallMessage,
  CastMessage,
  GenServerProcess,
  startBehaviour,
  StopMessage,
} from "./_gen_server.ts";

/**
 * Starts a GenServer (not linked). Resolves with its pid once `init` has
 * returned; rejects with {@linkcode StartError} otherwise.
 *
 * @example
 * ```ts
 * import { GenServer } from "../mod.ts";
 * const pid = await GenServer.start({ init: () => ["ok", 0] }, undefined, { name: "doc_gs" });
 * await GenServer.stop("doc_gs");
 * ```
 */
export function start<S, A, Call, Reply, Cast, Info>(
  callbacks: Callbacks<S, A, Call, Reply, Cast, Info>,
  arg: A,
  opts?: StartOptions,
): Promise<ServerRef<Call, Reply, Cast, Info>> {
  return startBehaviour(new GenServerProcess(callbacks as AnyCallbacks, "GenServer"), arg, opts, false);
}

/**
 * Starts a GenServer linked to the caller (when the caller is a process).
 * If the server traps exits, an exit signal from that parent makes it run
 * `terminate` and exit with the same reason, as in OTP.
 *
 * @example
 * ```ts
 * import { GenServer, Process } from "../mod.ts";
 * await Process.run(async () => {
 *   const pid = await GenServer.startLink({ init: () => ["ok", 0] }, undefined);
 *   console.assert(Process.info(pid)!.links.includes(Process.self()));
 *   await GenServer.stop(pid);
 * });
 * ```
 */
export function startLink<S, A, Call, Reply, Cast, Info>(
  callbacks: Callbacks<S, A, Call, Reply, Cast, Info>,
  arg: A,
  opts?: StartOptions,
): Promise<ServerRef<Call, Reply, Cast, Info>> {
  return startBehaviour(new GenServerProcess(callbacks as AnyCallbacks, "GenServer"), arg, opts, true);
}

/**
 * Sends `request` and waits for the reply (default timeout 5000 ms; `Infinity`
 * waits forever). Rejects with {@linkcode CallError}: `noproc`, `timeout` (a
 * late reply is dropped), `calling_self`, or the server's exit reason.
 *
 * @example
 * ```ts
 * import { GenServer } from "../mod.ts";
 * const pid = await GenServer.start({
 *   init: () => ["ok", null],
 *   handleCall: (req: string) => ["reply", req.length, null],
 * }, undefined);
 * console.assert(await GenServer.call(pid, "four") === 4);
 * ```
 */
export function call<Call = any, Reply = any>(
  server: ServerRef<Call, Reply, any> | string | readonly [string, string],
  // NoInfer: the request is checked against the server's type, never widens it.
  request: NoInfer<Call>,
  timeout: number = 5000,
): Promise<Reply> {
  const caller = currentProc();
  if (caller !== null && caller.state === DEAD) return never();
  const p = lookup(server);
  if (p === null && remote !== null && remote.isRemote(server)) {
    return new Promise<Reply>((resolve, reject) =>
      remote!.call(
        server,
        request,
        timeout,
        resolve as (v: unknown) => void,
        (reason) => reject(new CallError(reason, server, request, timeout)),
      )
    );
  }
  if (p === null || p.state === DEAD) return Promise.reject(new CallError("noproc", server, request, timeout));
  if (caller === p) return Promise.reject(new CallError("calling_self", server, request, timeout));
  return new Promise<Reply>((resolve, reject) => {
    const from = new From<Reply>(resolve, reject, p, server, request, timeout, caller);
    if (timeout !== Infinity) startTimer(from, timeout);
    // A GenServer fails the calls it holds or has queued when it dies; any other process is watched.
    if (!(p.behaviour instanceof GenServerProcess)) from.hold();
    deliver(p, new CallMessage(from, request));
  });
}

/**
 * `call` for hot paths: the reply (or the {@linkcode CallError}) goes to a
 * callback instead of a promise, so a round trip allocates no promise and
 * takes no extra microtask hop. Same semantics as {@linkcode call}:
 * `onError` gets `noproc`, `timeout`, `calling_self` or the server's exit
 * reason. Exactly one of the two callbacks runs, never inside this call.
 *
 * @example
 * ```ts
 * import { GenServer } from "../mod.ts";
 * const pid = await GenServer.start({
 *   init: () => ["ok", 0],
 *   handleCall: (n: number, _from, s: number) => ["reply", n * 2, s],
 * }, undefined);
 * const doubled = await new Promise((resolve, reject) => GenServer.callWith(pid, 21, resolve, reject));
 * console.assert(doubled === 42);
 * await GenServer.stop(pid);
 * ```
 */
export function callWith<Call = any, Reply = any>(
  server: ServerRef<Call, Reply, any> | string | readonly [string, string],
  // NoInfer: the request is checked against the server's type, never widens it.
  request: NoInfer<Call>,
  onReply: (reply: Reply) => void,
  onError: (error: CallError) => void,
  timeout: number = 5000,
): void {
  const caller = currentProc();
  if (caller !== null && caller.state === DEAD) return;
  const p = lookup(server);
  if (p === null && remote !== null && remote.isRemote(server)) {
    remote.call(
      server,
      request,
      timeout,
      onReply as (v: unknown) => void,
      (reason) => onError(new CallError(reason, server, request, timeout)),
    );
    return;
  }
  if (p === null || p.state === DEAD || caller === p) {
    const reason = p === null || p.state === DEAD ? "noproc" : "calling_self";
    queueMicrotask(() => onError(new CallError(reason, server, request, timeout)));
    return;
  }
  const from = new From<Reply>(onReply, onError as (e: unknown) => void, p, server, request, timeout, caller);
  from.direct = true;
  if (timeout !== Infinity) startTimer(from, timeout);
  if (!(p.behaviour instanceof GenServerProcess)) from.hold();
  deliver(p, new CallMessage(from, request));
}

/**
 * Sends `request` without waiting. Never fails, even if the server is gone.
 *
 * @example
 * ```ts
 * import { GenServer } from "../mod.ts";
 * GenServer.cast("nobody_here", "hello"); // no error, as in Elixir
 * ```
 */
export function cast<Cast = any>(
  server: ServerRef<any, any, Cast> | string | readonly [string, string],
  request: NoInfer<Cast>,
): void {
  if (callerIsDead()) return;
  const p = lookup(server);
  if (p !== null) deliver(p, new CastMessage(request));
  else if (remote !== null && remote.isRemote(server)) remote.cast(server, request);
}

/**
 * Answers a call explicitly (after `["noreply", state]` in `handleCall`).
 * Replying twice, or after the caller gave up, does nothing.
 *
 * @example
 * ```ts
 * import { GenServer } from "../mod.ts";
 * const pid = await GenServer.start({
 *   init: () => ["ok", null],
 *   handleCall: (_req, from) => { GenServer.reply(from, "later"); return ["noreply", null]; },
 * }, undefined);
 * console.assert(await GenServer.call(pid, "x") === "later");
 * ```
 */
export function reply<R>(from: From<R>, value: R): void {
  if (callerIsDead()) return; // a dead process's leftover code
  from.answer(value);
}

/**
 * Stops the server: it runs `terminate(reason, state)` and exits with
 * `reason` (default `"normal"`). Resolves once it is dead; rejects with
 * {@linkcode CallError} `noproc` if it is not running, `timeout` if it is
 * still alive after `timeout` ms, or the other reason it exited with.
 *
 * @example
 * ```ts
 * import { GenServer, Process } from "../mod.ts";
 * const pid = await GenServer.start({ init: () => ["ok", 0] }, undefined);
 * await GenServer.stop(pid);
 * console.assert(!Process.isAlive(pid));
 * ```
 */
export function stop(server: Pid | string, reason: unknown = "normal", timeout: number = Infinity): Promise<void> {
  const caller = currentProc();
  if (caller !== null && caller.state === DEAD) return never();
  const p = lookup(server);
  if (p === null || p.state === DEAD) return Promise.reject(new CallError("noproc", server, "stop", timeout));
  if (caller === p) return Promise.reject(new CallError("calling_self", server, "stop", timeout));
  return new Promise<void>((resolve, reject) => {
    let timer: Timer | null = null;
    const refId = nextRefId();
    addMonitor(p, refId, {
      down(_t: Proc, exitReason: unknown) {
        if (timer !== null) timer.cancel();
        if (caller !== null && caller.state === DEAD) return;
        if (exitReason === reason) resolve();
        else if (exitReason === "noproc") reject(new CallError("noproc", server, "stop", timeout));
        else reject(new CallError(exitReason, server, "stop", timeout));
      },
    });
    if (timeout !== Infinity) {
      timer = schedule(timeout, () => {
        dropMonitor(p, refId);
        if (caller !== null && caller.state === DEAD) return;
        reject(new CallError("timeout", server, "stop", timeout));
      });
    }
    deliver(p, new StopMessage(reason));
  });
}
