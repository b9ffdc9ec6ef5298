/**
 * Task.Supervisor: a DynamicSupervisor for tasks, as Elixir's
 * `Task.Supervisor`. Start fire-and-forget tasks with {@linkcode startChild},
 * or tasks whose result you want with {@linkcode async} (linked to the
 * caller) and {@linkcode asyncNolink} (not linked: a crash reaches the caller
 * only as `Task.await`'s rejection). Their `Task` works with `Task.await`,
 * `Task.yield` and `Task.shutdown`.
 *
 * The namespace is itself a child module: `[TaskSupervisor, { name: "tasks" }]`.
 *
 * @example
 * ```ts
 * import { Task, TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink({ name: "doc_tasks" });
 * const t = TaskSupervisor.async("doc_tasks", () => 6 * 7);
 * console.assert(await Task.await(t) === 42);
 * await TaskSupervisor.stop(sup);
 * ```
 *
 * @module
 */
import type { Pid } from "./process/pid.ts";
import { currentProc, linkProcs, type Proc } from "./process/_runtime.ts";
import { spawnBody } from "./process/_spawn.ts";
import { stop as genStop } from "./gen_server.ts";
import { spawnTask, startLink as taskStartLink, Task } from "./task.ts";
import { adoptChild, type DynamicSupervisorOptions, request, startDynamic } from "./supervisor/_dynamic.ts";
import { type ChildSpec, childSpec as toSpec, type RestartType, type Shutdown } from "./supervisor/child_spec.ts";

export type { DynamicSupervisorOptions as TaskSupervisorOptions } from "./supervisor/_dynamic.ts";

/** Options of {@linkcode childSpec}: the supervisor's options plus the child id. */
export interface TaskSupervisorChildOptions extends DynamicSupervisorOptions {
  /** The child id under the parent supervisor. Default `"Task.Supervisor"`. */
  id?: string;
}

/** Options of {@linkcode async} and {@linkcode asyncNolink}. */
export interface AsyncOptions {
  /** How the supervisor stops the task at its own exit. Default 5000. */
  shutdown?: Shutdown;
}

/** Options of {@linkcode startChild}. */
export interface StartChildOptions extends AsyncOptions {
  /** Default `"temporary"`: a task is not restarted unless asked. */
  restart?: RestartType;
}

/**
 * Starts a task supervisor linked to the caller (when it is a process).
 *
 * @example
 * ```ts
 * import { TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink();
 * await TaskSupervisor.stop(sup);
 * ```
 */
export function startLink(opts?: DynamicSupervisorOptions): Promise<Pid> {
  return startDynamic(opts, "Task.Supervisor");
}

/**
 * The child spec to run a task supervisor under another supervisor.
 *
 * @example
 * ```ts
 * import { Supervisor, TaskSupervisor } from "../mod.ts";
 * const top = await Supervisor.startLink([[TaskSupervisor, { name: "doc_ts_child" }]], { strategy: "one_for_one" });
 * await Supervisor.stop(top);
 * ```
 */
export function childSpec(opts?: TaskSupervisorChildOptions): ChildSpec {
  const { id, ...supOpts } = opts ?? {};
  return { id: id ?? "Task.Supervisor", start: () => startLink(supOpts), type: "supervisor" };
}

/**
 * Starts `fn` as a supervised task nobody waits for. Temporary by default;
 * with `restart: "transient"` it is run again after a crash. Resolves with
 * the task's pid; rejects with a `StartError` `"max_children"` when full.
 *
 * @example
 * ```ts
 * import { TaskSupervisor } from "../mod.ts";
 * const sendEmail = (_to: string) => {};
 * const sup = await TaskSupervisor.startLink();
 * await TaskSupervisor.startChild(sup, () => sendEmail("ada@example.com"));
 * await TaskSupervisor.stop(sup);
 * ```
 */
export async function startChild(sup: Pid | string, fn: () => unknown, opts?: StartChildOptions): Promise<Pid> {
  const spec = toSpec({
    id: "Task",
    start: () => taskStartLink(fn),
    restart: opts?.restart ?? "temporary",
    shutdown: opts?.shutdown ?? 5000,
  });
  return (await request<Pid>(sup, ["start_child", spec], `TaskSupervisor.startChild(${String(sup)})`));
}

