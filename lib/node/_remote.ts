/**
 * The process runtime across nodes: what `Process.send`, `link`, `unlink`,
 * `monitor`, `demonitor`, `exit` and `GenServer.call`/`cast` do when the pid
 * or name belongs to another node, and what the control messages a peer sends
 * do here. It plugs into the runtime's own machinery (`setRemoteHooks`, the
 * monitor list of a process, its exit hooks): no proxy process per link or
 * monitor, and local paths never reach this file.
 *
 * Wire side (`_wire.ts`, the distcodec layer): terms go out and come in as the
 * codec's values; here they are turned into runtime values and back:
 *
 * | runtime | wire |
 * |---|---|
 * | local `Pid` | a pid of this node (number split 15/13 bits into id/serial) |
 * | {@linkcode RemotePid} | the pid it stands for |
 * | `Ref` | a 3-word ref of this node |
 * | exit reason `"normal"` (any string) | the atom `normal` |
 * | `["shutdown", x]` (array with a string head) | `{shutdown, X}` |
 * | `["error", Error]` | `{error, <<"Name: message">>}` |
 * | `DownMessage` / `ExitMessage` | `{'DOWN', Ref, process, Pid, Reason}` / `{'EXIT', Pid, Reason}` |
 *
 * Incoming reasons go the other way (an atom becomes its name, a tuple with
 * an atom head an array with a string head), so `"normal"`, `"kill"`,
 * `"noproc"` and `"noconnection"` mean here what they mean on the BEAM.
 *
 * The GenServer protocol: an incoming `{'$gen_call', {Pid, Tag}, Req}` to a
 * local GenServer reaches its `handleCall`, and the reply goes back as
 * `{Tag, Reply}` to `Pid`; `{'$gen_cast', Req}` reaches `handleCast`. An
 * outgoing call monitors the target (`MONITOR_P`, by name when called by
 * name), sends `{'$gen_call', {Self, Tag}, Req}` with a tag marked as ours,
 * matches the reply by the tag's value, demonitors, and drops late replies.
 * `net_adm:ping` (a call to `net_kernel` with `{is_auth, Node}`) answers
 * `yes`. Nothing here runs code a peer sends: no spawn, no rpc.
 *
 * @module
 */
import { makeRef, nextRefId, Pid, Ref } from "../process/pid.ts";
import {
  addMonitor,
  currentProc,
  DEAD,
  deliver,
  type DownTarget,
  dropMonitor,
  exitSignal,
  nameOf,
  names,
  type Proc,
  runAfter,
  setRemoteHooks,
} from "../process/_runtime.ts";
import { start as startTimer, Timer } from "../process/_timers.ts";
import { DownMessage, ExitMessage } from "../process/messages.ts";
import { ROOT } from "../process/_spawn.ts";
import { callWith, cast as genCast } from "../gen_server.ts";
import { GenServerProcess } from "../_gen_server.ts";
import { ErlPid, ErlRef, List, NIL, type Term } from "./term.ts";
import * as wire from "./_wire.ts";
import { RemotePid } from "./remote_pid.ts";

// ---------------------------------------------------------------- control message tags (dist.h)
const LINK = 1, SEND = 2, EXIT = 3, UNLINK = 4, REG_SEND = 6, EXIT2 = 8;
const SEND_TT = 12, EXIT_TT = 13, REG_SEND_TT = 16, EXIT2_TT = 18;
const MONITOR_P = 19, DEMONITOR_P = 20, MONITOR_P_EXIT = 21, SEND_SENDER = 22, SEND_SENDER_TT = 23;
const PAYLOAD_EXIT = 24, PAYLOAD_EXIT_TT = 25, PAYLOAD_EXIT2 = 26, PAYLOAD_EXIT2_TT = 27, PAYLOAD_MONITOR_P_EXIT = 28;
const UNLINK_ID = 35, UNLINK_ID_ACK = 36;

const atom = (name: string): symbol => Symbol.for(name);
const EMPTY = atom("");
const GEN_CALL = atom("$gen_call");
const GEN_CAST = atom("$gen_cast");
const IS_AUTH = atom("is_auth");
const YES = atom("yes");
const DOWN = atom("DOWN");
const EXIT_ATOM = atom("EXIT");
const PROCESS = atom("process");
const NOPROC = atom("noproc");
/** Third word of the refs that tag our outgoing calls: a reply carrying one is ours to match. */
const CALL_MARK = 0x6f7470;

/** The name a node field holds (the codec may give an atom or a string). */
function nodeName(node: unknown): string {
  return typeof node === "symbol" ? (Symbol.keyFor(node) ?? node.description ?? "") : String(node);
}

