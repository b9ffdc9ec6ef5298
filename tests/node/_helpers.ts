/**
 * Helpers of the distribution tests (and of the other tests that start nodes): unique node
 * names, a private EPMD per test (never the shared one), TypeScript and BEAM peer nodes in
 * child processes driven line by line, each stopped (or killed) by the test that started it.
 *
 * Bun ignores a `before` hook's timeout (5 s), so a suite starts its peers from its tests,
 * through {@linkcode once}, and each such test has a generous timeout of its own
 * ({@linkcode PEER_TEST}); what they wait for is a line or a message, never time.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
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

/** The options of a test that starts peers: time for child runtimes to start on a loaded machine. */
export const PEER_TEST = { timeout: 60_000 } as const;

/** `fn` run at most once, on the first call; later calls share its promise. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => p ??= fn();
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
  #gone = false;
  #partial = "";
  #all = "";
  #changed: Array<() => void> = [];

  constructor(readonly child: ChildProcess, readonly label: string) {
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    const changed = () => {
      for (const w of this.#changed.splice(0)) w();
    };
    child.stderr!.on("data", (t: string) => {
      this.#all += t;
      changed();
    });
    child.stdout!.on("data", (t: string) => {
      this.#all += t;
      changed();
      this.#partial += t;
      let nl;
      while ((nl = this.#partial.indexOf("\n")) >= 0) {
        this.lines.push(this.#partial.slice(0, nl));
        this.#partial = this.#partial.slice(nl + 1);
      }
      this.#check();
    });
    child.stderr!.on("data", (t: string) => this.stderr += t);
    // Exited means its last output is read too: "exit" can come before the last stdout chunk, so it waits for the
    // stream's end (bounded, in case a grandchild still holds the pipe).
    const ended = new Promise<void>((resolve) => {
      child.stdout!.once("end", resolve);
      child.stdout!.once("close", resolve);
    });
    this.#exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        let grace: ReturnType<typeof setTimeout> | undefined;
        void Promise.race([ended, new Promise<void>((r) => grace = setTimeout(r, 2000))]).then(() => {
          clearTimeout(grace);
          resolve(code ?? signal ?? "?");
        });
      })
    );
    void this.#exited.then(() => {
      this.#gone = true;
      changed();
    });
  }

  /** Everything it wrote so far, stdout and stderr. */
  output(): string {
    return this.#all;
  }

  /** Waits until its output (stdout or stderr) contains `text`; rejects after `ms` or on exit. */
  waitFor(text: string | RegExp, ms = 20_000): Promise<void> {
    const has = () => typeof text === "string" ? this.#all.includes(text) : text.test(this.#all);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no ${text} in ${ms} ms; output: ${this.#all}`)),
        ms,
      );
      const check = () => {
        if (has()) {
          clearTimeout(timer);
          resolve();
        } else if (this.#gone) {
          clearTimeout(timer);
          reject(new Error(`${this.label} exited before ${text}; output: ${this.#all}`));
        } else this.#changed.push(check);
      };
      check();
    });
  }

  /** Writes a line to its stdin (an Erlang shell or a peer reads it). */
  send(line: string): void {
    this.child.stdin!.write(line + "\n");
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

/** A peer node: its process and its full node name. */
export type Peer = LineProcess & { node: string };

/**
 * Starts a wire-only TypeScript peer node (tests/node/fixtures/ts_peer.ts: no process runtime,
 * commands and events as lines) on a private EPMD, and waits for it to be ready.
 */
export async function startWirePeer(
  name: string,
  cookie: string,
  epmdPort: number,
  netTickTime = 60,
): Promise<Peer> {
  const script = new URL("./fixtures/ts_peer.ts", import.meta.url).pathname;
  const [cmd, args] = runtimeCommand(script, [name, cookie, String(epmdPort), String(netTickTime)]);
  const env = { ...process.env, DENO_NO_PACKAGE_JSON: "1" };
  const peer = new LineProcess(spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env }), `ts peer ${name}`);
  const m = await peer.waitLine(/^ready (\S+)/, 30000);
  return Object.assign(peer, { node: m[1] });
}

/**
 * Starts a TypeScript peer node with the process runtime (`_peer.ts`, serving the `peer`
 * GenServer) on the runtime running the test, registered with the default EPMD.
 */
export async function startTsPeer(name: string, cookie: string): Promise<Peer> {
  const [cmd, args] = runtimeCommand(new URL("./_peer.ts", import.meta.url).pathname, [name, cookie]);
  // stdin stays open for the peer's life: it exits when this process goes away.
  const peer = new LineProcess(spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] }), `ts peer ${name}`);
  await peer.waitFor(`ready ${name}@localhost`, 30_000);
  return Object.assign(peer, { node: `${name}@localhost` });
}

/**
 * Starts an Erlang node `name@localhost` with `-hidden` on the default EPMD, evaluating
 * `evalText` (which should print `ready`, the line waited for); its shell reads stdin.
 */
export async function startBeam(name: string, cookie: string, evalText: string, ready: string): Promise<Peer> {
  const child = spawn(
    "erl",
    ["-sname", `${name}@localhost`, "-setcookie", cookie, "-hidden", "-noshell", "-noinput", "-eval", evalText],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const n = new LineProcess(child, `erl ${name}`);
  await n.waitFor(ready, 30_000);
  return Object.assign(n, { node: `${name}@localhost` });
}

let compiled: Promise<string> | undefined;

/**
 * Compiles `fixtures/otp_ts_peer.erl` (the BEAM twin of `_peer.ts`) once per test process into
 * a temporary directory (removed at exit); resolves with the directory for `-pa`.
 */
export function beamPeerCode(): Promise<string> {
  compiled ??= new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "otp_ts_peer_"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    execFile("erlc", ["-o", dir, new URL("./fixtures/otp_ts_peer.erl", import.meta.url).pathname], (error, _o, err) => {
      if (error) reject(new Error(`erlc otp_ts_peer.erl failed: ${err || error.message}`));
      else resolve(dir);
    });
  });
  return compiled;
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
): Promise<Peer> {
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

export { until } from "../_helpers.ts";
