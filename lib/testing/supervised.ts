/**
 * Supervised processes in tests, as ExUnit's `start_supervised`: each test
 * gets its own supervisor, and everything started under it is stopped (in
 * reverse start order, each child with its own shutdown) when the test ends,
 * even when it fails, so no process or timer leaks into the next test.
 *
 * With node:test, pass the test context: `t.after` runs the cleanup (it works
 * the same under `bun test` and `deno test`). Elsewhere, use
 * {@linkcode withSupervised}, which stops everything when its callback ends.
 *
 * @example With node:test
 * ```ts
 * import { test } from "node:test";
 * import { Agent } from "../../mod.ts";
 * import { startSupervised } from "./supervised.ts";
 * test("a bucket starts empty", async (t) => {
 *   const bucket = await startSupervised(t, { id: "bucket", start: () => Agent.startLink(() => new Map()) });
 *   console.assert((await Agent.get(bucket, (m: Map<string, number>) => m.size)) === 0);
 * }); // the bucket is stopped here
 * ```
 *
 * @module
 */
import type { Pid } from "../process/pid.ts";
import { StartError } from "../gen_server.ts";
import * as Supervisor from "../supervisor/supervisor.ts";
import type { Child, ChildId, ChildSpecOverrides } from "../supervisor/child_spec.ts";

/** The part of a test context the helpers use: node:test's `t.after`. */
export interface TestContextLike {
  /** Registers a function to run when the test ends. */
  after(fn: () => unknown): void;
}

/** The per-test supervisor's options, as ExUnit's: restart freely, never give up. */
const TEST_SUPERVISOR: Supervisor.SupervisorOptions = {
  strategy: "one_for_one",
  maxRestarts: 1_000_000,
  maxSeconds: 1,
};

const supervisors = new WeakMap<object, Promise<Pid>>();

async function stopQuietly(sup: Pid): Promise<void> {
  try {
    await Supervisor.stop(sup, "shutdown");
  } catch {
    // Already gone (e.g. it gave up): nothing left to stop.
  }
}

/**
 * The test's own supervisor, started on first use and stopped (with every
 * child) when the test ends.
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import { Supervisor } from "../../mod.ts";
 * import { testSupervisor } from "./supervised.ts";
 * test("the test supervisor starts empty", async (t) => {
 *   const sup = await testSupervisor(t);
 *   console.assert((await Supervisor.countChildren(sup)).specs === 0);
 * });
 * ```
 */
export function testSupervisor(t: TestContextLike): Promise<Pid> {
  let sup = supervisors.get(t);
  if (sup === undefined) {
    sup = Supervisor.startLink([], TEST_SUPERVISOR);
    supervisors.set(t, sup);
    const started = sup;
    t.after(async () => {
      supervisors.delete(t);
      await stopQuietly(await started);
    });
  }
  return sup;
}

/**
 * Starts `child` (any child shape, with optional spec overrides) under the
 * test's supervisor; resolves with its pid. It is restarted by its restart
 * type while the test runs, and stopped when the test ends. Rejects with
 * `StartError` if it fails to start, if its id is already in use in this
 * test (`["already_started", pid]`), or if it returned ignore (`"ignore"`).
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import { GenServer } from "../../mod.ts";
 * import { startSupervised } from "./supervised.ts";
 * test("two servers", async (t) => {
 *   const start = () => GenServer.startLink({ init: () => ["ok", 0] }, undefined);
 *   const a = await startSupervised(t, { id: "a", start });
 *   const b = await startSupervised(t, { id: "b", start });
 *   console.assert(a !== b);
 * });
 * ```
 */
export async function startSupervised(t: TestContextLike, child: Child, overrides?: ChildSpecOverrides): Promise<Pid> {
  const sup = await testSupervisor(t);
  const pid = await Supervisor.startChild(sup, Supervisor.childSpec(child, overrides));
  if (pid === undefined) throw new StartError("ignore");
  return pid;
}

/**
 * Stops the child `id` started with {@linkcode startSupervised} in this test
 * and forgets it (ExUnit's `stop_supervised`). Rejects with
 * `SupervisorError` `"not_found"`.
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import { Agent, Process } from "../../mod.ts";
 * import { startSupervised, stopSupervised } from "./supervised.ts";
 * test("stop early", async (t) => {
 *   const pid = await startSupervised(t, { id: "a", start: () => Agent.startLink(() => 0) });
 *   await stopSupervised(t, "a");
 *   console.assert(!Process.isAlive(pid));
 * });
 * ```
 */
export async function stopSupervised(t: TestContextLike, id: ChildId): Promise<void> {
  const sup = await testSupervisor(t);
  await Supervisor.terminateChild(sup, id);
  await Supervisor.deleteChild(sup, id);
}

/** The `startSupervised` that {@linkcode withSupervised} passes to its callback. */
export type StartSupervised = (child: Child, overrides?: ChildSpecOverrides) => Promise<Pid>;

/**
 * Runs `fn` with a `startSupervised` of its own, and stops everything it
 * started when `fn` ends (returns or throws); resolves with `fn`'s result.
 * For code without a node:test context.
 *
 * @example
 * ```ts
 * import { Agent, Process } from "../../mod.ts";
 * import { withSupervised } from "./supervised.ts";
 * const pid = await withSupervised(async (startSupervised) => {
 *   return await startSupervised({ id: "a", start: () => Agent.startLink(() => 0) });
 * });
 * console.assert(!Process.isAlive(pid));
 * ```
 */
export async function withSupervised<T>(fn: (startSupervised: StartSupervised) => T | Promise<T>): Promise<T> {
  const hooks: Array<() => unknown> = [];
  const t: TestContextLike = { after: (h) => hooks.push(h) };
  try {
    return await fn((child, overrides) => startSupervised(t, child, overrides));
  } finally {
    for (const h of hooks.reverse()) await h();
  }
}
