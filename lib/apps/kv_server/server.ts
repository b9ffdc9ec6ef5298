/**
 * `KVServer`: the KV text protocol (`PROTOCOL.md`) over TCP, as the
 * application `"kv_server"` of the Elixir guide, on top of the `"kv"`
 * application.
 *
 * The supervision tree ({@linkcode startLink}), `one_for_one`:
 *
 * ```
 * KVServer.Supervisor
 * ├── KVServer.TaskSupervisor   a Task.Supervisor: one process per connection
 * └── KVServer.Acceptor         a process that owns the listening socket
 * ```
 *
 * **The acceptor** binds the port before its start returns (so a port in use
 * fails the start), and closes the listening socket when it stops or dies.
 * If it dies, its supervisor restarts it and it listens again on the *same*
 * port (the one it bound, when port `0` was asked for). Open connections are
 * not the acceptor's: they live on under the Task.Supervisor, as in OTP.
 *
 * **Each connection** is a process started under the Task.Supervisor (not
 * linked to the acceptor) that owns the socket: when the process dies, for
 * any reason, its socket is closed; when the socket closes, the process
 * exits `normal`. The protocol itself ({@linkcode serveConnection}) runs
 * right in the socket's callbacks, on behalf of that process: a read costs
 * no message and no promise, so the server is as fast as the bare protocol
 * loop; messages are used for the lifecycle only. A throw while serving a
 * connection ends that connection's process with reason `["error", thrown]`
 * and touches nothing else.
 *
 * **At most `maxConnections`** connections are served at once (the
 * Task.Supervisor's `maxChildren`). A connection past it is refused
 * cleanly: it gets `ERROR TOO MANY CONNECTIONS\r\n` and is closed, without
 * reading its requests. A slot is free again once the connection process of
 * a closed connection has exited. (A connection that arrives while the
 * Task.Supervisor itself is being restarted gets `ERROR\r\n` and is closed.)
 *
 * **Stopping** the server stops the acceptor first (the port is released),
 * then the Task.Supervisor, which ends every connection process and so
 * closes every connection.
 *
 * @example A server on a free port, over a plain Map store
 * ```ts
 * import * as Server from "./server.ts";
 * import { MapStore } from "./map_store.ts";
 * import * as net from "node:net";
 * import assert from "node:assert/strict";
 *
 * const sup = await Server.startLink({ port: 0, store: new MapStore() });
 * const { port } = Server.address(sup)!;
 * const socket = net.connect(port, "127.0.0.1");
 * let received = "";
 * socket.on("data", (chunk) => received += chunk.toString("latin1"));
 * const closed = new Promise((resolve) => socket.on("close", resolve));
 * socket.end("CREATE shopping\r\nPUT shopping milk 1\r\nGET shopping milk\r\n");
 * await closed;
 * assert.equal(received, "OK\r\nOK\r\n1\r\nOK\r\n");
 * await Server.stop(sup);
 * ```
 *
 * @module
 */

import {
  Application,
  ExitMessage,
  formatReason,
  Logger,
  type Pid,
  Process,
  Supervisor,
  Task,
  TaskSupervisor,
} from "../../../mod.ts";
import {
  canCollectGarbage,
  collectGarbage,
  listen,
  type TcpConnection,
  type TcpConnectionHandler,
  type TcpListener,
} from "../../net/mod.ts";
import { memoryUsage } from "node:process";
import { ERROR, type KvStore } from "./command.ts";
import { DEFAULT_MAX_LINE_LENGTH } from "./line_reader.ts";
import { serveConnection, type ServedConnection } from "./serve_connection.ts";
import { registryStore } from "./kv_store.ts";
import { currentRoutes, RoutedStore } from "./router.ts";
import { app as kvApp } from "../kv/mod.ts";

/** The default port: 4040, as in the guide. */
export const DEFAULT_PORT = 4040;
/** The default address to bind: loopback only. */
export const DEFAULT_HOSTNAME = "127.0.0.1";
/** The default {@linkcode ServerOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/**
 * The default {@linkcode ServerOptions.highWaterMark}: 1 MiB of unsent reply
 * bytes per connection. Enough to keep a reading client's pipe full (a
 * pipelined batch of large values), small enough that 10,000 stalled
 * clients cannot take more than a few GB — and slow readers are paused long
 * before that in practice.
 */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** The default {@linkcode ServerOptions.lowWaterMark}: 256 KiB, so a resumed connection runs a while before it stops again. */
