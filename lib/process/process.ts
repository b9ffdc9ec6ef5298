/**
 * Processes: spawn, send, selective receive, links, monitors, exit signals,
 * registered names and introspection — Erlang's process model.
 *
 * A raw process is an `async` body. It reaches its own pid through the context
 * argument (or {@linkcode self}) and waits for messages with
 * {@linkcode receive}. Messages that do not match stay queued, in order.
 *
 * **A dead process has no effect.** JavaScript cannot stop running code, so a
 * process killed while its body (or an `async` callback) waits in an `await`
 * is stopped another way: every promise of the runtime it awaits
 * (`receive`, `sleep`, `GenServer.call`, `Task.await`, a start, ...) never
 * settles, and whatever its leftover code does through the runtime is
 * dropped: sends, replies, casts, exit signals, spawns (the new process is
 * born dead), links, monitors, registrations, timers and starts; an ETS
 * write throws. The one thing that cannot match the BEAM: synchronous code
 * already running when its process dies (after `exit(self(), "kill")`, say)
 * finishes its turn, without effect. The process context follows `async`
 * functions; a callback that returns a promise should be one.
 *
 * @example Ping-pong
 * ```ts
 * import { Process } from "../../mod.ts";
 * const echo = Process.spawn(async ({ receive }) => {
 *   const [from, text] = await receive<[Process.Pid, string]>();
 *   Process.send(from, text.toUpperCase());
 * });
 * const reply = await Process.run(async ({ self, receive }) => {
 *   Process.send(echo, [self, "hi"]);
 *   return await receive<string>();
 * });
 * console.assert(reply === "HI");
 * ```
 *
 * @module
 */
import { makeRef, Pid, Ref } from "./pid.ts";
import type { Pattern } from "./pattern.ts";
import { schedule, Timer } from "./_timers.ts";
import {
  addMonitor,
  callerIsDead,
  crashLogger,
  current as dispatching,
  currentProc,
  DEAD,
  deliver,
  type Dest,
  dropMonitor,
  exitSignal,
  findMatch,
  heldTargets,
  holdMonitor,
  labelOf,
  linkProcs,
  linksOf,
  lookup,
  monitorsOf,
  NamedProcMonitor,
  names,
  never,
  outsiderIsDead,
  type Proc,
  ProcessExit,
  ProcMonitor,
  procOf,
  releaseMonitor,
  remote,
  RUNNING,
  runQueueLength,
  setCrashLogger as setRuntimeCrashLogger,
  setLabelOf,
  stats,
  SUSPENDED,
  table,
  TaggedProcMonitor,
  takeAt,
  unlinkProcs,
} from "./_runtime.ts";
import { formatReason } from "./reason.ts";

export { type Dest, Pid, Ref };

export { type ProcessBody, type ProcessContext, type SpawnOptions, TIMEOUT } from "./_spawn.ts";
import {
  type ProcessBody,
  type ProcessContext,
  receiveIn,
  registerProc,
  ROOT,
  spawnBody,
  type SpawnOptions,
  type TIMEOUT,
} from "./_spawn.ts";

function callerOrThrow(what: string): Proc {
  const p = currentProc();
  if (p === null) throw new Error(`${what} must be called from a process (use Process.run or spawn)`);
  return p;
}

/**
 * Starts a new process running `body`. The body runs later, from the
 * scheduler, never inside the caller's stack.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * console.assert(Process.isAlive(pid));
 * Process.exit(pid, "kill");
 * ```
 */
export function spawn(body: ProcessBody, opts?: SpawnOptions): Pid {
  return spawnBody(body, opts, "raw").pid;
}

/**
 * Spawns and links to the caller atomically (Erlang's `spawn_link`).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async ({ receive }) => {
 *   Process.trapExit(true);
 *   const child = Process.spawnLink(() => { throw new Error("boom"); });
 *   const msg = await receive((m) => m instanceof Process.ExitMessage);
 *   console.assert(msg.from === child);
 * });
 * ```
 */
