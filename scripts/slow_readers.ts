/**
 * Slow readers: starts `kv serve --port 0` on each runtime, stores a 60 KB
 * value, then opens `--clients` connections (default 5) that each pipeline
 * `--gets` `GET`s of it (default 100,000: 6 GB of replies each) and never
 * read. Meanwhile one well-behaved client asks `GET` of a small key, one
 * request at a time, for `--seconds` seconds. Reports the server's RSS
 * before, at its peak and after the slow clients left (`/proc`, so Linux
 * only), and the well-behaved client's latency.
 *
 * ```sh
 * node_modules/.bin/bun scripts/slow_readers.ts --runtime bun,deno
 * ```
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

const runtimes = option("--runtime", "bun").split(",");
const clients = Number(option("--clients", "5"));
const gets = Number(option("--gets", "100000"));
const seconds = Number(option("--seconds", "5"));
const valueSize = Number(option("--value-size", String(60 * 1024)));
const extraArgs = option("--server-args", "").split(" ").filter(Boolean);

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? NaN : Number(m[1]) * 1024;
}

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1" }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once("error", reject);
  });
}

/** Sends `request` and resolves once `reply` came back (a reading client). */
function ask(socket: net.Socket, request: string, replyLength: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got >= replyLength) {
        socket.off("data", onData);
        resolve();
      }
    };
    socket.on("data", onData);
    socket.write(request);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const rows: string[] = [];
for (const runtime of runtimes) {
  const server = await startKvServer(runtime, extraArgs);
  const setup = await open(server.port);
  await ask(setup, `CREATE b\r\nPUT b big ${"v".repeat(valueSize)}\r\nPUT b small 1\r\n`, 12);
  // Warm up both paths, so the baseline holds what serving costs anyway.
  for (let i = 0; i < 200; i++) await ask(setup, "GET b big\r\n", valueSize + 6);
  for (let i = 0; i < 2000; i++) await ask(setup, "GET b small\r\n", 7);
  const before = rss(server.pid);
  let peak = before;
  const sampler = setInterval(() => peak = Math.max(peak, rss(server.pid)), 20);
  const slow: net.Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const socket = await open(server.port);
    socket.pause(); // never reads
    socket.on("error", () => {});
    socket.write("GET b big\r\n".repeat(gets));
    slow.push(socket);
  }
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await ask(setup, "GET b small\r\n", 7);
    latencies.push(performance.now() - t);
  }
  const during = rss(server.pid);
  for (const socket of slow) socket.destroy();
  // Let the server notice the closes and collect.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  clearInterval(sampler);
  const after = rss(server.pid);
  setup.destroy();
  const code = await server.stop();
  latencies.sort((a, b) => a - b);
  rows.push(
    `| ${runtime} | ${clients} x ${gets.toLocaleString("en")} | ${mb(before)} | ${mb(peak)} | +${mb(peak - before)} | ${
      mb(during)
    } | ${mb(after)} | ${latencies.length} | ${percentile(latencies, 0.5).toFixed(2)} | ${
      percentile(latencies, 0.99).toFixed(2)
    } | ${latencies[latencies.length - 1].toFixed(2)} | ${code} |`,
  );
}
console.log(
  `Slow readers: GETs of a ${valueSize}-byte value, never read; a well-behaved client meanwhile (${seconds} s).\n`,
);
console.log(
  "| runtime | slow clients x GETs | RSS before | RSS peak | growth | RSS at end | RSS after they left | good requests | p50 ms | p99 ms | max ms | exit |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
