/**
 * How a process body is spawned and receives, shared by `process.ts`, `task.ts`,
 * `task_supervisor.ts`, `application.ts` and `gen_server.ts`. Not part of the
 * public API: `Process` re-exports the public names (`TIMEOUT`, the context and
 * option types).
 *
 * @module
 */
import { Pid } from "./pid.ts";
import { type Pattern, toMatcher } from "./pattern.ts";
import { schedule } from "./_timers.ts";
import {
  als,
  currentProc,
  DEAD,
  die,
  findMatch,
  linkProcs,
  names,
  type Proc,
  ProcessExit,
  RUNNING,
  spawnProc,
  SUSPENDED,
  takeAt,
  type Waiter,
  WAITING,
  wake,
} from "./_runtime.ts";

/** What `receive` resolves to when its `after` timeout passes first. */
export const TIMEOUT: unique symbol = Symbol("timeout");

/** Given to a raw process body: its own pid, and its mailbox. */
export interface ProcessContext {
  /** This process. */
  readonly self: Pid;
  /** Waits for the first message matching `pattern` (see `Process.receive`). */
  receive<T = any>(pattern?: Pattern): Promise<T>;
  /** Same, giving up after `after` ms with {@linkcode TIMEOUT}. */
  receive<T = any>(pattern: Pattern, after: number): Promise<T | typeof TIMEOUT>;
  /** Ends this process with `reason` (throws; do not catch it). */
  exit(reason: unknown): never;
}

/** Options for `Process.spawn`. */
export interface SpawnOptions {
  /** Link the new process to the caller (a process). */
  link?: boolean;
  /** Register the new process under this name (throws if taken). */
  name?: string;
  /** Start with exits trapped. */
  trapExit?: boolean;
}

/** A raw process body. Returning ends the process with reason `normal`. */
export type ProcessBody = (ctx: ProcessContext) => unknown;

/** Plain code has no pid of its own; signals from it carry this one. */
export const ROOT: Pid = new Pid(0);

/** The context handed to a body; its functions work destructured (`({ receive }) => ...`). */
class Context implements ProcessContext {
  readonly self: Pid;
  readonly receive: ProcessContext["receive"];
  constructor(p: Proc) {
    this.self = p.pid;
    this.receive = ((pattern?: Pattern, after?: number) => receiveIn(p, pattern, after)) as ProcessContext["receive"];
  }
  exit(this: void, reason: unknown): never {
    throw new ProcessExit(reason);
  }
}

/** @ignore Creates the process; the body starts later, from the scheduler. */
export function spawnBody(body: ProcessBody, opts: SpawnOptions | undefined, kind: string): Proc {
  const parent = currentProc();
  const p = spawnProc(parent, kind, null, null);
  if (p.state === DEAD) return p; // spawned by a dead process: born dead
  if (opts !== undefined) {
    if (opts.name !== undefined) registerProc(opts.name, p);
    if (opts.trapExit) p.trapExit = true;
    if (opts.link && parent !== null) linkProcs(parent, p);
  }
  // Bodies run in an async context so `self()` still works after any `await`.
  p.init = () => als.run(p, runBody, p, body);
  wake(p);
  return p;
}

function runBody(p: Proc, body: ProcessBody): void {
  p.state = SUSPENDED;
  let r: unknown;
  try {
    r = body(new Context(p));
  } catch (e) {
    die(p, e instanceof ProcessExit ? e.reason : ["error", e]);
    return;
  }
  if (r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function") {
    (r as PromiseLike<unknown>).then(
      () => die(p, "normal"),
      (e) => die(p, e instanceof ProcessExit ? e.reason : ["error", e]),
    );
  } else {
    die(p, "normal");
  }
}

export function receiveIn(p: Proc, pattern: unknown, after: number | undefined): Promise<any> {
  if (p.state === DEAD) return new Promise(() => {});
  if (p.waiter !== null) throw new Error("Process is already waiting in receive");
  const match = toMatcher(pattern);
  const i = findMatch(p, match, p.mqHead);
  if (i >= 0) {
    p.handled++;
    return Promise.resolve(takeAt(p, i));
  }
  if (after !== undefined && after <= 0) return Promise.resolve(TIMEOUT);
  return new Promise((resolve) => {
    const w: Waiter = { match, resolve, timer: null, scanPos: p.mq === null ? 0 : p.mq.length };
    if (after !== undefined && after !== Infinity) {
      w.timer = schedule(after, () => {
        if (p.waiter !== w) return;
        p.waiter = null;
        if (p.state === WAITING) p.state = SUSPENDED;
        resolve(TIMEOUT);
      });
    }
    p.waiter = w;
    if (p.state === SUSPENDED || p.state === RUNNING) p.state = WAITING;
  });
}

/** @ignore Registers `p` under `name`. */
export function registerProc(name: string, p: Proc): void {
  if (typeof name !== "string" || name === "") throw new TypeError("A process name must be a non-empty string");
  const holder = names.get(name);
  if (holder !== undefined) throw new Error(`Name ${JSON.stringify(name)} is already registered to ${holder.pid}`);
  if (p.state === DEAD) throw new Error(`Cannot register ${JSON.stringify(name)}: process ${p.pid} is not alive`);
  if (p.name !== undefined) throw new Error(`Process ${p.pid} is already registered as ${JSON.stringify(p.name)}`);
  names.set(name, p);
  p.name = name;
}
