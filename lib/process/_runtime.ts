/**
 * The heart of the runtime: process control blocks, the scheduler's run queue,
 * message delivery and exit-signal semantics. Private: the public API lives in
 * `process.ts` and the behaviours.
 *
 * Model: a process is an object with a mailbox. `deliver` only enqueues and, if
 * the process was idle, puts it on the run queue; the queue is drained later
 * (never inside the sender's stack) in batches, each process getting a budget
 * of messages per turn so none can starve the others, and each batch ending
 * with a macrotask yield so timers and sockets get their turn.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { nextRefId, Pid, Ref } from "./pid.ts";
import { DownMessage, ExitMessage } from "./messages.ts";
import { setImmediate } from "node:timers";
import type { Timer } from "./_timers.ts";

/** Process states. */
export const WAITING = 0; // idle: runs when a message arrives
export const RUNNING = 1; // being dispatched right now
export const SUSPENDED = 2; // busy in async code; messages queue up
export const DEAD = 3;

/** What a behaviour plugs into a process: one call per message. */
export interface Behaviour {
  /** Kind shown by introspection ("GenServer", "Agent", ...). */
  readonly kind: string;
  /** Handles one message; a returned promise suspends the process until it settles. */
  handle(msg: unknown): unknown;
  /**
   * Told, as the process dies, which messages were still queued (from index
   * `from`); returns true if it told someone of the exit (a caller, a starter).
   */
  dying?(queued: unknown[] | null, from: number, reason: unknown): boolean;
  /**
   * Messages it has handled, counted here rather than on the pid: the
   * behaviour's object is in the cache already when a message is handled,
   * the pid mostly is not (see `dispatch`).
   */
  handled: number;
  /** The tag of the process's `[tag, value]` label when the behaviour keeps it (then the pid keeps the value). */
  readonly labelTag?: string | undefined;
  /** Keeps (or, with `undefined`, drops) a label's tag; false if it will not (keep the label whole). */
  setLabelTag?(tag: string | undefined): boolean;
}

/** `p`'s label (`Process.setLabel`): on its pid, its tag (if any) on its behaviour. */
export function labelOf(p: Proc): unknown {
  const b = p.behaviour;
  const tag = b === null ? undefined : b.labelTag;
  return tag === undefined ? p.pid._label : [tag, p.pid._label];
}

/** The label of `pid`, alive or dead (a dead process's label is whole on its pid). */
export function labelOfPid(pid: Pid): unknown {
  const p = pid._proc as Proc | null;
  return p === null ? pid._label : labelOf(p);
}

/** Sets `p`'s label: a `[tag, value]` label's tag goes to a behaviour that keeps tags. */
export function setLabelOf(p: Proc, label: unknown): void {
  const b = p.behaviour;
  if (b !== null && b.setLabelTag !== undefined) {
    if (Array.isArray(label) && label.length === 2 && typeof label[0] === "string" && b.setLabelTag(label[0])) {
      p.pid._label = label[1];
      return;
    }
    b.setLabelTag(undefined);
  }
  p.pid._label = label;
}

/** Something told when a monitored process dies. */
export interface DownTarget {
  down(target: Proc, reason: unknown): void;
}

/** A receive in progress (raw processes). */
export interface Waiter {
  match: ((msg: unknown) => boolean) | null;
  resolve: (msg: unknown) => void;
  timer: Timer | null;
  /** Messages before this index are known not to match. */
  scanPos: number;
}

let nextPid = 1;
/**
 * Every live process, as an intrusive doubly linked list (cheaper than a Map
 * entry per process; pids point at their process directly for lookups).
 */
class ProcTable {
  head: Proc | null = null;
  size = 0;
  add(p: Proc): void {
    p.next = this.head;
    if (this.head !== null) this.head.prev = p;
    this.head = p;
    this.size++;
  }
  remove(p: Proc): void {
    if (p.prev !== null) p.prev.next = p.next;
    else if (this.head === p) this.head = p.next;
    else return;
    if (p.next !== null) p.next.prev = p.prev;
    p.prev = p.next = null;
    this.size--;
  }
  /** Live processes, newest first. */
  *values(): IterableIterator<Proc> {
    for (let p = this.head; p !== null; p = p.next) yield p;
  }
  /** The live process with this pid id (a scan: introspection only). */
  get(id: number): Proc | undefined {
    for (let p = this.head; p !== null; p = p.next) if (p.pid.id === id) return p;
    return undefined;
  }
}
/** Every live process. */
export const table = new ProcTable();

/** The live process behind `pid`, or null. */
export function procOf(pid: Pid): Proc | null {
  return pid._proc as Proc | null;
}
/** Registered names. */
export const names = new Map<string, Proc>();

