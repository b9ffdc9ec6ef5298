/**
 * The small TCP contract the rest of the program is written against, and
 * {@linkcode listen} / {@linkcode connect}, which pick the adapter for the
 * current runtime (`Bun.listen`, `Deno.listen` or `node:net`).
 *
 * The contract is callback based and synchronous on purpose: a read hands its
 * bytes to {@linkcode TcpConnectionHandler.data} without a promise per chunk,
 * and {@linkcode TcpConnection.write} never blocks. Backpressure is explicit:
 * `write` returns `false` once too much output is queued, the producer then
 * calls {@linkcode TcpConnection.pause} to stop reading from that client and
 * {@linkcode TcpConnection.resume} when {@linkcode TcpConnectionHandler.drain}
 * fires.
 *
 * @example Echo server and client
 * ```ts
 * import { connect, listen } from "./tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const server = await listen({ hostname: "127.0.0.1", port: 0 }, (conn) => ({
 *   data(bytes) { conn.write(bytes); },
 * }));
 * const received = Promise.withResolvers<string>();
 * const client = await connect({ hostname: "127.0.0.1", port: server.port }, () => ({
 *   data(bytes) { received.resolve(new TextDecoder().decode(bytes)); },
 * }));
 * client.write(new TextEncoder().encode("hi"));
 * assert.equal(await received.promise, "hi");
 * client.close();
 * await server.close();
 * ```
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { runtime } from "./runtime.ts";

/** One open TCP connection, either accepted by a listener or opened by {@linkcode connect}. */
export interface TcpConnection {
  /**
   * Queues `bytes` (its first `length` bytes, when given) for sending. The
   * connection keeps no reference to `bytes` after the call returns, so the
   * caller may reuse the buffer. Writes after
   * {@linkcode TcpConnection.close} are dropped. (`length` saves a caller
   * with a growable buffer the view a `subarray` would allocate per write.)
   *
   * @returns `false` once the queued output reached the high-water mark: stop
   * producing (usually: {@linkcode TcpConnection.pause}) until the handler's
   * `drain` is called. The bytes were queued anyway.
   */
  write(bytes: Uint8Array, length?: number): boolean;
  /**
   * As {@linkcode TcpConnection.write}, but without a copy: the connection
   * takes `bytes` and may keep a reference to it until it is sent, so the
   * caller must not change `bytes[0, length)` afterwards — unless
   * {@linkcode TcpConnection.bufferedAmount} is `0` right after the call (all
   * of it went to the operating system, no reference was kept), or until it
   * has come back to `0` (everything handed over was written). For a
   * producer that hands over large buffers (replies), so that the bytes
   * waiting for a slow reader exist once.
   *
   * @example
   * ```ts
   * import { connect, listen } from "./tcp.ts";
   * import assert from "node:assert/strict";
   *
   * const received = Promise.withResolvers<string>();
   * const server = await listen({ port: 0 }, () => ({ data(bytes) { received.resolve(new TextDecoder().decode(bytes)); } }));
   * const client = await connect({ port: server.port }, () => ({ data() {} }));
   * let buffer = new TextEncoder().encode("hello!");
   * client.writeOwned(buffer, 5);
   * // Reuse the buffer only if nothing of it is queued; else take a new one.
   * if (client.bufferedAmount > 0) buffer = new Uint8Array(buffer.length);
   * assert.equal(await received.promise, "hello");
   * client.close();
   * await server.close();
   * ```
   */
  writeOwned(bytes: Uint8Array, length?: number): boolean;
  /** Sends what is queued, then closes the connection. Idempotent. */
  close(): void;
  /**
   * Sends what is queued, then half-closes: the peer reads the end of the
   * data (a FIN) while this side goes on reading until the peer closes too
   * (its `end` callback, then {@linkcode TcpConnection.close}). A graceful
   * close for a peer that may still be sending: closing outright with its
   * bytes unread would reset the connection. Idempotent.
   */
  closeWrite(): void;
  /** Closes the connection at once, dropping queued output. Idempotent. */
  abort(): void;
  /** Stops reading from the peer: no `data` until {@linkcode TcpConnection.resume}. */
  pause(): void;
  /** Starts reading again after {@linkcode TcpConnection.pause}. */
  resume(): void;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** Bytes accepted by `write` and not yet handed to the operating system. */
  readonly bufferedAmount: number;
  /** Whether the connection was closed, by either side. */
  readonly closed: boolean;
}