export function spawnLink(body: ProcessBody, opts?: Omit<SpawnOptions, "link">): Pid {
  callerOrThrow("Process.spawnLink");
  return spawnBody(body, { ...opts, link: true }, "raw").pid;
}

/**
 * Spawns and monitors atomically; returns the pid and the monitor ref.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async ({ receive }) => {
 *   const [pid, ref] = Process.spawnMonitor(() => {});
 *   const down = await receive<Process.DownMessage>({ ref });
 *   console.assert(down.pid === pid && down.reason === "normal");
 * });
 * ```
 */
export function spawnMonitor(body: ProcessBody, opts?: SpawnOptions): [Pid, Ref] {
  const caller = callerOrThrow("Process.spawnMonitor");
  const p = spawnBody(body, opts, "raw");
  return [p.pid, monitorFrom(caller, p, p.pid, undefined)];
}

/**
 * The calling process's pid. Throws from plain code; see {@linkcode current}.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = await Process.run(async ({ self }) => {
 *   console.assert(Process.self() === self);
 *   return self;
 * });
 * ```
 */
export function self(): Pid {
  return callerOrThrow("Process.self").pid;
}

/**
 * The calling process's pid, or `undefined` from plain code.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * console.assert(Process.current() === undefined);
 * ```
 */
export function current(): Pid | undefined {
  return currentProc()?.pid;
}

/**
 * Sends `msg` to a pid, a registered name, or `[name, node]` (a name on a
 * node; see `Node`). Sending to a dead pid does nothing; sending to a local
 * name nobody holds throws (as Erlang's `badarg`); a pid or name of another
 * node gets the message over the connection to that node (dropped if the
 * node cannot be reached, as in Erlang).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive("stop"); });
 * Process.send(pid, "stop");
 * ```
 */
export function send<M>(dest: Pid<M> | string | readonly [string, string], msg: NoInfer<M>): void {
  // callerIsDead(), inlined: this is the hottest path of all.
  const me = dispatching;
  if (me !== null ? me.state === DEAD : outsiderIsDead()) return;
  if (typeof dest === "string") {
    const p = names.get(dest);
    if (p === undefined) throw new Error(`No process is registered as ${JSON.stringify(dest)}`);
    deliver(p, msg);
    return;
  }
  const p = (dest as Pid)._proc as Proc | null | undefined;
  if (p != null) deliver(p, msg);
  else sendElsewhere(dest, msg);
}

/** A send to no live local pid: `[name, node]`, another node's pid, or a dead pid (dropped). */
function sendElsewhere(dest: unknown, msg: unknown): void {
  if (remote !== null && remote.isRemote(dest)) {
    remote.send(currentProc(), dest, msg);
    return;
  }
  if (Array.isArray(dest)) {
    const p = lookup(dest as unknown as Dest);
    if (p === null) throw new Error(`No process is registered as ${JSON.stringify(dest)}`);
    deliver(p, msg);
  }
}

/**
 * Waits for the first message in the caller's mailbox matching `pattern` (a
 * predicate or a shape, see `pattern.ts`; omitted: any message). With `after`
 * (ms), resolves to {@linkcode TIMEOUT} if nothing matches in time.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const r = await Process.run(async () => {
 *   Process.send(Process.self(), "b");
 *   Process.send(Process.self(), "a");
 *   const first = await Process.receive("a"); // "b" stays queued
 *   const second = await Process.receive();
 *   return [first, second, await Process.receive(undefined, 0)];
 * });
 * console.assert(r[0] === "a" && r[1] === "b" && r[2] === Process.TIMEOUT);
 * ```
 */
export function receive<T = any>(pattern?: Pattern): Promise<T>;
/** Same, resolving to {@linkcode TIMEOUT} if nothing matches within `after` ms. */
export function receive<T = any>(pattern: Pattern, after: number): Promise<T | typeof TIMEOUT>;
export function receive(pattern?: Pattern, after?: number): Promise<unknown> {
  return receiveIn(callerOrThrow("Process.receive"), pattern, after);
}

