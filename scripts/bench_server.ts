/**
 * Load generator for KV servers: C connections, each sending batches of P
 * pipelined requests (a batch goes out when the previous one is answered, as
 * `redis-benchmark -P` does), a PUT phase then a GET phase over a key space.
 * Reports ops/s and p50/p99 latency per phase, as a Markdown table.
 *
 * Targets (`--target`, comma separated, default `bare,redis,kv`):
 * - `bare`: `scripts/bare_server.ts` (TCP adapter + line reader + Map), spawned
 *   on each `--runtime`;
 * - `kv`: `lib/apps/kv_server/cli.ts serve --port 0`, spawned on each `--runtime` (skipped
 *   when `lib/apps/kv_server/cli.ts` does not exist yet);
 * - `redis`: `redis-server` on a free port, spoken to with inline commands
 *   (`SET b:k v` / `GET b:k`); skipped when `redis-server` is not installed.
 *
 * `--connect HOST:PORT` benchmarks an already running server instead (with
 * `--target` naming its protocol: `kv` or `redis`).
 *
 * Every server is started first; then each round runs on every server in
 * turn (interleaved), so that other load on the machine weighs on all of them
 * alike, and each row is the best of its rounds. A last table compares the kv
 * server with the bare server on the same runtime and with Redis.
 *
 * ```sh
 * bun scripts/bench_server.ts --target bare,redis --runtime bun,deno
 * deno run -A scripts/bench_server.ts --connections 50 --pipeline 1,16 --ops 200000 --rounds 3
 * ```
 *
 * Only 127.0.0.1 unless `--connect` says otherwise.
 *
 * @module
 */

import process from "node:process";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as net from "node:net";
import { fileURLToPath } from "node:url";
import { connect, type TcpConnection } from "../lib/net/tcp.ts";
import { type Runtime, runtime } from "../lib/net/runtime.ts";

type Target = "kv" | "bare" | "redis";
type Phase = "PUT" | "GET";

interface Options {
  targets: Target[];
  runtimes: Runtime[];
  connections: number;
  pipelines: number[];
  ops: number;
  warmupOps: number;
  keys: number;
  valueSize: number;
  maxSeconds: number;
  rounds: number;
  connectTo?: { hostname: string; port: number };
}

interface Result {
  target: string;
  server: string;
  phase: Phase;
  connections: number;
  pipeline: number;
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50: number;
  p99: number;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function parseOptions(args: string[]): Options {
  const get = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const list = (name: string, fallback: string) =>
    (get(name) ?? fallback).split(",").map((s) => s.trim()).filter(Boolean);
  const int = (name: string, fallback: number) => {
    const value = Number(get(name) ?? fallback);
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(`Invalid ${name}: expected a non-negative integer, got "${get(name)}"`);
    }
    return value;
  };
  const targets = list("--target", "bare,redis,kv") as Target[];
  for (const t of targets) {
    if (!["kv", "bare", "redis"].includes(t)) throw new TypeError(`Unknown target "${t}": expected kv, bare or redis`);
  }
  const runtimes = list("--runtime", runtime === "node" ? "bun" : runtime) as Runtime[];
  for (const r of runtimes) {
    if (r !== "bun" && r !== "deno") throw new TypeError(`Unknown runtime "${r}": expected bun or deno`);
  }
  const connectArg = get("--connect");
  let connectTo: Options["connectTo"];
  if (connectArg) {
    const at = connectArg.lastIndexOf(":");
    connectTo = { hostname: connectArg.slice(0, at), port: Number(connectArg.slice(at + 1)) };
  }
  const ops = int("--ops", 200_000);
  return {
    targets,
    runtimes,
    connections: Math.max(1, int("--connections", 50)),
    pipelines: list("--pipeline", "1,16").map(Number),
    ops,
    warmupOps: int("--warmup", Math.min(50_000, ops)),
    keys: Math.max(1, int("--keys", 10_000)),
    valueSize: int("--value-size", 16),
    maxSeconds: int("--max-seconds", 10),
    rounds: Math.max(1, int("--rounds", 3)),
    connectTo,
  };
}