/** Totals for introspection. */
export const stats = { spawned: 0, exited: 0, dispatched: 0 };

/**
 * The fields of a process control block that most processes never set: kept
 * in a side object made on first write, so a million idle buckets pay for
 * none of them (the control block stays in the engines' smallest size class
 * for its field count: 12 fields, 112 bytes on JavaScriptCore).
 */
class ProcExtra {
  init: (() => unknown) | null = null;
  waiter: Waiter | null = null;
  /** The newest of the monitors this process holds (a list through {@linkcode ProcMonitor.nextHeld}). */
  held: ProcMonitor | null = null;
  trapExit = false;
  name: string | undefined = undefined;
  exitHooks: Array<(reason: unknown) => void> | null = null;
  /** Set only when it differs from the behaviour's kind (raw processes, tasks). */
  kind: string | undefined = undefined;
}

/** Process control block. */
export class Proc {
  readonly pid: Pid;
  mq: unknown[] | null = null;
  mqHead = 0;
  state: number = WAITING;
  queued = false;
  behaviour: Behaviour | null = null;
  /** The rarely set fields below, once one is (next to the fields every dispatch reads: one cache line). */
  x: ProcExtra | null = null;
  /** Linked processes: one inline, a Set from the second on (most processes have one link). */
  links: Proc | Set<Proc> | null = null;
  /** Monitors on this process (ref id -> who to tell): one inline, a Map from the second on. */
  monitors: InlineMonitor | Map<number, DownTarget> | null = null;
  parent: Proc | null;
  prev: Proc | null = null;
  next: Proc | null = null;
  constructor(parent: Proc | null, kind: string, behaviour: Behaviour | null = null) {
    this.pid = new Pid(nextPid++, this);
    this.parent = parent;
    this.behaviour = behaviour;
    if (behaviour === null || behaviour.kind !== kind) this.extra().kind = kind;
    table.add(this);
    stats.spawned++;
  }
  private extra(): ProcExtra {
    const x = this.x;
    return x !== null ? x : (this.x = new ProcExtra());
  }
  /** Startup code to run on first dispatch (the body, or a behaviour's init). */
  get init(): (() => unknown) | null {
    const x = this.x;
    return x === null ? null : x.init;
  }
  set init(v: (() => unknown) | null) {
    const x = this.x;
    if (v !== null) this.extra().init = v;
    else if (x !== null) {
      x.init = null;
      // A behaviour's init is most processes' only extra field: drop the side object with it.
      if (
        x.waiter === null && x.held === null && !x.trapExit && x.name === undefined && x.exitHooks === null &&
        x.kind === undefined
      ) this.x = null;
    }
  }
  /** A receive in progress (raw processes). */
  get waiter(): Waiter | null {
    const x = this.x;
    return x === null ? null : x.waiter;
  }
  set waiter(v: Waiter | null) {
    if (v !== null || this.x !== null) this.extra().waiter = v;
  }
  /** Monitors this process holds, newest first (see {@linkcode holdMonitor}). */
  get held(): ProcMonitor | null {
    const x = this.x;
    return x === null ? null : x.held;
  }
  set held(v: ProcMonitor | null) {
    if (v !== null || this.x !== null) this.extra().held = v;
  }
  get trapExit(): boolean {
    const x = this.x;
    return x !== null && x.trapExit;
  }
  set trapExit(v: boolean) {
    if (v || this.x !== null) this.extra().trapExit = v;
  }
  /** Its registered name. */
  get name(): string | undefined {
    const x = this.x;
    return x === null ? undefined : x.name;
  }
  set name(v: string | undefined) {
    if (v !== undefined || this.x !== null) this.extra().name = v;
  }
  /** Run at death, after links and monitors (ETS ownership, Task results). */
  get exitHooks(): Array<(reason: unknown) => void> | null {
    const x = this.x;
    return x === null ? null : x.exitHooks;
  }
  set exitHooks(v: Array<(reason: unknown) => void> | null) {
    if (v !== null || this.x !== null) this.extra().exitHooks = v;
  }
  /**
   * Messages handled: a behaviour's process counts them on its behaviour
   * object, a raw process on its pid (a number there costs nothing on
   * JavaScriptCore: a pid's object has a free slot), never here: a 13th
   * field would move every control block up a size class (112 to 160 bytes).
   */
  get handled(): number {
    const b = this.behaviour;
    return b === null ? this.pid._handled : this.pid._handled + b.handled;
  }
  set handled(v: number) {
    const b = this.behaviour;
    this.pid._handled = b === null ? v : v - b.handled;
  }
  /** Label for introspection: the behaviour's kind, or what it was spawned as ("raw", "Task"). */
  get kind(): string {
    const x = this.x;
    if (x !== null && x.kind !== undefined) return x.kind;
    return this.behaviour !== null ? this.behaviour.kind : "raw";
  }
  get alive(): boolean {
    return this.state !== DEAD;
  }
  get queueLength(): number {
    return this.mq === null ? 0 : this.mq.length - this.mqHead;
  }
  /** Messages still queued, oldest first (introspection only). */
  pending(): unknown[] {
    return this.mq === null ? [] : this.mq.slice(this.mqHead);
  }
}