/**
 * `link` found no process: Erlang's `noproc` error, raised in a caller that
 * does not trap exits (one that does gets an `ExitMessage` with `noproc`).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const err = await Process.run(async () => {
 *   const pid = Process.spawn(() => {});
 *   await Process.run(() => {}); // it has run and ended
 *   try {
 *     Process.link(pid);
 *   } catch (e) {
 *     return e;
 *   }
 * });
 * console.assert(err instanceof Process.NoProcessError && err.reason === "noproc");
 * ```
 */
export class NoProcessError extends Error {
  /** Always `"noproc"`, as in Erlang. */
  readonly reason = "noproc";
  /** The process that was not there. */
  readonly pid: Pid;
  /**
   * Makes the error.
   *
   * @param pid The missing process.
   * @param what The operation that found it missing, as `Process.link`.
   */
  constructor(pid: Pid, what: string) {
    super(`${what}(${pid}): no such process`);
    this.name = "NoProcessError";
    this.pid = pid;
  }
}

/**
 * Links the caller and `pid`. Linking to a dead process throws
 * {@linkcode NoProcessError} (`noproc`) in a caller that does not trap exits,
 * and sends a trapping caller an `ExitMessage` with reason `noproc`, as in
 * Erlang. A name nobody holds throws (Erlang's `badarg`).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async () => {
 *   const pid = Process.spawn(async ({ receive }) => { await receive(); });
 *   Process.link(pid);
 *   console.assert(Process.info(pid)!.links.includes(Process.self()));
 *   Process.unlink(pid);
 * });
 * ```
 */
export function link(pid: Pid | string): void {
  const caller = callerOrThrow("Process.link");
  if (caller.state === DEAD) return;
  const p = lookup(pid);
  if (p === null && remote !== null && remote.isRemote(pid)) {
    remote.link(caller, pid);
    return;
  }
  if (p === null || p.state === DEAD) {
    if (typeof pid === "string") throw new Error(`No process is registered as ${JSON.stringify(pid)}`);
    if (!caller.trapExit) throw new NoProcessError(pid, "Process.link");
    deliver(caller, new ExitMessage(pid, "noproc"));
    return;
  }
  linkProcs(caller, p);
}

/**
 * Removes a link between the caller and `pid` (a no-op if there is none).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async () => Process.unlink(Process.self()));
 * ```
 */
export function unlink(pid: Pid): void {
  const caller = callerOrThrow("Process.unlink");
  const p = procOf(pid);
  if (p !== null) unlinkProcs(caller, p);
  else if (remote !== null && remote.isRemote(pid)) remote.unlink(caller, pid);
}

function monitorFrom(caller: Proc, target: Proc | null, dest: Pid | string, tag: unknown): Ref {
  // Monitoring oneself creates no monitor, as in Erlang.
  if (caller.state === DEAD || target === caller) return makeRef();
  const name = typeof dest === "string" ? dest : undefined;
  // The monitor is its own ref.
  const m = name !== undefined
    ? new NamedProcMonitor(caller, name, tag)
    : tag === undefined
    ? new ProcMonitor(caller)
    : new TaggedProcMonitor(caller, tag);
  if (target !== null && target.state !== DEAD) {
    holdMonitor(m, target);
    addMonitor(target, m.id, m);
  } else {
    // The DOWN names what was monitored: the dead pid, or the name (OTP's `{Name, Node}`).
    m.down(typeof dest === "string" ? nobody : { pid: dest } as Proc, "noproc");
  }
  return m;
}

/** The process behind a name nobody holds, for its DOWN. */
const nobody = { pid: ROOT } as Proc;

/**
 * Monitors `pid`: when it dies the caller gets one {@linkcode DownMessage}.
 * A dead or unknown pid gives an immediate `DOWN` with reason `noproc`.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async ({ receive }) => {
 *   const pid = Process.spawn(() => {});
 *   const ref = Process.monitor(pid);
 *   const down = await receive<Process.DownMessage>({ ref });
 *   console.assert(down.reason === "normal");
 * });
 * ```
 *
 * @example A tagged monitor: the DOWN says which process it was about
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async ({ receive }) => {
 *   const ref = Process.monitor(Process.spawn(() => {}), { tag: "worker 7" });
 *   const down = await receive<Process.DownMessage>({ ref });
 *   console.assert(down.tag === "worker 7");
 * });
 * ```
 */