/**
 * What happens on one connection. Every callback is optional except `data`.
 * The adapter catches anything a callback throws, reports it through
 * {@linkcode ListenOptions.onError} and aborts that connection only.
 */
export interface TcpConnectionHandler {
  /**
   * Bytes arrived. `bytes` is only valid during the call (adapters reuse
   * their read buffers): copy what must outlive it.
   */
  data(bytes: Uint8Array): void;
  /**
   * After a `write` returned `false`, the output queue went down to the
   * low-water mark ({@linkcode ListenOptions.lowWaterMark}, default: empty).
   */
  drain?(): void;
  /**
   * The peer half-closed: it sends nothing more but may still read. Without
   * this callback the adapter closes the connection (after flushing).
   */
  end?(): void;
  /** The connection is gone. Called exactly once; `error` when it failed. */
  close?(error?: unknown): void;
}

/** Makes the handler of a new connection; called once per connection. */
export type TcpAcceptor = (conn: TcpConnection) => TcpConnectionHandler;

/** Where and how to listen. */
export interface ListenOptions {
  /** The address to bind. Defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** The port to bind; `0` picks a free one. Defaults to `0`. */
  port?: number;
  /**
   * Queued output, in bytes, at which `write` starts returning `false`.
   * Defaults to {@linkcode DEFAULT_HIGH_WATER_MARK}.
   */
  highWaterMark?: number;
  /**
   * Queued output, in bytes, at or below which `drain` is called after a
   * `write` returned `false`. Defaults to `0` (the queue emptied). The
   * `node:net` adapter always waits for an empty queue.
   */
  lowWaterMark?: number;
  /**
   * Called with anything a handler throws (the connection is then aborted).
   * Defaults to `console.error`.
   */
  onError?: (error: unknown) => void;
}

/** Where to connect. */
export interface ConnectOptions {
  /** The host to connect to. Defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** The port to connect to. */
  port: number;
  /** As {@linkcode ListenOptions.highWaterMark}. */
  highWaterMark?: number;
  /** As {@linkcode ListenOptions.lowWaterMark}. */
  lowWaterMark?: number;
  /** As {@linkcode ListenOptions.onError}. */
  onError?: (error: unknown) => void;
}

/** A bound, accepting TCP listener. */
export interface TcpListener {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port (the real one when `0` was asked for). */
  readonly port: number;
  /**
   * Stops accepting and aborts every connection still open; resolves once
   * the port is released. Idempotent.
   */
  close(): Promise<void>;
  /**
   * Stops accepting but leaves open connections alone (they end on their own
   * or at a later {@linkcode TcpListener.close}); resolves once the port is
   * released, so a new listener may bind it. Idempotent.
   */
  stopAccepting(): Promise<void>;
}

/** The default {@linkcode ListenOptions.highWaterMark}: 64 KiB. */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/** The adapter shape each of `_bun.ts`, `_deno.ts` and `_node.ts` exports. */
export interface TcpAdapter {
  /** As {@linkcode listen}, with every option resolved. */
  listen(options: Required<ListenOptions>, accept: TcpAcceptor): Promise<TcpListener>;
  /** As {@linkcode connect}, with every option resolved. */
  connect(options: Required<ConnectOptions>, accept: TcpAcceptor): Promise<TcpConnection>;
}

/**
 * Runs a function in the async context this module was loaded in, outside
 * any process. Socket callbacks belong to no process: one that kept the
 * context of the process that called `listen` would act as that process,
 * and once it died every effect (a send, a call, a spawn) would be dropped.
 */
const outsideAnyProcess = AsyncLocalStorage.snapshot();

let adapter: Promise<TcpAdapter> | undefined;

/** Loads the adapter for this runtime once; only that adapter's module is imported. */
function loadAdapter(): Promise<TcpAdapter> {
  // Deno's module loader keeps the async context of the first `import()`: never a process's.
  adapter ??= outsideAnyProcess(() =>
    runtime === "bun"
      ? import("./_bun.ts").then((m) => m.adapter)
      : runtime === "deno"
      ? import("./_deno.ts").then((m) => m.adapter)
      : import("./_node.ts").then((m) => m.adapter)
  );
  return adapter;
}

