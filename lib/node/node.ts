/**
 * Distribution: this runtime as a node of an Erlang cluster, speaking Erlang's own protocol
 * (EPMD, the version 6 handshake, the external term format) as a **hidden node**, so it talks to
 * other TypeScript nodes and to real Erlang and Elixir nodes (OTP 25+).
 *
 * - `start(name, { cookie })` listens on 127.0.0.1 (any port), registers `name` with the local
 *   EPMD (started with `epmd -daemon` when none answers, as `erl` does), and makes this runtime
 *   the node `name@localhost` (or `name@host` when given). The cookie comes from the option, else
 *   `$KV_COOKIE`, else `~/.erlang.cookie`; it is never printed.
 * - Connections are made lazily on first use, or by `connect`. Ticks every `netTickTime / 4`
 *   seconds; a peer silent for `netTickTime` (default 60) is dropped. TCP_NODELAY throughout.
 *   Simultaneous connects are arbitrated as OTP's `net_kernel` does (the greater name's wins).
 * - Hidden: no `global` or `pg`, no transitive connections, listed by `nodes(hidden)` on a BEAM.
 *   No remote code execution: no spawn requests, no `rpc` (`rpc:call` to this node returns
 *   `{badrpc, notsup}`).
 * - `monitor(node)` and `monitorNodes()` deliver `["nodeup", node]` / `["nodedown", node]` to
 *   the calling process.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * console.assert(Node.self() === "nonode@nohost" && !Node.isAlive() && Node.list().length === 0);
 * ```
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as Process from "../process/process.ts";
import type { Pid } from "../process/pid.ts";
import { defaultEpmdPort } from "./_epmd.ts";
import * as Wire from "./_wire.ts";

/** Options of {@linkcode start}. */
export interface StartOptions {
  /** The shared secret; default `$KV_COOKIE`, then the contents of `~/.erlang.cookie`. */
  cookie?: string;
  /** Address the distribution listener binds; default `127.0.0.1` (loopback only). */
  listenHost?: string;
  /** Listener port; default 0 (any free port, published through EPMD). */
  port?: number;
  /** EPMD's port; default `$ERL_EPMD_PORT` or 4369. */
  epmdPort?: number;
  /** Start `epmd -daemon` when none answers (default true, as `erl`). */
  startEpmd?: boolean;
  /** Seconds of silence after which a peer is considered down (default 60, as `net_ticktime`). */
  netTickTime?: number;
  /** Milliseconds a connection setup may take (default 7000, as `net_setuptime`). */
  setupTime?: number;
}

const ALIVE_NAME = /^[A-Za-z0-9_-]+$/;

function resolveCookie(option: string | undefined): string {
  if (option !== undefined) return option;
  const env = process.env.KV_COOKIE;
  if (env !== undefined && env !== "") return env;
  const file = join(process.env.HOME || homedir(), ".erlang.cookie"); // $HOME first, as erl
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`Node.start: no cookie: pass { cookie }, set $KV_COOKIE, or create ${file}`);
  }
  const cookie = text.trim();
  if (cookie === "") throw new Error(`Node.start: ${file} is empty`);
  return cookie;
}

/**
 * Makes this runtime a distributed node named `name` (`"foo"` is `foo@localhost`); resolves to
 * the full node name. Throws (and starts nothing) on a bad name, a missing cookie, a name EPMD
 * already has, or no EPMD.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * try {
 *   await Node.start("bad name!", { cookie: "secret" });
 * } catch (e) {
 *   console.assert(String(e).includes("bad node name"));
 * }
 * console.assert(!Node.isAlive());
 * ```
 */
export async function start(name: string, opts: StartOptions = {}): Promise<string> {
  const at = name.indexOf("@");
  const alive = at < 0 ? name : name.slice(0, at);
  const host = at < 0 ? "localhost" : name.slice(at + 1);
  if (!ALIVE_NAME.test(alive) || !/^[A-Za-z0-9_.-]+$/.test(host)) {
    throw new TypeError(
      `Node.start: bad node name ${JSON.stringify(name)} (want name or name@host, name in [A-Za-z0-9_-])`,
    );
  }
  const cookie = resolveCookie(opts.cookie);
  if (cookie === "" || /\s/.test(cookie)) {
    throw new TypeError("Node.start: the cookie must be non-empty with no whitespace");
  }
  const netTickTime = opts.netTickTime ?? 60;
  if (!(netTickTime > 0)) throw new RangeError(`Node.start: netTickTime must be positive, got ${netTickTime}`);
  const full = `${alive}@${host}`;
  await Wire.startLocal(full, {
    cookie,
    listenHost: opts.listenHost ?? "127.0.0.1",
    port: opts.port ?? 0,
    epmdPort: opts.epmdPort ?? defaultEpmdPort(),
    startEpmd: opts.startEpmd ?? true,
    netTickTimeMs: netTickTime * 1000,
    setupTimeMs: opts.setupTime ?? 7000,
  });
  return full;
}

