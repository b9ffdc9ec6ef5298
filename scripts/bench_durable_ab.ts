/**
 * A/B throughput of kv servers, for changes to the durable write path: any
 * number of `kv serve` processes (each its own tree, runtime and flags),
 * C connections, PUT and GET phases at each pipeline depth, rounds
 * interleaved (the order flips every round). For each server and phase: the
 * best and median ops/s, and the **server's CPU time per request** (all its
 * threads, and its main thread alone), read from `/proc/PID/stat` around
 * each phase. CPU per request is what a before/after comparison can trust on
 * a shared, loaded machine, where ops/s swing by 2x between rounds. The
 * first server is the reference of the ratio table.
 *
 * ```sh
 * git archive <before> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
 * node_modules/.bin/bun scripts/bench_durable_ab.ts [--ops 300000] [--rounds 8] [--p 1,16] [--phases PUT,GET] \
 *   -- mem=bun:lib/apps/kv_server/cli.ts \
 *      before=bun:/tmp/before/lib/apps/kv_server/cli.ts:--dir,DIR,--appendfsync,everysec \
 *      after=bun:lib/apps/kv_server/cli.ts:--dir,DIR,--appendfsync,everysec
 * ```
 *
 * A server is `LABEL=RUNTIME:CLI[:ARGS[:ENV]]`: RUNTIME `bun` or `deno`, ARGS
 * comma-separated `serve` flags (`DIR` becomes a fresh temporary directory),
 * ENV comma-separated `NAME=VALUE`. The load generator runs on the runtime
 * running this script. Linux only (`/proc`); CPU times have a 10 ms tick, so
 * keep phases at 0.3 s or more.
 *
 * @module
 */
import process from "node:process";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { LineConnection, linesPer, phase, requests } from "./_line_load.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const OPS = Number(arg("--ops", "300000"));
const ROUNDS = Number(arg("--rounds", "8"));
const PIPELINES = arg("--p", "16").split(",").map(Number);
const CONNECTIONS = Number(arg("--connections", "50"));
const PHASES = arg("--phases", "PUT").split(",") as ("PUT" | "GET")[];
const MAX_SECONDS = Number(arg("--max-seconds", "600"));
const dash = process.argv.indexOf("--");
const specs = dash >= 0 ? process.argv.slice(dash + 1) : [];
if (specs.length === 0) {
  console.error("usage: bench_durable_ab.ts [options] -- LABEL=RUNTIME:CLI[:ARGS[:ENV]] ...");
  process.exit(2);
}
const BIN = fileURLToPath(new URL("../node_modules/.bin/", import.meta.url));

const children: ChildProcess[] = [];
const tmpDirs: string[] = [];
function cleanUp(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
}
process.on("exit", cleanUp);
setTimeout(() => {
  console.error(`bench_durable_ab: over ${MAX_SECONDS} s (a server stopped answering?)`);
  process.exit(3);
}, MAX_SECONDS * 1000).unref();

interface Server {
  label: string;
  port: number;
  child: ChildProcess;
}

