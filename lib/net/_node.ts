/**
 * The TCP adapter on `node:net`: used on Node, and a fallback elsewhere.
 *
 * `net.Socket` already queues output and emits `drain`; it keeps a reference
 * to written buffers, so `write` copies (callers may reuse their buffer) and
 * `writeOwned` does not. Its `drain` comes once the queue is empty, whatever
 * the low-water mark.
 *
 * @module
 */

import * as net from "node:net";
import { setImmediate } from "node:timers";
import type {
  ConnectOptions,
  ListenOptions,
  TcpAcceptor,
  TcpAdapter,
  TcpConnection,
  TcpConnectionHandler,
  TcpListener,
} from "./tcp.ts";

const NOOP_HANDLER: TcpConnectionHandler = { data() {} };

class NodeConnection implements TcpConnection {
  handler: TcpConnectionHandler = NOOP_HANDLER;
  closed = false;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #socket: net.Socket;
  #onError: (error: unknown) => void;
  #error: unknown;

  constructor(socket: net.Socket, onError: (error: unknown) => void) {
    this.#socket = socket;
    this.#onError = onError;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on("data", (bytes: Uint8Array) => {
      try {
        this.handler.data(bytes);
      } catch (error) {
        this.fail(error);
      }
    });
    socket.on("drain", () => {
      try {
        this.handler.drain?.();
      } catch (error) {
        this.fail(error);
      }
    });
    socket.on("end", () => {
      try {
        if (this.handler.end) this.handler.end();
        else this.close();
      } catch (error) {
        this.fail(error);
      }
    });
    socket.on("error", (error) => {
      this.#error = error;
    });
    socket.on("close", () => {
      this.closed = true;
      try {
        this.handler.close?.(this.#error);
      } catch (error) {
        this.#onError(error);
      }
    });
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  start(accept: TcpAcceptor): void {
    try {
      this.handler = accept(this);
    } catch (error) {
      this.fail(error);
    }
  }

  write(bytes: Uint8Array, length: number = bytes.length): boolean {
    if (this.closed || this.#socket.writableEnded || length === 0) return true;
    return this.#socket.write(bytes.slice(0, length));
  }

  writeOwned(bytes: Uint8Array, length: number = bytes.length): boolean {
    if (this.closed || this.#socket.writableEnded || length === 0) return true;
    return this.#socket.write(length === bytes.length ? bytes : bytes.subarray(0, length));
  }

  close(): void {
    if (!this.closed) this.#socket.end();
  }

  closeWrite(): void {
    // `allowHalfOpen`: `end` only sends the FIN; reading goes on.
    if (!this.closed) this.#socket.end();
  }

  abort(): void {
    if (!this.closed) this.#socket.destroy();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  fail(error: unknown): void {
    this.#onError(error);
    this.abort();
  }
}

/** The `node:net` adapter. */
export const adapter: TcpAdapter = {
  listen(options: Required<ListenOptions>, accept: TcpAcceptor): Promise<TcpListener> {
    const connections = new Set<NodeConnection>();
    const server = net.createServer({ allowHalfOpen: true, highWaterMark: options.highWaterMark }, (socket) => {
      const conn = new NodeConnection(socket, options.onError);
      connections.add(conn);
      socket.on("close", () => connections.delete(conn));
      conn.start(accept);
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.hostname, () => {
        server.off("error", reject);
        const addr = server.address() as net.AddressInfo;
        let closing: Promise<void> | undefined;
        let unbinding: Promise<void> | undefined;
        // Fires once the listening socket and every connection are closed.
        let serverClosed: Promise<void> | undefined;
        const unbind = () => serverClosed ??= new Promise<void>((done) => server.close(() => done()));
        resolve({
          hostname: addr.address,
          port: addr.port,
          close(): Promise<void> {
            closing ??= (() => {
              const closed = unbind();
              for (const conn of connections) conn.abort();
              connections.clear();
              return closed;
            })();
            return closing;
          },
          stopAccepting(): Promise<void> {
            unbinding ??= new Promise<void>((done) => {
              void unbind();
              // `server.close` closes the listening handle now; its callback waits for the connections.
              setImmediate(done);
            });
            return unbinding;
          },
        });
      });
    });
  },

  connect(options: Required<ConnectOptions>, accept: TcpAcceptor): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: options.hostname,
        port: options.port,
        allowHalfOpen: true,
      });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        const conn = new NodeConnection(socket, options.onError);
        conn.start(accept);
        resolve(conn);
      });
    });
  },
};
