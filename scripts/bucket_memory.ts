/**
 * Memory per bucket: starts `kv serve --port 0` on each runtime, creates N
 * one-key buckets over the protocol (`CREATE bI` + `PUT bI k v`, pipelined),
 * and reports the server process's RSS (from `/proc/PID/status`, so Linux
 * only) before, right after, and after `--settle` seconds of idling (the
 * lowest sample: garbage from making them is given back by then), and per
 * bucket from that.
 *
 * ```sh
 * node_modules/.bin/bun scripts/bucket_memory.ts --buckets 1000000 --runtime bun,deno
 * node_modules/.bin/bun scripts/bucket_memory.ts --runtime bun --serve "--idle-gc 0 --log-level info"
 * ```
 *
 * `--serve` passes further flags to `kv serve` (by default it collects
 * garbage once idle a second after its memory grew: `--idle-gc 1`).
 *
 * @module
 */

import process from "node:process";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { startKvServer } from "./_kv_process.ts";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const buckets = Number(option("--buckets", "1000000"));
const runtimes = option("--runtime", "bun").split(",");
/** Seconds of idling after the buckets are made, RSS sampled every 100 ms (the lowest is reported). */
const settle = Number(option("--settle", "10"));
/** Further `kv serve` flags, space-separated. */
const serveFlags = option("--serve", "").split(" ").filter((flag) => flag !== "");
/** Requests in flight per write; replies are counted, not kept. */
const WINDOW = 2000;

/** The RSS of `pid`, in bytes. */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** Sends `count` requests made by `line(i)`, at most WINDOW unanswered; resolves once all are answered. */
function pipeline(port: number, count: number, line: (i: number) => string, repliesPer: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let sent = 0;
    let answered = 0;
    let pending = "";
    const fill = () => {
      let batch = "";
      while (sent < count && sent - answered < WINDOW) batch += line(sent++);
      if (batch !== "") socket.write(batch);
    };
    socket.on("connect", fill);
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      let lines = 0;
      let at = pending.indexOf("\n");
      let last = -1;
      while (at >= 0) {
        lines++;
        last = at;
        at = pending.indexOf("\n", at + 1);
      }
      pending = pending.slice(last + 1);
      answered += lines / repliesPer;
      if (answered >= count) {
        socket.end();
        resolve();
      } else fill();
    });
  });
}

const rows: string[] = [];
for (const runtime of runtimes) {
  const server = await startKvServer(runtime, serveFlags);
  // Settle start-up allocations before the baseline.
  await pipeline(server.port, 1000, (i) => `GET none k${i}\r\n`, 1);
  const before = rss(server.pid);
  const started = performance.now();
  await pipeline(server.port, buckets, (i) => `CREATE b${i}\r\nPUT b${i} k v\r\n`, 2);
  const seconds = (performance.now() - started) / 1000;
  await pipeline(server.port, 1, () => `GET b${buckets - 1} k\r\n`, 2);
  const right = rss(server.pid);
  // Then idle for a while: the collector and the allocator give back what creating them left behind.
  let after = right;
  for (let i = 0; i < settle * 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = Math.min(after, rss(server.pid));
  }
  const code = await server.stop();
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  rows.push(
    `| ${runtime} | ${buckets.toLocaleString("en")} | ${mb(before)} | ${mb(right)} | ${mb(after)} | ${
      ((after - before) / buckets).toFixed(0)
    } B | ${seconds.toFixed(1)} s | ${code} |`,
  );
}
console.log(
  `| runtime | buckets | RSS before | RSS right after | RSS after ${settle} s idle | per bucket | create time | exit code |`,
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