/** How this layer reaches the wire; a test swaps it for a scripted peer ({@linkcode _scriptedPeer}). */
const io = {
  send: wire.sendControl as (node: string, control: unknown, payload?: unknown, lazy?: boolean) => boolean,
  self: wire.selfNode as () => string,
  creation: wire.creation as () => number,
};

function selfNode(): string {
  return io.self();
}

// ---------------------------------------------------------------- pids and refs across the wire

/** Local pids that went out on the wire, by number, so incoming pids find the same object. */
const exported = new Map<number, Pid>();
let pruneAt = 1024;

function localPidToWire(pid: Pid): ErlPid {
  const n = pid.id;
  if (n !== 0 && exported.get(n) !== pid) {
    exported.set(n, pid);
    if (exported.size > pruneAt) {
      for (const [k, p] of exported) if (p._proc === null) exported.delete(k);
      pruneAt = Math.max(1024, exported.size * 2);
    }
  }
  return new ErlPid(selfNode() as never, n & 0x7fff, Math.floor(n / 0x8000), io.creation());
}

function pidToWire(pid: Pid): ErlPid {
  if (pid instanceof RemotePid) return new ErlPid(pid.node as never, pid.id, pid.serial, pid.creation);
  return localPidToWire(pid);
}

function pidFromWire(e: ErlPid): Pid {
  const node = nodeName(e.node);
  if (node !== selfNode()) return RemotePid.of(node, e.id, e.serial, e.creation);
  const n = e.id + e.serial * 0x8000;
  // A pid of an earlier incarnation of this node names no live process.
  if (e.creation !== io.creation()) return new Pid(n, null);
  if (n === 0) return ROOT;
  return exported.get(n) ?? new Pid(n, null);
}

function refToWire(ref: Ref, mark = 0): ErlRef {
  return new ErlRef(selfNode() as never, io.creation(), [ref.id % 0x40000, Math.floor(ref.id / 0x40000), mark]);
}

/** The number of a ref of ours, or -1 (another node's, or an earlier incarnation's). */
function ourRefId(r: unknown, mark: number): number {
  if (!(r instanceof ErlRef) || nodeName(r.node) !== selfNode() || r.creation !== io.creation()) return -1;
  const ids = r.ids;
  if (ids.length !== 3 || ids[2] !== mark) return -1;
  return ids[0] + ids[1] * 0x40000;
}

/**
 * A runtime value as the codec takes it: pids and refs become wire pids and
 * refs, runtime messages their Erlang tuples. Copies only what changes.
 * Throws `TypeError` for a function (no code crosses nodes).
 */
export function toTerm(v: unknown): unknown {
  if (typeof v !== "object" || v === null) {
    if (typeof v === "function") {
      throw new TypeError("Cannot send a function to another node (only data crosses nodes)");
    }
    return v;
  }
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = v[i], y = toTerm(x);
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  if (v instanceof Pid) return pidToWire(v);
  if (v instanceof Ref) return refToWire(v);
  if (v instanceof List) {
    if (v === NIL) return v;
    const items = toTerm(v.items) as unknown[], tail = v.tail === NIL ? NIL : toTerm(v.tail);
    return items === v.items && tail === v.tail ? v : new List(items as Term[], tail as Term);
  }
  if (v instanceof Map) {
    let changed = false;
    const out = new Map();
    for (const [k, x] of v) {
      const k2 = toTerm(k), x2 = toTerm(x);
      if (k2 !== k || x2 !== x) changed = true;
      out.set(k2, x2);
    }
    return changed ? out : v;
  }
  if (v instanceof DownMessage) {
    return [DOWN, toTerm(v.ref), PROCESS, toTerm(v.pid), reasonToTerm(v.reason)];
  }
  if (v instanceof ExitMessage) return [EXIT_ATOM, toTerm(v.from), reasonToTerm(v.reason)];
  return v;
}

/** A decoded term as runtime values, in place: wire pids become `Pid`s (the same object each time). */
export function fromTerm(v: unknown): unknown {
  if (typeof v !== "object" || v === null || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "object" && x !== null) v[i] = fromTerm(x);
    }
    return v;
  }
  if (v instanceof ErlPid) return pidFromWire(v);
  if (v instanceof List) {
    if (v === NIL) return v;
    fromTerm(v.items);
    const tail = v.tail === NIL ? NIL : fromTerm(v.tail);
    return tail === v.tail ? v : new List(v.items, tail as Term);
  }
  if (v instanceof Map) {
    let pidKeys = false;
    for (const [k, x] of v) {
      if (typeof k === "object" && k !== null) pidKeys = true;
      else if (typeof x === "object" && x !== null) v.set(k, fromTerm(x));
    }
    if (!pidKeys) return v;
    const out = new Map();
    for (const [k, x] of v) out.set(fromTerm(k), fromTerm(x));
    return out;
  }
  return v;
}

