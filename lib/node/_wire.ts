/**
 * The seam between the distribution wire (lib/node: EPMD, handshake, framing, ticks) and the
 * process runtime that routes remote sends, links and monitors. Internal: the public API is
 * `Node` (node.ts) and `Term` (term.ts).
 *
 * Shape (stable; the runtime side relies on it):
 *
 * ```text
 * setControlHandler(fn: ((fromNode: string, control: Term, payload: Term | undefined) => void) | null): ControlHandler | null  // returns the previous one
 * sendControl(node: string, control: Term, payload?: Term, lazy?: boolean): boolean   // lazy: may wait for the next message or the end of the turn
 * onNodeDown(fn: (node: string, reason: string) => void): () => void      // returns unsubscribe
 * onNodeUp(fn: (node: string) => void): () => void                        // returns unsubscribe
 * selfNode(): string          // "nonode@nohost" when not alive (as node/0)
 * creation(): number          // 0 when not alive; put it in every local pid/ref sent out
 * isAlive(): boolean
 * connectedNodes(): string[]
 * connectNode(node: string): Promise<boolean>
 * disconnectNode(node: string): boolean
 * ```
 *
 * - `control` and `payload` are terms of `term.ts` (atoms are `Symbol.for`, tuples arrays, pids
 *   `ErlPid` with `node` a string when decoded). The control tuple is exactly Erlang's:
 *   `[2, Symbol.for(""), toPid]` (SEND), `[6, fromPid, Symbol.for(""), toName]` (REG_SEND),
 *   `[1, from, to]` (LINK), `[3, from, to, reason]` (EXIT), `[8, from, to, reason]` (EXIT2),
 *   `[19, from, toPidOrName, ref]` (MONITOR_P), `[20, ...]` (DEMONITOR_P),
 *   `[21, fromPidOrName, to, ref, reason]` (MONITOR_P_EXIT), `[35, id, from, to]` (UNLINK_ID),
 *   `[36, id, from, to]` (UNLINK_ID_ACK). UNLINK_ID is negotiated (OTP 26 requires it), so
 *   unlinking must use 35/36, never the old UNLINK (4).
 * - `sendControl` connects lazily (EPMD lookup, handshake) and queues while connecting, in order;
 *   it returns false only when it cannot even try: this node is not alive, the name is not
 *   `name@host`, or it is this node. When the attempt then fails (unknown to EPMD, refused, wrong
 *   cookie, setup timeout), the queue is dropped and `onNodeDown` fires with the reason, so
 *   links and monitors sent meanwhile can be failed with `noconnection`.
 * - `onNodeDown` fires once per lost connection (reason: `connection_closed`,
 *   `net_tick_timeout`, `disconnect`, `shutdown`, ...) and once per failed attempt.
 * - Handlers run synchronously in the socket's data callback, messages of one connection in
 *   order. A throwing handler is logged on one line and the connection carries on.
 * - Built in, before the handler: `net_kernel` on this node answers `{is_auth, Node}` calls with
 *   `yes` (so `net_adm:ping/1` from a BEAM gets `pong`) and accepts monitors. With no handler
 *   set, LINK is answered by EXIT `noproc`, MONITOR_P by MONITOR_P_EXIT `noproc`, the rest dropped.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.selfNode() === "nonode@nohost" && !Wire.sendControl("a@localhost", [2, Symbol.for(""), 1]));
 * ```
 *
 * @module
 */
import type { Term } from "./term.ts";
import { type DistOptions, LocalNode } from "./_dist.ts";

/** Receives every control message that is not handled by the wire itself. */
export type ControlHandler = (fromNode: string, control: Term, payload: Term | undefined) => void;

let local: LocalNode | null = null;
let handler: ControlHandler | null = null;
const downHandlers = new Set<(node: string, reason: string) => void>();
const upHandlers = new Set<(node: string) => void>();
/** For node.ts: down events with whether the connection had been up. */
const rawDownHandlers = new Set<(node: string, reason: string, wasUp: boolean) => void>();

const EMPTY_ATOM = Symbol.for("");
const NET_KERNEL = Symbol.for("net_kernel");
const GEN_CALL = Symbol.for("$gen_call");
const IS_AUTH = Symbol.for("is_auth");
const NOPROC = Symbol.for("noproc");

/** Answers what the wire answers itself; true when the message is consumed. */
function builtin(from: string, control: Term, payload: Term | undefined): boolean {
  if (!Array.isArray(control)) return false;
  const op = control[0];
  if (op === 6 && control[3] === NET_KERNEL) {
    if (
      Array.isArray(payload) && payload[0] === GEN_CALL && Array.isArray(payload[1]) && payload[1].length === 2 &&
      Array.isArray(payload[2]) && payload[2][0] === IS_AUTH
    ) {
      const [caller, tag] = payload[1];
      sendControl(from, [2, EMPTY_ATOM, caller], [tag, Symbol.for("yes")]);
    }
    return true;
  }
  if ((op === 19 || op === 20) && control[2] === NET_KERNEL) return true;
  if (handler === null) {
    if (op === 1) sendControl(from, [3, control[2], control[1], NOPROC]);
    else if (op === 19) sendControl(from, [21, control[2], control[1], control[3], NOPROC]);
    return true;
  }
  return false;
}