export function monitor(pid: Dest, opts?: MonitorOptions): Ref {
  const caller = callerOrThrow("Process.monitor");
  const tag = opts?.tag;
  const p = lookup(pid);
  if (p === null && remote !== null && remote.isRemote(pid) && caller.state !== DEAD) {
    if (tag !== undefined) {
      throw new TypeError(`Process.monitor: a tag is for local processes only, got ${String(pid)}`);
    }
    return remote.monitor(caller, pid);
  }
  return monitorFrom(caller, p, pid as Pid | string, tag);
}

/** Options of {@linkcode monitor}. */
export interface MonitorOptions {
  /**
   * A value the `DOWN` carries as `tag`, as OTP's `{tag, Tag}` monitor
   * option: a watcher of many processes (a registry of buckets) learns which
   * one died from the message, keeping no ref → name map. Local processes only.
   */
  tag?: unknown;
}

/**
 * Removes a monitor. With `{ flush: true }`, also removes its `DOWN` if one is
 * already queued. Returns true if the monitor was active.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async () => {
 *   const ref = Process.monitor(Process.spawn(() => {}));
 *   Process.demonitor(ref, { flush: true });
 * });
 * ```
 */
export function demonitor(ref: Ref, opts?: { flush?: boolean }): boolean {
  const caller = callerOrThrow("Process.demonitor");
  const target = releaseMonitor(caller, ref);
  let active = false;
  if (target !== null) {
    active = dropMonitor(target, ref.id);
  } else if (remote !== null) {
    active = remote.demonitor(caller, ref);
  }
  if (opts?.flush && caller.mq !== null) {
    const i = findMatch(caller, (m) => m instanceof DownMessage && m.ref === ref, caller.mqHead);
    if (i >= 0) takeAt(caller, i);
  }
  return active;
}

/**
 * `exit(pid, reason)` sends an exit signal (Erlang's `exit/2`): `kill` cannot
 * be trapped and kills with `killed`; a trapping target gets an
 * {@linkcode ExitMessage}; otherwise `normal` is ignored (unless sent to
 * oneself) and any other reason kills the target with that reason.
 *
 * `exit(reason)` (one argument, inside a process) ends the caller with
 * `reason` by throwing; do not catch it.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * Process.exit(pid, "kill");
 * console.assert(!Process.isAlive(pid));
 * ```
 */
export function exit(pid: Dest, reason: unknown): void;
/** Ends the calling process with `reason` (throws; do not catch it). */
export function exit(reason: unknown): never;
export function exit(a: unknown, b?: unknown): void {
  if (arguments.length < 2) throw new ProcessExit(a);
  const target = lookup(a as Dest);
  if (target === null) {
    if (remote !== null && remote.isRemote(a)) {
      remote.exit(currentProc(), a, b);
      return;
    }
    if (typeof a === "string") throw new Error(`No process is registered as ${JSON.stringify(a)}`);
    return;
  }
  const from = currentProc();
  if (from !== null && from.state === DEAD) return;
  exitSignal(target, from, from?.pid ?? ROOT, b, false);
}

/**
 * Sets whether the caller traps exits; returns the previous setting.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(async () => {
 *   console.assert(Process.trapExit(true) === false);
 * });
 * ```
 */
export function trapExit(flag: boolean): boolean {
  const p = callerOrThrow("Process.trapExit");
  const old = p.trapExit;
  p.trapExit = flag;
  return old;
}

/**
 * True while the process is alive.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * console.assert(Process.isAlive(pid));
 * Process.exit(pid, "kill");
 * console.assert(!Process.isAlive(pid));
 * ```
 */
export function isAlive(pid: Pid): boolean {
  const p = procOf(pid);
  return p !== null && p.state !== DEAD;
}

