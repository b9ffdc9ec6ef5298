/**
 * The TCP adapter for Deno, on `Deno.listen` / `Deno.connect`.
 *
 * Deno's connections are promise based, so each one runs a read loop (one
 * reused read buffer, paused by awaiting a resume signal) and a write loop
 * that drains a queue of copied chunks, coalesced into one write when several
 * piled up while the previous write was in flight.
 *
 * @module
 */

import type {
  ConnectOptions,
  ListenOptions,
  TcpAcceptor,
  TcpAdapter,
  TcpConnection,
  TcpConnectionHandler,
  TcpListener,
} from "./tcp.ts";

/** Size of each connection's reused read buffer. */
const READ_BUFFER_SIZE = 64 * 1024;

const NOOP_HANDLER: TcpConnectionHandler = { data() {} };

class DenoConnection implements TcpConnection {
  handler: TcpConnectionHandler = NOOP_HANDLER;
  closed = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #conn: Deno.TcpConn;
  #highWaterMark: number;
  #onError: (error: unknown) => void;
  #onClosed: (conn: DenoConnection) => void;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #writing = false;
  #needDrain = false;
  #closing = false;
  #paused = false;
  #resume: (() => void) | undefined;

  constructor(
    conn: Deno.TcpConn,
    highWaterMark: number,
    onError: (error: unknown) => void,
    onClosed: (conn: DenoConnection) => void,
  ) {
    this.#conn = conn;
    this.#highWaterMark = highWaterMark;
    this.#onError = onError;
    this.#onClosed = onClosed;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remoteAddress = addr.hostname;
    this.remotePort = addr.port;
    try {
      conn.setNoDelay(true);
    } catch {
      // Not fatal: only latency suffers.
    }
  }

  get bufferedAmount(): number {
    return this.#pendingBytes;
  }

  start(accept: TcpAcceptor): void {
    try {
      this.handler = accept(this);
    } catch (error) {
      this.fail(error);
      return;
    }
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER_SIZE);
    while (!this.closed) {
      if (this.#paused) {
        await new Promise<void>((resolve) => this.#resume = resolve);
        continue;
      }
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch (error) {
        this.#teardown(this.closed ? undefined : error);
        return;
      }
      if (this.closed) return;
      if (n === null) {
        this.#onEnd();
        return;
      }
      try {
        this.handler.data(buffer.subarray(0, n));
      } catch (error) {
        this.fail(error);
        return;
      }
    }
  }

  #onEnd(): void {
    try {
      if (this.handler.end) this.handler.end();
      else this.close();
    } catch (error) {
      this.fail(error);
    }
  }

  write(bytes: Uint8Array, length: number = bytes.length): boolean {
    if (this.closed || this.#closing || length === 0) return true;
    this.#pending.push(bytes.slice(0, length));
    this.#pendingBytes += length;
    if (!this.#writing) void this.#writeLoop();
    if (this.#pendingBytes >= this.#highWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0 && !this.closed) {
        const chunk = this.#pending.length === 1 ? this.#pending[0] : concat(this.#pending);
        this.#pending = [];
        let offset = 0;
        while (offset < chunk.length) {
          offset += await this.#conn.write(chunk.subarray(offset));
          if (this.closed) return;
        }
        this.#pendingBytes -= chunk.length;
      }
    } catch (error) {
      this.#teardown(this.closed ? undefined : error);
      return;
    } finally {
      this.#writing = false;
    }
    if (this.closed) return;
    if (this.#closing) {
      this.#teardown(undefined);
      return;
    }
    if (this.#needDrain) {
      this.#needDrain = false;
      try {
        this.handler.drain?.();
      } catch (error) {
        this.fail(error);
      }
    }
  }

  close(): void {
    if (this.closed || this.#closing) return;
    this.#closing = true;
    if (!this.#writing) this.#teardown(undefined);
  }

  abort(): void {
    this.#teardown(undefined);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  fail(error: unknown): void {
    this.#onError(error);
    this.abort();
  }

  #teardown(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or the runtime.
    }
    // Let a paused read loop finish.
    this.#resume?.();
    this.#onClosed(this);
    try {
      this.handler.close?.(error);
    } catch (e) {
      this.#onError(e);
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The Deno adapter. */
export const adapter: TcpAdapter = {
  listen(options: Required<ListenOptions>, accept: TcpAcceptor): Promise<TcpListener> {
    const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
    const connections = new Set<DenoConnection>();
    const forget = (conn: DenoConnection) => connections.delete(conn);
    let stopped = false;
    const acceptLoop = (async () => {
      while (!stopped) {
        let conn: Deno.TcpConn;
        try {
          conn = await listener.accept();
        } catch (error) {
          if (stopped) return;
          // Transient accept failures (e.g. too many open files) must not end the listener.
          options.onError(error);
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        const connection = new DenoConnection(conn, options.highWaterMark, options.onError, forget);
        connections.add(connection);
        connection.start(accept);
      }
    })();
    const addr = listener.addr as Deno.NetAddr;
    let closing: Promise<void> | undefined;
    let unbinding: Promise<void> | undefined;
    const stopAccepting = (): Promise<void> => {
      unbinding ??= (async () => {
        stopped = true;
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        await acceptLoop;
      })();
      return unbinding;
    };
    return Promise.resolve({
      hostname: addr.hostname,
      port: addr.port,
      close(): Promise<void> {
        closing ??= (async () => {
          const unbound = stopAccepting();
          for (const conn of [...connections]) conn.abort();
          await unbound;
        })();
        return closing;
      },
      stopAccepting,
    });
  },

  async connect(options: Required<ConnectOptions>, accept: TcpAcceptor): Promise<TcpConnection> {
    const conn = await Deno.connect({ hostname: options.hostname, port: options.port, transport: "tcp" });
    const connection = new DenoConnection(conn, options.highWaterMark, options.onError, () => {});
    connection.start(accept);
    return connection;
  },
};