export const DEFAULT_LOW_WATER_MARK = 256 * 1024;
/**
 * The default {@linkcode ServerOptions.outputLimit}: 16 MiB. A connection
 * stops executing at the high-water mark, so it passes this only if one
 * batch of replies overshoots by 15 MiB: a backstop, as Redis's
 * `client-output-buffer-limit`.
 */
export const DEFAULT_OUTPUT_LIMIT = 16 * 1024 * 1024;
/** The default {@linkcode ServerOptions.drainTimeout}: 5 s to answer what was received before stopping. */
export const DEFAULT_DRAIN_TIMEOUT = 5;
/** The name the application's server supervisor is registered under. */
export const NAME = "KVServer.Supervisor";

/** What a refused connection (one past `maxConnections`) receives before it is closed. */
export const TOO_MANY_CONNECTIONS: Uint8Array = new TextEncoder().encode("ERROR TOO MANY CONNECTIONS\r\n");

/** Options of {@linkcode startLink}. */
export interface ServerOptions {
  /** The address to bind. Defaults to {@linkcode DEFAULT_HOSTNAME}. */
  hostname?: string;
  /** The port to bind; `0` picks a free one. Defaults to {@linkcode DEFAULT_PORT}. */
  port?: number;
  /** The longest request line, in bytes. Defaults to 64 KiB. */
  maxLineLength?: number;
  /** Most connections served at once. Defaults to {@linkcode DEFAULT_MAX_CONNECTIONS}. */
  maxConnections?: number;
  /**
   * Where the data lives. Defaults to the `"kv"` application's registry and
   * buckets ({@linkcode registryStore}), which must then be running.
   */
  // deno-lint-ignore no-explicit-any
  store?: KvStore<any>;
  /** Register the server's supervisor under this name. */
  name?: string;
  /**
   * Told about each failure while serving a connection (each one answered
   * `ERROR`). Defaults to a rate-limited one-line log (level `error`, at most
   * 10 lines a second, then one `suppressed N` line).
   */
  onError?: (error: unknown) => void;
  /**
   * Unsent reply bytes at which a connection stops executing requests and
   * reading its socket. Defaults to {@linkcode DEFAULT_HIGH_WATER_MARK}.
   */
  highWaterMark?: number;
  /** Unsent reply bytes at which it resumes. Defaults to {@linkcode DEFAULT_LOW_WATER_MARK}. */
  lowWaterMark?: number;
  /**
   * Unsent reply bytes past which a connection is closed, with one log line
   * (level `warning`). Defaults to {@linkcode DEFAULT_OUTPUT_LIMIT}.
   */
  outputLimit?: number;
  /**
   * Seconds without a complete request after which a connection is closed
   * (as Redis's `timeout`); `0` (the default) never closes one. Checked four
   * times per period, so a silent client goes within 1.25 periods.
   */
  idleTimeout?: number;
  /**
   * Seconds without a request after which, if the process's memory (RSS) grew
   * by {@linkcode IDLE_COLLECT_GROWTH} or a quarter since the last look that
   * collected, the server runs a full garbage collection that returns the freed
   * memory to the operating system (`collectGarbage` of `lib/net`: Bun;
   * elsewhere only under `--expose-gc`). `0` (the default) never does: the
   * collection pauses the whole program, which only `kv serve` (default
   * {@linkcode DEFAULT_IDLE_COLLECT}) knows to be this server alone.
   */
  idleCollect?: number;
}

/** `kv serve`'s {@linkcode ServerOptions.idleCollect}, in seconds. */
export const DEFAULT_IDLE_COLLECT = 1;
/** Growth of the RSS, in bytes, below which an idle server does not collect (see {@linkcode ServerOptions.idleCollect}). */
export const IDLE_COLLECT_GROWTH = 64 * 2 ** 20;

/** Where a server listens. */
export interface ServerAddress {
  /** The bound address. */
  hostname: string;
  /** The bound port (the real one when `0` was asked for). */
  port: number;
}