/**
 * Registers `pid` under `name`. Throws if the name is taken, the process is
 * dead, or it already has a name. A dead process's name is freed.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * Process.register("doc_example", pid);
 * console.assert(Process.whereis("doc_example") === pid);
 * Process.exit(pid, "kill");
 * console.assert(Process.whereis("doc_example") === undefined);
 * ```
 */
export function register(name: string, pid: Pid): void {
  if (callerIsDead()) return;
  const p = procOf(pid);
  if (p === null) throw new Error(`Cannot register ${JSON.stringify(name)}: process ${pid} is not alive`);
  registerProc(name, p);
}

/**
 * Frees a registered name. Throws if it is not registered.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * Process.register("doc_unreg", pid);
 * Process.unregister("doc_unreg");
 * ```
 */
export function unregister(name: string): void {
  if (callerIsDead()) return;
  const p = names.get(name);
  if (p === undefined) throw new Error(`Name ${JSON.stringify(name)} is not registered`);
  names.delete(name);
  p.name = undefined;
}

/**
 * The pid registered under `name`, or `undefined`.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * console.assert(Process.whereis("nobody") === undefined);
 * ```
 */
export function whereis(name: string): Pid | undefined {
  return names.get(name)?.pid;
}

/**
 * All registered names.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * console.assert(Array.isArray(Process.registered()));
 * ```
 */
export function registered(): string[] {
  return [...names.keys()];
}

/** What {@linkcode info} reports about a live process. */
export interface ProcessInfo {
  /** The process. */
  pid: Pid;
  /** `waiting` (idle), `runnable` (queued), `running`, or `suspended` (in async code). */
  status: "waiting" | "runnable" | "running" | "suspended";
  /** What the process is: `raw`, `Task`, `GenServer`, `Agent`, `Supervisor`, ... */
  behaviour: string;
  /** Its registered name, if any. */
  registeredName: string | undefined;
  /** Messages waiting in its mailbox. */
  messageQueueLen: number;
  /** Messages taken from the mailbox so far. */
  messagesHandled: number;
  /** Processes linked to it, of this node (`Pid`) and of others (`RemotePid`). */
  links: Pid[];
  /** Processes this one monitors (a monitor of a name on another node shows as `[name, node]`). */
  monitors: Pid[];
  /** Processes monitoring this one, here or on other nodes. */
  monitoredBy: Pid[];
  /** Whether it traps exits. */
  trapExit: boolean;
  /** The process that spawned it (undefined: plain code). */
  parent: Pid | undefined;
  /** A rough estimate of the bytes this process holds. */
  memory: number;
  /** What the process set with {@linkcode setLabel}, or `undefined`. */
  label: unknown;
}

/**
 * Information about a live process, or `undefined` if it is dead.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * Process.send(pid, "hello");
 * console.assert(Process.info(pid)!.messageQueueLen >= 0);
 * ```
 */
export function info(pid: Pid): ProcessInfo | undefined {
  const p = procOf(pid);
  if (p === null || p.state === DEAD) return undefined;
  const monitoredBy: Pid[] = [];
  for (const m of monitorsOf(p)) if (m instanceof ProcMonitor) monitoredBy.push(m.watcher.pid);
  const qlen = p.queueLength;
  const links = linksOf(p).map((l) => l.pid);
  const monitors = heldTargets(p).map((t) => t.pid);
  // Links and monitors across nodes, as process_info/2 lists them with the local ones.
  if (remote !== null) remote.addInfo(p, links, monitors, monitoredBy);
  return {
    pid: p.pid,
    status: p.state === RUNNING ? "running" : p.state === SUSPENDED ? "suspended" : p.queued ? "runnable" : "waiting",
    behaviour: p.behaviour?.kind ?? p.kind,
    registeredName: p.name,
    messageQueueLen: qlen,
    messagesHandled: p.handled,
    links,
    monitors,
    monitoredBy,
    trapExit: p.trapExit,
    parent: p.parent?.pid,
    memory: 160 + qlen * 48 + linksOf(p).length * 48 + monitorsOf(p).length * 64 +
      monitors.length * 48,
    label: labelOf(p),
  };
}