// ---------------------------------------------------------------- context

/** Async context for raw bodies and async callbacks, whose continuations run outside dispatch. */
export const als = new AsyncLocalStorage<Proc>();
/** The process being dispatched synchronously right now, if any. */
/** The process being dispatched synchronously right now, if any (read by `Process.send`'s fast path). */
export let current: Proc | null = null;

/** The calling process, or null from plain code. */
export function currentProc(): Proc | null {
  if (current !== null) return current;
  const p = als.getStore();
  return p === undefined ? null : p;
}

/**
 * True when the calling code belongs to a process that is already dead: the
 * rest of a synchronous turn after its death, or the continuation of a
 * promise the runtime does not own (a socket, `fetch`). What such code does
 * through the runtime (send, reply, spawn, link, monitor, register, timers,
 * ETS writes, starts) is dropped, and the runtime's promises it awaits never
 * settle, so a dead process has no effect, as on the BEAM.
 */
export function callerIsDead(): boolean {
  const p = current !== null ? current : als.getStore();
  return p !== undefined && p.state === DEAD;
}

/** {@linkcode callerIsDead} when no process is being dispatched (`current` is null). */
export function outsiderIsDead(): boolean {
  const p = als.getStore();
  return p !== undefined && p.state === DEAD;
}

/** A promise that never settles: what a dead process's awaits get. */
export function never<T>(): Promise<T> {
  return new Promise<T>(noop);
}
function noop(): void {}

/** Callbacks waiting for the current dispatch to end (see {@linkcode outsideProcess}). */
const deferredFns: Array<(arg: any) => void> = [];
const deferredArgs: unknown[] = [];

/**
 * Runs `fn(arg)` outside any process's dispatch: now from plain code, or just
 * after the running process's turn. For callbacks that belong to someone else
 * (a call's reply), so they never run in the replying process's stack.
 */
export function outsideProcess<A>(fn: (arg: A) => void, arg: A): void {
  if (current === null) {
    fn(arg);
    return;
  }
  deferredFns.push(fn);
  deferredArgs.push(arg);
}

