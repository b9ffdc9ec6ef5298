/**
 * The `kill -9` check of the durable kv server, shared by
 * `tests/apps/kv_server/kill9_test.ts` (a few runs) and `scripts/kill9.ts`
 * (100 runs per policy).
 *
 * One run: start `kv serve --dir DIR --appendfsync POLICY` on the runtime
 * running this code, create the buckets, then load it with `connections`
 * connections each keeping `pipeline` PUT/DELETE requests in flight on keys
 * of its own; at a random moment, SIGKILL the server. Restart it on the same
 * directory and read every key back. Each key is written by one connection
 * only, in order, so its value after the restart must be the state after its
 * last acknowledged request, or after one of the requests sent later and not
 * answered (applied in order, up to some point). Anything else is a lost
 * acknowledged write, an undone acknowledged delete, or an invented value.
 *
 * @module
 */
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as fs from "node:fs";
import * as os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../lib/apps/kv_server/cli.ts", import.meta.url));

/** Options of one run. */
export interface Kill9Options {
  policy: "always" | "everysec" | "no";
  /** Under `always`, `--fsync` (default: the server's, inline). */
  fsync?: "inline" | "thread";
  connections: number;
  pipeline: number;
  /** Kill after a random delay in [minMs, maxMs) of load. */
  minMs: number;
  maxMs: number;
  /** Keys per connection (overwritten and deleted over and over). */
  keys?: number;
}

/** What one run found. */
export interface Kill9Result {
  /** Requests acknowledged before the kill. */
  acknowledged: number;
  /** Requests sent and not answered. */
  unanswered: number;
  /** Keys whose value after restart is not allowed, with why. */
  violations: string[];
  /** Time from restart to `listening on`, ms. */
  restartMs: number;
}

/** The command line running `cli.ts` on this runtime. */
export function serveCommand(args: string[]): [string, string[]] {
  const deno = (process.versions as Record<string, string | undefined>).deno !== undefined;
  return [process.execPath, deno ? ["run", "-A", CLI, ...args] : [CLI, ...args]];
}

interface Served {
  port: number;
  pid: number;
  exited: Promise<number | string>;
  stderr: () => string;
}

/** Starts `kv serve` and resolves on its listening line. */
export function startServe(args: string[]): Promise<Served> {
  const [command, full] = serveCommand(["serve", "--port", "0", ...args]);
  const child = spawn(command, full, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (t: string) => err += t);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"))
  );
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (t: string) => {
      out += t;
      const m = /listening on \S+:(\d+)\n/.exec(out);
      if (m) resolve({ port: Number(m[1]), pid: child.pid!, exited, stderr: () => err });
    });
    void exited.then((code) => reject(new Error(`kv serve exited (${code}) before listening: ${err}`)));
  });
}

/** One connection that sends lines and collects one-line replies. */
class Conn {
  readonly socket: net.Socket;
  #buffer = "";
  readonly #waiting: ((line: string) => void)[] = [];
  closed = false;
  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.socket.on("data", (c) => {
      this.#buffer += c.toString("latin1");
      let i;
      while ((i = this.#buffer.indexOf("\r\n")) >= 0) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 2);
        this.#waiting.shift()?.(line);
      }
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => this.closed = true);
  }
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
  }
  /** Sends a line; `onLine` gets each reply line (`lines` of them). */
  send(line: string, lines: number, onLine: (line: string) => void): void {
    for (let i = 0; i < lines; i++) this.#waiting.push(onLine);
    this.socket.write(line + "\r\n");
  }
  /** A GET: the value, `null` when absent, or a one-line reply (`NOT FOUND`, `ERROR`). */
  get(bucket: string, key: string): Promise<string | null> {
    return new Promise((resolve) => {
      this.send(`GET ${bucket} ${key}`, 1, (first) => {
        if (first === "NOT FOUND" || first === "ERROR") return resolve(first);
        // The value line, then OK.
        this.#waiting.push(() => resolve(first === "" ? null : first));
      });
    });
  }
  ask(line: string, lines = 1): Promise<string[]> {
    return new Promise((resolve) => {
      const got: string[] = [];
      this.send(line, lines, (l) => {
        got.push(l);
        if (got.length === lines) resolve(got);
      });
    });
  }
}