/**
 * Stops distribution: every connection goes down (`nodedown`, links and monitors get
 * `noconnection`), the name leaves EPMD. No-op when not started.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * await Node.stop();
 * console.assert(!Node.isAlive());
 * ```
 */
export async function stop(): Promise<void> {
  await Wire.stopLocal();
}

/**
 * This node's name (`node()`), `nonode@nohost` when not started.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * console.assert(Node.self() === "nonode@nohost");
 * ```
 */
export function self(): string {
  return Wire.selfNode();
}

/**
 * True when distribution is started (`is_alive()`).
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * console.assert(Node.isAlive() === false);
 * ```
 */
export function isAlive(): boolean {
  return Wire.isAlive();
}

/**
 * The nodes connected now, visible or hidden (`nodes(connected)`).
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * console.assert(Array.isArray(Node.list()));
 * ```
 */
export function list(): string[] {
  return Wire.connectedNodes();
}

/**
 * Connects to `node` (`net_kernel:connect_node/1`): true once connected, false when the node
 * is unknown, unreachable, refuses (e.g. wrong cookie) or this node is not started.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * console.assert(await Node.connect("nobody@localhost") === false); // not started
 * ```
 */
export function connect(node: string): Promise<boolean> {
  return Wire.connectNode(node);
}

/**
 * Drops the connection to `node` (`erlang:disconnect_node/1`); false when there was none.
 *
 * @example
 * ```ts
 * import { Node } from "../../mod.ts";
 * console.assert(Node.disconnect("nobody@localhost") === false);
 * ```
 */
export function disconnect(node: string): boolean {
  return Wire.disconnectNode(node);
}

// pid -> node -> how many monitor_node monitors it holds
const nodeMonitors = new Map<Pid, Map<string, number>>();
const allNodesMonitors = new Set<Pid>();

function deliver(pid: Pid, msg: [string, string]): boolean {
  if (!Process.isAlive(pid)) return false;
  Process.send(pid, msg);
  return true;
}

Wire.onNodeUp((node) => {
  for (const pid of [...allNodesMonitors]) if (!deliver(pid, ["nodeup", node])) allNodesMonitors.delete(pid);
});

Wire.onNodeDownRaw((node, _reason, wasUp) => {
  for (const [pid, nodes] of [...nodeMonitors]) {
    const n = nodes.get(node);
    if (n === undefined) continue;
    nodes.delete(node);
    if (nodes.size === 0) nodeMonitors.delete(pid);
    for (let i = 0; i < n; i++) deliver(pid, ["nodedown", node]);
  }
  if (!wasUp) return;
  for (const pid of [...allNodesMonitors]) if (!deliver(pid, ["nodedown", node])) allNodesMonitors.delete(pid);
});

/**
 * From inside a process: monitors `node` (`monitor_node(Node, true)`): the caller gets
 * `["nodedown", node]` once when the connection goes down, or at once when it cannot be made
 * (a connection is attempted when there is none). `flag` false removes one such monitor.
 *
 * @example
 * ```ts
 * import { Node, Process } from "../../mod.ts";
 * const msg = await Process.run(async () => {
 *   Node.monitor("nobody@localhost"); // not started: nodedown at once
 *   return await Process.receive();
 * });
 * console.assert(msg[0] === "nodedown" && msg[1] === "nobody@localhost");
 * ```
 */
export function monitor(node: string, flag = true): boolean {
  const pid = Process.self();
  if (!/^[^@\s]+@[^@\s]+$/.test(node)) throw new TypeError(`Node.monitor: bad node name ${JSON.stringify(node)}`);
  if (!flag) {
    const nodes = nodeMonitors.get(pid);
    const n = nodes?.get(node);
    if (nodes !== undefined && n !== undefined) {
      if (n > 1) nodes.set(node, n - 1);
      else nodes.delete(node);
      if (nodes.size === 0) nodeMonitors.delete(pid);
    }
    return true;
  }
  if (!Wire.isAlive() || node === Wire.selfNode()) {
    if (node !== Wire.selfNode()) Process.send(pid, ["nodedown", node]);
    return true;
  }
  let nodes = nodeMonitors.get(pid);
  if (nodes === undefined) nodeMonitors.set(pid, nodes = new Map());
  nodes.set(node, (nodes.get(node) ?? 0) + 1);
  if (!Wire.connectedNodes().includes(node)) void Wire.connectNode(node);
  return true;
}

/**
 * From inside a process: subscribes it (`flag` true) to `["nodeup", node]` and
 * `["nodedown", node]` for every node (`net_kernel:monitor_nodes/1`), or unsubscribes it.
 *
 * @example
 * ```ts
 * import { Node, Process } from "../../mod.ts";
 * await Process.run(() => {
 *   Node.monitorNodes(true);
 *   Node.monitorNodes(false);
 * });
 * ```
 */
export function monitorNodes(flag = true): boolean {
  const pid = Process.self();
  if (flag) allNodesMonitors.add(pid);
  else allNodesMonitors.delete(pid);
  return true;
}
