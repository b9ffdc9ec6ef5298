/**
 * Child processes for the distribution tests: TypeScript peer nodes
 * (`_peer.ts`) and BEAM nodes (`erl`), each started with a unique name and
 * stopped (or killed) by the test that started it.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const ROOT = new URL("../../", import.meta.url).pathname;
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** A unique short node name for this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}${process.pid}x${Math.floor(Math.random() * 1e6)}`;
}

/** A child node. */
export interface ChildNode {
  child: ChildProcess;
  /** Its full node name. */
  node: string;
  /** Everything it wrote so far. */
  output(): string;
  /** Waits until its output contains `text` (or fails after `ms`). */
  waitFor(text: string | RegExp, ms?: number): Promise<void>;
  /** Writes a line to its stdin (an Erlang shell reads it). */
  send(line: string): void;
  /** Kills it with `signal` (default SIGKILL); resolves when it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function wrap(child: ChildProcess, node: string): ChildNode {
  let out = "";
  const waiters: Array<() => void> = [];
  const onData = (t: string) => {
    out += t;
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    node,
    output: () => out,
    waitFor(text, ms = 20_000) {
      const has = () => typeof text === "string" ? out.includes(text) : text.test(out);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${node}: no ${text} in time; output: ${out}`)), ms);
        const check = () => {
          if (has()) {
            clearTimeout(timer);
            resolve();
          } else if (gone) {
            clearTimeout(timer);
            reject(new Error(`${node} exited before ${text}; output: ${out}`));
          } else waiters.push(check);
        };
        check();
      });
    },
    send(line) {
      child.stdin!.write(line + "\n");
    },
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts a TypeScript peer node (`_peer.ts`) on the runtime running the test. */
export async function startTsPeer(name: string, cookie: string): Promise<ChildNode> {
  const script = `${ROOT}tests/node/_peer.ts`;
  const args = isDeno ? ["run", "-A", script, name, cookie] : [script, name, cookie];
  // stdin stays open for the peer's life: it exits when this process goes away.
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  const n = wrap(child, `${name}@localhost`);
  await n.waitFor(`ready ${name}@localhost`);
  return n;
}

/**
 * Starts an Erlang node `name@localhost` with `-hidden`, evaluating `eval`
 * (which should print a line the caller waits for); its shell reads stdin.
 */
export async function startBeam(name: string, cookie: string, evalText: string, ready: string): Promise<ChildNode> {
  const child = spawn(
    "erl",
    ["-sname", `${name}@localhost`, "-setcookie", cookie, "-hidden", "-noshell", "-noinput", "-eval", evalText],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  const n = wrap(child, `${name}@localhost`);
  await n.waitFor(ready);
  return n;
}

let compiled: Promise<string> | undefined;

/**
 * Compiles `fixtures/otp_ts_peer.erl` once per test process into a temporary
 * directory (removed at exit); resolves with the directory for `-pa`.
 */
export function beamPeerCode(): Promise<string> {
  compiled ??= new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "otp_ts_peer_"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    execFile("erlc", ["-o", dir, `${ROOT}tests/node/fixtures/otp_ts_peer.erl`], (error, _out, err) => {
      if (error) reject(new Error(`erlc otp_ts_peer.erl failed: ${err || error.message}`));
      else resolve(dir);
    });
  });
  return compiled;
}
