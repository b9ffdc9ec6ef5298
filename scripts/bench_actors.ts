/**
 * Actor runtime benchmarks: prints one table row per figure, headed by the
 * runtime's name. Run on Bun (`npm run bench`) and on Deno (`deno task bench`).
 *
 *   bun scripts/bench_actors.ts [--quick] [--only=name,name]
 *   deno run -A --v8-flags=--expose-gc scripts/bench_actors.ts
 *
 * Sections (for --only): memory, spawn, send, pingpong, call, agent,
 * supervisor, ets, kv.
 *
 * @module
 */
import process from "node:process";
import { Agent, GenServer, Process } from "../mod.ts";
import { type BenchRow, printTable } from "./_bench_table.ts";

const quick = process.argv.includes("--quick");
const onlyArg = process.argv.find((a) => a.startsWith("--only="));
const only = onlyArg ? onlyArg.slice(7).split(",") : null;
const want = (name: string) => only === null || only.includes(name);
const DURATION = quick ? 300 : 1500;

function gc(): void {
  const g = globalThis as { Bun?: { gc(full: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else if (g.gc) g.gc();
}
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
const now = () => performance.now();

/** Spawns batches of processes that end at once; processes per second. */
async function spawnRate(): Promise<number> {
  const batch = 100_000;
  let n = 0;
  const t0 = now();
  while (now() - t0 < DURATION) {
    await Process.run(async ({ receive }) => {
      for (let i = 0; i < batch; i++) Process.spawn(noop);
      // The batch's processes run before this message comes back through the queue.
      Process.send(Process.self(), "done");
      await receive("done");
    });
    n += batch;
  }
  return n / ((now() - t0) / 1000);
}
const noop = () => {};

const Idle: GenServer.Callbacks<null, undefined> = { init: () => ["ok", null] };

/** Bytes of heap per idle GenServer, with `count` of them alive at once. */
async function bytesPerProcess(count: number): Promise<{ perProcess: number; totalMB: number; startRate: number }> {
  const before = heapUsed();
  const pids: Process.Pid[] = new Array(count);
  const t0 = now();
  const chunk = 10_000;
  for (let i = 0; i < count; i += chunk) {
    const ps: Promise<Process.Pid>[] = [];
    for (let j = i; j < Math.min(count, i + chunk); j++) ps.push(GenServer.start(Idle, undefined));
    const got = await Promise.all(ps);
    for (let j = 0; j < got.length; j++) pids[i + j] = got[j];
  }
  const startRate = count / ((now() - t0) / 1000);
  const after = heapUsed();
  // The pids array itself is the caller's, not the processes'.
  const perProcess = (after - before - count * 8) / count;
  for (const pid of pids) Process.exit(pid, "kill");
  return { perProcess, totalMB: (after - before) / 1048576, startRate };
}

/** One-way sends from plain code to one GenServer; messages per second. */
async function oneWay(): Promise<number> {
  let got = 0;
  let done: (() => void) | null = null;
  let target = 0;
  const sink = await GenServer.start({
    init: () => ["ok", null],
    handleInfo: (_m: unknown, s: null) => {
      if (++got === target && done) done();
      return ["noreply", s];
    },
  }, undefined);
  const batch = 1_000_000;
  const t0 = now();
  let sent = 0;
  while (now() - t0 < DURATION) {
    target += batch;
    const finished = new Promise<void>((r) => (done = r));
    for (let i = 0; i < batch; i++) Process.send(sink, i);
    sent += batch;
    await finished;
  }
  const rate = sent / ((now() - t0) / 1000);
  await GenServer.stop(sink);
  return rate;
}

/** Pairs of GenServers bouncing messages; total messages per second. */
async function pingPong(pairs: number): Promise<number> {
  let count = 0;
  let stop = false;
  const Player: GenServer.Callbacks<Process.Pid | null, undefined> = {
    init: () => ["ok", null],
    handleInfo: (m: Process.Pid | "ball", peer) => {
      if (m !== "ball") return ["noreply", m];
      count++;
      if (!stop) Process.send(peer!, "ball");
      return ["noreply", peer];
    },
  };
  const players: Process.Pid[] = [];
  for (let i = 0; i < pairs; i++) {
    const a = await GenServer.start(Player, undefined);
    const b = await GenServer.start(Player, undefined);
    Process.send(a, b);
    Process.send(b, a);
    players.push(a, b);
  }
  for (let i = 0; i < players.length; i += 2) Process.send(players[i], "ball");
  const t0 = now();
  await new Promise((r) => setTimeout(r, DURATION));
  stop = true;
  const rate = count / ((now() - t0) / 1000);
  for (const p of players) Process.exit(p, "kill");
  return rate;
}

const Echo: GenServer.Callbacks<number, undefined, number, number> = {
  init: () => ["ok", 0],
  handleCall: (req, _from, n) => ["reply", req, n + 1],
};

/** GenServer.call round trips from `callers` concurrent plain-code loops. */
async function callsFromPlainCode(callers: number): Promise<number> {
  const server = await GenServer.start(Echo, undefined);
  let n = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (now() - t0 < DURATION) {
      for (let i = 0; i < 1000; i++) await GenServer.call(server, i);
      n += 1000;
    }
  }));
  const rate = n / ((now() - t0) / 1000);
  await GenServer.stop(server);
  return rate;
}