// --- the load generator ---

const LF = 10;

/** Pre-encoded request lines, one per key, and the newlines each reply ends after. */
interface Workload {
  lines: Uint8Array[];
  newlinesPerReply: number;
}

function workload(target: Target, phase: Phase, keys: number, valueSize: number): Workload {
  const value = "v".repeat(valueSize);
  const enc = new TextEncoder();
  const lines: Uint8Array[] = [];
  for (let k = 0; k < keys; k++) {
    const line = target === "redis"
      ? (phase === "PUT" ? `SET bench:k${k} ${value}\r\n` : `GET bench:k${k}\r\n`)
      : (phase === "PUT" ? `PUT bench k${k} ${value}\r\n` : `GET bench k${k}\r\n`);
    lines.push(enc.encode(line));
  }
  // kv: `OK\r\n` or `v\r\nOK\r\n`; redis: `+OK\r\n` or `$n\r\nv\r\n`.
  return { lines, newlinesPerReply: phase === "PUT" ? 1 : 2 };
}

/** Runs one phase over `connections` open connections; resolves with the phase's numbers. */
function runPhase(
  conns: LoadConnection[],
  work: Workload,
  ops: number,
  pipeline: number,
  maxSeconds: number,
): Promise<{ ops: number; seconds: number; latencies: Float64Array }> {
  const latencies = new Float64Array(ops);
  const state = { issued: 0, recorded: 0, active: conns.length, latencies, ops, deadline: 0, keyCursor: 0 };
  return new Promise((resolve, reject) => {
    const start = performance.now();
    state.deadline = start + maxSeconds * 1000;
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      if (error) {
        done = true;
        reject(error);
        return;
      }
      if (--state.active > 0) return;
      done = true;
      resolve({
        ops: state.recorded,
        seconds: (performance.now() - start) / 1000,
        latencies: latencies.subarray(0, state.recorded),
      });
    };
    for (const conn of conns) conn.begin(work, pipeline, state, finish);
  });
}

interface PhaseState {
  issued: number;
  recorded: number;
  ops: number;
  deadline: number;
  keyCursor: number;
  latencies: Float64Array;
}

/** One client connection of the load generator. */
class LoadConnection {
  conn!: TcpConnection;
  #out = new Uint8Array(64 * 1024);
  #work!: Workload;
  #pipeline = 1;
  #state!: PhaseState;
  #finish!: (error?: unknown) => void;
  #inFlight = 0;
  #newlines = 0;
  #sentAt = 0;
  #closed = Promise.withResolvers<void>();
  #idle: ((bytes: Uint8Array) => void) | undefined;

  static async open(hostname: string, port: number): Promise<LoadConnection> {
    const load = new LoadConnection();
    load.conn = await connect({ hostname, port }, () => ({
      data: (bytes) => load.#data(bytes),
      close: (error) => {
        if (load.#inFlight > 0) {
          load.#finish?.(error ?? new Error("Connection closed by the server during the benchmark"));
        }
        load.#closed.resolve();
      },
    }));
    return load;
  }

  /** Sends raw bytes outside a phase and resolves with the first reply chunk. */
  request(text: string): Promise<string> {
    return new Promise((resolve) => {
      this.#idle = (bytes) => resolve(new TextDecoder().decode(bytes));
      this.conn.write(new TextEncoder().encode(text));
    });
  }

  begin(work: Workload, pipeline: number, state: PhaseState, finish: (error?: unknown) => void): void {
    this.#work = work;
    this.#pipeline = pipeline;
    this.#state = state;
    this.#finish = finish;
    this.#sendBatch();
  }

