/**
 * The local distribution node: EPMD registration, the listener, the version 6 handshake both
 * ways (as a hidden node), framing, ticks, simultaneous-connect arbitration, and the per-peer
 * connection state. Internal to lib/node; the seam other modules use is `_wire.ts`, the public
 * API `node.ts`.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { clearImmediate, setImmediate } from "node:timers";
import * as Term from "./term.ts";
import { type EpmdRegistration, portPlease, register } from "./_epmd.ts";
import { connect, listen, type TcpConnection, type TcpConnectionHandler, type TcpListener } from "../net/tcp.ts";

// Distribution flags (lib/kernel/include/dist.hrl). Values above 2^32 are plain numbers (< 2^53).
const DFLAG_EXTENDED_REFERENCES = 0x4;
const DFLAG_DIST_MONITOR = 0x8;
const DFLAG_FUN_TAGS = 0x10;
const DFLAG_DIST_MONITOR_NAME = 0x20;
const DFLAG_NEW_FUN_TAGS = 0x80;
const DFLAG_EXTENDED_PIDS_PORTS = 0x100;
const DFLAG_EXPORT_PTR_TAG = 0x200;
const DFLAG_BIT_BINARIES = 0x400;
const DFLAG_NEW_FLOATS = 0x800;
const DFLAG_UTF8_ATOMS = 0x10000;
const DFLAG_MAP_TAG = 0x20000;
const DFLAG_BIG_CREATION = 0x40000;
const DFLAG_HANDSHAKE_23 = 0x1000000;
const DFLAG_UNLINK_ID = 0x2000000;
const DFLAG_MANDATORY_25_DIGEST = 0x4000000;
const DFLAG_V4_NC = 2 ** 34;

/** What OTP 25 requires of a peer (MANDATORY_DFLAGS_25), all in the low 32 bits. */
export const MANDATORY_FLAGS = DFLAG_EXTENDED_REFERENCES | DFLAG_FUN_TAGS | DFLAG_EXTENDED_PIDS_PORTS |
  DFLAG_NEW_FUN_TAGS | DFLAG_EXPORT_PTR_TAG | DFLAG_BIT_BINARIES | DFLAG_NEW_FLOATS | DFLAG_UTF8_ATOMS |
  DFLAG_MAP_TAG | DFLAG_BIG_CREATION | DFLAG_HANDSHAKE_23;

/**
 * The flags this node sends: OTP 25's mandatory set and its digest, OTP 26's V4_NC and
 * UNLINK_ID, and monitors by pid and by name. No PUBLISHED (hidden), no atom cache, no
 * fragments, no spawn, no alias.
 */
export const OUR_FLAGS = MANDATORY_FLAGS + DFLAG_DIST_MONITOR + DFLAG_DIST_MONITOR_NAME + DFLAG_UNLINK_ID +
  DFLAG_MANDATORY_25_DIGEST + DFLAG_V4_NC;

/** Control-message tag of a pass-through distribution message. */
const PASS_THROUGH = 112;
/** A tick: an empty packet. */
const TICK = new Uint8Array(4);
const HANDSHAKE_PACKET_MAX = 4096;

/** Options of {@linkcode LocalNode.start}. */
export interface DistOptions {
  /** The cookie (already resolved). */
  cookie: string;
  /** Address the listener binds (default 127.0.0.1). */
  listenHost: string;
  /** Listener port (default 0: any). */
  port: number;
  /** EPMD port. */
  epmdPort: number;
  /** Start `epmd -daemon` when none answers. */
  startEpmd: boolean;
  /** Net tick time in ms: a peer silent this long is down; ticks go out every quarter. */
  netTickTimeMs: number;
  /** How long a connection setup may take, in ms. */
  setupTimeMs: number;
}

/** Callbacks from the node to the layer above (set by `_wire.ts`). */
export interface DistEvents {
  /** A pass-through message arrived. */
  message(from: string, control: Term.Term, payload: Term.Term | undefined): void;
  /** A connection came up. */
  nodeUp(node: string): void;
  /** A connection went down (`wasUp`) or an attempt failed (`!wasUp`). */
  nodeDown(node: string, reason: string, wasUp: boolean): void;
}