async function start(spec: string): Promise<Server> {
  const eq = spec.indexOf("=");
  const label = spec.slice(0, eq);
  const [runtime, cli, flags = "", envs = ""] = spec.slice(eq + 1).split(":");
  const args = flags.split(",").filter((a) => a !== "").map((a) => {
    if (a !== "DIR") return a;
    const d = fs.mkdtempSync(`${os.tmpdir()}/bench-durable-ab-`);
    tmpDirs.push(d);
    return d;
  });
  const env: Record<string, string | undefined> = { ...process.env };
  for (const e of envs.split(",").filter((x) => x !== "")) {
    env[e.slice(0, e.indexOf("="))] = e.slice(e.indexOf("=") + 1);
  }
  const full = runtime === "deno"
    ? ["run", "-A", cli, "serve", "--port", "0", ...args]
    : [cli, "serve", "--port", "0", ...args];
  const child = spawn(`${BIN}${runtime}`, full, { stdio: ["ignore", "pipe", "inherit"], env });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (t: string) => {
      out += t;
      const m = /listening on \S+:(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${label} exited (${code}): ${out}`)));
  });
  return { label, port, child };
}

/** CPU ms of a process (all threads), or of its main thread. */
function cpuMs(pid: number, mainThread: boolean): number {
  const stat = fs.readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 ticks a second
}

const REQUESTS = { PUT: requests("kv", "PUT"), GET: requests("kv", "GET") };

const servers: Server[] = [];
for (const spec of specs) servers.push(await start(spec));
const conns = new Map<Server, LineConnection[]>();
for (const s of servers) {
  const list = Array.from({ length: CONNECTIONS }, () => new LineConnection(s.port));
  await Promise.all(list.map((c) => c.ready()));
  await list[0].send(Buffer.from("CREATE b\r\n"), 1);
  conns.set(s, list);
}

interface Samples {
  rate: number[];
  cpu: number[];
  main: number[];
}
const results = new Map<string, Samples>();
for (const p of PIPELINES) {
  for (const s of servers) await phase(conns.get(s)!, REQUESTS.PUT, linesPer("PUT"), p, OPS / 5); // warm-up, and the keys for GET
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
      for (const name of PHASES) {
        const pid = s.child.pid!;
        const c0 = cpuMs(pid, false), m0 = cpuMs(pid, true);
        const rate = await phase(conns.get(s)!, REQUESTS[name], linesPer(name), p, OPS);
        const c1 = cpuMs(pid, false), m1 = cpuMs(pid, true);
        const key = `${s.label}|${name}|${p}`;
        const r = results.get(key) ?? { rate: [], cpu: [], main: [] };
        r.rate.push(rate);
        r.cpu.push((c1 - c0) * 1000 / OPS);
        r.main.push((m1 - m0) * 1000 / OPS);
        results.set(key, r);
      }
    }
  }
}
for (const list of conns.values()) for (const c of list) c.socket.destroy();

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const best = (a: number[]) => Math.max(...a);
const runtimeName = (process.versions as Record<string, string | undefined>).deno !== undefined
  ? `Deno ${process.versions.deno}`
  : `Bun ${process.versions.bun}`;
console.log(
  `\n### ${OPS} ops per phase, C=${CONNECTIONS}, ${ROUNDS} interleaved rounds, generator on ${runtimeName}, load average ${
    os.loadavg().map((l) => l.toFixed(1)).join(" ")
  }\n`,
);
console.log("| server | phase | P | best ops/s | median ops/s | server CPU µs/request (median) | main thread |");
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const [key, r] of results) {
  const [label, name, p] = key.split("|");
  console.log(
    `| ${label} | ${name} | ${p} | ${Math.round(best(r.rate))} | ${Math.round(median(r.rate))} | ${
      median(r.cpu).toFixed(2)
    } | ${median(r.main).toFixed(2)} |`,
  );
}
const ref = servers[0].label;
console.log(`\n| vs ${ref} | phase | P | best ops/s | median ops/s | CPU per request |`);
console.log("|---|---|---:|---:|---:|---:|");
for (const s of servers.slice(1)) {
  for (const p of PIPELINES) {
    for (const name of PHASES) {
      const a = results.get(`${s.label}|${name}|${p}`)!, b = results.get(`${ref}|${name}|${p}`)!;
      console.log(
        `| ${s.label} | ${name} | ${p} | ${(best(a.rate) / best(b.rate)).toFixed(2)} | ${
          (median(a.rate) / median(b.rate)).toFixed(2)
        } | ${(median(a.cpu) / median(b.cpu)).toFixed(2)} |`,
      );
    }
  }
}
await Promise.all(servers.map((s) =>
  new Promise<void>((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.once("exit", () => resolve());
    s.child.kill("SIGTERM");
  })
));
process.exit(0);