/**
 * Labels the calling process, as Elixir's `Process.set_label/1`: any value
 * that tells an operator what the process is (a bucket labels itself
 * `["bucket", name]`). Only introspection reads it ({@linkcode info},
 * {@linkcode getLabel}, the Observer, supervisor reports); it is not a name
 * and need not be unique.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const pid = Process.spawn(async ({ receive }) => {
 *   Process.setLabel(["worker", 7]);
 *   await receive();
 * });
 * await Promise.resolve();
 * assert.deepEqual(Process.getLabel(pid), ["worker", 7]);
 * assert.deepEqual(Process.info(pid)!.label, ["worker", 7]);
 * Process.exit(pid, "kill");
 * ```
 *
 * @param label The label.
 * @throws {Error} Outside a process.
 */
export function setLabel(label: unknown): void {
  setLabelOf(callerOrThrow("Process.setLabel"), label);
}

/**
 * A label as one short text: `["bucket", "shopping"]` reads
 * `bucket "shopping"` (a leading string tag, then the other elements as
 * JSON), a string reads as itself, anything else as JSON.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Process.formatLabel(["bucket", "shopping"]), 'bucket "shopping"');
 * assert.equal(Process.formatLabel("acceptor"), "acceptor");
 * assert.equal(Process.formatLabel({ n: 1 }), '{"n":1}');
 * ```
 *
 * @param label A label.
 * @returns Its text.
 */