/** One key's history, as seen by its only writer. */
interface KeyHistory {
  /** The value after the last acknowledged request (`null`: absent). */
  acked: string | null;
  /** Values of requests sent after it and not answered, in order (`null`: a delete). */
  after: (string | null)[];
}

function bucketOf(c: number): string {
  return `b${c % 8}`;
}

/** Runs the load against `port` until `stop()`; returns the key histories. */
function load(opts: Kill9Options, conns: Conn[]) {
  const keys = opts.keys ?? 16;
  const histories = new Map<string, KeyHistory>();
  let acknowledged = 0, sent = 0, running = true;
  for (let c = 0; c < conns.length; c++) {
    const conn = conns[c];
    let n = 0;
    const next = () => {
      if (!running || conn.closed) return;
      const i = n++;
      const key = `c${c}k${i % keys}`;
      const id = `${bucketOf(c)}/${key}`;
      let h = histories.get(id);
      if (h === undefined) histories.set(id, h = { acked: null, after: [] });
      // Mostly puts; every fifth request on a key deletes it.
      const value = (i / keys | 0) % 5 === 4 ? null : `v${i}`;
      h.after.push(value);
      const hist = h;
      sent++;
      conn.send(
        value === null ? `DELETE ${bucketOf(c)} ${key}` : `PUT ${bucketOf(c)} ${key} ${value}`,
        1,
        (reply) => {
          if (reply !== "OK") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
          acknowledged++;
          hist.acked = hist.after.shift()!;
          next();
        },
      );
    };
    for (let p = 0; p < opts.pipeline; p++) next();
  }
  return {
    histories,
    stop() {
      running = false;
      return { acknowledged, unanswered: sent - acknowledged };
    },
  };
}

/** One kill -9 run in a fresh directory. */
export async function kill9Run(opts: Kill9Options): Promise<Kill9Result> {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/kv-kill9-`);
  try {
    const flags = ["--dir", dir, "--appendfsync", opts.policy, ...(opts.fsync ? ["--fsync", opts.fsync] : [])];
    const server = await startServe(flags);
    const conns = Array.from({ length: opts.connections }, () => new Conn(server.port));
    await Promise.all(conns.map((c) => c.ready()));
    for (let b = 0; b < Math.min(8, opts.connections); b++) {
      const [reply] = await conns[0].ask(`CREATE ${bucketOf(b)}`);
      if (reply !== "OK") throw new Error(`CREATE answered ${reply}`);
    }
    const run = load(opts, conns);
    const delay = opts.minMs + Math.random() * (opts.maxMs - opts.minMs);
    await new Promise((resolve) => setTimeout(resolve, delay));
    process.kill(server.pid, "SIGKILL");
    await server.exited;
    const counts = run.stop();
    for (const c of conns) c.socket.destroy();

    const t0 = performance.now();
    const again = await startServe(flags);
    const restartMs = performance.now() - t0;
    const reader = new Conn(again.port);
    await reader.ready();
    const violations: string[] = [];
    for (const [id, h] of run.histories) {
      const [bucket, key] = id.split("/");
      const found = await reader.get(bucket, key);
      const value = found === "NOT FOUND" ? null : found; // a bucket gone is a violation below
      const allowed = [h.acked, ...h.after];
      if (found === "NOT FOUND" || found === "ERROR" || !allowed.includes(value)) {
        violations.push(
          `${id}: found ${JSON.stringify(found)}, acknowledged ${JSON.stringify(h.acked)}, then sent ${
            JSON.stringify(h.after)
          }`,
        );
      }
    }
    reader.socket.destroy();
    process.kill(again.pid, "SIGTERM");
    await again.exited;
    return { ...counts, violations, restartMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
