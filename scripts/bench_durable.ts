/**
 * Durability figures of the kv server, side by side with Redis in the same
 * run (issue 14's table):
 *
 * 1. PUT and GET throughput, C connections, pipelines 1 and 16, rounds
 *    interleaved across seven servers: kv without `--dir`, kv `--dir` with
 *    `everysec` and `always` (fsync inline, and on a thread), `redis-server` without AOF, with
 *    `appendfsync everysec` and `always`. Best of the rounds, then ratios.
 * 2. Log bytes per PUT of a 16-byte key and value (kv: bucket `b`; Redis:
 *    key `b:` + the 16 bytes), from the files' sizes after N PUTs.
 * 3. Restart to `listening on` for 1M keys in 1,000 buckets and for 1M
 *    one-key buckets (logs written directly), and Redis's restart to its
 *    first `PONG` on 1M keys (an AOF written directly).
 * 4. The longest main-thread pause while compacting 1M keys (the base is
 *    written in a worker thread), measured by a 1 ms timer probe.
 *
 * ```sh
 * node_modules/.bin/bun scripts/bench_durable.ts [--ops 100000] [--rounds 3] [--connections 50] [--keys 1000000] [--only throughput,bytes,restart,compaction]
 * ```
 *
 * @module
 */
import process from "node:process";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { DiskLog } from "../mod.ts";
import { KVCompactor, KVLog } from "../lib/apps/kv/mod.ts";
import { key16, LineConnection, linesPer, phase, requests, VALUE16 } from "./_line_load.ts";

const CLI = fileURLToPath(new URL("../lib/apps/kv_server/cli.ts", import.meta.url));
const deno = (process.versions as Record<string, string | undefined>).deno !== undefined;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const OPS = Number(arg("--ops", "100000"));
const ROUNDS = Number(arg("--rounds", "3"));
const CONNECTIONS = Number(arg("--connections", "50"));
const KEYS = Number(arg("--keys", "1000000"));
const ONLY = arg("--only", "throughput,bytes,restart,compaction").split(",");

const tmpDirs: string[] = [];
function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(`${os.tmpdir()}/bench-durable-${tag}-`);
  tmpDirs.push(d);
  return d;
}
const children: ChildProcess[] = [];

// --- servers -------------------------------------------------------------------

interface Server {
  label: string;
  protocol: "kv" | "redis";
  port: number;
  child: ChildProcess;
  dir?: string;
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (t: string) => {
      out += t;
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    child.once("exit", (code) => reject(new Error(`exited (${code}) before ${pattern}: ${out}`)));
  });
}

async function startKv(label: string, args: string[]): Promise<Server> {
  const full = deno ? ["run", "-A", CLI, "serve", "--port", "0", ...args] : [CLI, "serve", "--port", "0", ...args];
  const child = spawn(process.execPath, full, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const m = await waitForLine(child, /listening on \S+:(\d+)\n/);
  return { label, protocol: "kv", port: Number(m[1]), child };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(label: string, aof: "no" | "everysec" | "always", dir?: string): Promise<Server> {
  const port = await freePort();
  dir ??= tmpDir("redis");
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
  if (aof === "no") args.push("--appendonly", "no");
  else args.push("--appendonly", "yes", "--appendfsync", aof, "--aof-use-rdb-preamble", "yes");
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  await waitForLine(child, /Ready to accept connections/);
  return { label, protocol: "redis", port, child, dir };
}

function stop(s: Server): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.once("exit", () => resolve());
    s.child.kill("SIGTERM");
  });
}

// --- load ----------------------------------------------------------------------

