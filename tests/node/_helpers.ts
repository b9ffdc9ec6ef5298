/**
 * Helpers of the distribution tests: a private EPMD per test (never the shared one), TypeScript
 * peer nodes and BEAM peer nodes in child processes, driven line by line.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime } from "../../lib/net/runtime.ts";
import * as Wire from "../../lib/node/_wire.ts";

let unique = 0;
/** A node name no other test (or helper) uses: `prefix` + pid + counter. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid}x${unique++}`;
}

/** A free TCP port on loopback (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ host: "127.0.0.1", port: 0 }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 10000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A child process whose stdout is read line by line. */
export class LineProcess {
  readonly lines: string[] = [];
  stderr = "";
  #waiters: { re: RegExp; from: number; resolve: (m: RegExpMatchArray) => void }[] = [];
  #exited: Promise<number | string>;
  #partial = "";

  constructor(readonly child: ChildProcess, readonly label: string) {
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (t: string) => {
      this.#partial += t;
      let nl;
      while ((nl = this.#partial.indexOf("\n")) >= 0) {
        this.lines.push(this.#partial.slice(0, nl));
        this.#partial = this.#partial.slice(nl + 1);
      }
      this.#check();
    });
    child.stderr!.on("data", (t: string) => this.stderr += t);
    this.#exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  }

  #check(): void {
    for (const w of [...this.#waiters]) {
      for (let i = w.from; i < this.lines.length; i++) {
        const m = this.lines[i].match(w.re);
        if (m) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
          break;
        }
      }
    }
  }

  /** The first line (from line `from` on) matching `re`; rejects after `timeoutMs` or on exit. */
  waitLine(re: RegExp, timeoutMs = 15000, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${this.label}: no line matching ${re} in ${timeoutMs} ms; got ${
              JSON.stringify(this.lines)
            }; stderr ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const w = {
        re,
        from,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.#waiters.push(w);
      this.#check();
      void this.#exited.then((code) => {
        if (!this.#waiters.includes(w)) return;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        clearTimeout(timer);
        reject(
          new Error(
            `${this.label} exited (${code}) before a line matching ${re}; got ${
              JSON.stringify(this.lines)
            }; stderr ${this.stderr}`,
          ),
        );
      });
    });
  }

  /** Sends one command line and waits for the answer matching `re` (after what was read). */
  ask(line: string, re: RegExp, timeoutMs = 15000): Promise<RegExpMatchArray> {
    const from = this.lines.length;
    this.child.stdin!.write(line + "\n");
    return this.waitLine(re, timeoutMs, from);
  }

  /** True while it is alive. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Freezes it (SIGSTOP), through `process.kill`: on Deno, `child.kill` takes one signal per
   * child and ignores later ones, so the final SIGKILL must be the only `child.kill`.
   */
  freeze(): void {
    process.kill(this.child.pid!, "SIGSTOP");
  }

  /** Kills the process (SIGKILL) and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.running) {
      process.kill(this.child.pid!, "SIGCONT");
      this.child.kill("SIGKILL");
    }
    await this.#exited;
  }
}

/** A private EPMD on a free loopback port, so tests never touch (or kill) a shared one. */
export class PrivateEpmd {
  private constructor(readonly port: number, readonly proc: LineProcess) {}
  static async start(): Promise<PrivateEpmd> {
    const port = await freePort();
    const child = spawn("epmd", ["-port", String(port), "-address", "127.0.0.1"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const epmd = new PrivateEpmd(port, new LineProcess(child, `epmd:${port}`));
    await waitForPort(port);
    return epmd;
  }
  stop(): Promise<void> {
    return this.proc.kill();
  }
}

/** The command running `script` on this runtime (the one running the tests). */
export function runtimeCommand(script: string, args: string[]): [string, string[]] {
  return runtime === "deno"
    ? [process.execPath, ["run", "-A", script, ...args]]
    : [process.execPath, [script, ...args]];
}

/** Starts a TypeScript peer node (tests/node/fixtures/ts_peer.ts) and waits for it to be ready. */
export async function startTsPeer(
  name: string,
  cookie: string,
  epmdPort: number,
  netTickTime = 60,
): Promise<LineProcess & { node: string }> {
  const script = new URL("./fixtures/ts_peer.ts", import.meta.url).pathname;
  const [cmd, args] = runtimeCommand(script, [name, cookie, String(epmdPort), String(netTickTime)]);
  const env = { ...process.env, DENO_NO_PACKAGE_JSON: "1" };
  const peer = new LineProcess(spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env }), `ts peer ${name}`);
  const m = await peer.waitLine(/^ready (\S+)/, 30000);
  return Object.assign(peer, { node: m[1] });
}

let beamDir: string | undefined;
/** Compiles tests/node/fixtures/beam_peer.erl once per test process. */
function beamPeerDir(): string {
  if (beamDir !== undefined) return beamDir;
  const dir = mkdtempSync(join(tmpdir(), "beam-peer-"));
  const src = new URL("./fixtures/beam_peer.erl", import.meta.url).pathname;
  const r = spawnSync("erlc", ["-o", dir, src], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`erlc failed: ${r.stderr}${r.stdout}`);
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return beamDir = dir;
}

/** Starts a BEAM peer node (`erl -sname name@localhost`) and waits for it to be ready. */
export async function startBeamPeer(
  name: string,
  cookie: string,
  epmdPort: number,
  opts: { hidden?: boolean; netTickTime?: number } = {},
): Promise<LineProcess & { node: string }> {
  const args = ["-sname", `${name}@localhost`, "-setcookie", cookie, "-noshell", "-pa", beamPeerDir()];
  if (opts.hidden) args.push("-hidden");
  if (opts.netTickTime !== undefined) args.push("-kernel", "net_ticktime", String(opts.netTickTime));
  args.push("-eval", "beam_peer:main()");
  const env = { ...process.env, ERL_EPMD_PORT: String(epmdPort) };
  const peer = new LineProcess(spawn("erl", args, { stdio: ["pipe", "pipe", "pipe"], env }), `beam peer ${name}`);
  const m = await peer.waitLine(/^ready (\S+)/, 30000);
  return Object.assign(peer, { node: m[1] });
}

/**
 * Runs `body` with `handler` receiving this node's control messages, then restores the previous.
 * The process runtime (loaded by mod.ts) takes the handler back at each nodeup, so ours is put
 * back after it.
 */
export async function withHandler<T>(handler: Wire.ControlHandler, body: () => Promise<T>): Promise<T> {
  const previous = Wire.setControlHandler(handler);
  const off = Wire.onNodeUp(() => Wire.setControlHandler(handler));
  try {
    return await body();
  } finally {
    off();
    Wire.setControlHandler(previous);
  }
}
