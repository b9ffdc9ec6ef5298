/**
 * Distribution figures, side by side in one run (2 shared cores: compare the
 * rows of one run, not numbers across runs):
 *
 * 1. `GenServer.call` rate across nodes, sequential (1 caller) and pipelined
 *    (100 callers): TypeScript -> TypeScript, TypeScript -> BEAM, BEAM -> BEAM
 *    and BEAM -> TypeScript. Every call goes by registered name to a `peer`
 *    gen_server (`tests/node/_peer.ts` or `tests/node/fixtures/otp_ts_peer.erl`)
 *    and monitors it, as `gen_server:call({peer, Node}, ...)` does.
 * 2. The KV cluster's throughput through one node: `kv serve` alone, then 2
 *    and 3 nodes routing buckets `a`..`z` by first byte; C connections to the
 *    first node, P requests pipelined per connection, a PUT then a GET phase
 *    over buckets of every range.
 *
 * Every server and peer is started first; then each round measures every
 * figure in turn (interleaved), so that other load on the machine weighs on
 * all alike, and each row is the best of its rounds (`--rounds`, default 3).
 *
 * ```sh
 * bun scripts/bench_dist.ts [--seconds 2] [--ops 40000] [--connections 50] [--pipeline 1,16] [--rounds 3] [--only calls,kv]
 * deno run -A scripts/bench_dist.ts
 * ```
 *
 * Needs `erl`/`erlc` for the BEAM rows (skipped, with a line, without them).
 *
 * @module
 */
import process from "node:process";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as net from "node:net";
import { GenServer, Node, Process } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const runtimeName = isDeno ? "deno" : "bun";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const SECONDS = Number(arg("seconds", "2"));
const OPS = Number(arg("ops", "40000"));
const CONNECTIONS = Number(arg("connections", "50"));
const PIPELINES = arg("pipeline", "1,16").split(",").map(Number);
const ONLY = arg("only", "calls,kv").split(",");
const ROUNDS = Number(arg("rounds", "3"));
const COOKIE = "bench_dist_cookie";
const tag = `${process.pid}`;

const children: ChildProcess[] = [];
const cleanup: Array<() => void> = [];
function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const f of cleanup) f();
}
process.on("exit", stopAll);

/** Spawns `command` and resolves once its output matches `ready` (the match is returned). */
function start(command: string, args: string[], ready: RegExp): Promise<RegExpMatchArray> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")}: not ready; ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", () => reject(new Error(`${command} exited: ${out}`)));
  });
}

const tsArgs = (script: string, ...rest: string[]) => isDeno ? ["run", "-A", script, ...rest] : [script, ...rest];