/** The `"kv_server"` application's environment. */
export type ServerEnv = {
  /** As {@linkcode ServerOptions.hostname}. */
  hostname: string;
  /** As {@linkcode ServerOptions.port}. */
  port: number;
  /** As {@linkcode ServerOptions.maxLineLength}. */
  maxLineLength: number;
  /** As {@linkcode ServerOptions.maxConnections}. */
  maxConnections: number;
  /** As {@linkcode ServerOptions.highWaterMark}. */
  highWaterMark?: number;
  /** As {@linkcode ServerOptions.lowWaterMark}. */
  lowWaterMark?: number;
  /** As {@linkcode ServerOptions.outputLimit}. */
  outputLimit?: number;
  /** As {@linkcode ServerOptions.idleTimeout}. */
  idleTimeout?: number;
  /** As {@linkcode ServerOptions.idleCollect}. */
  idleCollect?: number;
};

// deno-lint-ignore no-explicit-any
type AnyStore = KvStore<any>;

/** Tells a connection process that its socket closed. */
const CLOSED: unique symbol = Symbol("KVServer.closed");

/** `ERROR` replies: a client can cause them at will, so their lines are rate-limited. */
const errorLog = new Logger.Throttle({ level: "error", max: 10, windowMs: 1000, what: "ERROR replies" });

function reportError(error: unknown): void {
  errorLog.log(() => `KV server: answered ERROR: ${oneLine(error)}`);
}

/** A failure in one line: no stack trace. */
function oneLine(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : formatReason(error)).replace(/\s+/g, " ");
}

function checkCount(name: string, value: number, min: number): void {
  if (!(Number.isInteger(value) && value >= min) && value !== Infinity) {
    throw new RangeError(`Cannot start the KV server: ${name} must be an integer >= ${min}, got "${value}"`);
  }
}

/** One running server: what its children share, and outlives their restarts. */
class ServerState {
  readonly hostname: string;
  /** The configured port, then the bound one: a restarted acceptor binds it again. */
  port: number;
  readonly maxLineLength: number;
  readonly maxConnections: number;
  readonly store: AnyStore;
  readonly onError: (error: unknown) => void;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly outputLimit: number;
  readonly idleTimeout: number;
  readonly idleCollect: number;
  /** Connections accepted so far: with their request counts, tells the idle collector of any activity. */
  accepted = 0;
  /** Open connections (their handlers), for draining and the idle sweep. */
  readonly connections = new Set<Connection>();
  /** Draining: new connections are refused. */
  draining = false;
  /** Told when the last open connection closed (while draining). */
  onAllClosed: (() => void) | undefined;
  /** The current Task.Supervisor of connections. */
  tasks: Pid | undefined;
  /** The current (or last) listener. */
  listener: TcpListener | undefined;
  boundHostname: string | undefined;