const NO_BYTES = new Uint8Array(0);

/** A byte accumulator that hands out length-prefixed packets. */
class Packets {
  buf: Uint8Array = NO_BYTES;
  start = 0;
  /** False while `buf` is the adapter's buffer (valid during its callback only). */
  owned = true;
  push(chunk: Uint8Array): void {
    const rest = this.buf.length - this.start;
    if (rest === 0) {
      this.buf = chunk;
      this.start = 0;
      this.owned = false;
      return;
    }
    const next = new Uint8Array(rest + chunk.length);
    next.set(this.buf.subarray(this.start));
    next.set(chunk, rest);
    this.buf = next;
    this.start = 0;
    this.owned = true;
  }
  /** Copies what is left unread: the adapters reuse their read buffers after the callback. */
  retain(): void {
    if (this.start >= this.buf.length) {
      this.buf = NO_BYTES;
      this.start = 0;
    } else if (this.start > 0 || !this.owned) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
    this.owned = true;
  }
  /** The next packet with a `headerBytes`-byte length prefix, or undefined if incomplete. */
  next(headerBytes: 2 | 4): Uint8Array | undefined {
    const avail = this.buf.length - this.start;
    if (avail < headerBytes) return undefined;
    const b = this.buf, s = this.start;
    const len = headerBytes === 2
      ? (b[s] << 8) | b[s + 1]
      : ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
    if (avail < headerBytes + len) return undefined;
    const p = b.subarray(s + headerBytes, s + headerBytes + len);
    this.start += headerBytes + len;
    return p;
  }
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}
function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
function u64(v: number): number[] {
  return [...u32(Math.floor(v / 2 ** 32)), ...u32(v >>> 0)];
}
function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}
function readU64(b: Uint8Array, i: number): number {
  return readU32(b, i) * 2 ** 32 + readU32(b, i + 4);
}
function text(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** True for `name@host` with both parts non-empty and no spaces. */
export function isNodeName(name: string): boolean {
  return /^[^@\s]+@[^@\s]+$/.test(name);
}

function hasMandatoryFlags(flags: number): boolean {
  const low = flags >>> 0;
  return (low & MANDATORY_FLAGS) === MANDATORY_FLAGS || (low & DFLAG_MANDATORY_25_DIGEST) !== 0;
}

type Phase = "handshake" | "up" | "closed";

/**
 * One TCP connection to a peer: the handshake (either side), then framed messages and ticks.
 */
class DistSocket {
  phase: Phase = "handshake";
  readonly packets = new Packets();
  peerName = "";
  peerFlags = 0;
  peerCreation = 0;
  /** Our challenge to the peer, once sent. */
  challenge = 0;
  /** What the handshake waits for next. */
  expect: "status" | "challenge" | "ack" | "name" | "alive_reply" | "reply" = "name";
  /** Frames waiting for the flush at the end of this turn (one socket write per turn). */
  readonly out = new Term._FrameWriter();
  flushQueued = false;
  /** Inside `onData`: a frame sent now goes out when the read's messages are handled. */
  reading = false;
  /** A frame that asked for a write was sent while `reading`. */
  flushAfterRead = false;
  /** The pending write of lazy frames only (see `send`). */
  lazyFlush: ReturnType<typeof setImmediate> | undefined;
  readSinceTick = false;
  wroteSinceTick = false;
  silentTicks = 0;
  /** Empty packets (ticks) received: tests watch ticks flow. */
  ticksReceived = 0;
  tickTimer: ReturnType<typeof setInterval> | undefined;
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why it closed (set by whoever closes it first). */
  closeReason = "";
  /** The peer's status answer when we started: kept to tell `nok` from a failure. */
  status = "";

  /**
   * @param socket the connection (lib/net: Bun's, Deno's or node:net sockets, TCP_NODELAY set).
   */
  constructor(readonly node: LocalNode, readonly socket: TcpConnection, readonly weStarted: boolean, peer: string) {
    this.peerName = peer;
    if (weStarted) this.expect = "status";
    // A connection that never completes its handshake (a port scanner, a stuck peer) is dropped.
    this.handshakeTimer = setTimeout(() => {
      if (this.phase === "handshake") this.close("handshake timed out");
    }, node.opts.setupTimeMs);
  }

  /** What lib/net calls on this connection's events. */
  handler(): TcpConnectionHandler {
    return {
      data: (chunk) => this.onData(chunk),
      close: (error) => {
        if (this.phase === "handshake") {
          // A peer refusing our digest just closes (or resets) the connection.
          this.close(`connection closed during handshake${this.expect === "ack" ? " (wrong cookie?)" : ""}`);
        } else this.close(error instanceof Error ? error.message : "connection_closed");
      },
    };
  }

  /** Writes one handshake packet (2-byte length). */
  sendHandshake(body: number[]): void {
    const out = new Uint8Array(2 + body.length);
    out.set(u16(body.length));
    out.set(body, 2);
    this.socket.writeOwned(out);
  }

  sendName(): void {
    const name = new TextEncoder().encode(this.node.name);
    this.sendHandshake([78, ...u64(OUR_FLAGS), ...u32(this.node.creation), ...u16(name.length), ...name]);
  }

  sendStatus(status: string): void {
    this.sendHandshake([115, ...new TextEncoder().encode(status)]);
  }

  sendChallenge(): void {
    this.challenge = randomBytes(4).readUInt32BE(0);
    const name = new TextEncoder().encode(this.node.name);
    this.sendHandshake([
      78,
      ...u64(OUR_FLAGS),
      ...u32(this.challenge),
      ...u32(this.node.creation),
      ...u16(name.length),
      ...name,
    ]);
  }

  onData(chunk: Uint8Array): void {
    if (this.phase === "closed") return;
    this.readSinceTick = true;
    this.packets.push(chunk);
    this.reading = true;
    try {
      this.readPackets();
    } finally {
      this.reading = false;
      this.packets.retain();
    }
    // The replies of the processes these messages woke (run before the handler returned) go
    // out in one write now rather than in a later microtask's.
    if (this.flushAfterRead) {
      this.flushAfterRead = false;
      this.flush();
    }
  }

  readPackets(): void {
    while (this.phase === "handshake") {
      const p = this.packets.next(2);
      if (p === undefined) return;
      try {
        this.onHandshakePacket(p);
      } catch (e) {
        this.close((e as Error).message);
        return;
      }
    }
    while (this.phase === "up") {
      const p = this.packets.next(4);
      if (p === undefined) return;
      if (p.length > 0) this.node.onFrame(this, p);
      else this.ticksReceived++;
    }
  }

  onHandshakePacket(p: Uint8Array): void {
    if (p.length > HANDSHAKE_PACKET_MAX) throw new Error("handshake packet too large");
    const tag = p[0];
    switch (this.expect) {
      case "name": { // the peer started: 'N' flags:64 creation:32 nlen:16 name
        if (tag !== 78 || p.length < 15) {
          throw new Error(`unexpected handshake packet ${tag} (only version 6 'N' is spoken)`);
        }
        this.peerFlags = readU64(p, 1);
        this.peerCreation = readU32(p, 9);
        const nlen = (p[13] << 8) | p[14];
        this.peerName = text(p.subarray(15, 15 + nlen));
        this.node.onIncomingName(this);
        return;
      }
      case "alive_reply": { // 's' true | false, after we said alive
        if (tag !== 115) throw new Error("bad alive reply");
        this.node.onAliveReply(this, text(p.subarray(1)) === "true");
        return;
      }
      case "reply": { // 'r' challenge:32 digest:16
        if (tag !== 114 || p.length !== 21) throw new Error("bad challenge reply");
        const theirChallenge = readU32(p, 1);
        if (!bytesEqual(p.subarray(5), this.node.digest(this.challenge))) {
          this.node.warn(
            `connection attempt from node ${this.peerName} rejected: invalid challenge reply (wrong cookie?)`,
          );
          throw new Error("invalid challenge reply");
        }
        this.sendHandshake([97, ...this.node.digest(theirChallenge)]);
        this.node.onHandshakeDone(this);
        return;
      }
      case "status": { // 's' status, after our name
        if (tag !== 115) throw new Error(`expected a status, got packet ${tag}`);
        this.status = text(p.subarray(1));
        if (this.status === "ok" || this.status === "ok_simultaneous") this.expect = "challenge";
        else if (this.status === "alive") {
          this.sendStatus("true");
          this.expect = "challenge";
        } else throw new Error(this.status === "nok" ? "nok" : `refused by ${this.peerName}: ${this.status}`);
        return;
      }
      case "challenge": { // 'N' flags:64 challenge:32 creation:32 nlen:16 name
        if (tag !== 78 || p.length < 19) throw new Error(`expected a challenge, got packet ${tag}`);
        this.peerFlags = readU64(p, 1);
        const theirChallenge = readU32(p, 9);
        this.peerCreation = readU32(p, 13);
        const nlen = (p[17] << 8) | p[18];
        const name = text(p.subarray(19, 19 + nlen));
        if (name !== this.peerName) throw new Error(`dialled ${this.peerName} but ${name} answered`);
        if (!hasMandatoryFlags(this.peerFlags)) throw new Error(`${name} lacks the distribution flags OTP 25 requires`);
        this.challenge = randomBytes(4).readUInt32BE(0);
        this.sendHandshake([114, ...u32(this.challenge), ...this.node.digest(theirChallenge)]);
        this.expect = "ack";
        return;
      }
      case "ack": { // 'a' digest:16
        if (tag !== 97 || p.length !== 17) throw new Error("bad challenge ack");
        if (!bytesEqual(p.subarray(1), this.node.digest(this.challenge))) {
          throw new Error(`${this.peerName} answered our challenge wrongly (wrong cookie?)`);
        }
        this.node.onHandshakeDone(this);
        return;
      }
    }
  }

  /** Switches to message framing and starts ticking. */
  goUp(tickMs: number): void {
    this.phase = "up";
    clearTimeout(this.handshakeTimer);
    const interval = Math.max(1, Math.floor(tickMs / 4));
    this.tickTimer = setInterval(() => this.tick(), interval);
    (this.tickTimer as { unref?: () => void }).unref?.();
    // Bytes after the last handshake packet are already framed messages: onData's second loop
    // reads them once the handshake has finished (after nodeup).
  }

  tick(): void {
    if (this.readSinceTick) this.silentTicks = 0;
    else if (++this.silentTicks >= 4) {
      this.node.warn(`node ${this.peerName} not responding: removing (timed out) connection`);
      this.close("net_tick_timeout");
      return;
    }
    this.readSinceTick = false;
    if (!this.wroteSinceTick && this.out.length === 0) this.socket.write(TICK);
    this.wroteSinceTick = false;
  }

  /**
   * Queues one message (its control term and optional payload) for this turn's write. A `lazy`
   * message (a demonitor after a call's reply) does not ask for a write of its own: it goes with
   * the next message to this peer (a caller calling again), or after this turn's I/O — one socket
   * write per call instead of two. Throws (and queues nothing) when a term cannot be encoded.
   */
  send(terms: readonly Term.Term[], lazy: boolean): void {
    this.out.append(terms, PASS_THROUGH);
    this.scheduleFlush(lazy);
  }

  /** Queues frames already encoded (length prefix included). */
  sendFrame(frame: Uint8Array): void {
    this.out.appendBytes(frame);
    this.scheduleFlush(false);
  }

  scheduleFlush(lazy: boolean): void {
    if (this.flushQueued) return;
    if (lazy) {
      this.lazyFlush ??= setImmediate(() => {
        this.lazyFlush = undefined;
        this.flush();
      });
      return;
    }
    if (this.reading) {
      this.flushAfterRead = true;
      return;
    }
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  flush(): void {
    this.flushQueued = false;
    if (this.lazyFlush !== undefined) {
      clearImmediate(this.lazyFlush);
      this.lazyFlush = undefined;
    }
    const out = this.out;
    if (this.phase !== "up" || out.length === 0) return;
    this.wroteSinceTick = true;
    // No copy: the socket takes the buffer. If it holds on to it (Deno writes asynchronously),
    // the writer fills its other buffer meanwhile, free once everything handed before is written.
    const socket = this.socket;
    const lentFree = socket.bufferedAmount === 0;
    socket.writeOwned(out.bytes, out.length);
    if (socket.bufferedAmount === 0) out.clear();
    else out.handOver(lentFree);
  }

  close(reason: string): void {
    if (this.phase === "closed") return;
    const wasUp = this.phase === "up";
    if (wasUp) this.flush();
    this.phase = "closed";
    this.closeReason = reason;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.lazyFlush !== undefined) clearImmediate(this.lazyFlush);
    this.lazyFlush = undefined;
    clearTimeout(this.handshakeTimer);
    this.socket.close(); // sends what is queued (a last status, the last frames) first
    this.node.onSocketClosed(this, reason, wasUp);
  }
}

/** A peer node: a connection being set up, or up. */
class Peer {
  state: "pending" | "up" = "pending";
  outgoing: DistSocket | undefined;
  incoming: DistSocket | undefined;
  conn: DistSocket | undefined;
  /** Frames sent while pending. */
  queue: Uint8Array[] = [];
  waiters: ((ok: boolean) => void)[] = [];
  setupTimer: ReturnType<typeof setTimeout> | undefined;
  constructor(readonly name: string) {}
}

/** This runtime's node. At most one at a time (a BEAM is one node too). */
export class LocalNode {
  readonly peers = new Map<string, Peer>();
  creation = 0;
  stopped = false;
  #digest: (challenge: number) => Uint8Array;
  #server: TcpListener | undefined;
  #epmd: EpmdRegistration | undefined;
  #sockets = new Set<DistSocket>();

  /** The options, minus the cookie. */
  readonly opts: Omit<DistOptions, "cookie">;

  private constructor(readonly name: string, options: DistOptions, readonly events: DistEvents) {
    const { cookie, ...rest } = options;
    this.opts = rest;
    // The cookie lives only in this closure: never in a field, so it cannot be printed.
    this.#digest = (challenge) => new Uint8Array(createHash("md5").update(cookie + String(challenge >>> 0)).digest());
  }

  /** Listens, registers with EPMD, and returns the started node. */
  static async start(name: string, opts: DistOptions, events: DistEvents): Promise<LocalNode> {
    const node = new LocalNode(name, opts, events);
    const server = await listen({ hostname: opts.listenHost, port: opts.port }, (conn) => node.accept(conn));
    node.#server = server;
    const port = server.port;
    try {
      node.#epmd = await register(name.slice(0, name.indexOf("@")), port, {
        epmdPort: opts.epmdPort,
        startEpmd: opts.startEpmd,
      });
    } catch (e) {
      await server.close();
      throw e;
    }
    node.creation = node.#epmd.creation;
    return node;
  }

  /** The listener's port. */
  get port(): number {
    return this.#server?.port ?? 0;
  }

  digest(challenge: number): Uint8Array {
    return this.#digest(challenge);
  }

  warn(line: string): void {
    console.warn(`[${this.name}] ${line}`);
  }

  accept(conn: TcpConnection): TcpConnectionHandler {
    if (this.stopped) {
      conn.abort();
      return { data() {} };
    }
    const s = new DistSocket(this, conn, false, "");
    this.#sockets.add(s);
    return s.handler();
  }

  /** The names of the nodes connected now. */
  connected(): string[] {
    const out: string[] = [];
    for (const p of this.peers.values()) if (p.state === "up") out.push(p.name);
    return out;
  }

  /** Connects to `node` unless up or on the way; resolves true once up. */
  connect(node: string): Promise<boolean> {
    if (this.stopped || !isNodeName(node) || node === this.name) return Promise.resolve(false);
    const peer = this.peers.get(node);
    if (peer?.state === "up") return Promise.resolve(true);
    return new Promise((resolve) => this.ensurePeer(node).waiters.push(resolve));
  }

  /** Sends one pass-through message; false when it cannot even be attempted. */
  send(node: string, control: Term.Term, payload: Term.Term | undefined, lazy = false): boolean {
    if (this.stopped || node === this.name) return false;
    let peer = this.peers.get(node);
    if (peer === undefined) {
      if (!isNodeName(node)) return false;
      peer = this.ensurePeer(node);
    }
    const terms = payload === undefined ? [control] : [control, payload];
    if (peer.state === "up") {
      peer.conn!.send(terms, lazy);
      return true;
    }
    const frame = Term.encodeSequence(terms, [PASS_THROUGH], 4);
    const len = frame.length - 4;
    frame[0] = len >>> 24;
    frame[1] = (len >>> 16) & 0xff;
    frame[2] = (len >>> 8) & 0xff;
    frame[3] = len & 0xff;
    peer.queue.push(frame);
    return true;
  }

  /** The pending or up peer for `node`, starting an outgoing attempt when there is none. */
  ensurePeer(node: string): Peer {
    let peer = this.peers.get(node);
    if (peer !== undefined) return peer;
    peer = new Peer(node);
    this.peers.set(node, peer);
    this.armSetupTimer(peer);
    void this.dial(peer);
    return peer;
  }

  armSetupTimer(peer: Peer): void {
    if (peer.setupTimer !== undefined) clearTimeout(peer.setupTimer);
    peer.setupTimer = setTimeout(() => {
      if (this.peers.get(peer.name) === peer && peer.state === "pending") {
        this.failPeer(peer, "connection setup timed out");
      }
    }, this.opts.setupTimeMs);
  }

  async dial(peer: Peer): Promise<void> {
    const at = peer.name.indexOf("@");
    const alive = peer.name.slice(0, at);
    const host = peer.name.slice(at + 1);
    let s: DistSocket | undefined;
    try {
      const where = await portPlease(host, alive, this.opts.epmdPort);
      if (where === undefined) throw new Error(`${alive} is not registered with EPMD on ${host}`);
      if (where.highest < 6) throw new Error(`${peer.name} speaks distribution version ${where.highest} only`);
      if (this.peers.get(peer.name) !== peer || peer.state !== "pending" || peer.incoming) return;
      await connect({ hostname: host, port: where.port }, (conn) => {
        s = new DistSocket(this, conn, true, peer.name);
        return s.handler();
      });
    } catch (e) {
      if (this.peers.get(peer.name) === peer && peer.state === "pending" && !peer.incoming) {
        this.failPeer(peer, (e as Error).message);
      }
      return;
    }
    if (s === undefined) return;
    if (s.phase === "closed") {
      // Refused or dropped before we could say our name.
      if (this.peers.get(peer.name) === peer && peer.state === "pending" && !peer.incoming) {
        this.failPeer(peer, s.closeReason);
      }
      return;
    }
    if (this.stopped || this.peers.get(peer.name) !== peer || peer.state !== "pending" || peer.incoming) {
      s.close("not needed any more");
      return;
    }
    this.#sockets.add(s);
    peer.outgoing = s;
    s.sendName();
  }

  /** An accepted connection said its name: arbitrate as OTP's net_kernel does. */
  onIncomingName(s: DistSocket): void {
    const name = s.peerName;
    if (!isNodeName(name) || name === this.name || !hasMandatoryFlags(s.peerFlags)) {
      if (isNodeName(name) && name !== this.name) {
        this.warn(`connection attempt from node ${name} rejected: it lacks the distribution flags OTP 25 requires`);
      }
      s.sendStatus("not_allowed");
      s.close("not allowed");
      return;
    }
    const peer = this.peers.get(name);
    if (peer === undefined) {
      const fresh = new Peer(name);
      this.peers.set(name, fresh);
      this.armSetupTimer(fresh);
      fresh.incoming = s;
      s.sendStatus("ok");
    } else if (peer.state === "pending") {
      if (peer.incoming !== undefined || this.name > name) {
        s.sendStatus("nok"); // our own attempt wins (the greater name keeps its connection)
        s.close("nok");
        return;
      }
      // Simultaneous connect and the peer's name is greater: its connection wins, ours is dropped.
      const ours = peer.outgoing;
      peer.outgoing = undefined;
      peer.incoming = s;
      ours?.close("simultaneous connect lost");
      s.sendStatus("ok_simultaneous");
    } else {
      // Up already: the peer restarted before we noticed. Ask it to confirm, then replace.
      s.sendStatus("alive");
      s.expect = "alive_reply";
      return;
    }
    s.sendChallenge();
    s.expect = "reply";
  }

  onAliveReply(s: DistSocket, yes: boolean): void {
    const peer = this.peers.get(s.peerName);
    if (!yes) {
      s.close("peer declined");
      return;
    }
    if (peer?.state === "up") peer.conn!.close("connection_closed");
    const fresh = this.peers.get(s.peerName) ?? new Peer(s.peerName);
    this.peers.set(s.peerName, fresh);
    this.armSetupTimer(fresh);
    fresh.incoming = s;
    s.sendChallenge();
    s.expect = "reply";
  }

  onHandshakeDone(s: DistSocket): void {
    const peer = this.peers.get(s.peerName);
    if (
      this.stopped || peer === undefined || peer.state !== "pending" || (peer.outgoing !== s && peer.incoming !== s)
    ) {
      s.close("superseded");
      return;
    }
    peer.state = "up";
    peer.conn = s;
    peer.outgoing = peer.incoming = undefined;
    if (peer.setupTimer !== undefined) clearTimeout(peer.setupTimer);
    s.goUp(this.opts.netTickTimeMs);
    for (const f of peer.queue) s.sendFrame(f);
    peer.queue = [];
    const waiters = peer.waiters;
    peer.waiters = [];
    for (const w of waiters) w(true);
    this.events.nodeUp(peer.name);
  }

  onSocketClosed(s: DistSocket, reason: string, wasUp: boolean): void {
    this.#sockets.delete(s);
    const peer = this.peers.get(s.peerName);
    if (peer === undefined) return;
    if (wasUp) {
      if (peer.conn === s) {
        this.peers.delete(peer.name);
        this.events.nodeDown(peer.name, reason, true);
      }
      return;
    }
    if (peer.state !== "pending") return;
    if (peer.incoming === s) {
      peer.incoming = undefined;
      if (peer.outgoing === undefined) this.failPeer(peer, reason);
    } else if (peer.outgoing === s) {
      peer.outgoing = undefined;
      // `nok`: the peer keeps its own connection to us, which will arrive at our listener.
      if (reason === "nok") return;
      if (peer.incoming === undefined) this.failPeer(peer, reason);
    }
  }

  failPeer(peer: Peer, reason: string): void {
    if (this.peers.get(peer.name) === peer) this.peers.delete(peer.name);
    if (peer.setupTimer !== undefined) clearTimeout(peer.setupTimer);
    peer.outgoing?.close(reason);
    peer.incoming?.close(reason);
    peer.queue = [];
    const waiters = peer.waiters;
    peer.waiters = [];
    for (const w of waiters) w(false);
    this.events.nodeDown(peer.name, reason, false);
  }

  onFrame(s: DistSocket, frame: Uint8Array): void {
    if (frame[0] !== PASS_THROUGH) {
      this.warn(`dropped a message from ${s.peerName} with type ${frame[0]} (only pass-through 112 is negotiated)`);
      return;
    }
    let control: Term.Term, payload: Term.Term | undefined;
    try {
      const c = Term.decodeAt(frame, 1);
      control = c.term;
      payload = c.end < frame.length ? Term.decodeAt(frame, c.end).term : undefined;
    } catch (e) {
      this.warn(`dropped an undecodable message from ${s.peerName}: ${(e as Error).message}`);
      return;
    }
    try {
      this.events.message(s.peerName, control, payload);
    } catch (e) {
      this.warn(`handling a message from ${s.peerName} failed: ${(e as Error).message}`);
    }
  }

  /** Closes one connection (as `erlang:disconnect_node/1`). */
  disconnect(node: string): boolean {
    const peer = this.peers.get(node);
    if (peer === undefined) return false;
    if (peer.state === "up") peer.conn!.close("disconnect");
    else this.failPeer(peer, "disconnect");
    return true;
  }

  /** Closes every connection, the listener, and the EPMD registration. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const peer of [...this.peers.values()]) {
      if (peer.state === "up") peer.conn!.close("shutdown");
      else this.failPeer(peer, "shutdown");
    }
    for (const s of [...this.#sockets]) s.close("shutdown");
    this.#epmd?.close();
    const server = this.#server;
    if (server) await server.close();
  }
}