async function throughput(): Promise<void> {
  const servers: Server[] = [
    await startKv("kv (no --dir)", []),
    await startKv("kv everysec", ["--dir", tmpDir("kv-es"), "--appendfsync", "everysec"]),
    await startKv("kv always", ["--dir", tmpDir("kv-al"), "--appendfsync", "always"]),
    await startKv("kv always, thread", ["--dir", tmpDir("kv-at"), "--appendfsync", "always", "--fsync", "thread"]),
    await startRedis("redis (no AOF)", "no"),
    await startRedis("redis everysec", "everysec"),
    await startRedis("redis always", "always"),
  ];
  const conns = new Map<Server, LineConnection[]>();
  for (const s of servers) {
    const list = Array.from({ length: CONNECTIONS }, () => new LineConnection(s.port));
    await Promise.all(list.map((c) => c.ready()));
    if (s.protocol === "kv") await list[0].send(Buffer.from("CREATE b\r\n"), 1);
    conns.set(s, list);
  }
  const best = new Map<string, number>();
  const record = (k: string, v: number) => best.set(k, Math.max(best.get(k) ?? 0, v));
  for (const pipeline of [1, 16]) {
    for (const s of servers) {
      await phase(conns.get(s)!, requests(s.protocol, "PUT"), linesPer("PUT"), pipeline, OPS / 5); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of servers) {
        const c = conns.get(s)!;
        record(
          `${s.label}|PUT|${pipeline}`,
          await phase(c, requests(s.protocol, "PUT"), linesPer("PUT"), pipeline, OPS),
        );
        record(
          `${s.label}|GET|${pipeline}`,
          await phase(c, requests(s.protocol, "GET"), linesPer("GET"), pipeline, OPS),
        );
      }
    }
  }
  for (const list of conns.values()) for (const c of list) c.socket.destroy();
  await Promise.all(servers.map(stop));

  const runtime = deno ? `Deno ${process.versions.deno}` : `Bun ${process.versions.bun}`;
  const redis = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.match(/v=(\S+)/)?.[1];
  console.log(
    `\n### Throughput: ${runtime}, Redis ${redis}, C=${CONNECTIONS}, ${OPS} ops per phase, best of ${ROUNDS} interleaved rounds\n`,
  );
  console.log("| server | PUT P=1 | GET P=1 | PUT P=16 | GET P=16 |");
  console.log("|---|---|---|---|---|");
  for (const s of servers) {
    const cells = [1, 16].flatMap((p) => ["PUT", "GET"].map((ph) => Math.round(best.get(`${s.label}|${ph}|${p}`)!)));
    console.log(`| ${s.label} | ${cells[0]} | ${cells[1]} | ${cells[2]} | ${cells[3]} |`);
  }
  const r = (a: string, b: string, ph: string, p: number) =>
    (best.get(`${a}|${ph}|${p}`)! / best.get(`${b}|${ph}|${p}`)!).toFixed(2);
  console.log("\n| figure | P=1 | P=16 | target |");
  console.log("|---|---|---|---|");
  console.log(
    `| kv everysec PUT / kv no --dir | ${r("kv everysec", "kv (no --dir)", "PUT", 1)} | ${
      r("kv everysec", "kv (no --dir)", "PUT", 16)
    } | ≥ 0.90 / ≥ 0.75 |`,
  );
  console.log(
    `| kv always PUT / kv no --dir | ${r("kv always", "kv (no --dir)", "PUT", 1)} | ${
      r("kv always", "kv (no --dir)", "PUT", 16)
    } | ≥ 0.75 / ≥ 0.45, ≥ Redis's |`,
  );
  console.log(
    `| kv always PUT, \`--fsync thread\` / kv no --dir | ${r("kv always, thread", "kv (no --dir)", "PUT", 1)} | ${
      r("kv always, thread", "kv (no --dir)", "PUT", 16)
    } | (the other fsync mode) |`,
  );
  console.log(
    `| redis always SET / redis no AOF | ${r("redis always", "redis (no AOF)", "PUT", 1)} | ${
      r("redis always", "redis (no AOF)", "PUT", 16)
    } | (Redis's own) |`,
  );
  console.log(
    `| redis everysec SET / redis no AOF | ${r("redis everysec", "redis (no AOF)", "PUT", 1)} | ${
      r("redis everysec", "redis (no AOF)", "PUT", 16)
    } | (Redis's own) |`,
  );
  console.log(
    `| kv everysec GET / kv no --dir | ${r("kv everysec", "kv (no --dir)", "GET", 1)} | ${
      r("kv everysec", "kv (no --dir)", "GET", 16)
    } | ≥ 0.95 |`,
  );
  console.log(
    `| kv always GET / kv no --dir | ${r("kv always", "kv (no --dir)", "GET", 1)} | ${
      r("kv always", "kv (no --dir)", "GET", 16)
    } | ≥ 0.95 |`,
  );
  console.log(
    `| kv everysec PUT / redis everysec SET | ${r("kv everysec", "redis everysec", "PUT", 1)} | ${
      r("kv everysec", "redis everysec", "PUT", 16)
    } | ≥ 0.9 / ≥ 1.0 |`,
  );
}