  constructor(options: ServerOptions) {
    this.hostname = options.hostname ?? DEFAULT_HOSTNAME;
    this.port = options.port ?? DEFAULT_PORT;
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.store = options.store ?? registryStore();
    this.onError = options.onError ?? reportError;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.lowWaterMark = options.lowWaterMark ?? DEFAULT_LOW_WATER_MARK;
    this.outputLimit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
    this.idleTimeout = options.idleTimeout ?? 0;
    this.idleCollect = options.idleCollect ?? 0;
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65535) {
      throw new RangeError(`Cannot start the KV server: port must be an integer in 0..65535, got "${this.port}"`);
    }
    checkCount("maxLineLength", this.maxLineLength, 1);
    checkCount("maxConnections", this.maxConnections, 1);
    checkCount("highWaterMark", this.highWaterMark, 1);
    checkCount("outputLimit", this.outputLimit, 1);
    if (!(Number.isInteger(this.lowWaterMark) && this.lowWaterMark >= 0 && this.lowWaterMark < this.highWaterMark)) {
      throw new RangeError(
        `Cannot start the KV server: lowWaterMark must be an integer in 0..highWaterMark-1 (${
          this.highWaterMark - 1
        }), got "${this.lowWaterMark}"`,
      );
    }
    if (!(this.idleTimeout >= 0 && this.idleTimeout <= 2 ** 31 / 1000)) {
      throw new RangeError(
        `Cannot start the KV server: idleTimeout must be a number of seconds >= 0, got "${this.idleTimeout}"`,
      );
    }
    if (!(this.idleCollect >= 0 && this.idleCollect <= 2 ** 31 / 1000)) {
      throw new RangeError(
        `Cannot start the KV server: idleCollect must be a number of seconds >= 0, got "${this.idleCollect}"`,
      );
    }
  }

  /** Accepted connections plus requests on the open ones: unchanged between two looks means idle. */
  activity(): number {
    let n = this.accepted;
    for (const conn of this.connections) n += conn.requests;
    return n;
  }

  /** The listener's acceptor callback: starts the connection's process, or refuses it. */
  accept(conn: TcpConnection): TcpConnectionHandler {
    this.accepted++;
    let task: Task.Task<unknown>;
    if (this.draining) {
      // Stopping: the listener is closing, this one slipped in.
      conn.abort();
      return REFUSED;
    }
    try {
      if (this.tasks === undefined) throw new Error("The connection supervisor is not running");
      const label = ["connection", `${conn.remoteAddress}:${conn.remotePort}`];
      task = TaskSupervisor.asyncNolink(this.tasks, () => {
        Process.setLabel(label);
        return connectionBody();
      });
    } catch (error) {
      // Full (`max_children`), or the Task.Supervisor is restarting: refuse, cleanly.
      const full = error instanceof Supervisor.StartError && error.reason === "max_children";
      if (!full) this.onError(error);
      conn.write(full ? TOO_MANY_CONNECTIONS : ERROR);
      conn.close();
      return REFUSED;
    }
    const handler = new Connection(conn, task.pid, this);
    // Whatever ends the process (its socket closed, a crash, a kill, a shutdown) closes the socket.
    void Task.yield(task, Infinity).then(() => conn.abort());
    return handler;
  }
}

const REFUSED: TcpConnectionHandler = { data() {} };

/** A connection process: it waits for its socket to close, then exits normal. */
function connectionBody(): Promise<unknown> {
  return Process.receive(CLOSED);
}

/**
 * The socket's handler: the protocol loop, run on behalf of the connection
 * process `pid`. Lifecycle only goes through the process.
 */
class Connection implements TcpConnectionHandler {
  readonly #conn: TcpConnection;
  readonly #pid: Pid;
  readonly #inner: ServedConnection;
  readonly #onError: (error: unknown) => void;
  readonly #state: ServerState;
  /** The idle sweep: requests seen at the last look, and looks since one came. */
  requestsSeen = 0;
  quietLooks = 0;