function runDeferred(): void {
  for (let i = 0; i < deferredFns.length; i++) {
    const fn = deferredFns[i], arg = deferredArgs[i];
    deferredFns[i] = deferredArgs[i] = undefined!;
    try {
      fn(arg);
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }
  deferredFns.length = 0;
  deferredArgs.length = 0;
}

/** Where a message can go: a pid, a registered name, or `[name, node]` (a name on a node). */
export type Dest = Pid | string | readonly [string, string];

/** Resolves a pid, registered name or `[name, node]` to a live local process, or null. */
export function lookup(dest: Dest): Proc | null {
  if (typeof dest === "string") {
    const p = names.get(dest);
    return p === undefined ? null : p;
  }
  const p = (dest as Pid)._proc;
  return p === undefined ? lookupOnNode(dest) : p as Proc | null;
}

/**
 * `[name, node]`: the local process registered as `name` when `node` is this
 * node. Name and node may be strings or atoms (`Symbol.for`), as decoded.
 */
function lookupOnNode(dest: unknown): Proc | null {
  if (!Array.isArray(dest) || dest.length !== 2) return null;
  const name = nameOf(dest[0]), node = nameOf(dest[1]);
  if (name === undefined || node === undefined) return null;
  if (remote === null ? node !== "nonode@nohost" : !remote.isSelf(node)) return null;
  const p = names.get(name);
  return p === undefined ? null : p;
}

/** A string, or an atom's name. */
export function nameOf(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "symbol" ? Symbol.keyFor(v) : undefined;
}

// ---------------------------------------------------------------- other nodes

/**
 * What the distribution layer (`lib/node/`) plugs in for pids and names of
 * other nodes. Only the paths where the local lookup found no process consult
 * it, so local sends, links and monitors cost nothing more.
 */
export interface RemoteHooks {
  /** `dest` is a pid or `[name, node]` of another node. */
  isRemote(dest: unknown): boolean;
  /** `node` names this node. */
  isSelf(node: unknown): boolean;
  send(from: Proc | null, dest: unknown, msg: unknown): void;
  link(caller: Proc, dest: unknown): void;
  unlink(caller: Proc, dest: unknown): void;
  monitor(caller: Proc, dest: unknown): Ref;
  /** Removes a monitor on another node's process; true if it was active. */
  demonitor(caller: Proc, ref: Ref): boolean;
  exit(from: Proc | null, dest: unknown, reason: unknown): void;
  /** A `GenServer.call` to another node: exactly one callback runs, never inside this call. */
  call(
    dest: unknown,
    request: unknown,
    timeout: number,
    onReply: (reply: unknown) => void,
    onError: (reason: unknown) => void,
  ): void;
  cast(dest: unknown, request: unknown): void;
  /** Appends `p`'s links and monitors across nodes to `Process.info`'s lists. */
  addInfo(p: Proc, links: Pid[], monitors: Pid[], monitoredBy: Pid[]): void;
}

/** The distribution layer, once loaded. */
export let remote: RemoteHooks | null = null;

/** @ignore Plugs in the distribution layer. */
export function setRemoteHooks(hooks: RemoteHooks | null): void {
  remote = hooks;
}

// ---------------------------------------------------------------- run queue

/**
 * The run queue, oldest first: `rq` from `rqHead` to `rqLen`, then `rqNext`
 * up to `rqNextLen`. New entries go on `rqNext`, which becomes `rq` when `rq`
 * is used up, and the used-up array is reused as it is (its length is never
 * cut: V8 would free its storage, and a pair of processes would pay an
 * allocation per dispatch): two arrays the size of one round of runnable
 * processes, rather than one that grows by every dispatch of a macrotask
 * (20,000 entries, new memory each time) and is copied at its end.
 * Per CPU second, Bun: 1,000-pair ping-pong +8-17%, one pair +4-11% (`scripts/bench_ab.ts
 * --only=ping-pong`, and one process per run alternating trees); Deno: one pair +10-15%,
 * 1,000 pairs unchanged (0.98-1.01). Cutting the length to reuse an array cost Deno's
 * one pair 30%.
 */
let rq: Array<Proc | undefined> = [];
let rqHead = 0;
let rqLen = 0;
let rqNext: Array<Proc | undefined> = [];
let rqNextLen = 0;
/** An emptied array longer than this is dropped rather than kept for reuse. */
const RQ_KEEP = 4_096;
let drainScheduled = false;
/** Messages handled per process per turn before it goes to the back of the queue. */
const PROC_BUDGET = 200;
/** Dispatches per macrotask before yielding to timers and I/O. */
const TICK_BUDGET = 20_000;

function enqueue(p: Proc): void {
  p.queued = true;
  rqNext[rqNextLen++] = p;
  if (!drainScheduled && !holding) {
    drainScheduled = true;
    queueMicrotask(drain);
  }
}

/** Number of processes waiting in the run queue (introspection). */
export function runQueueLength(): number {
  return rqLen - rqHead + rqNextLen;
}

/** The run queue is being worked through (`drain` is on the stack). */
let draining = false;
/** Inside {@linkcode runAfter}: the run queue is drained when it returns, not in a microtask. */
let holding = false;

/**
 * Runs `fn(arg)`, then at once the processes it made runnable, rather than in
 * the microtask that would otherwise be queued for them. For I/O drivers
 * (plain code): a socket callback that sends its requests to processes from
 * `fn` sees them run before it returns, so their replies can go out in the
 * write of the same callback, which on Bun costs much less than a write
 * from a later microtask; and no microtask is queued per callback. Inside a
 * process, or while the run queue is being drained, it only runs `fn`.
 *
 * It changes only when processes run, never the order of any messages: a
 * turn taken now is one a later microtask would have taken.
 *
 * Public as `Process.runAfter`: a server written on the library (like the KV
 * server) calls it from its socket's data callback.
 *
 * @example Replies ready before the callback returns
 * ```ts
 * import { Agent, Process } from "../../mod.ts";
 * const counter = await Agent.start(() => 0);
 * let answered = false;
 * // As a socket's data callback would: send, then let the agent run at once.
 * Process.runAfter((n: number) => Agent.updateWith(counter, (c) => c + n, () => answered = true), 5);
 * console.assert(answered); // the agent ran and replied before runAfter returned
 * console.assert(await Agent.get(counter, (c) => c) === 5);
 * await Agent.stop(counter);
 * ```
 */
export function runAfter<A, T>(fn: (arg: A) => T, arg: A): T {
  if (current !== null || draining || holding) return fn(arg);
  holding = true;
  try {
    return fn(arg);
  } finally {
    holding = false;
    if (rqHead < rqLen || rqNextLen !== 0) drain();
  }
}

/**
 * Runs the run queue outside a dead process's async context: a drain
 * scheduled from a dying body's promise handler would otherwise lend that dead
 * process's context to every behaviour it dispatches, whose async callbacks
 * would then resume "as" the dead process, and have their replies and sends
 * dropped. (Only then: switching contexts on every drain costs about 8% of a
 * call from a process.)
 */
function drain(): void {
  const ctx = als.getStore();
  // `als.run(undefined, ...)`, not `als.exit`: Deno's `exit` keeps the store.
  if (ctx !== undefined && ctx.state === DEAD) als.run(undefined as unknown as Proc, drainQueue);
  else drainQueue();
}

function drainQueue(): void {
  if (draining) return;
  draining = true;
  let budget = TICK_BUDGET;
  for (;;) {
    if (rqHead === rqLen) {
      if (rqNextLen === 0) break;
      const used = rq;
      rq = rqNext;
      rqLen = rqNextLen;
      rqHead = 0;
      rqNext = used.length > RQ_KEEP ? [] : used;
      rqNextLen = 0;
    }
    const p = rq[rqHead]!;
    rq[rqHead++] = undefined; // the queue keeps no dead process alive
    p.queued = false;
    if (p.state !== WAITING) continue;
    budget -= dispatch(p);
    if (budget <= 0 && (rqHead < rqLen || rqNextLen !== 0)) {
      drainScheduled = true;
      setImmediate(drain);
      draining = false;
      return;
    }
  }
  if (rq.length > RQ_KEEP) rq = [];
  if (rqNext.length > RQ_KEEP) rqNext = [];
  rqHead = rqLen = 0;
  drainScheduled = false;
  draining = false;
}

/** Runs one process for up to its budget; returns the work done. */
function dispatch(p: Proc): number {
  current = p;
  let n = 0;
  {
    // Read through the side object directly: most dispatches have none, and this runs on every one.
    const x = p.x;
    if (x !== null && x.init !== null) {
      const init = x.init;
      p.init = null;
      p.state = RUNNING;
      n++;
      settleOrSuspend(p, invoke(p, init));
    }
    const b = p.behaviour;
    if (b !== null) {
      const mq = p.mq;
      while (p.state === WAITING && mq !== null && p.mqHead < mq.length && n < PROC_BUDGET) {
        const msg = mq[p.mqHead];
        mq[p.mqHead++] = undefined;
        // On the behaviour, not the pid: with many processes busy (1,000 ping-pong
        // pairs) a pid's line is out of the cache by the time its process runs, and
        // touching it cost 5% (`scripts/bench_ab.ts --only=ping-pong`, per CPU second).
        b.handled++;
        n++;
        p.state = RUNNING;
        let r: unknown;
        try {
          r = b.handle(msg);
        } catch (e) {
          die(p, ["error", e]);
          break;
        }
        if (r !== undefined && typeof (r as PromiseLike<unknown>).then === "function") {
          if (p.state === RUNNING) suspend(p, r as PromiseLike<unknown>);
        } else if (p.state === RUNNING) {
          p.state = WAITING;
        }
      }
      if (mq !== null && p.mqHead === mq.length) {
        // A process that rarely gets mail (most of a million buckets) keeps no
        // array while idle; a busy one reuses its array rather than allocate per burst.
        if (b.handled < 256) p.mq = null;
        else mq.length = 0;
        p.mqHead = 0;
      } else if (p.state === WAITING && mq !== null) {
        if (p.mqHead > 1024 && p.mqHead * 2 > mq.length) {
          p.mq = mq.slice(p.mqHead);
          p.mqHead = 0;
        }
        enqueue(p);
      }
    } else if (p.state === WAITING && p.waiter !== null) {
      n++;
      scanForWaiter(p);
    }
  }
  current = null;
  if (deferredFns.length !== 0) runDeferred();
  stats.dispatched += n;
  return n;
}

function invoke(p: Proc, fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    die(p, ["error", e]);
    return undefined;
  }
}

