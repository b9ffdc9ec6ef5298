/**
 * A/B actor benchmarks: the ping-pong and call figures of `bench_actors.ts`
 * for two copies of the library loaded side by side in one process, in short
 * alternating rounds (the order flips every round), each figure per second of
 * this process's CPU time rather than of wall time. On a shared, loaded
 * machine wall-clock rates swing by a factor of several between runs; rates
 * per CPU second of alternating rounds stay within a few percent, which is
 * what a before/after comparison needs. Prints one table: the medians and
 * their ratio.
 *
 *   git archive <before-commit> | tar -x -C /tmp/before   # (and link node_modules)
 *   bun scripts/bench_ab.ts /tmp/before/mod.ts ./mod.ts [--rounds=30] [--only=ping-pong]
 *   deno run -A scripts/bench_ab.ts /tmp/before/mod.ts ./mod.ts
 *
 * @module
 */
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

type Lib = typeof import("../mod.ts");

const args = process.argv.slice(2);
const paths = args.filter((a) => !a.startsWith("--"));
if (paths.length !== 2) {
  console.error("usage: bench_ab.ts <before/mod.ts> <after/mod.ts> [--rounds=N] [--round-ms=MS] [--only=prefix]");
  process.exit(2);
}
const option = (name: string, fallback: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const ROUNDS = Number(option("rounds", "20"));
const ROUND_MS = Number(option("round-ms", "250"));
const ONLY = option("only", "");

const load = (p: string): Promise<Lib> => import(pathToFileURL(resolve(p)).href);
const before = await load(paths[0]);
const after = await load(paths[1]);

const now = () => performance.now();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Runs one round of `work`: it sets up, calls `go()` (the measured phase
 * starts: it returns when to stop), and returns its count, then cleans up
 * with `done()` (the measured phase ends). Its rate per CPU second.
 */
async function perCpuSecond(
  work: (go: () => number, done: () => void) => Promise<number>,
): Promise<number> {
  let c0 = 0, c1 = 0;
  const n = await work(() => {
    c0 = cpuMs();
    return now() + ROUND_MS;
  }, () => {
    c1 = cpuMs();
  });
  return n / ((c1 - c0) / 1000);
}

function pingPong(L: Lib, pairs: number): Promise<number> {
  return perCpuSecond(async (go, done) => {
    let count = 0, stop = false;
    const Player: import("../mod.ts").GenServer.Callbacks<import("../mod.ts").Pid | null, undefined> = {
      init: () => ["ok", null],
      handleInfo: (m: import("../mod.ts").Pid | "ball", peer) => {
        if (m !== "ball") return ["noreply", m];
        count++;
        if (!stop) L.Process.send(peer!, "ball");
        return ["noreply", peer];
      },
    };
    const players: import("../mod.ts").Pid[] = [];
    for (let i = 0; i < pairs; i++) {
      const a = await L.GenServer.start(Player, undefined), b = await L.GenServer.start(Player, undefined);
      L.Process.send(a, b);
      L.Process.send(b, a);
      players.push(a, b);
    }
    const until = go();
    for (let i = 0; i < players.length; i += 2) L.Process.send(players[i], "ball");
    await new Promise((r) => setTimeout(r, Math.max(0, until - now())));
    stop = true;
    done();
    for (const p of players) L.Process.exit(p, "kill");
    return count;
  });
}

const Echo: import("../mod.ts").GenServer.Callbacks<number, undefined, number, number> = {
  init: () => ["ok", 0],
  handleCall: (req, _from, n) => ["reply", req, n + 1],
};

function calls(L: Lib, callers: number, inProcesses: boolean): Promise<number> {
  return perCpuSecond(async (go, done) => {
    const server = await L.GenServer.start(Echo, undefined);
    let n = 0;
    const until = go();
    const loop = async () => {
      while (now() < until) {
        for (let i = 0; i < 1000; i++) await L.GenServer.call(server, i);
        n += 1000;
      }
    };
    await Promise.all(Array.from({ length: callers }, () => inProcesses ? L.Process.run(loop) : loop()));
    done();
    await L.GenServer.stop(server);
    return n;
  });
}

const FIGURES: Array<[string, (L: Lib) => Promise<number>]> = [
  ["ping-pong, 1 pair of GenServers", (L) => pingPong(L, 1)],
  ["ping-pong, 1,000 pairs of GenServers", (L) => pingPong(L, 1000)],
  ["GenServer.call, 1 caller in plain code", (L) => calls(L, 1, false)],
  ["GenServer.call, 100 callers in plain code", (L) => calls(L, 100, false)],
  ["GenServer.call, 1 caller process", (L) => calls(L, 1, true)],
  ["GenServer.call, 100 caller processes", (L) => calls(L, 100, true)],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => Math.round(x).toLocaleString("en");

console.log(`### A/B, per CPU second (${ROUNDS} alternating rounds of ${ROUND_MS} ms)\n`);
console.log("| figure | before (median) | after (median) | after / before |");
console.log("|---|---:|---:|---:|");
for (const [name, run] of FIGURES) {
  if (!name.startsWith(ONLY)) continue;
  const a: number[] = [], b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      a.push(await run(before));
      b.push(await run(after));
    } else {
      b.push(await run(after));
      a.push(await run(before));
    }
  }
  const ma = median(a), mb = median(b);
  console.log(`| ${name} | ${fmt(ma)} | ${fmt(mb)} | ${(mb / ma).toFixed(3)} |`);
}