const events = {
  message(from: string, control: Term, payload: Term | undefined): void {
    if (builtin(from, control, payload)) return;
    handler!(from, control, payload);
  },
  nodeUp(node: string): void {
    for (const fn of upHandlers) fn(node);
  },
  nodeDown(node: string, reason: string, wasUp: boolean): void {
    for (const fn of downHandlers) fn(node, reason);
    for (const fn of rawDownHandlers) fn(node, reason, wasUp);
  },
};

/**
 * Sets the function that receives control messages from other nodes (null: none); returns the
 * previous one, so a test can put it back.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * const previous = Wire.setControlHandler((from, control) => console.log(from, control));
 * Wire.setControlHandler(previous); // put back the runtime's (lib/node/_remote.ts)
 * ```
 */
export function setControlHandler(fn: ControlHandler | null): ControlHandler | null {
  const previous = handler;
  handler = fn;
  return previous;
}

/**
 * Sends a control message (and its payload, for sends and exits with payload) to `node`,
 * connecting first if needed. False when it cannot even be attempted. A `lazy` message may wait
 * for the next one to that node or the end of this turn's I/O (for a demonitor nobody waits on).
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.sendControl("x@localhost", [1, 2, 3]) === false); // not alive
 * ```
 */
export function sendControl(node: string, control: Term, payload?: Term, lazy = false): boolean {
  return local !== null && local.send(node, control, payload, lazy);
}

/**
 * Calls `fn(node, reason)` when a connection goes down or an attempt fails; returns the
 * function that stops it.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * const off = Wire.onNodeDown((node, reason) => console.log(node, reason));
 * off();
 * ```
 */
export function onNodeDown(fn: (node: string, reason: string) => void): () => void {
  downHandlers.add(fn);
  return () => downHandlers.delete(fn);
}

/**
 * Calls `fn(node)` when a connection comes up; returns the function that stops it.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * const off = Wire.onNodeUp((node) => console.log("up", node));
 * off();
 * ```
 */
export function onNodeUp(fn: (node: string) => void): () => void {
  upHandlers.add(fn);
  return () => upHandlers.delete(fn);
}

/** @ignore For node.ts: down events that also say whether the connection had been up. */
export function onNodeDownRaw(fn: (node: string, reason: string, wasUp: boolean) => void): () => void {
  rawDownHandlers.add(fn);
  return () => rawDownHandlers.delete(fn);
}

/**
 * This node's name, `nonode@nohost` when distribution is not started.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.selfNode() === "nonode@nohost");
 * ```
 */
export function selfNode(): string {
  return local?.name ?? "nonode@nohost";
}

/**
 * The creation EPMD gave this incarnation (0 when not alive): part of every pid, ref and port
 * this node sends.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.creation() === 0);
 * ```
 */
export function creation(): number {
  return local?.creation ?? 0;
}

/**
 * True when distribution is started.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.isAlive() === false);
 * ```
 */
export function isAlive(): boolean {
  return local !== null;
}

/**
 * The nodes connected now.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.connectedNodes().length === 0);
 * ```
 */
export function connectedNodes(): string[] {
  return local?.connected() ?? [];
}

/**
 * Connects to `node` (no-op when up); resolves true once up, false when it cannot.
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(await Wire.connectNode("x@localhost") === false); // not alive
 * ```
 */
export function connectNode(node: string): Promise<boolean> {
  return local === null ? Promise.resolve(false) : local.connect(node);
}

/**
 * Drops the connection to `node` (its links and monitors get `noconnection`).
 *
 * @example
 * ```ts
 * import * as Wire from "./_wire.ts";
 * console.assert(Wire.disconnectNode("x@localhost") === false);
 * ```
 */
export function disconnectNode(node: string): boolean {
  return local !== null && local.disconnect(node);
}

/** @ignore Starts distribution (node.ts validates and resolves the options). */
export async function startLocal(name: string, opts: DistOptions): Promise<LocalNode> {
  if (local !== null) throw new Error(`distribution is already started as ${local.name}`);
  const node = await LocalNode.start(name, opts, events);
  if (local !== null) {
    await node.stop();
    throw new Error(`distribution is already started as ${selfNode()}`);
  }
  local = node;
  return node;
}

/** @ignore Stops distribution: every connection goes down with reason `shutdown`. */
export async function stopLocal(): Promise<void> {
  const node = local;
  if (node === null) return;
  await node.stop();
  local = null;
}

/** @ignore The running node (tests use its port). */
export function localNode(): LocalNode | null {
  return local;
}