/** A term that must go out whatever it holds (a reason): functions become their text. */
function safeTerm(v: unknown): unknown {
  try {
    return toTerm(v);
  } catch {
    return String(v);
  }
}

/**
 * An exit reason as the BEAM writes it: a string is an atom (`"normal"` is
 * `normal`), an array with a string head a tuple with an atom head
 * (`["shutdown", x]` is `{shutdown, X}`), and a thrown `Error` its text.
 *
 * @example
 * ```ts
 * import { reasonToTerm } from "./_remote.ts";
 * console.assert(reasonToTerm("normal") === Symbol.for("normal"));
 * const r = reasonToTerm(["shutdown", 1]) as unknown[];
 * console.assert(r[0] === Symbol.for("shutdown") && r[1] === 1);
 * ```
 */
export function reasonToTerm(r: unknown): unknown {
  if (typeof r === "string") return atom(r);
  if (Array.isArray(r) && r.length > 0 && typeof r[0] === "string") {
    const out = r.map(safeTerm);
    out[0] = atom(r[0]);
    if (r[0] === "error" && r[1] instanceof Error) out[1] = `${r[1].name}: ${r[1].message}`;
    return out;
  }
  if (r instanceof Error) return `${r.name}: ${r.message}`;
  return safeTerm(r);
}

/**
 * An exit reason from the BEAM as the runtime writes it: an atom is its
 * name (`noproc` is `"noproc"`), a tuple with an atom head an array with a
 * string head (`{shutdown, X}` is `["shutdown", X]`).
 *
 * @example
 * ```ts
 * import { reasonFromTerm } from "./_remote.ts";
 * console.assert(reasonFromTerm(Symbol.for("noconnection")) === "noconnection");
 * const r = reasonFromTerm([Symbol.for("shutdown"), 1]) as unknown[];
 * console.assert(r[0] === "shutdown" && r[1] === 1);
 * ```
 */
export function reasonFromTerm(t: unknown): unknown {
  if (typeof t === "symbol") return nodeName(t);
  if (Array.isArray(t) && t.length > 0 && typeof t[0] === "symbol") {
    const out = t.slice();
    out[0] = nodeName(t[0]);
    return out;
  }
  return t;
}

// ---------------------------------------------------------------- state

/** An outgoing `GenServer.call`: its ref tags the call and names its monitor of the target. */
class RemoteCall extends Timer {
  constructor(
    readonly id: number,
    readonly node: string,
    readonly fromW: ErlPid,
    readonly targetW: unknown,
    readonly tag: ErlRef,
    readonly onReply: (reply: unknown) => void,
    readonly onError: (reason: unknown) => void,
  ) {
    super();
  }
  override fire(): void {
    if (outgoing.get(this.id) !== this) return;
    outgoing.delete(this.id);
    io.send(this.node, [DEMONITOR_P, this.fromW, this.targetW, this.tag]);
    this.onError("timeout");
  }
  fail(reason: unknown): void {
    outgoing.delete(this.id);
    this.cancel();
    // As gen:call: a lost (or impossible) connection fails the call with {nodedown, Node}.
    this.onError(reason === "noconnection" ? ["nodedown", this.node] : reason);
  }
}

/** A local process's monitor of another node's process. */
class OutMonitor {
  constructor(
    readonly ref: Ref,
    readonly watcher: Proc,
    readonly node: string,
    /** What the DOWN names: the pid, or `[name, node]`. */
    readonly target: unknown,
    readonly targetW: unknown,
  ) {}
}

/** Outgoing calls and monitors by ref number (one ref tags a call and its monitor). */
const outgoing = new Map<number, RemoteCall | OutMonitor>();

/** A peer's monitor of a local process: plugged into the process's own monitor list. */
class InMonitor implements DownTarget {
  id = 0;
  target: Proc | null = null;
  constructor(
    readonly node: string,
    readonly watcherW: ErlPid,
    /** The target as the peer named it (pid or name atom): the MONITOR_P_EXIT names it so. */
    readonly targetW: unknown,
    readonly ref: unknown,
  ) {}
  down(_target: Proc, reason: unknown): void {
    if (!inbound.delete(this)) return;
    io.send(this.node, [MONITOR_P_EXIT, this.targetW, this.watcherW, this.ref, reasonToTerm(reason)]);
  }
}