export function formatLabel(label: unknown): string {
  if (typeof label === "string") return label;
  if (Array.isArray(label) && label.length > 0 && typeof label[0] === "string") {
    return [label[0], ...label.slice(1).map(json)].join(" ");
  }
  return json(label);
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The label of a live process ({@linkcode setLabel}), or `undefined` (none,
 * or not alive).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * console.assert(Process.getLabel(pid) === undefined);
 * Process.exit(pid, "kill");
 * ```
 *
 * @param pid The process.
 * @returns Its label.
 */
export function getLabel(pid: Pid): unknown {
  const p = procOf(pid);
  return p === null || p.state === DEAD ? undefined : labelOf(p);
}

/**
 * Every live process's pid.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * console.assert(Process.list().length >= 0);
 * ```
 */
export function list(): Pid[] {
  const out: Pid[] = [];
  for (const p of table.values()) out.push(p.pid);
  return out;
}

/**
 * The messages waiting in a live process's mailbox, oldest first (at most
 * `limit`), without taking them — Erlang's `process_info(Pid, messages)`;
 * `undefined` if the process is dead. For tools such as the Observer.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive("never"); });
 * Process.send(pid, "a");
 * Process.send(pid, "b");
 * console.assert(Process.messages(pid)!.join() === "a,b");
 * console.assert(Process.messages(pid, 1)!.join() === "a");
 * Process.exit(pid, "kill");
 * console.assert(Process.messages(pid) === undefined);
 * ```
 */
export function messages(pid: Pid, limit: number = Infinity): unknown[] | undefined {
  const p = procOf(pid);
  if (p === null || p.state === DEAD) return undefined;
  const queued = p.pending();
  return limit < queued.length ? queued.slice(0, Math.max(0, limit)) : queued;
}

/**
 * Runtime totals: live processes, processes spawned and exited so far,
 * messages dispatched, run-queue length.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * console.assert(Process.statistics().processes >= 0);
 * ```
 */
export function statistics(): {
  processes: number;
  spawned: number;
  exited: number;
  dispatched: number;
  runQueue: number;
} {
  return {
    processes: table.size,
    spawned: stats.spawned,
    exited: stats.exited,
    dispatched: stats.dispatched,
    runQueue: runQueueLength(),
  };
}

/** A timer started by {@linkcode sendAfter}. */
export type TimerRef = Timer;

/**
 * Sends `msg` to `dest` after `ms` milliseconds (Erlang's `send_after`).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const got = await Process.run(async ({ self, receive }) => {
 *   Process.sendAfter(self, "tick", 1);
 *   return await receive("tick");
 * });
 * console.assert(got === "tick");
 * ```
 */
export function sendAfter<M>(dest: Pid<M> | string, msg: M, ms: number): TimerRef {
  if (callerIsDead()) return new Timer(); // never started: cancelTimer says false
  return schedule(ms, () => {
    const p = lookup(dest);
    if (p !== null) deliver(p, msg);
  });
}

/**
 * Cancels a {@linkcode sendAfter} timer; false if it already fired.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const t = Process.sendAfter(Process.spawn(() => {}), "x", 1000);
 * console.assert(Process.cancelTimer(t) === true);
 * ```
 */
export function cancelTimer(timer: TimerRef): boolean {
  return timer.cancel();
}

/**
 * Resolves after `ms` milliseconds; for process bodies that must pause.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  const sleeper = currentProc();
  if (sleeper === null) return new Promise((resolve) => schedule(ms, resolve));
  if (sleeper.state === DEAD) return never();
  return new Promise((resolve) =>
    schedule(ms, () => {
      if (sleeper.state !== DEAD) resolve();
    })
  );
}

/**
 * Sets what happens when a process crashes (`["error", thrown]`) and nothing
 * is linked to it, monitoring it, or waiting on it — a crash nobody would
 * otherwise hear of. The default prints it to stderr; `null` silences it.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const seen: string[] = [];
 * Process.setCrashLogger((pid) => seen.push(String(pid)));
 * const pid = Process.spawn(() => { throw new Error("unobserved"); });
 * await Process.run(() => {}); // let the scheduler run it
 * console.assert(seen[0] === String(pid));
 * Process.setCrashLogger(Process.defaultCrashLogger);
 * ```
 */
export function setCrashLogger(fn: ((pid: Pid, kind: string, reason: unknown) => void) | null): void {
  setRuntimeCrashLogger(fn);
}

/** The crash logger installed at start-up (prints to stderr). */
export const defaultCrashLogger: (pid: Pid, kind: string, reason: unknown) => void = crashLogger!;

/** Raised by {@linkcode run} when its process ends with a reason other than `normal`. */
export class ProcessExitError extends Error {
  /** The exit reason. */
  readonly reason: unknown;
  /** The process that exited. */
  readonly pid: Pid;
  /**
   * Creates the error.
   *
   * @param pid The process.
   * @param reason Its exit reason.
   */
  constructor(pid: Pid, reason: unknown) {
    super(`Process ${pid} exited: ${formatReason(reason)}`);
    this.name = "ProcessExitError";
    this.pid = pid;
    this.reason = reason;
  }
}

/**
 * Runs `body` as a new process and resolves with its result; lets plain code
 * (a script, a test) act as a process with a mailbox. Rejects with
 * {@linkcode ProcessExitError} if the process dies for any reason before
 * returning (an exit signal, a throw, `exit(reason)`).
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const n = await Process.run(async ({ self }) => self.id);
 * console.assert(typeof n === "number");
 * ```
 */
export function run<T>(body: (ctx: ProcessContext) => T | Promise<T>, opts?: SpawnOptions): Promise<Awaited<T>> {
  const owner = currentProc();
  if (owner !== null && owner.state === DEAD) return never();
  return new Promise((resolve, reject) => {
    let done = false;
    const p = spawnBody(
      async (ctx) => {
        const v = await body(ctx);
        done = true;
        if (owner === null || owner.state !== DEAD) resolve(v as Awaited<T>);
      },
      opts,
      "raw",
    );
    (p.exitHooks ??= []).push((reason) => {
      if (!done && (owner === null || owner.state !== DEAD)) reject(new ProcessExitError(p.pid, reason));
    });
  });
}

export { runAfter } from "./_runtime.ts";
export { DownMessage, ExitMessage, isDownMessage, isExitMessage } from "./messages.ts";
import { DownMessage, ExitMessage } from "./messages.ts";
export { _, matches, type Pattern } from "./pattern.ts";
export { type ExitReason, formatReason, isNormalExit } from "./reason.ts";