function settleOrSuspend(p: Proc, r: unknown): void {
  if (p.state !== RUNNING) return;
  if (r !== undefined && r !== null && typeof (r as PromiseLike<unknown>).then === "function") {
    suspend(p, r as PromiseLike<unknown>);
  } else {
    p.state = WAITING;
  }
}

function suspend(p: Proc, r: PromiseLike<unknown>): void {
  p.state = SUSPENDED;
  r.then(() => resume(p), (e) => die(p, e instanceof ProcessExit ? e.reason : ["error", e]));
}

/** Marks a suspended process idle again, and schedules it if mail is waiting. */
export function resume(p: Proc): void {
  if (p.state !== SUSPENDED) return;
  p.state = WAITING;
  if (!p.queued && p.mq !== null && p.mqHead < p.mq.length && (p.behaviour !== null || p.waiter !== null)) {
    enqueue(p);
  }
}

/** Thrown by `exit(reason)` inside a process to end it with that reason. */
export class ProcessExit extends Error {
  readonly reason: unknown;
  constructor(reason: unknown) {
    super("process exit");
    this.name = "ProcessExit";
    this.reason = reason;
  }
}

// ---------------------------------------------------------------- spawn

/** Creates a process that will run `init` on its first dispatch. */
export function spawnProc(
  parent: Proc | null,
  kind: string,
  init: (() => unknown) | null,
  behaviour: Behaviour | null,
): Proc {
  const p = new Proc(parent, kind, behaviour);
  if (parent !== null && parent.state === DEAD) {
    // Spawned by a dead process's leftover code: born dead, it never runs.
    table.remove(p);
    stats.spawned--;
    p.state = DEAD;
    p.pid._proc = null;
    return p;
  }
  if (init !== null) {
    p.init = init;
    enqueue(p);
  }
  return p;
}