/**
 * Peers' monitors of local processes, by node and ref. A call's monitor comes and goes with
 * every call from another node, so no key is built per lookup: entries are numbered by the ref's
 * first two words (exact: 18 + 32 bits), and the node, creation and other words compared.
 */
class InboundMonitors {
  #slots = new Map<number, InMonitor | InMonitor[]>();
  size = 0;
  static #slot(ref: unknown): number {
    return ref instanceof ErlRef && ref.ids.length >= 2 ? ref.ids[0] + ref.ids[1] * 0x40000 : -1;
  }
  static #same(m: InMonitor, node: string, ref: unknown): boolean {
    const a = m.ref;
    if (m.node !== node) return false;
    if (!(a instanceof ErlRef) || !(ref instanceof ErlRef)) return a === ref;
    if (a.creation !== ref.creation || nodeName(a.node) !== nodeName(ref.node)) return false;
    const x = a.ids, y = ref.ids;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  get(node: string, ref: unknown): InMonitor | undefined {
    const at = this.#slots.get(InboundMonitors.#slot(ref));
    if (at === undefined) return undefined;
    if (!Array.isArray(at)) return InboundMonitors.#same(at, node, ref) ? at : undefined;
    return at.find((m) => InboundMonitors.#same(m, node, ref));
  }
  /** Adds `m` (replacing an entry for the same node and ref). */
  add(m: InMonitor): void {
    const old = this.get(m.node, m.ref);
    if (old !== undefined) this.delete(old);
    const key = InboundMonitors.#slot(m.ref);
    const at = this.#slots.get(key);
    if (at === undefined) this.#slots.set(key, m);
    else if (Array.isArray(at)) at.push(m);
    else this.#slots.set(key, [at, m]);
    this.size++;
  }
  /** Removes `m` itself; false when it is not there. */
  delete(m: InMonitor): boolean {
    const key = InboundMonitors.#slot(m.ref);
    const at = this.#slots.get(key);
    if (at === m) this.#slots.delete(key);
    else if (Array.isArray(at) && at.includes(m)) {
      if (at.length === 2) this.#slots.set(key, at[0] === m ? at[1] : at[0]);
      else at.splice(at.indexOf(m), 1);
    } else return false;
    this.size--;
    return true;
  }
  /** Every entry (a snapshot: deleting while iterating is fine). */
  values(): InMonitor[] {
    const out: InMonitor[] = [];
    for (const at of this.#slots.values()) {
      if (Array.isArray(at)) out.push(...at);
      else out.push(at);
    }
    return out;
  }
}
const inbound = new InboundMonitors();

/** What a local process holds across nodes; dropped at its death (one exit hook). */
class ProcRemote {
  /** Links to other nodes' processes: 0 linked, else the id of our unlink in flight. */
  links: Map<RemotePid, number> | null = null;
  /** Ref numbers of its monitors of other nodes' processes. */
  monitors: Set<number> | null = null;
}
const procRemote = new Map<Proc, ProcRemote>();

function remoteOf(p: Proc): ProcRemote {
  let r = procRemote.get(p);
  if (r === undefined) {
    r = new ProcRemote();
    procRemote.set(p, r);
    (p.exitHooks ??= []).push((reason) => localDeath(p, reason));
  }
  return r;
}

let nextUnlinkId = 1;

/** A local process died: its remote links hear the reason, its remote monitors are removed. */
function localDeath(p: Proc, reason: unknown): void {
  const r = procRemote.get(p);
  if (r === undefined) return;
  procRemote.delete(p);
  if (r.links !== null) {
    const from = pidToWire(p.pid);
    let term: unknown = undefined;
    for (const [other, state] of r.links) {
      if (state !== 0) continue;
      term ??= reasonToTerm(reason);
      io.send(other.node, [EXIT, from, pidToWire(other), term]);
    }
  }
  if (r.monitors !== null) {
    for (const id of r.monitors) {
      const m = outgoing.get(id);
      if (!(m instanceof OutMonitor)) continue;
      outgoing.delete(id);
      io.send(m.node, [DEMONITOR_P, pidToWire(p.pid), m.targetW, refToWire(m.ref)]);
    }
  }
}

// ---------------------------------------------------------------- destinations

/** The node of a remote destination, and its wire form (a pid, or a name atom). */
function resolve(dest: unknown): [string, unknown, boolean] {
  if (dest instanceof RemotePid) return [dest.node, pidToWire(dest), false];
  const [name, node] = dest as [unknown, unknown];
  return [nameOf(node)!, atom(nameOf(name)!), true];
}