// --- bytes per PUT ---------------------------------------------------------------

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

async function bytesPerPut(): Promise<void> {
  const N = 100_000;
  const kvDir = tmpDir("kv-bytes");
  const kv = await startKv("kv", ["--dir", kvDir, "--appendfsync", "no"]);
  const redis = await startRedis("redis", "everysec");
  const sizes: Record<string, number> = {};
  for (const s of [kv, redis]) {
    const c = new LineConnection(s.port);
    await c.ready();
    if (s.protocol === "kv") await c.send(Buffer.from("CREATE b\r\n"), 1);
    const dir = s.protocol === "kv" ? kvDir : s.dir!;
    const before = dirBytes(dir);
    for (let i = 0; i < N; i += 100) {
      const parts: Buffer[] = [];
      for (let j = i; j < i + 100; j++) {
        parts.push(
          Buffer.from(
            s.protocol === "kv" ? `PUT b ${key16(j)} ${VALUE16}\r\n` : `SET b:${key16(j)} ${VALUE16}\r\n`,
            "latin1",
          ),
        );
      }
      await c.send(Buffer.concat(parts), 100);
    }
    c.socket.destroy();
    await stop(s);
    sizes[s.label] = (dirBytes(dir) - before) / N;
  }
  console.log(`\n### Log bytes per PUT (16-byte key and value, ${N} PUTs)\n`);
  console.log("| server | bytes per PUT | target |");
  console.log("|---|---|---|");
  console.log(`| kv (bucket \`b\`) | ${sizes.kv.toFixed(1)} | ≤ 48 |`);
  console.log(`| redis AOF (key \`b:\` + 16 bytes) | ${sizes.redis.toFixed(1)} | (~54) |`);
}

// --- restart -------------------------------------------------------------------

async function writeKvLog(dir: string, buckets: number, keysPerBucket: number): Promise<number> {
  const [, log] = await DiskLog.open({ name: "KV.Log", dir, sync: "no" });
  for (let b = 0; b < buckets; b++) {
    const bucket = `bucket${b}`;
    DiskLog.alog(log, KVLog.encode({ type: "create", bucket }));
    for (let k = 0; k < keysPerBucket; k++) {
      DiskLog.alog(log, KVLog.encode({ type: "put", bucket, key: key16(k), value: VALUE16 }));
    }
    if (b % 1000 === 999) await DiskLog.sync(log);
  }
  await DiskLog.close(log);
  return dirBytes(dir);
}

/** CPU ms of process `pid`'s main thread so far (Linux), or NaN. */
function mainThreadCpuMs(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** Wall ms to "listening on", and the server's main-thread CPU ms by then (what the machine's load does not inflate). */
async function timeKvStart(dir: string): Promise<[number, number]> {
  const t0 = performance.now();
  const s = await startKv("kv", ["--dir", dir]);
  const ms = performance.now() - t0;
  const cpu = mainThreadCpuMs(s.child.pid);
  await stop(s);
  return [ms, cpu];
}

function resp(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p, "latin1")}\r\n${p}\r\n`).join("")}`;
}

async function timeRedisStart(keys: number): Promise<[number, number]> {
  const dir = tmpDir("redis-restart");
  const fd = fs.openSync(`${dir}/appendonly.aof`, "w");
  let chunk = resp("SELECT", "0");
  for (let k = 0; k < keys; k++) {
    chunk += resp("SET", `b:${key16(k)}`, VALUE16);
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk, null, "latin1");
      chunk = "";
    }
  }
  fs.writeSync(fd, chunk, null, "latin1");
  fs.closeSync(fd);
  const bytes = dirBytes(dir);
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--dir",
    dir,
    "--appendonly",
    "yes",
  ], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  for (;;) {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      let out = "";
      s.on("data", (d) => {
        out += d.toString("latin1");
        if (out.includes("\r\n")) {
          s.destroy();
          resolve(out);
        }
      });
      s.on("error", () => resolve("down"));
      s.on("connect", () => s.write("PING\r\n"));
    });
    if (reply.startsWith("+PONG")) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - t0;
  await stop({ label: "", protocol: "redis", port, child });
  return [ms, bytes];
}