/** The water marks of `options`, checked: `0 <= low < high`. */
function waterMarks(options: ListenOptions | ConnectOptions): { highWaterMark: number; lowWaterMark: number } {
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const lowWaterMark = options.lowWaterMark ?? 0;
  if (!(Number.isInteger(highWaterMark) && highWaterMark >= 1)) {
    throw new RangeError(`highWaterMark must be an integer >= 1, got "${highWaterMark}"`);
  }
  if (!(Number.isInteger(lowWaterMark) && lowWaterMark >= 0 && lowWaterMark < highWaterMark)) {
    throw new RangeError(`lowWaterMark must be an integer in 0..${highWaterMark - 1}, got "${lowWaterMark}"`);
  }
  return { highWaterMark, lowWaterMark };
}

function reportError(error: unknown): void {
  console.error("TCP connection handler failed:", error);
}

/**
 * Listens for TCP connections; `accept` makes the handler of each one.
 *
 * @example Port 0 picks a free port
 * ```ts
 * import { listen } from "./tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const server = await listen({ port: 0 }, () => ({ data() {} }));
 * assert.ok(server.port > 0);
 * assert.equal(server.hostname, "127.0.0.1");
 * await server.close();
 * ```
 *
 * @param options Where to listen; see {@linkcode ListenOptions}.
 * @param accept Makes the handler of each accepted connection.
 * @returns The listener, once bound.
 */
export async function listen(
  options: ListenOptions,
  accept: TcpAcceptor,
): Promise<TcpListener> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot listen: port must be an integer in 0..65535, got "${port}"`);
  }
  const marks = waterMarks(options);
  const hostname = options.hostname ?? "127.0.0.1";
  const adapter = await loadAdapter();
  let listener: Awaited<ReturnType<typeof adapter.listen>>;
  try {
    listener = await outsideAnyProcess(() =>
      adapter.listen({ hostname, port, ...marks, onError: options.onError ?? reportError }, accept)
    );
  } catch (error) {
    // Each runtime words it differently (Bun: "Failed to listen at 127.0.0.1"); say it one way.
    if ((error as { code?: unknown } | null)?.code === "EADDRINUSE") throw new AddressInUseError(hostname, port, error);
    throw error;
  }
  // Closing from a process must not lend its context to the runtime's own promises either (Deno).
  return {
    hostname: listener.hostname,
    port: listener.port,
    close: () => outsideAnyProcess(() => listener.close()),
    stopAccepting: () => outsideAnyProcess(() => listener.stopAccepting()),
  };
}

/**
 * {@linkcode listen} failed because the address is taken: the message reads
 * `address 127.0.0.1:4040 is already in use` on every runtime.
 *
 * @example
 * ```ts
 * import { AddressInUseError, listen } from "./tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const first = await listen({ port: 0 }, () => ({ data() {} }));
 * await assert.rejects(
 *   listen({ port: first.port }, () => ({ data() {} })),
 *   (e) => e instanceof AddressInUseError && e.message === `address 127.0.0.1:${first.port} is already in use`,
 * );
 * await first.close();
 * ```
 */
export class AddressInUseError extends Error {
  /** Always `"EADDRINUSE"`, as Node names it. */
  readonly code = "EADDRINUSE";
  /** The address asked for. */
  readonly hostname: string;
  /** The port asked for. */
  readonly port: number;
  /**
   * Creates the error.
   *
   * @param hostname The address asked for.
   * @param port The port asked for.
   * @param cause The runtime's own error.
   */
  constructor(hostname: string, port: number, cause?: unknown) {
    super(`address ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port} is already in use`, { cause });
    this.name = "AddressInUseError";
    this.hostname = hostname;
    this.port = port;
  }
}

/**
 * Opens a TCP connection; `accept` makes its handler. Meant for clients,
 * tests and load generators; it uses the same adapter as {@linkcode listen}.
 *
 * @example Usage
 * ```ts
 * import { connect, listen } from "./tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const closed = Promise.withResolvers<void>();
 * const server = await listen({ port: 0 }, (conn) => ({
 *   data() {},
 *   end() { conn.close(); },
 *   close() { closed.resolve(); },
 * }));
 * const client = await connect({ port: server.port }, () => ({ data() {} }));
 * assert.equal(client.remotePort, server.port);
 * client.close();
 * await closed.promise;
 * await server.close();
 * ```
 *
 * @param options Where to connect; see {@linkcode ConnectOptions}.
 * @param accept Makes the handler of the connection.
 * @returns The connection, once established.
 */
export async function connect(
  options: ConnectOptions,
  accept: TcpAcceptor,
): Promise<TcpConnection> {
  const adapter = await loadAdapter();
  return outsideAnyProcess(() =>
    adapter.connect({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      ...waterMarks(options),
      onError: options.onError ?? reportError,
    }, accept)
  );
}
