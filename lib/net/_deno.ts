/**
 * The TCP adapter for Deno, on `Deno.listen` / `Deno.connect`.
 *
 * Deno's connections are promise based, so each one runs a read loop (one
 * reused read buffer, paused by awaiting a resume signal) and a write loop
 * that drains a queue of chunks (copies for `write`, the caller's own bytes
 * for `writeOwned`). Small chunks that piled up while the previous write was
 * in flight are coalesced into one write (a copy of at most
 * {@linkcode COALESCE_LIMIT} bytes); large ones are written as they are, so
 * the bytes of large replies exist once.
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

/** Chunks are merged into one write up to this many bytes; larger ones go alone. */
export const COALESCE_LIMIT = 64 * 1024;

const NOOP_HANDLER: TcpConnectionHandler = { data() {} };
const NO_BYTES = new Uint8Array(0);

class DenoConnection implements TcpConnection {
  handler: TcpConnectionHandler = NOOP_HANDLER;
  closed = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #conn: Deno.TcpConn;
  #highWaterMark: number;
  #lowWaterMark: number;
  #onError: (error: unknown) => void;
  #onClosed: (conn: DenoConnection) => void;
  #pending: Uint8Array[] = [];
  #pendingHead = 0;
  #pendingBytes = 0;
  #writing = false;
  /** The chunk being written (until its write resolves). */
  #inFlight: Uint8Array = NO_BYTES;
  #needDrain = false;
  #closing = false;
  /** `closeWrite` was called: send the FIN once the queue is written. */
  #halfClosing = false;
  #paused = false;
  #resume: (() => void) | undefined;

  constructor(
    conn: Deno.TcpConn,
    marks: { highWaterMark: number; lowWaterMark: number },
    onError: (error: unknown) => void,
    onClosed: (conn: DenoConnection) => void,
  ) {
    this.#conn = conn;
    this.#highWaterMark = marks.highWaterMark;
    this.#lowWaterMark = marks.lowWaterMark ?? 0;
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
    return this.#enqueue(bytes.slice(0, length));
  }

  writeOwned(bytes: Uint8Array, length: number = bytes.length): boolean {
    return this.#enqueue(length === bytes.length ? bytes : bytes.subarray(0, length));
  }

  #enqueue(chunk: Uint8Array): boolean {
    if (this.closed || this.#closing || this.#halfClosing || chunk.length === 0) return true;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (!this.#writing) this.#startWriting();
    if (this.#pendingBytes >= this.#highWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** The next write: the oldest chunk, merged with the small ones after it. */
  #nextChunk(): Uint8Array {
    const pending = this.#pending;
    const first = pending[this.#pendingHead++];
    let end = this.#pendingHead;
    let length = first.length;
    while (end < pending.length && length + pending[end].length <= COALESCE_LIMIT) length += pending[end++].length;
    let chunk = first;
    if (end > this.#pendingHead) {
      chunk = new Uint8Array(length);
      chunk.set(first);
      let offset = first.length;
      for (let i = this.#pendingHead; i < end; i++) {
        chunk.set(pending[i], offset);
        offset += pending[i].length;
      }
      this.#pendingHead = end;
    }
    if (this.#pendingHead === pending.length) {
      pending.length = 0;
      this.#pendingHead = 0;
    } else if (this.#pendingHead > 1024) {
      pending.splice(0, this.#pendingHead);
      this.#pendingHead = 0;
    }
    return chunk;
  }

  /** Writes the queued chunks one after the other, each once the previous one is written. */
  #startWriting(): void {
    this.#writing = true;
    this.#writeChunk(this.#nextChunk());
  }

  #writeChunk(chunk: Uint8Array): void {
    this.#inFlight = chunk;
    // A promise callback rather than an async loop: no coroutine per write on this hot path.
    this.#conn.write(chunk).then(this.#onWritten, this.#onWriteFailed);
  }

  #onWritten = (n: number): void => {
    if (this.closed) {
      this.#writing = false;
      return;
    }
    this.#pendingBytes -= n;
    const chunk = this.#inFlight;
    if (n < chunk.length) {
      this.#writeChunk(chunk.subarray(n));
      return;
    }
    this.#inFlight = NO_BYTES;
    if (this.#needDrain && this.#pendingBytes <= this.#lowWaterMark) {
      this.#needDrain = false;
      try {
        this.handler.drain?.();
      } catch (error) {
        this.#writing = false;
        this.fail(error);
        return;
      }
      if (this.closed) {
        this.#writing = false;
        return;
      }
    }
    if (this.#pending.length > this.#pendingHead) {
      this.#writeChunk(this.#nextChunk());
      return;
    }
    this.#writing = false;
    if (this.#closing) this.#teardown(undefined);
    else if (this.#halfClosing) this.#shutWrite();
  };

  #onWriteFailed = (error: unknown): void => {
    this.#writing = false;
    this.#inFlight = NO_BYTES;
    this.#teardown(this.closed ? undefined : error);
  };

  close(): void {
    if (this.closed || this.#closing) return;
    this.#closing = true;
    if (!this.#writing) this.#teardown(undefined);
  }

  closeWrite(): void {
    if (this.closed || this.#closing || this.#halfClosing) return;
    this.#halfClosing = true;
    if (!this.#writing) this.#shutWrite();
  }

  /** Sends the FIN; the read loop goes on until the peer's. */
  #shutWrite(): void {
    this.#conn.closeWrite().catch(() => {
      // The peer is gone: the read loop finds out.
    });
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
    this.#pendingHead = 0;
    this.#pendingBytes = 0;
    this.#inFlight = NO_BYTES;
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
        const connection = new DenoConnection(conn, options, options.onError, forget);
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
    const connection = new DenoConnection(conn, options, options.onError, () => {});
    connection.start(accept);
    return connection;
  },
};
