/**
 * The TCP adapter for Bun, on `Bun.listen` / `Bun.connect`.
 *
 * Bun's `socket.write` sends what the kernel takes and returns the count; it
 * buffers nothing. So this adapter keeps the rest in its own queue and sends
 * it on `drain`: a copy for `write` (callers may reuse their buffer), the
 * caller's own bytes for `writeOwned` (no second copy of large replies).
 *
 * `Bun` is reached through `globalThis` so that `deno check` (which has no
 * Bun types) accepts this file.
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

/** The subset of Bun's socket this adapter uses. */
interface BunSocket {
  data: BunConnection | undefined;
  write(bytes: Uint8Array, byteOffset?: number, byteLength?: number): number;
  end(): void;
  shutdown(halfClose?: boolean): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(noDelay: boolean): boolean;
  readonly remoteAddress: string;
  readonly remotePort?: number;
}

// deno-lint-ignore no-explicit-any
const Bun = (globalThis as any).Bun;

const NOOP_HANDLER: TcpConnectionHandler = { data() {} };

class BunConnection implements TcpConnection {
  handler: TcpConnectionHandler = NOOP_HANDLER;
  closed = false;
  #socket: BunSocket;
  #highWaterMark: number;
  #lowWaterMark: number;
  #onError: (error: unknown) => void;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #needDrain = false;
  #closing = false;
  /** `closeWrite` was called: no more writes; the FIN goes once the queue is sent. */
  #halfClosing = false;
  #finSent = false;
  #remotePort: number;

  constructor(socket: BunSocket, marks: WaterMarks, onError: (error: unknown) => void, remotePort: number) {
    this.#socket = socket;
    this.#highWaterMark = marks.highWaterMark;
    this.#lowWaterMark = marks.lowWaterMark ?? 0;
    this.#onError = onError;
    this.#remotePort = socket.remotePort ?? remotePort;
  }

  get remoteAddress(): string {
    return this.#socket.remoteAddress;
  }

  get remotePort(): number {
    return this.#remotePort;
  }

  get bufferedAmount(): number {
    return this.#pendingBytes;
  }

  write(bytes: Uint8Array, length: number = bytes.length): boolean {
    return this.#write(bytes, length, true);
  }

  writeOwned(bytes: Uint8Array, length: number = bytes.length): boolean {
    return this.#write(bytes, length, false);
  }

  #write(bytes: Uint8Array, length: number, copy: boolean): boolean {
    if (this.closed || this.#closing || this.#halfClosing || length === 0) return true;
    let from = 0;
    if (this.#pendingBytes === 0) {
      // Fast path: the kernel usually takes everything at once.
      const n = this.#socket.write(bytes, 0, length);
      if (n === length) return true;
      if (n < 0) {
        // The socket is gone (a paused socket may not have told us yet): close it now.
        this.abort();
        return true;
      }
      from = n;
    }
    this.#enqueue(copy ? bytes.slice(from, length) : bytes.subarray(from, length));
    if (this.#pendingBytes >= this.#highWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  #enqueue(chunk: Uint8Array): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
  }

  /** Sends queued output; true when the queue is empty. */
  flush(): boolean {
    while (this.#pending.length > 0) {
      const chunk = this.#pending[0];
      const n = this.#socket.write(chunk);
      if (n < 0) return false;
      this.#pendingBytes -= n;
      if (n < chunk.length) {
        this.#pending[0] = chunk.subarray(n);
        return false;
      }
      this.#pending.shift();
    }
    return true;
  }

  onDrain(): void {
    if (this.closed) return;
    const empty = this.flush();
    if (empty && this.#closing) {
      this.#socket.end();
      return;
    }
    if (empty && this.#halfClosing && !this.#finSent) {
      this.#finSent = true;
      this.#socket.shutdown();
    }
    if (this.#needDrain && this.#pendingBytes <= this.#lowWaterMark) {
      this.#needDrain = false;
      this.call("drain");
    }
  }

  close(): void {
    if (this.closed || this.#closing) return;
    this.#closing = true;
    if (this.#pendingBytes === 0) this.#socket.end();
  }

  closeWrite(): void {
    if (this.closed || this.#closing || this.#halfClosing) return;
    this.#halfClosing = true;
    if (this.#pendingBytes === 0) {
      this.#finSent = true;
      // Bun's `shutdown()` sends a FIN; the close callback comes once the peer closes.
      this.#socket.shutdown();
    }
  }

  abort(): void {
    if (this.closed) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#socket.terminate();
  }

  pause(): void {
    if (!this.closed) this.#socket.pause();
  }

  resume(): void {
    if (!this.closed) this.#socket.resume();
  }

  /** Runs a handler callback; a throw aborts this connection only. */
  call(name: "drain" | "end"): void {
    try {
      const fn = this.handler[name];
      if (fn) fn.call(this.handler);
      else if (name === "end") this.close();
    } catch (error) {
      this.fail(error);
    }
  }

  onData(bytes: Uint8Array): void {
    try {
      this.handler.data(bytes);
    } catch (error) {
      this.fail(error);
    }
  }

  onClose(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      this.handler.close?.(error);
    } catch (e) {
      this.#onError(e);
    }
  }

  fail(error: unknown): void {
    this.#onError(error);
    this.abort();
  }
}

interface WaterMarks {
  highWaterMark: number;
  lowWaterMark: number;
}

function socketHandlers(
  accept: TcpAcceptor,
  marks: WaterMarks,
  onError: (error: unknown) => void,
  connections: Set<BunConnection> | undefined,
  remotePort: number,
) {
  return {
    open(socket: BunSocket) {
      socket.setNoDelay?.(true);
      const conn = new BunConnection(socket, marks, onError, remotePort);
      socket.data = conn;
      connections?.add(conn);
      try {
        conn.handler = accept(conn);
      } catch (error) {
        conn.fail(error);
      }
    },
    data(socket: BunSocket, bytes: Uint8Array) {
      socket.data?.onData(bytes);
    },
    drain(socket: BunSocket) {
      socket.data?.onDrain();
    },
    end(socket: BunSocket) {
      socket.data?.call("end");
    },
    close(socket: BunSocket, error?: unknown) {
      const conn = socket.data;
      if (!conn) return;
      connections?.delete(conn);
      conn.onClose(error);
    },
    error(socket: BunSocket, error: unknown) {
      // `close` follows with the same error; nothing else to do here.
      void socket;
      void error;
    },
  };
}

/** The Bun adapter. */
export const adapter: TcpAdapter = {
  listen(options: Required<ListenOptions>, accept: TcpAcceptor): Promise<TcpListener> {
    const connections = new Set<BunConnection>();
    const server = Bun.listen({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: socketHandlers(accept, options, options.onError, connections, 0),
    });
    let closing: Promise<void> | undefined;
    let unbinding: Promise<void> | undefined;
    return Promise.resolve({
      hostname: server.hostname as string,
      port: server.port as number,
      close(): Promise<void> {
        closing ??= (async () => {
          server.stop(true);
          for (const conn of connections) conn.abort();
          connections.clear();
          await Promise.resolve();
        })();
        return closing;
      },
      stopAccepting(): Promise<void> {
        unbinding ??= closing ?? (async () => {
          // `false`: keep the open connections; the listening socket is closed at once.
          server.stop(false);
          await Promise.resolve();
        })();
        return unbinding;
      },
    });
  },

  async connect(options: Required<ConnectOptions>, accept: TcpAcceptor): Promise<TcpConnection> {
    const socket: BunSocket = await Bun.connect({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: socketHandlers(accept, options, options.onError, undefined, options.port),
    });
    return socket.data as BunConnection;
  },
};
