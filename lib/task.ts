/**
 * Task: run one function in its own process and, with `async`/`await`, get its
 * result back — Elixir's `Task`.
 *
 * `Task.async` links the task to the caller when the caller is a process, so a
 * crash in either takes the other down (a caller that traps exits gets an
 * `ExitMessage` instead). From plain code there is nothing to link to; the
 * crash is reported by `await`.
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const t = Task.async(async () => 6 * 7);
 * console.assert(await Task.await(t) === 42);
 * ```
 *
 * @module
 */
import type { Pid } from "./process/pid.ts";
import { schedule, type Timer } from "./process/_timers.ts";
import { currentProc, DEAD, die, exitSignal, type Proc, unlinkProcs } from "./process/_runtime.ts";
import { spawnBody } from "./process/_spawn.ts";
import { formatReason } from "./process/reason.ts";

/** What `yield` and `shutdown` return: the result, the exit reason, or `null` (no answer yet). */
export type TaskOutcome<T> = readonly ["ok", T] | readonly ["exit", unknown] | null;

/** A running (or finished) task; pass it to `await`, `yield` or `shutdown`. */
export class Task<T = unknown> {
  /** The task's process. */
  readonly pid: Pid;
  /** The process that started it (undefined: plain code). */
  readonly owner: Pid | undefined;
  /** @internal */ outcome: TaskOutcome<T> = null;
  /** @internal */ waiters: Array<() => void> | null = null;
  /** @internal */ proc: Proc;
  /** @internal */ ownerProc: Proc | null;
  /** @internal */
  constructor(proc: Proc, owner: Proc | null) {
    this.proc = proc;
    this.pid = proc.pid;
    this.ownerProc = owner;
    this.owner = owner?.pid;
  }
  /** @internal */
  settle(outcome: TaskOutcome<T>): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    const ws = this.waiters;
    this.waiters = null;
    if (ws !== null) { for (const w of ws) w(); }
  }
  /** @internal Calls `fn` once the outcome is known (now, if it already is). */
  onSettled(fn: () => void): void {
    if (this.outcome !== null) fn();
    else (this.waiters ??= []).push(fn);
  }
}

/** `await` failed: the task exited (`reason`) or did not answer in time (`"timeout"`). */
export class TaskError extends Error {
  /** The task's exit reason, or `"timeout"`. */
  readonly reason: unknown;
  /** The task's pid. */
  readonly pid: Pid;
  constructor(pid: Pid, reason: unknown) {
    super(`Task ${pid} ${reason === "timeout" ? "did not reply in time" : `exited: ${formatReason(reason)}`}`);
    this.name = "TaskError";
    this.pid = pid;
    this.reason = reason;
  }
}

/** Spawns the task process; `link` links it to the caller. @internal */
function spawnTask<T>(fn: () => T | Promise<T>, link: boolean, kind = "Task"): Task<Awaited<T>> {
  const owner = currentProc();
  let task!: Task<Awaited<T>>;
  const proc = spawnBody(
    async () => {
      const v = await fn();
      task.settle(["ok", v as Awaited<T>]);
    },
    { link },
    kind,
  );
  task = new Task(proc, owner);
  (proc.exitHooks ??= []).push((reason) => task.settle(["exit", reason]));
  return task;
}

/**
 * Runs `fn` in a new process linked to the caller; `await` the result.
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const tasks = [1, 2, 3].map((n) => Task.async(() => n * n));
 * const squares = await Promise.all(tasks.map((t) => Task.await(t)));
 * console.assert(squares.join() === "1,4,9");
 * ```
 */
export function async<T>(fn: () => T | Promise<T>): Task<Awaited<T>> {
  return spawnTask(fn, true);
}

/**
 * Waits for the task's result (default 5000 ms). Rejects with
 * {@linkcode TaskError}: the task's exit reason if it crashed, or `"timeout"`
 * (the task keeps running; `shutdown` it if you no longer want it).
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const t = Task.async(() => { throw new Error("boom"); });
 * const err = await Task.await(t).catch((e) => e);
 * console.assert(err instanceof Task.TaskError);
 * ```
 */
function awaitTask<T>(task: Task<T>, timeout: number = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: Timer | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (timer !== null) timer.cancel();
      const o = task.outcome!;
      if (o[0] === "ok") resolve(o[1]);
      else reject(new TaskError(task.pid, o[1]));
    };
    if (task.outcome === null && timeout !== Infinity) {
      timer = schedule(timeout, () => {
        if (done) return;
        done = true;
        reject(new TaskError(task.pid, "timeout"));
      });
    }
    task.onSettled(finish);
  });
}
export { awaitTask as await };

/**
 * Waits up to `timeout` ms (default 5000) and resolves to `["ok", value]`,
 * `["exit", reason]`, or `null` if the task is still running.
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const t = Task.async(() => new Promise<never>(() => {}));
 * console.assert(await Task.yield(t, 1) === null);
 * await Task.shutdown(t, "brutal_kill");
 * ```
 */
function yieldTask<T>(task: Task<T>, timeout: number = 5000): Promise<TaskOutcome<T>> {
  return new Promise((resolve) => {
    let timer: Timer | null = null;
    let done = false;
    if (task.outcome === null && timeout !== Infinity) {
      timer = schedule(timeout, () => {
        if (done) return;
        done = true;
        resolve(task.outcome);
      });
    }
    task.onSettled(() => {
      if (done) return;
      done = true;
      if (timer !== null) timer.cancel();
      resolve(task.outcome);
    });
  });
}
export { yieldTask as yield };

/**
 * Stops the task: unlinks it from its owner, sends exit `shutdown` and, after
 * `timeout` ms (default 5000), `kill`; `"brutal_kill"` kills at once. Resolves
 * to `["ok", value]` if it finished first, `["exit", reason]` if it had
 * crashed, or `null`.
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const t = Task.async(() => new Promise<never>(() => {}));
 * console.assert(await Task.shutdown(t) === null);
 * ```
 */
export function shutdown<T>(task: Task<T>, timeout: number | "brutal_kill" = 5000): Promise<TaskOutcome<T>> {
  const p = task.proc;
  if (task.ownerProc !== null) unlinkProcs(task.ownerProc, p);
  if (task.outcome !== null || p.state === DEAD) return Promise.resolve(visible(task.outcome));
  return new Promise((resolve) => {
    let timer: Timer | null = null;
    task.onSettled(() => {
      if (timer !== null) timer.cancel();
      resolve(visible(task.outcome));
    });
    const from = currentProc();
    if (timeout === "brutal_kill") {
      die(p, "killed");
    } else {
      exitSignal(p, from, from?.pid ?? p.pid, "shutdown", false);
      if (timeout !== Infinity) timer = schedule(timeout, () => die(p, "killed"));
    }
  });
}

/** A shutdown's own exit reasons are not news to the caller. */
function visible<T>(o: TaskOutcome<T>): TaskOutcome<T> {
  if (o !== null && o[0] === "exit" && (o[1] === "shutdown" || o[1] === "killed")) return null;
  return o;
}

/**
 * Starts `fn` in a process nobody waits for (not linked).
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const pid = Task.start(() => console.log("fire and forget"));
 * ```
 */
export function start(fn: () => unknown): Pid {
  return spawnTask(fn, false).pid;
}

/**
 * Starts `fn` in a process linked to the caller (for supervision trees).
 *
 * @example
 * ```ts
 * import { Process, Task } from "../mod.ts";
 * await Process.run(async () => { Task.startLink(() => {}); });
 * ```
 */
export function startLink(fn: () => unknown): Pid {
  return spawnTask(fn, true).pid;
}
