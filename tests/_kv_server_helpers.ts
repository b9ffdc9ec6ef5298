/** The start of a long text, for messages. */
export function short(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} chars)`;
}

/** Helpers shared by the KV server tests: a raw byte client, in-process servers, and `kv serve` child processes. */
import "../mod.ts";
import process from "node:process";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync } from "node:fs";
import * as Supervisor from "../lib/supervisor/supervisor.ts";
import * as KVSupervisor from "../lib/apps/kv/kv_supervisor.ts";
import * as Server from "../lib/apps/kv_server/server.ts";
import { registryStore } from "../lib/apps/kv_server/kv_store.ts";
import type { Pid } from "../lib/process/pid.ts";

/** The repository's root directory, with a trailing slash. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/**
 * The runtime running the tests. Tests that start the CLI spawn this one
 * (`process.execPath`), never another: a fresh clone has no other, and the
 * suite runs under each runtime in turn anyway.
 */
export const RUNTIME: "bun" | "deno" = "Bun" in globalThis ? "bun" : "deno";

/** A node:net client that collects what it receives as a binary string (one char per byte). */
export class Client {
  /** Received and not yet taken by `expect`. */
  received = "";
  /** Bytes received in all. */
  bytes = 0;
  /** Keep received bytes in `received` (off for floods). */
  keepText = true;
  readonly socket: net.Socket;
  /** Resolves when the socket is fully closed. */
  readonly closed: Promise<void>;
  /** The server ended its side. */
  ended = false;
  #waiters: (() => void)[] = [];
  #isClosed = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.bytes += chunk.length;
      if (this.keepText) this.received += chunk.toString("latin1");
      this.#wake();
    });
    socket.on("error", () => {});
    socket.on("end", () => {
      this.ended = true;
      socket.end();
      this.#wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.#isClosed = true;
        this.#wake();
        resolve();
      })
    );
  }

  /** Connects to 127.0.0.1:`port`. */
  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new Client(socket));
      });
    });
  }

  /** Whether the socket closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `condition` holds, re-checked on each arrival; fails if the socket closes first. */
  async until(condition: () => boolean, what: string): Promise<void> {
    while (!condition()) {
      if (this.#isClosed) {
        throw new Error(
          `Connection closed while waiting for ${short(what)}; received ${short(JSON.stringify(this.received))}`,
        );
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends a binary string or bytes. */
  send(data: string | Uint8Array): boolean {
    return this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Resolves once everything written so far was handed to the OS. */
  flushed(): Promise<void> {
    return new Promise<void>((resolve) => this.socket.write("", () => resolve()));
  }

  /** Waits for exactly `expected` (a binary string) after what was already taken. */
  async expect(expected: string): Promise<void> {
    await this.until(() => this.received.length >= expected.length, JSON.stringify(expected));
    const got = this.received.slice(0, expected.length);
    this.received = this.received.slice(expected.length);
    if (got !== expected) {
      let at = 0;
      while (got[at] === expected[at]) at++;
      assert.fail(
        `Replies differ at byte ${at}: got ${short(JSON.stringify(got.slice(at)), 120)}, expected ${
          short(JSON.stringify(expected.slice(at)), 120)
        }`,
      );
    }
  }

  /** Sends `request` and checks the reply. */
  async ask(request: string, reply: string): Promise<void> {
    this.send(request);
    await this.expect(reply);
  }

  /** Waits for one line (up to and including `\n`) and takes it, as `packet: :line` does in the guide. */
  async recvLine(): Promise<string> {
    await this.until(() => this.received.includes("\n"), "a line");
    const end = this.received.indexOf("\n") + 1;
    const line = this.received.slice(0, end);
    this.received = this.received.slice(end);
    return line;
  }

  /** Half-closes (after sending `data`). */
  end(data?: string): void {
    if (data === undefined) this.socket.end();
    else this.socket.end(Buffer.from(data, "latin1"));
  }

  /** Half-closes and waits for the server to close: what it sent after is in `received`. */
  async finish(): Promise<void> {
    this.end();
    await this.closed;
  }
}

let nextTree = 0;

/** An in-process KV server over its own KV tree. */
export interface TestServer {
  /** The server's supervisor. */
  sup: Pid;
  /** The KV tree's supervisor. */
  kv: Pid;
  /** The tree's name prefix. */
  prefix: string;
  /** The bound port. */
  port: number;
  /** What the server reported through `onError`. */
  errors: unknown[];
  /** Stops the server, then the tree. */
  stop(): Promise<void>;
}

/** Starts a KV tree (unique prefix) and a server over it on a free port. */
export async function startServer(options: Server.ServerOptions = {}): Promise<TestServer> {
  const prefix = `test${nextTree++}.`;
  const kv = await KVSupervisor.startLink({ prefix });
  const errors: unknown[] = [];
  const sup = await Server.startLink({
    port: 0,
    store: registryStore(prefix),
    onError: (e) => errors.push(e),
    ...options,
  });
  return {
    sup,
    kv,
    prefix,
    port: Server.address(sup)!.port,
    errors,
    async stop() {
      await Server.stop(sup);
      await Supervisor.stop(kv);
    },
  };
}

/** Signals the tests send. */
export type Signal = "SIGTERM" | "SIGINT" | "SIGKILL";

/** A `kv serve` child process. */
export interface ServeProcess {
  child: ChildProcess;
  /** The `listening on` line. */
  line: string;
  hostname: string;
  port: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit code (or signal name). */
  stop(signal?: Signal): Promise<number | string>;
  /** Resolves with the exit code (or signal name) once it exits. */
  exited: Promise<number | string>;
}

/** The command line that runs `lib/apps/kv_server/cli.ts` on the runtime running the tests. */
export function cliCommand(args: string[]): [string, string[]] {
  return RUNTIME === "bun"
    ? [process.execPath, [`${ROOT}lib/apps/kv_server/cli.ts`, ...args]]
    : [process.execPath, ["run", "-A", `${ROOT}lib/apps/kv_server/cli.ts`, ...args]];
}

/**
 * Spawns `command args` and waits (at most `timeoutMs`) for its `listening on
 * HOST:PORT` line; kills it and fails if it exits or times out first.
 */
export function spawnServe(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ServeProcess> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => err += text);
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"))
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Timed out waiting for "listening on"; stdout "${out}", stderr "${err}"`));
    }, timeoutMs);
    // A missing or unrunnable binary fails at once, with its name, not after the timeout.
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run ${command}: ${error.message}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Exited (${code}) before listening; stdout "${out}", stderr "${err}"`));
    });
    child.stdout!.on("data", (text: string) => {
      out += text;
      const match = /^listening on (\S+):(\d+)\n/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        line: match[0],
        hostname: match[1],
        port: Number(match[2]),
        stdout: () => out,
        stderr: () => err,
        exited,
        stop(signal: Signal = "SIGTERM") {
          // `process.kill`, not `child.kill`: Deno's `child.kill` reports the signal as the exit cause even
          // when the child handled it and exited 0.
          if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
          return exited;
        },
      });
    });
  });
}

/** Runs a command to completion; resolves with its exit code and output. */
export function runCommand(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (t: string) => stdout += t);
    child.stderr!.on("data", (t: string) => stderr += t);
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code: code ?? signal ?? "unknown", stdout, stderr }));
  });
}

/** Polls a condition on each macrotask turn: for state with no event to wait on. */
export async function waitFor(condition: () => boolean, what: string, turns = 200_000): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i >= turns) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The command line that runs `kv` (`lib/apps/kv_server/cli.ts`) on the runtime running the tests. */
export function kvCommand(args: string[]): [string, string[]] {
  const cli = `${ROOT}lib/apps/kv_server/cli.ts`;
  return [process.execPath, isDeno() ? ["run", "-A", cli, ...args] : [cli, ...args]];
}

function isDeno(): boolean {
  return "Deno" in globalThis;
}

/** A `kv serve` child whose output can be waited on, line by line. */
export interface WatchedServe {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `re` (rejects if the process exits first). */
  waitStdout(re: RegExp): Promise<RegExpExecArray>;
  /** Resolves once stderr matches `re` (rejects if the process exits first). */
  waitStderr(re: RegExp): Promise<RegExpExecArray>;
  /** Sends a signal (if it still runs). */
  signal(signal: Signal): void;
}

/** Spawns `kv args` on this runtime; `waitStdout(/^listening on/m)` waits for it to serve. */
export function watchServe(args: string[], env: Record<string, string> = {}): WatchedServe {
  const [command, argv] = kvCommand(args);
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, DENO_NO_PACKAGE_JSON: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let done = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (t: string) => (out += t, wake()));
  child.stderr!.on("data", (t: string) => (err += t, wake()));
  // `close` comes after the pipes delivered all output.
  const exited = new Promise<number | string>((resolve) =>
    child.once("close", (code, signal) => {
      done = true;
      wake();
      resolve(code ?? signal ?? "unknown");
    })
  );
  const wait = (text: () => string, re: RegExp, what: string) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(text());
        if (m !== null) {
          waiters.delete(check);
          resolve(m);
        } else if (done) {
          waiters.delete(check);
          reject(
            new Error(
              `exited before ${what} matched ${re}; stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`,
            ),
          );
        }
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    waitStdout: (re) => wait(() => out, re, "stdout"),
    waitStderr: (re) => wait(() => err, re, "stderr"),
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    },
  };
}

/** The resident set size of process `pid` in bytes (Linux `/proc`), or `undefined` elsewhere. */
export function rssOf(pid: number): number | undefined {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return undefined;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(path, "utf8"));
  return match ? Number(match[1]) * 1024 : undefined;
}