async function restart(): Promise<void> {
  console.log(`\n### Restart to "listening on" (kv) / first PONG (Redis), ${KEYS} keys\n`);
  console.log("| data | log bytes | restart ms: best (each round) | server's main-thread CPU ms by then | target |");
  console.log("|---|---|---|---|---|");
  const a = tmpDir("kv-1000");
  const aBytes = await writeKvLog(a, 1000, KEYS / 1000);
  const one = tmpDir("kv-1m");
  const oneBytes = await writeKvLog(one, KEYS, 1);
  const [redisMs, redisBytes] = await timeRedisStart(KEYS);
  // Interleaved, best of 3: the machine's other load only ever slows a start.
  const all = { a: [] as [number, number][], one: [] as [number, number][] };
  for (let i = 0; i < 3; i++) {
    all.a.push(await timeKvStart(a));
    all.one.push(await timeKvStart(one));
  }
  const show = (runs: [number, number][]) =>
    `${Math.min(...runs.map((r) => r[0])).toFixed(0)} (${runs.map((r) => r[0].toFixed(0)).join(", ")}) | ${
      runs.map((r) => r[1].toFixed(0)).join(", ")
    }`;
  console.log(`| kv: ${KEYS} keys in 1,000 buckets | ${aBytes} | ${show(all.a)} | ≤ 1500 |`);
  console.log(`| kv: ${KEYS} one-key buckets | ${oneBytes} | ${show(all.one)} | ≤ 5000 |`);
  console.log(`| redis: ${KEYS} keys, plain AOF | ${redisBytes} | ${redisMs.toFixed(0)} | | (0.7–1.4 s) |`);
  console.log(`\nload average before: ${loadAtStart}; after: ${os.loadavg().map((x) => x.toFixed(2)).join(", ")}`);
}

// --- compaction pause --------------------------------------------------------------

let schedFd: number | undefined | null;
const schedBuf = new Uint8Array(128);

/**
 * The main thread's scheduler counters (Linux): nanoseconds on a CPU and
 * waiting in the run queue (runnable, but the machine's cores were busy).
 * Undefined elsewhere. Read into a fixed buffer: the probe must not make
 * garbage of its own.
 */
function schedstat(): [number, number] | undefined {
  if (schedFd === undefined) {
    try {
      schedFd = fs.openSync(`/proc/self/task/${process.pid}/schedstat`, "r");
    } catch {
      schedFd = null;
    }
  }
  if (schedFd === null) return undefined;
  const n = fs.readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
  let cpu = 0, wait = 0, i = 0;
  for (; i < n && schedBuf[i] !== 32; i++) cpu = cpu * 10 + schedBuf[i] - 48;
  for (i++; i < n && schedBuf[i] !== 32; i++) wait = wait * 10 + schedBuf[i] - 48;
  return [cpu, wait];
}

/** One gap between two ticks of the probe: its length, and how much of it the main thread ran or waited for a core. */
interface Gap {
  ms: number;
  cpuMs: number;
  waitMs: number;
}

/**
 * A 1 ms timer probe: every gap between ticks, with what the main thread did
 * meanwhile (Linux schedstat). A gap the thread spent on a CPU is work of
 * this process (JS, GC, a synchronous syscall); one spent in the run queue
 * is the machine's load; the rest it slept (the timer's own period, or a
 * blocking syscall).
 */