/** A pid of another node, or `[name, node]` (strings or atoms) naming another node. */
function isRemote(dest: unknown): boolean {
  if (dest instanceof RemotePid) return true;
  if (!Array.isArray(dest) || dest.length !== 2) return false;
  const name = nameOf(dest[0]), node = nameOf(dest[1]);
  return name !== undefined && node !== undefined && node.includes("@") && node !== selfNode();
}

function sendTo(node: string, targetW: unknown, byName: boolean, fromW: ErlPid, msg: unknown): boolean {
  return io.send(node, byName ? [REG_SEND, fromW, EMPTY, targetW] : [SEND, EMPTY, targetW], msg);
}

// ---------------------------------------------------------------- the runtime's hooks

setRemoteHooks({
  isRemote,
  isSelf: (node) => node === selfNode(),

  send(from, dest, msg) {
    const [node, targetW, byName] = resolve(dest);
    sendTo(node, targetW, byName, pidToWire(from?.pid ?? ROOT), toTerm(msg));
  },

  link(caller, dest) {
    if (!(dest instanceof RemotePid)) throw new TypeError(`Process.link needs a pid, got ${String(dest)}`);
    const r = remoteOf(caller);
    const links = r.links ??= new Map();
    if (links.get(dest) === 0) return;
    links.set(dest, 0);
    if (!io.send(dest.node, [LINK, pidToWire(caller.pid), pidToWire(dest)])) {
      links.delete(dest);
      exitSignal(caller, null, dest, "noconnection", true);
    }
  },

  unlink(caller, dest) {
    const links = procRemote.get(caller)?.links;
    if (links === undefined || links === null || !(dest instanceof RemotePid) || links.get(dest) !== 0) return;
    const id = nextUnlinkId++;
    links.set(dest, id);
    if (!io.send(dest.node, [UNLINK_ID, id, pidToWire(caller.pid), pidToWire(dest)])) links.delete(dest);
  },

  monitor(caller, dest) {
    const [node, targetW] = resolve(dest);
    const ref = makeRef();
    const m = new OutMonitor(ref, caller, node, dest, targetW);
    outgoing.set(ref.id, m);
    (remoteOf(caller).monitors ??= new Set()).add(ref.id);
    if (!io.send(node, [MONITOR_P, pidToWire(caller.pid), targetW, refToWire(ref)])) {
      outgoing.delete(ref.id);
      deliver(caller, new DownMessage(ref, dest as Pid, "noconnection"));
    }
    return ref;
  },

  demonitor(caller, ref) {
    const m = outgoing.get(ref.id);
    if (!(m instanceof OutMonitor) || m.watcher !== caller) return false;
    outgoing.delete(ref.id);
    procRemote.get(caller)?.monitors?.delete(ref.id);
    io.send(m.node, [DEMONITOR_P, pidToWire(caller.pid), m.targetW, refToWire(ref)]);
    return true;
  },

  exit(from, dest, reason) {
    if (!(dest instanceof RemotePid)) throw new TypeError(`Process.exit needs a pid, got ${String(dest)}`);
    io.send(dest.node, [EXIT2, pidToWire(from?.pid ?? ROOT), pidToWire(dest), reasonToTerm(reason)]);
  },

  call(dest, request, timeout, onReply, onError) {
    const [node, targetW, byName] = resolve(dest);
    let req: unknown;
    try {
      req = toTerm(request);
    } catch (e) {
      queueMicrotask(() => onError(["badarg", e instanceof Error ? e.message : String(e)]));
      return;
    }
    const caller = currentProc();
    const fromW = pidToWire(caller?.pid ?? ROOT);
    const ref = makeRef();
    const tag = refToWire(ref, CALL_MARK);
    const c = new RemoteCall(ref.id, node, fromW, targetW, tag, onReply, onError);
    outgoing.set(ref.id, c);
    if (
      !io.send(node, [MONITOR_P, fromW, targetW, tag]) ||
      !sendTo(node, targetW, byName, fromW, [GEN_CALL, [fromW, tag], req])
    ) {
      outgoing.delete(ref.id);
      queueMicrotask(() => onError(["nodedown", node]));
      return;
    }
    if (timeout !== Infinity) startTimer(c, timeout);
  },

  addInfo(p, links, monitors, monitoredBy) {
    const r = procRemote.get(p);
    if (r !== undefined) {
      if (r.links !== null) { for (const [other, state] of r.links) if (state === 0) links.push(other); }
      if (r.monitors !== null) {
        for (const id of r.monitors) {
          const m = outgoing.get(id);
          if (m instanceof OutMonitor) monitors.push(m.target as Pid);
        }
      }
    }
    if (inbound.size === 0) return;
    for (const m of inbound.values()) if (m.target === p) monitoredBy.push(pidFromWire(m.watcherW));
  },

  cast(dest, request) {
    const [node, targetW, byName] = resolve(dest);
    let req: unknown;
    try {
      req = toTerm(request);
    } catch {
      return; // a cast never fails, as in Elixir
    }
    sendTo(node, targetW, byName, pidToWire(currentProc()?.pid ?? ROOT), [GEN_CAST, req]);
  },
});