/** Schedules `p` if it is idle (used after changing what it waits for). */
export function wake(p: Proc): void {
  if (p.state === WAITING && !p.queued) enqueue(p);
}

// ---------------------------------------------------------------- messages

/** Puts `msg` in `p`'s mailbox; never runs `p`'s code here. */
export function deliver(p: Proc, msg: unknown): void {
  if (p.state === DEAD) return;
  let mq = p.mq;
  if (mq === null) mq = p.mq = [];
  mq.push(msg);
  if (p.state === WAITING && !p.queued && (p.behaviour !== null || p.waiter !== null)) enqueue(p);
}

function scanForWaiter(p: Proc): void {
  const w = p.waiter!;
  const mq = p.mq;
  if (mq === null) return;
  const i = findMatch(p, w.match, Math.max(w.scanPos, p.mqHead));
  if (i < 0) {
    w.scanPos = mq.length;
    return;
  }
  const msg = takeAt(p, i);
  p.waiter = null;
  p.state = SUSPENDED;
  if (w.timer !== null) w.timer.cancel();
  p.handled++;
  w.resolve(msg);
}

/** Index of the first message from `from` that matches, or -1. */
export function findMatch(p: Proc, match: ((m: unknown) => boolean) | null, from: number): number {
  const mq = p.mq;
  if (mq === null) return -1;
  for (let i = from; i < mq.length; i++) {
    if (match === null || match(mq[i])) return i;
  }
  return -1;
}

/** Removes and returns the message at absolute index `i`. */
export function takeAt(p: Proc, i: number): unknown {
  const mq = p.mq!;
  const msg = mq[i];
  if (i === p.mqHead) {
    mq[p.mqHead++] = undefined;
    if (p.mqHead === mq.length) {
      mq.length = 0;
      p.mqHead = 0;
    }
  } else {
    mq.splice(i, 1);
  }
  return msg;
}

// ---------------------------------------------------------------- links and monitors
// A million processes with one link and one monitor each is the common shape
// (buckets), so the first of each is stored inline: a Set or Map costs ~200 bytes.

function addLink(a: Proc, b: Proc): void {
  const l = a.links;
  if (l === null) a.links = b;
  else if (l instanceof Proc) {
    if (l !== b) a.links = new Set([l, b]);
  } else l.add(b);
}

function removeLink(a: Proc, b: Proc): void {
  const l = a.links;
  if (l === b) a.links = null;
  else if (l instanceof Set) l.delete(b);
}

/** The processes linked to `p`. */
export function linksOf(p: Proc): Proc[] {
  const l = p.links;
  return l === null ? [] : l instanceof Proc ? [l] : [...l];
}

/** Links two live processes (both directions). */
export function linkProcs(a: Proc, b: Proc): void {
  if (a === b) return;
  addLink(a, b);
  addLink(b, a);
}

/** Removes a link in both directions. */
export function unlinkProcs(a: Proc, b: Proc): void {
  removeLink(a, b);
  removeLink(b, a);
}

/** The single inline monitor of a process, for targets that do not carry their ref id. */
export class OneMonitor {
  constructor(readonly id: number, readonly who: DownTarget) {}
}

/**
 * A monitor stored inline: a {@linkcode ProcMonitor} (the common case: a
 * registry watching a million buckets) is its own entry, saving an object
 * per monitor; any other target is wrapped in a {@linkcode OneMonitor}.
 */
export type InlineMonitor = OneMonitor | ProcMonitor;