class Probe {
  gaps: Gap[] = [];
  #timer: ReturnType<typeof setInterval>;
  #last = performance.now();
  #stat = schedstat();
  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      const stat = schedstat();
      const before = this.#stat;
      this.gaps.push({
        ms: now - this.#last,
        cpuMs: stat && before ? (stat[0] - before[0]) / 1e6 : NaN,
        waitMs: stat && before ? (stat[1] - before[1]) / 1e6 : NaN,
      });
      this.#last = now;
      this.#stat = stat;
    }, 1);
  }
  stop(): Gap[] {
    clearInterval(this.#timer);
    return this.gaps;
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function compaction(): Promise<void> {
  const dir = tmpDir("compact");
  const [, log] = await DiskLog.open({
    name: "KV.Log",
    dir,
    sync: "no",
    compactor: KVCompactor.COMPACTOR,
    compactAt: Infinity,
  });
  for (let b = 0; b < 1000; b++) {
    const bucket = `bucket${b}`;
    DiskLog.alog(log, KVLog.encode({ type: "create", bucket }));
    for (let k = 0; k < KEYS / 1000; k++) {
      DiskLog.alog(log, KVLog.encode({ type: "put", bucket, key: key16(k), value: VALUE16 }));
    }
    if (b % 100 === 99) await DiskLog.sync(log);
  }
  await DiskLog.sync(log);
  const before = DiskLog.info(log).files.reduce((n, f) => n + f.bytes, 0);
  // Appends go on all along, as a server's would (through a bucket's own
  // append path, no payload object): 50 PUTs a millisecond.
  let appended = 0;
  const bucket0: KVLog.DurableBucket = { log, name: "bucket0" };
  const keys = Array.from({ length: 50 }, (_, i) => key16(i));
  const writer = setInterval(() => {
    for (let i = 0; i < 50; i++) KVLog._logPut(bucket0, keys[i], VALUE16);
    appended += 50;
  }, 1);
  // Interleaved windows of the same length: without a compaction (the
  // machine's and the writer's own noise), then with one.
  const windows = { without: [] as Gap[], with: [] as Gap[] };
  const steps: number[] = [], times: number[] = [];
  let done: DiskLog.Compacted | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const length = times.length === 0 ? 1500 : times[times.length - 1];
    let probe = new Probe();
    await new Promise((resolve) => setTimeout(resolve, length));
    windows.without.push(...probe.stop());
    probe = new Probe();
    const t0 = performance.now();
    done = await DiskLog.compact(log);
    times.push(performance.now() - t0);
    windows.with.push(...probe.stop());
    steps.push(done.longestStepMs);
  }
  clearInterval(writer);
  await DiskLog.close(log);
  const load = os.loadavg().map((x) => x.toFixed(2)).join(", ");
  console.log(`\n### Compaction of ${KEYS} keys (1,000 buckets), base written in a worker thread, ${ROUNDS} rounds\n`);
  console.log(`load average before: ${loadAtStart}; after: ${load}\n`);
  console.log("| figure | value | target |");
  console.log("|---|---|---|");
  console.log(`| log before | ${before} bytes | |`);
  console.log(`| base after | ${done!.bytes} bytes, ${done!.records} records | |`);
  console.log(
    `| compaction time | ${times.map((t) => t.toFixed(0)).join(", ")} ms (${appended} PUTs appended in all) | |`,
  );
  console.log(
    `| longest synchronous compaction step on the main thread | ${Math.max(...steps).toFixed(2)} ms | ≤ 5 ms |`,
  );
  console.log("\nGaps between ticks of a 1 ms timer, windows of the same length interleaved (ms):\n");
  console.log("| window | ticks | p50 | p99 | p99.9 | max | longest on-CPU part of a gap | longest run-queue wait |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const [label, gaps] of Object.entries(windows)) {
    const ms = gaps.map((g) => g.ms).sort((a, b) => a - b);
    const cpu = Math.max(...gaps.map((g) => g.cpuMs));
    const wait = Math.max(...gaps.map((g) => g.waitMs));
    console.log(
      `| ${label} compaction | ${ms.length} | ${quantile(ms, 0.5).toFixed(1)} | ${quantile(ms, 0.99).toFixed(1)} | ${
        quantile(ms, 0.999).toFixed(1)
      } | ${ms[ms.length - 1].toFixed(1)} | ${cpu.toFixed(1)} | ${wait.toFixed(1)} |`,
    );
  }
  const show = (g: Gap) =>
    `${g.ms.toFixed(1)} = ${g.cpuMs.toFixed(1)} + ${g.waitMs.toFixed(1)} + ${(g.ms - g.cpuMs - g.waitMs).toFixed(1)}`;
  for (const [label, gaps] of Object.entries(windows)) {
    console.log(`\n${label} compaction, ms as gap = on a CPU + waiting for one + asleep:`);
    console.log(`- longest gaps: ${[...gaps].sort((a, b) => b.ms - a.ms).slice(0, 5).map(show).join("; ")}`);
    console.log(`- most on a CPU: ${[...gaps].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 5).map(show).join("; ")}`);
  }
}

const loadAtStart = os.loadavg().map((x) => x.toFixed(2)).join(", ");

try {
  if (ONLY.includes("throughput")) await throughput();
  if (ONLY.includes("bytes")) await bytesPerPut();
  if (ONLY.includes("restart")) await restart();
  if (ONLY.includes("compaction")) await compaction();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
}
process.exit(0);
