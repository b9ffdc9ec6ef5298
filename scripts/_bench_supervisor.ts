/**
 * Supervisor benchmarks: DynamicSupervisor `startChild` per second, and
 * restarts per second of a crashing permanent child under `one_for_one`
 * (intensity set high so the supervisor never gives up).
 *
 *   bun scripts/_bench_supervisor.ts [--quick]
 *   deno run -A scripts/_bench_supervisor.ts [--quick]
 *
 * @module
 */
import process from "node:process";
import { DynamicSupervisor, GenServer, Process, Supervisor, Task, TaskSupervisor } from "../mod.ts";
import type { Pid } from "../mod.ts";
import { type BenchRow, printTable } from "./_bench_table.ts";

const quick = process.argv.includes("--quick");
const DURATION = quick ? 300 : 1500;
const now = () => performance.now();

const Idle: GenServer.Callbacks<null, undefined> = { init: () => ["ok", null] };
const idleSpec: Supervisor.ChildSpec = {
  id: "idle",
  start: () => GenServer.startLink(Idle, undefined),
  restart: "temporary",
};

/** `startChild` calls per second: batches of concurrent calls, all served one by one by the supervisor. */
async function dynamicStartRate(): Promise<number> {
  const sup = await DynamicSupervisor.startLink();
  const batch = 2_000;
  let n = 0;
  const t0 = now();
  while (now() - t0 < DURATION) {
    const ps: Promise<unknown>[] = new Array(batch);
    for (let i = 0; i < batch; i++) ps[i] = DynamicSupervisor.startChild(sup, idleSpec);
    await Promise.all(ps);
    n += batch;
  }
  const rate = n / ((now() - t0) / 1000);
  await DynamicSupervisor.stop(sup);
  return rate;
}

/** Sequential `startChild` round trips per second (latency bound). */
async function dynamicStartSequential(): Promise<number> {
  const sup = await DynamicSupervisor.startLink();
  let n = 0;
  const t0 = now();
  while (now() - t0 < DURATION) {
    for (let i = 0; i < 500; i++) await DynamicSupervisor.startChild(sup, idleSpec);
    n += 500;
  }
  const rate = n / ((now() - t0) / 1000);
  await DynamicSupervisor.stop(sup);
  return rate;
}

/**
 * Restarts per second of a permanent child that crashes as soon as it starts.
 * `crashing(stop)` starts one child; once `stop()` is true it starts a child
 * that stays up, which ends the loop.
 */
async function restartRate(kind: "process" | "GenServer"): Promise<number> {
  let starts = 0;
  let stopping = false;
  let t0 = 0;
  let settled!: (n: number) => void;
  const done = new Promise<number>((r) => (settled = r));
  const CrashAtOnce: GenServer.Callbacks<null, undefined> = {
    init: () => ["ok", null, { continue: "crash" }],
    handleContinue: () => {
      throw new Error("crash");
    },
  };
  const start = (): Pid | Promise<Pid> => {
    starts++;
    if (!stopping && now() - t0 >= DURATION) {
      stopping = true;
      settled(starts - 1);
    }
    if (stopping) return GenServer.startLink(Idle, undefined);
    if (kind === "process") {
      return Process.spawnLink(() => {
        throw new Error("crash");
      });
    }
    return GenServer.startLink(CrashAtOnce, undefined);
  };
  t0 = now();
  const sup = await Supervisor.startLink([{ id: "crasher", start }], {
    strategy: "one_for_one",
    maxRestarts: 1e12,
    maxSeconds: 1,
  });
  const restarts = await done;
  const rate = restarts / ((now() - t0) / 1000);
  await Supervisor.stop(sup);
  return rate;
}

/** TaskSupervisor.async + Task.await round trips per second, in batches. */
async function taskAsyncRate(): Promise<number> {
  const sup = await TaskSupervisor.startLink();
  const batch = 2_000;
  let n = 0;
  const t0 = now();
  const work = () => 1;
  while (now() - t0 < DURATION) {
    const ps: Promise<number>[] = new Array(batch);
    for (let i = 0; i < batch; i++) ps[i] = Task.await(TaskSupervisor.async(sup, work));
    await Promise.all(ps);
    n += batch;
  }
  const rate = n / ((now() - t0) / 1000);
  await TaskSupervisor.stop(sup);
  return rate;
}

/** Runs the supervisor benchmarks; rows as {@linkcode printTable} prints them. */
export async function benchSupervisor(): Promise<BenchRow[]> {
  return [
    {
      name: "DynamicSupervisor.startChild (GenServer child, 2k concurrent)",
      value: await dynamicStartRate(),
      unit: "starts/s",
    },
    {
      name: "DynamicSupervisor.startChild (sequential awaits)",
      value: await dynamicStartSequential(),
      unit: "starts/s",
    },
    { name: "one_for_one restarts of a crashing raw process", value: await restartRate("process"), unit: "restarts/s" },
    { name: "one_for_one restarts of a crashing GenServer", value: await restartRate("GenServer"), unit: "restarts/s" },
    { name: "TaskSupervisor.async + Task.await (2k concurrent)", value: await taskAsyncRate(), unit: "tasks/s" },
  ];
}

if (import.meta.main) {
  printTable("Supervisors", await benchSupervisor());
}