function haveErl(): boolean {
  try {
    execFileSync("erl", ["-noshell", "-eval", "halt()."], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- calls

interface Row {
  figure: string;
  value: number;
  unit: string;
}
const rows: Row[] = [];

/** A figure measured once per round; its row is the best round. */
interface Figure {
  figure: string;
  unit: string;
  run: () => Promise<number>;
}

async function measure(figures: Figure[]): Promise<void> {
  const best = figures.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < figures.length; i++) best[i] = Math.max(best[i], await figures[i].run());
  }
  figures.forEach((f, i) => rows.push({ figure: f.figure, value: best[i], unit: f.unit }));
}

/** `callers` processes call `["peer", node]` back to back for SECONDS; calls per second. */
async function tsCalls(node: string, callers: number): Promise<number> {
  const dest: [string, string] = ["peer", node];
  const req = [Symbol.for("echo"), 1];
  await GenServer.call(dest, req);
  const deadline = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const counts = await Promise.all(
    Array.from({ length: callers }, () =>
      Process.run(async () => {
        let n = 0;
        while ((n & 63) !== 0 || performance.now() < deadline) {
          await GenServer.call(dest, req);
          n++;
        }
        return n;
      })),
  );
  const total = counts.reduce((a, b) => a + b, 0);
  return total / ((performance.now() - t0) / 1000);
}

/** An erl node that runs `otp_ts_peer:bench(peer, ms, callers)`; calls per second. */
async function beamCalls(dir: string, peer: string, callers: number): Promise<number> {
  const m = await start(
    "erl",
    [
      "-sname",
      `bdrv${tag}x${callers}x${peer.length}${Math.floor(Math.random() * 1e6)}@localhost`,
      "-setcookie",
      COOKIE,
      "-hidden",
      "-noshell",
      "-noinput",
      "-pa",
      dir,
      "-eval",
      `otp_ts_peer:bench('${peer}', ${SECONDS * 1000}, ${callers}), halt().`,
    ],
    /bench (\d+) ([\d.]+)/,
  );
  return Number(m[1]) / (Number(m[2]) / 1000);
}

async function calls(): Promise<void> {
  await Node.start(`bench${tag}`, { cookie: COOKIE });
  const ts = await start(process.execPath, tsArgs(`${ROOT}tests/node/_peer.ts`, `tspeer${tag}`, COOKIE), /ready (\S+)/);
  const tsNode = ts[1];
  let beamNode: string | undefined, dir: string | undefined;
  if (haveErl()) {
    dir = mkdtempSync(join(tmpdir(), "bench_dist_"));
    cleanup.push(() => rmSync(dir!, { recursive: true, force: true }));
    execFileSync("erlc", ["-o", dir, `${ROOT}tests/node/fixtures/otp_ts_peer.erl`]);
    const b = await start(
      "erl",
      [
        "-sname",
        `bpeer${tag}@localhost`,
        "-setcookie",
        COOKIE,
        "-hidden",
        "-noshell",
        "-noinput",
        "-pa",
        dir,
        "-eval",
        "otp_ts_peer:start().",
      ],
      /ready (\S+)/,
    );
    beamNode = b[1];
  } else {
    console.log("erl not found: BEAM rows skipped");
  }
  const figures: Figure[] = [];
  const add = (figure: string, run: () => Promise<number>) => figures.push({ figure, unit: "calls/s", run });
  for (const callers of [1, 100]) {
    const how = callers === 1 ? "sequential" : "100 callers";
    add(`GenServer.call ${how}: TS (${runtimeName}) -> TS`, () => tsCalls(tsNode, callers));
    if (beamNode !== undefined) {
      const beam = beamNode;
      add(`GenServer.call ${how}: TS (${runtimeName}) -> BEAM`, () => tsCalls(beam, callers));
      add(`gen_server:call ${how}: BEAM -> BEAM`, () => beamCalls(dir!, beam, callers));
      add(`gen_server:call ${how}: BEAM -> TS (${runtimeName})`, () => beamCalls(dir!, tsNode, callers));
    }
  }
  await measure(figures);
  await Node.stop();
}

// ---------------------------------------------------------------- kv cluster

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

async function serveNodes(count: number): Promise<number> {
  if (count === 1) {
    const m = await start(
      process.execPath,
      tsArgs(`${ROOT}lib/apps/kv_server/cli.ts`, "serve", "--port", "0"),
      /listening on \S+:(\d+)/,
    );
    return Number(m[1]);
  }
  const names = Array.from({ length: count }, (_, i) => `kv${tag}n${count}x${i}@localhost`);
  const size = Math.ceil(26 / count);
  const routes = names.map((n, i) => `${LETTERS[i * size]}-${LETTERS[Math.min(25, i * size + size - 1)]}=${n}`).join(
    ",",
  );
  const ports: number[] = [];
  for (const n of names) {
    const m = await start(
      process.execPath,
      tsArgs(
        `${ROOT}lib/apps/kv_server/cli.ts`,
        "serve",
        "--port",
        "0",
        "--name",
        n,
        "--cookie",
        COOKIE,
        "--routes",
        routes,
      ),
      /listening on \S+:(\d+)/,
    );
    ports.push(Number(m[1]));
  }
  return ports[0];
}

/** One connection's pipelined exchange: resolves with each batch's completion. */
function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(s));
    s.setNoDelay(true);
    s.once("error", reject);
  });
}

/** Sends `text` and waits for `lines` reply lines. */
function exchange(s: net.Socket, text: string, lines: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onData = (d: Buffer) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) seen++;
      if (seen >= lines) {
        s.off("data", onData);
        resolve();
      }
    };
    s.on("data", onData);
    s.write(text);
  });
}

async function kvPhase(port: number, verb: "PUT" | "GET", pipeline: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => open(port)));
  const perConn = Math.ceil(OPS / CONNECTIONS / pipeline);
  const t0 = performance.now();
  await Promise.all(conns.map(async (s, c) => {
    for (let b = 0; b < perConn; b++) {
      let text = "";
      for (let i = 0; i < pipeline; i++) {
        const k = c * 7919 + b * pipeline + i;
        const bucket = `${LETTERS[k % 26]}bench`;
        text += verb === "PUT" ? `PUT ${bucket} k${k % 1000} v\r\n` : `GET ${bucket} k${k % 1000}\r\n`;
      }
      await exchange(s, text, verb === "PUT" ? pipeline : pipeline * 2);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  for (const s of conns) s.destroy();
  return (perConn * pipeline * CONNECTIONS) / seconds;
}

async function kv(): Promise<void> {
  const figures: Figure[] = [];
  for (const count of [1, 2, 3]) {
    const port = await serveNodes(count);
    const setup = await open(port);
    await exchange(setup, [...LETTERS].map((l) => `CREATE ${l}bench\r\n`).join(""), 26);
    setup.destroy();
    const label = count === 1 ? "kv serve, single node" : `kv cluster of ${count}, through one node`;
    for (const p of PIPELINES) {
      for (const verb of ["PUT", "GET"] as const) {
        figures.push({
          figure: `${label}, C=${CONNECTIONS} P=${p}: ${verb}`,
          unit: "ops/s",
          run: () => kvPhase(port, verb, p),
        });
      }
    }
  }
  await measure(figures);
}

if (ONLY.includes("calls")) await calls();
if (ONLY.includes("kv")) await kv();

console.log(`\n### Distribution — ${runtimeName}\n`);
console.log("| figure | value | unit |\n|---|---:|---|");
for (const r of rows) console.log(`| ${r.figure} | ${Math.round(r.value).toLocaleString("en-US")} | ${r.unit} |`);
stopAll();
process.exit(0);
