/**
 * EPMD client: registering a node (ALIVE2) and finding a node's distribution port (PORT_PLEASE2),
 * starting `epmd -daemon` as `erl` does when none answers. Internal to lib/node.
 *
 * @module
 */
import net from "node:net";
import { spawn } from "node:child_process";
import process from "node:process";

const ALIVE2_REQ = 120;
const ALIVE2_X_RESP = 118;
const ALIVE2_RESP = 121;
const PORT_PLEASE2_REQ = 122;
const PORT2_RESP = 119;
/** Node type in ALIVE2: 72 hidden, 77 normal. */
const NODE_TYPE_HIDDEN = 72;
const DIST_VERSION = 6;

/** The EPMD port: `ERL_EPMD_PORT` or 4369, as `erl` reads it. */
export function defaultEpmdPort(): number {
  const env = process.env.ERL_EPMD_PORT;
  const n = env === undefined ? NaN : Number(env);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : 4369;
}

/** A live registration: closing it unregisters the name. */
export interface EpmdRegistration {
  /** The creation EPMD handed out for this incarnation. */
  readonly creation: number;
  /** Unregisters (closes the connection EPMD watches). */
  close(): void;
}

function packet(body: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  out[0] = body.length >> 8;
  out[1] = body.length & 0xff;
  out.set(body, 2);
  return out;
}

function connectSocket(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const onError = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

function errorCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

/** Runs `epmd -daemon` (on `port`); resolves when the daemonizing parent exits. */
function startEpmdDaemon(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ["-daemon"];
    if (port !== 4369) args.push("-port", String(port));
    let child;
    try {
      child = spawn("epmd", args, { stdio: "ignore" });
    } catch (e) {
      reject(e);
      return;
    }
    child.once("error", reject);
    child.once("exit", () => resolve());
  });
}

async function connectToLocalEpmd(port: number, startEpmd: boolean): Promise<net.Socket> {
  try {
    return await connectSocket("127.0.0.1", port);
  } catch (e) {
    if (errorCode(e) !== "ECONNREFUSED" || !startEpmd) {
      throw new Error(`no EPMD answers on 127.0.0.1:${port} (${(e as Error).message}); start it with 'epmd -daemon'`);
    }
  }
  try {
    await startEpmdDaemon(port);
  } catch (e) {
    const why = errorCode(e) === "ENOENT" ? "epmd is not on PATH (install Erlang's erlang-base)" : (e as Error).message;
    throw new Error(`no EPMD answers on 127.0.0.1:${port} and it could not be started: ${why}`);
  }
  let last: unknown;
  for (let i = 0; i < 60; i++) {
    try {
      return await connectSocket("127.0.0.1", port);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`started 'epmd -daemon' but nothing answers on 127.0.0.1:${port}: ${(last as Error).message}`);
}

/** Reads from `socket` until `enough(bytes)` says what it has is complete, or it closes. */
function readUntil(socket: net.Socket, enough: (b: Uint8Array) => boolean): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(0);
    const done = (err?: Error) => {
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      if (enough(buf)) done();
    };
    const onClose = () => done();
    const onError = (e: Error) => done(e);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.once("error", onError);
  });
}

/**
 * Registers `alive` (the name before `@`) at the local EPMD as a hidden node listening on
 * `port`, starting `epmd -daemon` when none answers and `startEpmd` allows.
 */
export async function register(
  alive: string,
  port: number,
  opts: { epmdPort: number; startEpmd: boolean },
): Promise<EpmdRegistration> {
  const socket = await connectToLocalEpmd(opts.epmdPort, opts.startEpmd);
  const name = new TextEncoder().encode(alive);
  const body = [
    ALIVE2_REQ,
    port >> 8,
    port & 0xff,
    NODE_TYPE_HIDDEN,
    0, // protocol: tcp/ip v4
    0,
    DIST_VERSION,
    0,
    DIST_VERSION,
    name.length >> 8,
    name.length & 0xff,
    ...name,
    0,
    0, // no extra
  ];
  socket.write(packet(body));
  const reply = await readUntil(
    socket,
    (b) => (b[0] === ALIVE2_X_RESP && b.length >= 6) || (b[0] === ALIVE2_RESP && b.length >= 4),
  );
  if (reply.length < 2 || (reply[0] !== ALIVE2_X_RESP && reply[0] !== ALIVE2_RESP)) {
    socket.destroy();
    throw new Error(`EPMD gave no ALIVE2 answer for ${alive}`);
  }
  if (reply[1] !== 0) {
    socket.destroy();
    throw new Error(`EPMD refused the name ${alive} (result ${reply[1]}): is a node with this name already running?`);
  }
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const creation = reply[0] === ALIVE2_X_RESP ? view.getUint32(2) : view.getUint16(2);
  socket.setKeepAlive(true);
  // EPMD never writes again; it only watches for this connection to close.
  socket.on("error", () => {});
  return {
    creation,
    close() {
      socket.destroy();
    },
  };
}

/** What PORT_PLEASE2 tells about a registered node. */
export interface NodePort {
  /** The node's distribution port. */
  port: number;
  /** 72 hidden, 77 normal. */
  nodeType: number;
  /** Highest distribution version it speaks. */
  highest: number;
  /** Lowest distribution version it speaks. */
  lowest: number;
}

/** Asks the EPMD on `host` where `alive` listens; `undefined` when it is not registered. */
export async function portPlease(host: string, alive: string, epmdPort: number): Promise<NodePort | undefined> {
  let socket: net.Socket;
  try {
    socket = await connectSocket(host, epmdPort);
  } catch (e) {
    throw new Error(`no EPMD on ${host}:${epmdPort} (${(e as Error).message})`);
  }
  try {
    const name = new TextEncoder().encode(alive);
    socket.write(packet([PORT_PLEASE2_REQ, ...name]));
    const reply = await readUntil(socket, (b) => b.length >= 2 && b[1] !== 0);
    if (reply.length < 2 || reply[0] !== PORT2_RESP) throw new Error(`EPMD on ${host} gave no PORT2 answer`);
    if (reply[1] !== 0) return undefined;
    if (reply.length < 10) throw new Error(`EPMD on ${host} gave a truncated PORT2 answer`);
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    return { port: view.getUint16(2), nodeType: reply[4], highest: view.getUint16(6), lowest: view.getUint16(8) };
  } finally {
    socket.destroy();
  }
}