function inlineWho(m: InlineMonitor): DownTarget {
  return m instanceof ProcMonitor ? m : m.who;
}

function putMonitor(p: Proc, id: number, who: DownTarget): void {
  const m = p.monitors;
  if (m === null) p.monitors = who instanceof ProcMonitor && who.id === id ? who : new OneMonitor(id, who);
  else if (!(m instanceof Map)) p.monitors = new Map([[m.id, inlineWho(m)], [id, who]]);
  else m.set(id, who);
}

/** Removes monitor `id` from `p`; true if it was there. */
export function dropMonitor(p: Proc, id: number): boolean {
  const m = p.monitors;
  if (m === null) return false;
  if (m instanceof Map) return m.delete(id);
  if (m.id !== id) return false;
  p.monitors = null;
  return true;
}

/** Who monitors `p`. */
export function monitorsOf(p: Proc): DownTarget[] {
  const m = p.monitors;
  return m === null ? [] : m instanceof Map ? [...m.values()] : [inlineWho(m)];
}

/**
 * A process-to-process monitor: tells the watcher with a DOWN message. It is
 * its own {@linkcode Ref} (the one `Process.monitor` returns and its DOWN
 * carries), saving a separate ref object per monitor. While active it is also
 * on its watcher's list of held monitors (intrusive, as a registry holding a
 * million monitors would otherwise pay a Map entry for each); `demonitor`
 * finds it from the ref itself.
 */
export class ProcMonitor extends Ref implements DownTarget {
  readonly watcher: Proc;
  /** The monitored process while the watcher holds this monitor, else null. */
  target: Proc | null = null;
  prevHeld: ProcMonitor | null = null;
  nextHeld: ProcMonitor | null = null;
  constructor(watcher: Proc) {
    super(nextRefId());
    this.watcher = watcher;
  }
  down(target: Proc, reason: unknown): void {
    unhold(this);
    deliver(this.watcher, new DownMessage(this, target.pid, reason, this.name, this.tag));
  }
  /** The registered name it was made with: none here, see {@linkcode NamedProcMonitor}. */
  get name(): string | undefined {
    return undefined;
  }
  /** What its DOWN is tagged with: none here, see {@linkcode TaggedProcMonitor}. */
  get tag(): unknown {
    return undefined;
  }
}

/**
 * A monitor whose DOWN carries a tag (`Process.monitor(pid, { tag })`): a
 * subclass, so untagged monitors do not pay for the field (nor tagged ones
 * for a name: JSC's objects grow by 16 bytes, and a registry tags a million).
 * A registry tags each bucket's monitor with its name instead of keeping a
 * ref → name map.
 */
export class TaggedProcMonitor extends ProcMonitor {
  readonly #tag: unknown;
  constructor(watcher: Proc, tag: unknown) {
    super(watcher);
    this.#tag = tag;
  }
  override get tag(): unknown {
    return this.#tag;
  }
}

/** A monitor made with a registered name (and maybe a tag): its DOWN names what was monitored. */
export class NamedProcMonitor extends ProcMonitor {
  readonly #name: string;
  readonly #tag: unknown;
  constructor(watcher: Proc, name: string, tag: unknown) {
    super(watcher);
    this.#name = name;
    this.#tag = tag;
  }
  override get name(): string {
    return this.#name;
  }
  override get tag(): unknown {
    return this.#tag;
  }
}

/** Records that `m`'s watcher holds `m`, a monitor on the live process `target` (then call {@linkcode addMonitor}). */
export function holdMonitor(m: ProcMonitor, target: Proc): void {
  const w = m.watcher;
  const head = w.held;
  m.target = target;
  m.nextHeld = head;
  if (head !== null) head.prevHeld = m;
  w.held = m;
}

function unhold(m: ProcMonitor): void {
  if (m.target === null) return;
  const prev = m.prevHeld, next = m.nextHeld;
  if (prev !== null) prev.nextHeld = next;
  else m.watcher.held = next;
  if (next !== null) next.prevHeld = prev;
  m.prevHeld = m.nextHeld = null;
  m.target = null;
}

/**
 * Takes back the monitor `ref` that `watcher` holds; returns the process it
 * monitored (then drop it there with {@linkcode dropMonitor}), or null if
 * `watcher` holds no such monitor.
 */
export function releaseMonitor(watcher: Proc, ref: Ref): Proc | null {
  const m = ref;
  if (!(m instanceof ProcMonitor) || m.watcher !== watcher || m.target === null) return null;
  const target = m.target;
  unhold(m);
  return target;
}