// ---------------------------------------------------------------- incoming control messages

/**
 * Runs one control message, then at once the processes it woke (not in a later microtask): a
 * call's reply is then queued before the socket's read callback returns, and goes out in the
 * write at its end.
 */
function onControlNow(node: string, control: unknown, payload: unknown): void {
  runAfter(runIncoming, [node, control, payload] as const);
}
function runIncoming([node, control, payload]: readonly [string, unknown, unknown]): void {
  onControl(node, control, payload);
}

wire.setControlHandler(onControlNow as wire.ControlHandler);
wire.onNodeDown(onNodeDown);

/**
 * @ignore For tests: replaces the wire with `fake`; returns how to play the
 * peer (inject a control message, a lost connection) and how to put the wire back.
 */
export function _scriptedPeer(fake: typeof io): {
  control(from: string, control: unknown, payload?: unknown): void;
  down(node: string, reason: string): void;
  restore(): void;
} {
  const saved = { ...io };
  Object.assign(io, fake);
  return {
    control: onControl,
    down: onNodeDown,
    restore: () => Object.assign(io, saved),
  };
}

function liveProc(pid: unknown): Proc | null {
  if (!(pid instanceof Pid) || pid instanceof RemotePid) return null;
  const p = pid._proc as Proc | null;
  return p === null || p.state === DEAD ? null : p;
}

/** Runs one control message from `node`. Malformed ones are dropped. */
function onControl(node: string, control: unknown, payload: unknown): void {
  if (!Array.isArray(control) || typeof control[0] !== "number") return;
  switch (control[0]) {
    case SEND:
    case SEND_TT:
      return incomingSend(node, liveProcOrNull(control[2]), payload);
    case SEND_SENDER:
    case SEND_SENDER_TT:
      return incomingSend(node, liveProcOrNull(control[2]), payload);
    case REG_SEND:
    case REG_SEND_TT:
      return incomingRegSend(node, control[1], control[3], payload);
    case LINK:
      return incomingLink(node, fromTerm(control[1]), fromTerm(control[2]));
    case UNLINK:
      return dropLink(fromTerm(control[2]), fromTerm(control[1]), 0);
    case UNLINK_ID:
      return incomingUnlink(node, control[1], fromTerm(control[2]), fromTerm(control[3]));
    case UNLINK_ID_ACK:
      return dropLink(fromTerm(control[3]), fromTerm(control[2]), control[1] as number);
    case EXIT:
      return incomingExit(fromTerm(control[1]), fromTerm(control[2]), control[3], true);
    case EXIT_TT:
      return incomingExit(fromTerm(control[1]), fromTerm(control[2]), control[4], true);
    case PAYLOAD_EXIT:
    case PAYLOAD_EXIT_TT:
      return incomingExit(fromTerm(control[1]), fromTerm(control[2]), payload, true);
    case EXIT2:
      return incomingExit(fromTerm(control[1]), fromTerm(control[2]), control[3], false);
    case EXIT2_TT:
      return incomingExit(fromTerm(control[1]), fromTerm(control[2]), control[4], false);
    case PAYLOAD_EXIT2:
    case PAYLOAD_EXIT2_TT:
      return incomingExit(fromTerm(control[1]), fromTerm(control[2]), payload, false);
    case MONITOR_P:
      return incomingMonitor(node, control[1] as ErlPid, control[2], control[3]);
    case DEMONITOR_P: {
      const m = inbound.get(node, control[3]);
      if (m === undefined) return;
      inbound.delete(m);
      if (m.target !== null) dropMonitor(m.target, m.id);
      return;
    }
    case MONITOR_P_EXIT:
      return monitorExit(control[3], control[4]);
    case PAYLOAD_MONITOR_P_EXIT:
      return monitorExit(control[3], payload);
  }
}

function liveProcOrNull(pid: unknown): Proc | null {
  return pid instanceof ErlPid ? liveProc(pidFromWire(pid)) : null;
}

