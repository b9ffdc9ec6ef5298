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
import { currentProc, DEAD, die, exitSignal, never, type Proc, unlinkProcs } from "./process/_runtime.ts";
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
  /** @ignore */ outcome: TaskOutcome<T> = null;
  /** @ignore The outcome was handed out by `await`, `yield` or `shutdown`: it is never given twice. */
  consumed = false;
  /** @ignore */ waiters: Array<() => void> | null = null;
  /** @ignore */ proc: Proc;
  /** @ignore */ ownerProc: Proc | null;
  /** @ignore */
  constructor(proc: Proc, owner: Proc | null) {
    this.proc = proc;
    this.pid = proc.pid;
    this.ownerProc = owner;
    this.owner = owner?.pid;
  }
  /** @ignore */
  settle(outcome: TaskOutcome<T>): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    const ws = this.waiters;
    this.waiters = null;
    if (ws !== null) { for (const w of ws) w(); }
  }
  /** @ignore Calls `fn` once the outcome is known (now, if it already is). */
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
  /**
   * Creates the error.
   *
   * @param pid The task's pid.
   * @param reason Its exit reason, or `"timeout"`.
   */
  constructor(pid: Pid, reason: unknown) {
    super(`Task ${pid} ${reason === "timeout" ? "did not reply in time" : `exited: ${formatReason(reason)}`}`);
    this.name = "TaskError";
    this.pid = pid;
    this.reason = reason;
  }
}

/** @ignore Spawns the task process; `link` links it to the caller. */
export function spawnTask<T>(fn: () => T | Promise<T>, link: boolean, kind = "Task"): Task<Awaited<T>> {
  const owner = currentProc();
  // Assigned once, after the body that refers to it is made.
  // deno-lint-ignore prefer-const
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
 * As in Elixir, only the task's owner (the process that started it, or
 * plain code for plain code's tasks) may query it with `await`, `yield` or
 * `shutdown` (others get a rejection), and its outcome is handed out once:
 * after `await` or a `yield` that got it, another query finds nothing (it
 * waits out its timeout).
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
  const owner = task.ownerProc;
  const refused = queriedByOwner(task, "await");
  if (refused !== null) return refused;
  return new Promise<T>((resolve, reject) => {
    let timer: Timer | null = null;
    let done = false;
    const finish = () => {
      if (done || task.consumed) return;
      done = true;
      task.consumed = true;
      if (timer !== null) timer.cancel();
      if (owner !== null && owner.state === DEAD) return;
      const o = task.outcome!;
      if (o[0] === "ok") resolve(o[1]);
      else reject(new TaskError(task.pid, o[1]));
    };
    if ((task.outcome === null || task.consumed) && timeout !== Infinity) {
      timer = schedule(timeout, () => {
        if (done) return;
        done = true;
        if (owner === null || owner.state !== DEAD) reject(new TaskError(task.pid, "timeout"));
      });
    }
    // A consumed outcome is gone, as the reply message is in Elixir: wait out the timeout.
    if (!task.consumed) task.onSettled(finish);
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
  const owner = task.ownerProc;
  const refused = queriedByOwner(task, "yield");
  if (refused !== null) return refused;
  return new Promise((resolve) => {
    let timer: Timer | null = null;
    let done = false;
    const ownerGone = () => owner !== null && owner.state === DEAD;
    if ((task.outcome === null || task.consumed) && timeout !== Infinity) {
      timer = schedule(timeout, () => {
        if (done) return;
        done = true;
        if (!ownerGone()) resolve(null);
      });
    }
    if (task.consumed) return; // handed out already: nothing more will come
    task.onSettled(() => {
      if (done || task.consumed) return;
      done = true;
      task.consumed = true;
      if (timer !== null) timer.cancel();
      if (!ownerGone()) resolve(task.outcome);
    });
  });
}

/**
 * Elixir raises when a task is queried by a process other than its owner
 * (plain code counts as one owner): a rejected promise here, or null.
 */
function queriedByOwner<T>(task: Task<T>, what: string): Promise<never> | null {
  const caller = currentProc();
  if (caller !== null && caller.state === DEAD) return never();
  if (caller === task.ownerProc) return null;
  const by = caller === null ? "plain code" : String(caller.pid);
  const owner = task.owner === undefined ? "plain code" : String(task.owner);
  return Promise.reject(
    new Error(`Task.${what}: task ${task.pid} must be queried from its owner (${owner}) but was queried from ${by}`),
  );
}
export { yieldTask as yield };

/**
 * Stops the task: unlinks it from its owner, sends exit `shutdown` and, after
 * `timeout` ms (default 5000), `kill`; `"brutal_kill"` kills at once. Resolves
 * to `["ok", value]` if it finished first, `["exit", reason]` if it exited
 * for another reason than this shutdown (`["exit", "killed"]` when it had to
 * be killed after the timeout; `["exit", "noproc"]` if its outcome was
 * already handed out), or `null` when the shutdown stopped it.
 *
 * @example
 * ```ts
 * import { Task } from "../mod.ts";
 * const t = Task.async(() => new Promise<never>(() => {}));
 * console.assert(await Task.shutdown(t) === null);
 * ```
 */
export function shutdown<T>(task: Task<T>, timeout: number | "brutal_kill" = 5000): Promise<TaskOutcome<T>> {
  const refused = queriedByOwner(task, "shutdown");
  if (refused !== null) return refused;
  const p = task.proc;
  const owner = task.ownerProc;
  if (owner !== null) unlinkProcs(owner, p);
  // Elixir's shutdown_receive: the task's own exit reason is news unless it is the one this shutdown caused.
  let how: "shutdown" | "brutal_kill" | "timeout_kill" = timeout === "brutal_kill" ? "brutal_kill" : "shutdown";
  const outcome = (): TaskOutcome<T> => {
    if (task.consumed) return ["exit", "noproc"];
    task.consumed = true;
    const o = task.outcome;
    if (o !== null && o[0] === "exit") {
      if (o[1] === "shutdown" && how !== "brutal_kill") return null;
      if (o[1] === "killed" && how === "brutal_kill") return null;
    }
    return o;
  };
  if (task.consumed || task.outcome !== null || p.state === DEAD) return Promise.resolve(outcome());
  return new Promise((resolve) => {
    let timer: Timer | null = null;
    task.onSettled(() => {
      if (timer !== null) timer.cancel();
      if (owner === null || owner.state !== DEAD) resolve(outcome());
    });
    const from = currentProc();
    if (timeout === "brutal_kill") {
      die(p, "killed");
    } else {
      exitSignal(p, from, from?.pid ?? p.pid, "shutdown", false);
      if (timeout !== Infinity) {
        timer = schedule(timeout, () => {
          how = "timeout_kill";
          die(p, "killed");
        });
      }
    }
  });
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