/** The processes `p` monitors, oldest monitor first. */
export function heldTargets(p: Proc): Proc[] {
  const out: Proc[] = [];
  for (let m = p.held; m !== null; m = m.nextHeld) out.push(m.target!);
  return out.reverse();
}

/** Adds a monitor on `target`; if it is dead, tells `who` at once with `noproc`. */
export function addMonitor(target: Proc | null, refId: number, who: DownTarget): void {
  if (target === null || target.state === DEAD) {
    who.down(target ?? deadPlaceholder, "noproc");
    return;
  }
  putMonitor(target, refId, who);
}

const deadPlaceholder = { pid: new Pid(0) } as Proc;

// ---------------------------------------------------------------- exit signals

/** Pending link signals, processed iteratively so long link chains do not recurse. */
const signalQueue: Array<[Proc, Proc, unknown]> = [];
let processingSignals = false;

/**
 * Sends an exit signal from `from` (null: plain code) to `target`, with
 * Erlang's rules. `viaLink` is true when the signal comes from a linked
 * process's death (then `kill` is an ordinary reason).
 */
export function exitSignal(target: Proc, from: Proc | null, fromPid: Pid, reason: unknown, viaLink: boolean): void {
  if (target.state === DEAD) return;
  if (!viaLink && reason === "kill") {
    die(target, "killed");
  } else if (target.trapExit) {
    deliver(target, new ExitMessage(fromPid, reason));
  } else if (reason === "normal") {
    if (!viaLink && from === target) die(target, "normal");
  } else {
    die(target, reason);
  }
}

/** Called for a crash nobody hears of (no link, monitor or exit hook); null: silent. */
export let crashLogger: ((pid: Pid, kind: string, reason: unknown) => void) | null = (pid, kind, reason) => {
  const thrown = Array.isArray(reason) ? reason[1] : reason;
  console.error(`[otp] ${kind} process ${pid} crashed:`, thrown);
};

/** Replaces the crash logger (null silences it). */
export function setCrashLogger(fn: ((pid: Pid, kind: string, reason: unknown) => void) | null): void {
  crashLogger = fn;
}

/** Ends `p` with `reason`: frees its name, tells monitors and links, runs exit hooks. */
export function die(p: Proc, reason: unknown): void {
  if (p.state === DEAD) return;
  let observed = p.links !== null || p.monitors !== null || p.exitHooks !== null;
  p.state = DEAD;
  const w = p.waiter;
  if (w !== null) {
    p.waiter = null;
    if (w.timer !== null) w.timer.cancel();
  }
  const b = p.behaviour;
  if (b !== null && b.dying !== undefined && b.dying(p.mq, p.mqHead, reason)) observed = true;
  if (!observed && crashLogger !== null && Array.isArray(reason) && reason[0] === "error") {
    // An unobserved crash would otherwise vanish without a trace.
    crashLogger(p.pid, b?.kind ?? p.kind, reason);
  }
  p.mq = null;
  p.mqHead = 0;
  p.init = null;
  if (p.name !== undefined) {
    if (names.get(p.name) === p) names.delete(p.name);
  }
  table.remove(p);
  // The label outlives the process (supervisor reports name it): whole on the pid from now on.
  if (b !== null && b.labelTag !== undefined) p.pid._label = labelOf(p);
  p.pid._proc = null;
  stats.exited++;
  for (let m = p.held; m !== null;) {
    const next = m.nextHeld;
    dropMonitor(m.target!, m.id);
    m.prevHeld = m.nextHeld = m.target = null;
    m = next;
  }
  p.held = null;
  // Exit signals go out before DOWNs, as on the BEAM: a process both linked and
  // monitoring gets the EXIT message first. Deaths they cause come after every DOWN.
  let signals = false;
  if (p.links !== null) {
    const links = linksOf(p);
    p.links = null;
    for (const l of links) {
      removeLink(l, p);
      if (l.trapExit) {
        deliver(l, new ExitMessage(p.pid, reason));
      } else if (reason !== "normal") {
        signalQueue.push([l, p, reason]);
        signals = true;
      }
    }
  }
  if (p.monitors !== null) {
    const monitors = monitorsOf(p);
    p.monitors = null;
    for (const who of monitors) who.down(p, reason);
  }
  const hooks = p.exitHooks;
  if (hooks !== null) {
    p.exitHooks = null;
    for (const h of hooks) {
      try {
        h(reason);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
  if (signals) {
    if (!processingSignals) {
      processingSignals = true;
      try {
        for (let i = 0; i < signalQueue.length; i++) {
          const [t, from, r] = signalQueue[i];
          exitSignal(t, from, from.pid, r, true);
        }
      } finally {
        signalQueue.length = 0;
        processingSignals = false;
      }
    }
  }
}