function incomingSend(node: string, p: Proc | null, payload: unknown): void {
  // A reply to one of our calls: `{Tag, Reply}` with our marked tag.
  if (Array.isArray(payload) && payload.length === 2) {
    const id = ourRefId(payload[0], CALL_MARK);
    if (id >= 0) {
      const c = outgoing.get(id);
      // Not pending: a late reply, dropped.
      if (c instanceof RemoteCall) {
        outgoing.delete(id);
        c.cancel();
        c.onReply(fromTerm(payload[1]));
        // Lazy: a caller that calls again has this demonitor go out in its call's write.
        io.send(c.node, [DEMONITOR_P, c.fromW, c.targetW, c.tag], undefined, true);
      }
      return;
    }
  }
  if (p === null) return;
  deliverTo(node, p, fromTerm(payload));
}

/** Delivers a message from another node; the GenServer protocol's messages reach the callbacks. */
function deliverTo(node: string, p: Proc, msg: unknown): void {
  if (Array.isArray(msg) && p.behaviour instanceof GenServerProcess) {
    if (msg.length === 3 && msg[0] === GEN_CALL) {
      const from = msg[1];
      if (Array.isArray(from) && from.length === 2 && from[0] instanceof RemotePid) {
        const [caller, tag] = from as [RemotePid, unknown];
        callWith(p.pid, msg[2], (reply) => replyTo(caller, tag, reply), ignore, Infinity);
        return;
      }
    } else if (msg.length === 2 && msg[0] === GEN_CAST) {
      genCast(p.pid, msg[1]);
      return;
    }
  }
  void node;
  deliver(p, msg);
}

const ignore = (): void => {};

/** `{Tag, Reply}` to a remote caller. */
function replyTo(caller: RemotePid, tag: unknown, reply: unknown): void {
  let term: unknown;
  try {
    term = toTerm(reply);
  } catch (e) {
    term = [atom("error"), e instanceof Error ? e.message : String(e)];
  }
  io.send(caller.node, [SEND, EMPTY, pidToWire(caller)], [toTerm(tag), term]);
}

function incomingRegSend(node: string, from: unknown, name: unknown, payload: unknown): void {
  const n = typeof name === "symbol" ? nodeName(name) : typeof name === "string" ? name : null;
  if (n === null) return;
  if (n === "net_kernel") return netKernel(payload);
  const p = names.get(n);
  if (p === undefined || p.state === DEAD) return; // to an unknown name: dropped, as the BEAM does
  void from;
  deliverTo(node, p, fromTerm(payload));
}

/** What a hidden node's `net_kernel` must answer: `is_auth` (`net_adm:ping`) gets `yes`. */
function netKernel(payload: unknown): void {
  if (!Array.isArray(payload) || payload.length !== 3 || payload[0] !== GEN_CALL) return;
  const from = fromTerm(payload[1]);
  const req = payload[2];
  if (!Array.isArray(from) || !(from[0] instanceof RemotePid)) return;
  if (Array.isArray(req) && req[0] === IS_AUTH) replyTo(from[0], from[1], YES);
}

function incomingLink(node: string, from: unknown, to: unknown): void {
  if (!(from instanceof RemotePid)) return;
  const p = liveProc(to);
  if (p === null) {
    io.send(node, [EXIT, toTerm(to), pidToWire(from), NOPROC]);
    return;
  }
  (remoteOf(p).links ??= new Map()).set(from, 0);
}

function incomingUnlink(node: string, id: unknown, from: unknown, to: unknown): void {
  if (!(from instanceof RemotePid)) return;
  const p = liveProc(to);
  if (p !== null) {
    const links = procRemote.get(p)?.links;
    // Our own unlink in flight stays until its ack.
    if (links != null && links.get(from) === 0) links.delete(from);
  }
  io.send(node, [UNLINK_ID_ACK, id, toTerm(to), pidToWire(from)]);
}

/** Removes the link of local `to` with remote `from`: `id` 0 whatever its state, else only our unlink `id`. */
function dropLink(to: unknown, from: unknown, id: number): void {
  const p = liveProc(to);
  if (p === null || !(from instanceof RemotePid)) return;
  const links = procRemote.get(p)?.links;
  if (links == null) return;
  if (id === 0 || links.get(from) === id) links.delete(from);
}