  constructor(conn: TcpConnection, pid: Pid, state: ServerState) {
    this.#conn = conn;
    this.#pid = pid;
    this.#state = state;
    this.#onError = state.onError;
    this.#inner = serveConnection(conn, state.store, {
      maxLineLength: state.maxLineLength,
      onError: state.onError,
      outputLimit: state.outputLimit,
      onBackpressure: (stopped, unsent) =>
        Logger.debug(() =>
          stopped
            ? `KV server: ${this.peer} stopped reading: ${unsent} reply bytes unsent`
            : `KV server: ${this.peer} reading again: ${unsent} reply bytes unsent`
        ),
      onOutputLimit: (unsent) =>
        Logger.warning(
          `KV server: closed ${this.peer}: ${unsent} reply bytes unsent, over the output limit (${state.outputLimit})`,
        ),
    });
    state.connections.add(this);
  }

  /** The client, as `host:port`. */
  get peer(): string {
    return `${this.#conn.remoteAddress}:${this.#conn.remotePort}`;
  }

  /** Complete requests received so far. */
  get requests(): number {
    return this.#inner.requests;
  }

  /** Answers what was received, then closes (with a FIN). */
  shutdown(): void {
    try {
      this.#inner.shutdown();
    } catch (error) {
      this.#crash(error);
    }
  }

  /** Closes at once. */
  abort(): void {
    this.#conn.abort();
  }

  data(bytes: Uint8Array): void {
    if (!Process.isAlive(this.#pid)) {
      // The process is gone and its socket about to close: serve nothing more.
      this.#conn.abort();
      return;
    }
    try {
      this.#inner.data(bytes);
    } catch (error) {
      this.#crash(error);
    }
  }

  drain(): void {
    try {
      this.#inner.drain?.();
    } catch (error) {
      this.#crash(error);
    }
  }

  end(): void {
    try {
      this.#inner.end?.();
    } catch (error) {
      this.#crash(error);
    }
  }

  close(error?: unknown): void {
    const state = this.#state;
    state.connections.delete(this);
    if (state.connections.size === 0) state.onAllClosed?.();
    try {
      this.#inner.close?.(error);
    } finally {
      Process.send(this.#pid, CLOSED);
    }
  }

  /** A failure of this connection ends its process (and so its socket), nothing else. */
  #crash(error: unknown): void {
    try {
      this.#onError(error);
    } catch {
      // A broken error hook must not spread the failure.
    }
    Process.exit(this.#pid, ["error", error]);
    this.#conn.abort();
  }
}

/** A promise and its settle functions (`Promise.withResolvers`, which Node 20 lacks). */
interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void, reject!: (error: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/**
 * The acceptor process: binds, then waits for an exit signal (it traps
 * exits) to stop accepting. `ready` settles once it listens (or failed to).
 */
async function acceptorBody(state: ServerState, ready: Deferred): Promise<void> {
  Process.trapExit(true);
  Process.setLabel("acceptor");
  let listener: TcpListener;
  try {
    // A previous acceptor's listener (it died) must release the port first.
    await state.listener?.stopAccepting();
    listener = await listen(
      {
        hostname: state.hostname,
        port: state.port,
        highWaterMark: state.highWaterMark,
        lowWaterMark: state.lowWaterMark,
        onError: state.onError,
      },
      (conn) => state.accept(conn),
    );
  } catch (error) {
    ready.reject(error);
    return;
  }
  state.listener = listener;
  state.port = listener.port;
  state.boundHostname = listener.hostname;
  ready.resolve();
  for (;;) {
    const msg = await Process.receive();
    if (msg instanceof ExitMessage) {
      await listener.stopAccepting();
      Process.exit(msg.reason);
    }
  }
}

/** Starts the acceptor (inside the supervisor, which it links to); resolves once it listens. */
function startAcceptor(state: ServerState): Promise<Pid> {
  const ready = deferred();
  const task = Task.async(() => acceptorBody(state, ready));
  void Task.yield(task, Infinity).then((outcome) => {
    // Killed, crashed or stopped: the port must be released in every case.
    void state.listener?.stopAccepting();
    ready.reject(
      new Error(
        `The KV server's acceptor exited before listening: ${outcome?.[0] === "exit" ? String(outcome[1]) : "normal"}`,
      ),
    );
  });
  return ready.promise.then(() => task.pid);
}

/** Running servers, by supervisor pid. */
const servers = new WeakMap<Pid, ServerState>();

/**
 * Starts a KV server: its supervisor, the connections' Task.Supervisor and
 * the acceptor. Resolves once it listens; rejects (and starts nothing) if it
 * cannot bind. Linked to the caller when the caller is a process.
 *
 * @example
 * ```ts
 * import * as Server from "./server.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const sup = await Server.startLink({ port: 0, store: new MapStore(), maxConnections: 100 });
 * assert.ok(Server.address(sup)!.port > 0);
 * await Server.stop(sup);
 * ```
 *
 * @param options See {@linkcode ServerOptions}.
 * @returns The server's supervisor.
 */
export async function startLink(options: ServerOptions = {}): Promise<Pid> {
  const state = new ServerState(options);
  const children: Supervisor.ChildSpec[] = [
    {
      id: "KVServer.TaskSupervisor",
      type: "supervisor",
      start: async () => {
        const tasks = await TaskSupervisor.startLink({ maxChildren: state.maxConnections });
        state.tasks = tasks;
        return tasks;
      },
    },
    { id: "KVServer.Acceptor", start: () => startAcceptor(state), restart: "permanent", shutdown: 5000 },
  ];
  if (state.idleTimeout > 0) {
    children.push({ id: "KVServer.IdleSweeper", start: () => Promise.resolve(startIdleSweeper(state)) });
  }
  if (state.idleCollect > 0 && canCollectGarbage()) {
    children.push({ id: "KVServer.IdleCollector", start: () => Promise.resolve(startIdleCollector(state)) });
  }
  const pid = await Supervisor.startLink(children, {
    strategy: "one_for_one",
    name: options.name,
    // Restart intensity: an acceptor restart only binds the port again (open
    // connections live under the Task.Supervisor), so it is cheap and loses
    // nothing; operators killing it from the Observer, or a burst of accept
    // failures, must not stop the server (OTP's default, 3 in 5 s, closed
    // the port after four kills). A real crash loop — a child that dies
    // right after each start — still runs 200 restarts in well under a
    // second and gives up, which stops the application and so the node.
    maxRestarts: 200,
    maxSeconds: 10,
  });
  servers.set(pid, state);
  return pid;
}

/**
 * The idle sweep: a process that looks at every connection four times per
 * `idleTimeout` and closes one that received no complete request for four
 * looks in a row. One timer for all connections, nothing on the request path
 * but a counter.
 */
function startIdleSweeper(state: ServerState): Pid {
  const period = (state.idleTimeout * 1000) / 4;
  return Process.spawnLink(async () => {
    Process.setLabel("idle sweeper");
    for (;;) {
      await Process.receive(() => false, period);
      for (const conn of state.connections) {
        const requests = conn.requests;
        if (requests !== conn.requestsSeen) {
          conn.requestsSeen = requests;
          conn.quietLooks = 0;
        } else if (++conn.quietLooks >= 4) {
          Logger.info(() => `KV server: closed ${conn.peer}: idle for ${state.idleTimeout} s`);
          conn.abort();
        }
      }
    }
  });
}

/**
 * The idle collector: a process that looks every `idleCollect` seconds and,
 * when nothing happened since its last look (no connection, no request) and
 * the RSS grew by {@linkcode IDLE_COLLECT_GROWTH} (or a quarter) since the
 * lowest it has seen since its last collection, runs a full collection that
 * returns the freed memory to the operating system. Bun's collector would do
 * a full collection on its own only many seconds later: after making a
 * million buckets, this brings the RSS down from about 1.2 GB to what they
 * need a second after the burst. The pause (1-1.7 s with a million buckets)
 * falls when no client has sent anything for a period, at most once per
 * growth step; a request arriving during it waits.
 */
function startIdleCollector(state: ServerState): Pid {
  const period = state.idleCollect * 1000;
  return Process.spawnLink(async () => {
    Process.setLabel("idle collector");
    let seen = state.activity();
    let floor = memoryUsage.rss();
    for (;;) {
      await Process.receive(() => false, period);
      const activity = state.activity();
      const rss = memoryUsage.rss();
      if (activity !== seen) {
        seen = activity;
        continue;
      }
      if (rss < floor) floor = rss;
      if (rss - floor < Math.max(IDLE_COLLECT_GROWTH, floor / 4)) continue;
      const started = performance.now();
      collectGarbage();
      const after = memoryUsage.rss();
      floor = after;
      Logger.info(() =>
        `KV server: idle, collected garbage in ${(performance.now() - started).toFixed(0)} ms: RSS ${
          (rss / 2 ** 20).toFixed(0)
        } -> ${(after / 2 ** 20).toFixed(0)} MiB`
      );
    }
  });
}

/**
 * Drains a server before it is stopped: stops accepting (the port is
 * released), then lets every open connection answer the requests it has
 * received and close with a FIN. Resolves `true` once every connection is
 * closed, or `false` after `timeoutMs` (the rest are then reset). Call
 * {@linkcode stop} (or stop the application) afterwards.
 *
 * @example
 * ```ts
 * import * as Server from "./server.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const sup = await Server.startLink({ port: 0, store: new MapStore() });
 * assert.equal(await Server.drain(sup, 1000), true);
 * await Server.stop(sup);
 * ```
 *
 * @param server The server's supervisor (pid or name).
 * @param timeoutMs How long the connections get.
 * @returns Whether every connection closed in time.
 */
export async function drain(server: Pid | string = NAME, timeoutMs = DEFAULT_DRAIN_TIMEOUT * 1000): Promise<boolean> {
  const pid = typeof server === "string" ? Process.whereis(server) : server;
  const state = pid === undefined ? undefined : servers.get(pid);
  if (state === undefined) return true;
  state.draining = true;
  await state.listener?.stopAccepting();
  const allClosed = new Promise<void>((resolve) => state.onAllClosed = resolve);
  for (const conn of [...state.connections]) conn.shutdown();
  if (state.connections.size > 0) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([allClosed, late]);
    clearTimeout(timer);
  }
  state.onAllClosed = undefined;
  if (state.connections.size === 0) return true;
  for (const conn of [...state.connections]) conn.abort();
  return false;
}

/**
 * The child spec of a KV server, to run it under another supervisor.
 *
 * @example
 * ```ts
 * import * as Server from "./server.ts";
 * import { MapStore } from "./map_store.ts";
 * import { Supervisor } from "../../../mod.ts";
 *
 * const top = await Supervisor.startLink([Server.childSpec({ port: 0, store: new MapStore() })], { strategy: "one_for_one" });
 * await Supervisor.stop(top);
 * ```
 *
 * @param options See {@linkcode ServerOptions}.
 * @returns A supervisor child spec with id `"KVServer.Supervisor"`.
 */
export function childSpec(options: ServerOptions = {}): Supervisor.ChildSpec {
  return { id: NAME, start: () => startLink(options), type: "supervisor" };
}

/**
 * Where a running server listens: by its supervisor's pid or name (default:
 * the application's, {@linkcode NAME}).
 *
 * @example
 * ```ts
 * import * as Server from "./server.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(Server.address("no_such_server"), undefined);
 * ```
 *
 * @param server The server's supervisor.
 * @returns The bound address, or `undefined` if no such server runs.
 */
export function address(server: Pid | string = NAME): ServerAddress | undefined {
  const pid = typeof server === "string" ? Process.whereis(server) : server;
  const state = pid === undefined ? undefined : servers.get(pid);
  if (state === undefined || state.boundHostname === undefined || !Process.isAlive(pid!)) return undefined;
  return { hostname: state.boundHostname, port: state.port };
}

/**
 * Stops a server started with {@linkcode startLink}: the acceptor (the port is
 * released), then every connection. Resolves once all of it is down.
 *
 * @example
 * ```ts
 * import * as Server from "./server.ts";
 * import { MapStore } from "./map_store.ts";
 *
 * const sup = await Server.startLink({ port: 0, store: new MapStore() });
 * await Server.stop(sup);
 * ```
 *
 * @param server The server's supervisor.
 */
export async function stop(server: Pid | string = NAME): Promise<void> {
  const pid = typeof server === "string" ? Process.whereis(server) : server;
  const state = pid === undefined ? undefined : servers.get(pid);
  await Supervisor.stop(server);
  await state?.listener?.stopAccepting();
}

/**
 * The `"kv_server"` application: a server named {@linkcode NAME} over the
 * `"kv"` application (a dependency, started first by
 * `Application.ensureAllStarted`). Configure it through its environment
 * ({@linkcode ServerEnv}).
 *
 * @example
 * ```ts
 * import * as Server from "./server.ts";
 * import { Application } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * await Application.ensureAllStarted(Server.app, { env: { port: 0 } });
 * assert.ok(Server.address()!.port > 0);
 * await Application.stop(Server.app);
 * await Application.stop("kv");
 * ```
 */
/**
 * The store of the `"kv"` application's buckets; with a routing table in its
 * environment (`kv serve --name ... --routes ...`), routed across nodes.
 */
function appStore(): AnyStore {
  const local = registryStore(Application.getEnv<string>(kvApp.name, "prefix", ""));
  return currentRoutes().length === 0 ? local : new RoutedStore(local);
}

/** The `"kv_server"` application: the acceptor and its connections under one supervisor. */
export const app: Application.Spec<ServerEnv> = Application.define<ServerEnv>({
  name: "kv_server",
  description: "The KV text protocol over TCP",
  dependencies: [kvApp],
  env: {
    hostname: DEFAULT_HOSTNAME,
    port: DEFAULT_PORT,
    maxLineLength: DEFAULT_MAX_LINE_LENGTH,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
  },
  // Over the buckets of the running "kv" application (with its name prefix).
  start: (_type, env) => startLink({ ...env, name: NAME, store: appStore() }),
});