  #sendBatch(): void {
    const state = this.#state;
    const n = Math.min(this.#pipeline, state.ops - state.issued);
    if (n <= 0 || performance.now() > state.deadline) {
      this.#inFlight = 0;
      this.#finish();
      return;
    }
    state.issued += n;
    const lines = this.#work.lines;
    let length = 0;
    for (let i = 0; i < n; i++) {
      const line = lines[state.keyCursor];
      state.keyCursor = state.keyCursor + 1 === lines.length ? 0 : state.keyCursor + 1;
      if (length + line.length > this.#out.length) {
        const grown = new Uint8Array(this.#out.length * 2);
        grown.set(this.#out.subarray(0, length));
        this.#out = grown;
      }
      this.#out.set(line, length);
      length += line.length;
    }
    this.#inFlight = n;
    this.#newlines = 0;
    this.#sentAt = performance.now();
    this.conn.write(this.#out.subarray(0, length));
  }

  #data(bytes: Uint8Array): void {
    if (this.#inFlight === 0) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle?.(bytes);
      return;
    }
    // Count reply ends by newlines; each reply ends after a fixed number of them.
    const per = this.#work.newlinesPerReply;
    let count = 0;
    let i = bytes.indexOf(LF);
    while (i >= 0) {
      count++;
      i = bytes.indexOf(LF, i + 1);
    }
    if (count === 0) return;
    const before = Math.floor(this.#newlines / per);
    this.#newlines += count;
    const after = Math.floor(this.#newlines / per);
    if (after > before) {
      const latency = performance.now() - this.#sentAt;
      const state = this.#state;
      for (let r = before; r < after && state.recorded < state.latencies.length; r++) {
        state.latencies[state.recorded++] = latency;
      }
    }
    if (after >= this.#inFlight) this.#sendBatch();
  }

  close(): Promise<void> {
    this.conn.close();
    return this.#closed.promise;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** One server under test: its client connections, and the best result of each phase so far. */
class Bench {
  readonly best = new Map<string, Result>();
  readonly warmed = new Set<number>();
  private constructor(
    readonly target: Target,
    readonly server: string,
    readonly conns: LoadConnection[],
    readonly options: Options,
  ) {}

  static async open(target: Target, server: string, hostname: string, port: number, options: Options): Promise<Bench> {
    const conns = await Promise.all(
      Array.from({ length: options.connections }, () => LoadConnection.open(hostname, port)),
    );
    if (target !== "redis") {
      const reply = await conns[0].request("CREATE bench\r\n");
      if (reply !== "OK\r\n") throw new Error(`Unexpected reply to CREATE: "${reply}"`);
    }
    return new Bench(target, server, conns, options);
  }

  /** One round at `pipeline`: a PUT phase then a GET phase (after a warm-up the first time). */
  async round(pipeline: number): Promise<void> {
    const { options, target } = this;
    if (!this.warmed.has(pipeline) && options.warmupOps > 0) {
      this.warmed.add(pipeline);
      await runPhase(
        this.conns,
        workload(target, "PUT", options.keys, options.valueSize),
        options.warmupOps,
        pipeline,
        options.maxSeconds,
      );
    }
    for (const phase of ["PUT", "GET"] as const) {
      const run = await runPhase(
        this.conns,
        workload(target, phase, options.keys, options.valueSize),
        options.ops,
        pipeline,
        options.maxSeconds,
      );
      const sorted = run.latencies.slice().sort();
      const result: Result = {
        target,
        server: this.server,
        phase,
        connections: options.connections,
        pipeline,
        ops: run.ops,
        seconds: run.seconds,
        opsPerSecond: run.ops / run.seconds,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
      };
      // Best of the rounds: other load on the machine only ever makes a round slower.
      const key = `${phase} ${pipeline}`;
      const previous = this.best.get(key);
      if (!previous || result.opsPerSecond > previous.opsPerSecond) this.best.set(key, result);
    }
  }

  /** The best result per phase and pipeline, in table order. */
  results(): Result[] {
    const out: Result[] = [];
    for (const pipeline of this.options.pipelines) {
      for (const phase of ["PUT", "GET"] as const) {
        const r = this.best.get(`${phase} ${pipeline}`);
        if (r) out.push(r);
      }
    }
    return out;
  }

  /** A last sanity check (the data is really there), then closes the connections. */
  async close(): Promise<void> {
    try {
      const { target, options } = this;
      const check = target === "redis" ? "GET bench:k0\r\n" : "GET bench k0\r\n";
      const reply = await this.conns[0].request(check);
      const value = "v".repeat(options.valueSize);
      const expected = target === "redis" ? `$${value.length}\r\n${value}\r\n` : `${value}\r\nOK\r\n`;
      if (options.ops >= 1 && reply !== expected) throw new Error(`Unexpected reply to ${check.trim()}: "${reply}"`);
    } finally {
      await Promise.all(this.conns.map((c) => c.close()));
    }
  }
}

/** Runs every round on every bench, interleaved, so that each sees the same machine load. */
async function runInterleaved(benches: Bench[], options: Options): Promise<Bench[]> {
  let live = benches;
  for (const pipeline of options.pipelines) {
    for (let round = 0; round < options.rounds; round++) {
      const failed: Bench[] = [];
      for (const bench of live) {
        try {
          await bench.round(pipeline);
        } catch (error) {
          console.error(`${bench.target} on ${bench.server} failed: ${error instanceof Error ? error.message : error}`);
          failed.push(bench);
        }
      }
      live = live.filter((b) => !failed.includes(b));
    }
  }
  return live;
}

// --- servers ---

interface Spawned {
  child: ChildProcess;
  hostname: string;
  port: number;
}

function runtimeBinary(name: Runtime): string {
  if (name === runtime) return process.execPath;
  const local = `${ROOT}node_modules/.bin/${name}`;
  return existsSync(local) ? local : name;
}

function runtimeVersion(name: Runtime): string {
  const result = spawnSync(runtimeBinary(name), ["--version"], { encoding: "utf8" });
  const match = /(\d+\.\d+\.\d+)/.exec(result.stdout ?? "");
  return match ? `${name} ${match[1]}` : name;
}

/** Spawns a server and waits for `pattern` on its stdout (group 1: host, 2: port, when present). */
function spawnServer(command: string, args: string[], pattern: RegExp, fallbackPort?: number): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Timed out waiting for "${command} ${args.join(" ")}" to listen; output: "${output}"`));
    }, 30_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`"${command} ${args.join(" ")}" exited with code ${code} before listening; output: "${output}"`),
      );
    });
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (text: string) => {
      if (output.length < 100_000) output += text;
      const match = pattern.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.stdout!.removeAllListeners("data");
      child.stdout!.resume();
      resolve({
        child,
        hostname: match[2] ? match[1] : "127.0.0.1",
        port: match[2] ? Number(match[2]) : fallbackPort!,
      });
    });
  });
}

function stopServer(server: Spawned): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 5_000);
    server.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.kill("SIGTERM");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

const LISTENING = /listening on (\S+):(\d+)/;

function startTarget(target: Target, serverRuntime: Runtime): Promise<Spawned> | undefined {
  if (target === "redis") return undefined;
  const script = target === "kv" ? "lib/apps/kv_server/cli.ts" : "scripts/bare_server.ts";
  const args = target === "kv" ? ["serve", "--port", "0"] : ["--port", "0"];
  const binary = runtimeBinary(serverRuntime);
  return serverRuntime === "deno"
    ? spawnServer(binary, ["run", "-A", script, ...args], LISTENING)
    : spawnServer(binary, [script, ...args], LISTENING);
}

async function startRedis(): Promise<Spawned | undefined> {
  const check = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (check.error || check.status !== 0) return undefined;
  const port = await freePort();
  return spawnServer(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    /Ready to accept connections/,
    port,
  );
}

// --- output ---

const HEADER =
  "| target | server | phase | C | P | ops | seconds | ops/s | p50 ms | p99 ms |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|";
let headerPrinted = false;

function printRow(r: Result): void {
  if (!headerPrinted) {
    console.log(HEADER);
    headerPrinted = true;
  }
  console.log(
    `| ${r.target} | ${r.server} | ${r.phase} | ${r.connections} | ${r.pipeline} | ${r.ops} | ${
      r.seconds.toFixed(2)
    } | ` +
      `${Math.round(r.opsPerSecond).toLocaleString("en-US")} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`,
  );
}

/** kv against bare and redis, per server runtime, pipeline and phase. */
function printSummary(benches: Bench[]): void {
  const find = (target: Target, server: string | undefined, phase: Phase, pipeline: number) =>
    benches.find((b) => b.target === target && (server === undefined || b.server === server))?.best.get(
      `${phase} ${pipeline}`,
    );
  const kvs = benches.filter((b) => b.target === "kv");
  if (kvs.length === 0) return;
  console.log(
    "\n| kv server | phase | P | kv ops/s | vs bare (same runtime) | vs redis |\n|---|---|---:|---:|---:|---:|",
  );
  for (const kv of kvs) {
    for (const r of kv.results()) {
      const bare = find("bare", kv.server, r.phase, r.pipeline);
      const redis = find("redis", undefined, r.phase, r.pipeline);
      const ratio = (other: Result | undefined) =>
        other ? `${Math.round(100 * r.opsPerSecond / other.opsPerSecond)} %` : "-";
      console.log(
        `| ${kv.server} | ${r.phase} | ${r.pipeline} | ${Math.round(r.opsPerSecond).toLocaleString("en-US")} | ${
          ratio(bare)
        } | ${ratio(redis)} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cpus = (await import("node:os")).cpus().length;
  console.log(
    `# bench_server: client on ${runtimeVersion(runtime === "node" ? "bun" : runtime)}` +
      `${runtime === "node" ? " (node)" : ""}, ${cpus} CPUs, C=${options.connections}, ` +
      `P=${
        options.pipelines.join("/")
      }, ${options.ops} ops per phase (max ${options.maxSeconds} s), best of ${options.rounds} rounds ` +
      `(interleaved across servers), ${options.keys} keys, ${options.valueSize}-byte values, warmup ${options.warmupOps} PUTs\n`,
  );
  if (options.connectTo) {
    const target = options.targets[0];
    const { hostname, port } = options.connectTo;
    const bench = await Bench.open(target, `${hostname}:${port}`, hostname, port, options);
    await runInterleaved([bench], options);
    for (const r of bench.results()) printRow(r);
    await bench.close();
    return;
  }
  // Start every server first; run the rounds interleaved; stop them all.
  const servers: { target: Target; label: string; spawned: Spawned }[] = [];
  const benches: Bench[] = [];
  try {
    for (const target of options.targets) {
      if (target === "kv" && !existsSync(`${ROOT}lib/apps/kv_server/cli.ts`)) {
        console.error("skipping kv: lib/apps/kv_server/cli.ts does not exist yet");
        continue;
      }
      const runs: [string, () => Promise<Spawned | undefined>][] = target === "redis"
        ? [["redis", startRedis]]
        : options.runtimes.map((r) => [runtimeVersion(r), () => startTarget(target, r)!]);
      for (const [label, start] of runs) {
        let spawned: Spawned | undefined;
        try {
          spawned = await start();
        } catch (error) {
          console.error(`skipping ${target} on ${label}: ${error instanceof Error ? error.message : error}`);
          continue;
        }
        if (!spawned) {
          console.error(`skipping ${target}: redis-server is not installed`);
          continue;
        }
        servers.push({ target, label, spawned });
        const name = target === "redis"
          ? `redis ${spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.match(/v=(\S+)/)?.[1] ?? ""}`
          : label;
        try {
          benches.push(await Bench.open(target, name, spawned.hostname, spawned.port, options));
        } catch (error) {
          console.error(`${target} on ${label} failed: ${error instanceof Error ? error.message : error}`);
        }
      }
    }
    const done = await runInterleaved(benches, options);
    for (const bench of done) for (const r of bench.results()) printRow(r);
    printSummary(done);
    for (const bench of done) await bench.close().catch((e) => console.error(`${bench.server}: ${e.message}`));
  } finally {
    await Promise.all(servers.map((s) => stopServer(s.spawned)));
  }
}

if (import.meta.main) {
  await main();
  process.exit(0);
}