function supervisedTask<T>(
  sup: Pid | string,
  fn: () => T | Promise<T>,
  link: boolean,
  opts: AsyncOptions | undefined,
): Task<Awaited<T>> {
  const owner = currentProc();
  // A dead process's leftover code gets a task that is born dead, and the supervisor is not involved.
  if (owner !== null && !owner.alive) return spawnTask(fn, false);
  let task!: Task<Awaited<T>>;
  const spec = toSpec({
    id: "Task",
    start: () => {
      throw new Error("An async task is never restarted");
    },
    restart: "temporary",
    shutdown: opts?.shutdown ?? 5000,
  });
  adoptChild(sup, spec, (supProc: Proc) => {
    const proc = spawnBody(
      async () => {
        const v = await fn();
        task.settle(["ok", v as Awaited<T>]);
      },
      undefined,
      "Task",
    );
    proc.parent = supProc;
    linkProcs(supProc, proc);
    if (link && owner !== null) linkProcs(owner, proc);
    task = new Task<Awaited<T>>(proc, owner);
    (proc.exitHooks ??= []).push((reason) => task.settle(["exit", reason]));
    return proc.pid;
  });
  return task;
}

/**
 * Runs `fn` as a task supervised by `sup` and linked to the caller (when it
 * is a process): a crash in either takes the other down. Get the result
 * with `Task.await`. Throws a `CallError` `noproc` if `sup` is not running,
 * or a `StartError` `"max_children"` if it is full.
 *
 * @example
 * ```ts
 * import { Task, TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink();
 * const results = await Promise.all([1, 2, 3].map((n) => Task.await(TaskSupervisor.async(sup, () => n * 2))));
 * console.assert(results.join() === "2,4,6");
 * await TaskSupervisor.stop(sup);
 * ```
 */
export function async<T>(sup: Pid | string, fn: () => T | Promise<T>, opts?: AsyncOptions): Task<Awaited<T>> {
  return supervisedTask(sup, fn, true, opts);
}

/**
 * Runs `fn` as a task supervised by `sup`, not linked to the caller: if it
 * crashes, the caller lives on and `Task.await` rejects with the reason
 * (`Task.yield` gives `["exit", reason]`).
 *
 * @example
 * ```ts
 * import { Task, TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink();
 * const t = TaskSupervisor.asyncNolink(sup, () => { throw new Error("boom"); });
 * const outcome = await Task.yield(t);
 * console.assert(outcome !== null && outcome[0] === "exit");
 * await TaskSupervisor.stop(sup);
 * ```
 */
export function asyncNolink<T>(sup: Pid | string, fn: () => T | Promise<T>, opts?: AsyncOptions): Task<Awaited<T>> {
  return supervisedTask(sup, fn, false, opts);
}

/**
 * The pids of the running tasks.
 *
 * @example
 * ```ts
 * import { TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink();
 * console.assert((await TaskSupervisor.children(sup)).length === 0);
 * await TaskSupervisor.stop(sup);
 * ```
 */
export async function children(sup: Pid | string): Promise<Pid[]> {
  const list = await request<{ pid: Pid | "restarting" }[]>(
    sup,
    ["which_children"],
    `TaskSupervisor.children(${String(sup)})`,
  );
  const out: Pid[] = [];
  for (const c of list) if (c.pid !== "restarting") out.push(c.pid);
  return out;
}

/**
 * Stops the task `pid`. Rejects with a `SupervisorError` `"not_found"` if it
 * is not a task of `sup`.
 *
 * @example
 * ```ts
 * import { TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink();
 * const pid = await TaskSupervisor.startChild(sup, () => new Promise(() => {}));
 * await TaskSupervisor.terminateChild(sup, pid);
 * await TaskSupervisor.stop(sup);
 * ```
 */
export function terminateChild(sup: Pid | string, pid: Pid): Promise<void> {
  return request(sup, ["terminate_child", pid], `TaskSupervisor.terminateChild(${String(sup)}, ${pid})`);
}

/**
 * Stops the task supervisor and all its tasks.
 *
 * @example
 * ```ts
 * import { TaskSupervisor } from "../mod.ts";
 * const sup = await TaskSupervisor.startLink();
 * await TaskSupervisor.stop(sup);
 * ```
 */
export function stop(sup: Pid | string, reason: unknown = "normal", timeout: number = Infinity): Promise<void> {
  return genStop(sup, reason, timeout);
}