/** GenServer.call round trips from `callers` processes. */
async function callsFromProcesses(callers: number): Promise<number> {
  const server = await GenServer.start(Echo, undefined);
  let n = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: callers }, () =>
    Process.run(async () => {
      while (now() - t0 < DURATION) {
        for (let i = 0; i < 1000; i++) await GenServer.call(server, i);
        n += 1000;
      }
    })));
  const rate = n / ((now() - t0) / 1000);
  await GenServer.stop(server);
  return rate;
}

/** Agent get and update per second, `callers` concurrent loops. */
async function agentOps(callers: number): Promise<number> {
  const agent = await Agent.start(() => 0);
  let n = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: callers }, async () => {
    while (now() - t0 < DURATION) {
      for (let i = 0; i < 500; i++) {
        await Agent.update(agent, (x) => x + 1);
        await Agent.get(agent, (x) => x);
      }
      n += 1000;
    }
  }));
  const rate = n / ((now() - t0) / 1000);
  await Agent.stop(agent);
  return rate;
}

/** Collects this script's rows (other scripts' rows are appended by main). */
export async function benchActors(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (want("spawn")) {
    rows.push({
      name: "spawn (raw processes that exit at once)",
      value: await spawnRate(),
      unit: "processes/s",
      target: "≥ 2M",
    });
  }
  if (want("send")) {
    rows.push({ name: "one-way send, plain code → GenServer", value: await oneWay(), unit: "messages/s" });
  }
  if (want("pingpong")) {
    rows.push({ name: "ping-pong, 1 pair of GenServers", value: await pingPong(1), unit: "messages/s" });
    rows.push({
      name: "ping-pong, 1,000 pairs of GenServers",
      value: await pingPong(1000),
      unit: "messages/s",
      target: "≥ 20M",
    });
  }
  if (want("call")) {
    rows.push({ name: "GenServer.call, 1 caller in plain code", value: await callsFromPlainCode(1), unit: "calls/s" });
    rows.push({
      name: "GenServer.call, 100 callers in plain code",
      value: await callsFromPlainCode(100),
      unit: "calls/s",
      target: "≥ 3M",
    });
    rows.push({ name: "GenServer.call, 1 caller process", value: await callsFromProcesses(1), unit: "calls/s" });
    rows.push({
      name: "GenServer.call, 100 caller processes",
      value: await callsFromProcesses(100),
      unit: "calls/s",
      target: "≥ 3M",
    });
  }
  if (want("agent")) {
    rows.push({ name: "Agent.update + Agent.get, 100 callers", value: await agentOps(100), unit: "ops/s" });
  }
  // Memory last: a million servers leave the heap fragmented for whatever runs after them.
  if (want("memory")) {
    const count = quick ? 100_000 : 1_000_000;
    const m = await bytesPerProcess(count);
    rows.push({
      name: `GenServer.start, ${count.toLocaleString("en-US")} servers`,
      value: m.startRate,
      unit: "starts/s",
    });
    rows.push({
      name: `heap per idle GenServer (${count.toLocaleString("en-US")} alive)`,
      value: m.perProcess,
      unit: "bytes/process",
      target: "≤ 500",
    });
    rows.push({
      name: `heap for ${count.toLocaleString("en-US")} idle GenServers`,
      value: m.totalMB,
      unit: "MB",
      target: "< 1024",
    });
  }
  return rows;
}

if (import.meta.main) {
  const rows = await benchActors();
  printTable("Actor runtime", rows);
  if (want("supervisor")) {
    const { benchSupervisor } = await import("./_bench_supervisor.ts");
    console.log();
    printTable("Supervisors", await benchSupervisor());
  }
  if (want("ets")) {
    const { benchEts } = await import("./_bench_ets.ts");
    console.log();
    printTable("ETS tables (1,000,000 entries)", await benchEts());
  }
  if (want("kv")) {
    // The KV application's rows (scripts/_bench_kv.ts).
    const kv = await import("./_bench_kv.ts").catch(() => null);
    if (kv !== null) {
      console.log();
      printTable("KV application", await kv.benchKv());
    }
  }
  process.exit(0);
}