function incomingExit(from: unknown, to: unknown, reason: unknown, viaLink: boolean): void {
  const p = liveProc(to);
  if (p === null || !(from instanceof Pid)) return;
  if (viaLink) {
    const links = procRemote.get(p)?.links;
    // Not linked, or unlinking: the signal is dropped (the unlink protocol's rule).
    if (links == null || !(from instanceof RemotePid) || links.get(from) !== 0) return;
    links.delete(from);
  }
  exitSignal(p, null, from, reasonFromTerm(fromTerm(reason)), viaLink);
}

function incomingMonitor(node: string, fromW: ErlPid, targetW: unknown, ref: unknown): void {
  let p: Proc | null = null;
  if (typeof targetW === "symbol") {
    const name = nodeName(targetW);
    if (name === "net_kernel") return; // ours answers without a process, and never dies
    p = names.get(name) ?? null;
    if (p !== null && p.state === DEAD) p = null;
  } else if (targetW instanceof ErlPid) {
    p = liveProc(pidFromWire(targetW));
  }
  if (p === null) {
    io.send(node, [MONITOR_P_EXIT, targetW, fromW, ref, NOPROC]);
    return;
  }
  const m = new InMonitor(node, fromW, targetW, ref);
  m.id = nextRefId();
  m.target = p;
  inbound.add(m);
  addMonitor(p, m.id, m);
}

function monitorExit(ref: unknown, reasonTerm: unknown): void {
  const id = ourRefId(ref, ref instanceof ErlRef && ref.ids[2] === CALL_MARK ? CALL_MARK : 0);
  if (id < 0) return;
  const m = outgoing.get(id);
  if (m === undefined) return;
  const reason = reasonFromTerm(fromTerm(reasonTerm));
  if (m instanceof RemoteCall) {
    m.fail(reason);
    return;
  }
  outgoing.delete(id);
  procRemote.get(m.watcher)?.monitors?.delete(id);
  deliver(m.watcher, new DownMessage(m.ref, m.target as Pid, reason));
}

/** The connection to `node` is gone: `noconnection` to every link and monitor across it. */
function onNodeDown(node: string, _reason: unknown): void {
  for (const [id, m] of outgoing) {
    if (m.node !== node) continue;
    if (m instanceof RemoteCall) m.fail("noconnection");
    else {
      outgoing.delete(id);
      procRemote.get(m.watcher)?.monitors?.delete(id);
      deliver(m.watcher, new DownMessage(m.ref, m.target as Pid, "noconnection"));
    }
  }
  for (const m of inbound.values()) {
    if (m.node !== node) continue;
    inbound.delete(m);
    if (m.target !== null) dropMonitor(m.target, m.id);
  }
  const broken: Array<[Proc, RemotePid]> = [];
  for (const [p, r] of procRemote) {
    if (r.links === null) continue;
    for (const [other, state] of r.links) {
      if (other.node !== node) continue;
      r.links.delete(other);
      if (state === 0) broken.push([p, other]);
    }
  }
  for (const [p, other] of broken) exitSignal(p, null, other, "noconnection", true);
}

// ---------------------------------------------------------------- introspection

/** What this node holds across one connection (for `remoteNodes()` and the Observer). */
export interface RemoteNodeInfo {
  /** The other node. */
  node: string;
  /** Whether a connection to it is up. */
  connected: boolean;
  /** Links between local processes and processes of that node. */
  links: number;
  /** Local processes' monitors of processes of that node. */
  monitors: number;
  /** That node's monitors of local processes. */
  monitoredBy: number;
  /** Calls from here to that node not answered yet. */
  pendingCalls: number;
}

/**
 * Every node this one is connected to or holds a link, monitor or call with,
 * and how many of each.
 *
 * @example
 * ```ts
 * import { remoteNodes } from "./_remote.ts";
 * console.assert(Array.isArray(remoteNodes()));
 * ```
 */
export function remoteNodes(): RemoteNodeInfo[] {
  const byNode = new Map<string, RemoteNodeInfo>();
  const of = (node: string) => {
    let n = byNode.get(node);
    if (n === undefined) {
      n = { node, connected: false, links: 0, monitors: 0, monitoredBy: 0, pendingCalls: 0 };
      byNode.set(node, n);
    }
    return n;
  };
  for (const node of wire.connectedNodes()) of(node).connected = true;
  for (const m of outgoing.values()) {
    if (m instanceof RemoteCall) of(m.node).pendingCalls++;
    else of(m.node).monitors++;
  }
  for (const m of inbound.values()) of(m.node).monitoredBy++;
  for (const r of procRemote.values()) {
    if (r.links !== null) { for (const [other, state] of r.links) if (state === 0) of(other.node).links++; }
  }
  return [...byNode.values()].sort((a, b) => a.node < b.node ? -1 : 1);
}
