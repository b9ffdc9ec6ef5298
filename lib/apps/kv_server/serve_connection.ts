/**
 * {@linkcode serveConnection}: the KV protocol on one TCP connection, over
 * any {@linkcode KvStore}. It knows nothing of processes: the KV application
 * wraps it, a plain `Map` store makes the bare benchmark server.
 *
 * @module
 */

import { type Command, ERROR, ERROR_LINE_TOO_LONG, execute, type KvStore, parse, type Reply } from "./command.ts";
import { LineReader, type LineSink } from "./line_reader.ts";
import { ReplyBuffer } from "./_reply_buffer.ts";
import type { TcpConnection, TcpConnectionHandler } from "../../net/mod.ts";

/** Options of {@linkcode serveConnection}. */
export interface ServeConnectionOptions {
  /** The longest request line, in bytes. Defaults to 64 KiB. */
  maxLineLength?: number;
  /**
   * Requests that may wait (unanswered or not yet started) before the
   * connection stops reading from its client. Defaults to 256.
   */
  maxPendingRequests?: number;
  /** Told about each store failure and each internal failure. Defaults to `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * The hard limit on unsent reply bytes (queued in the connection and not
   * yet taken by the operating system), as Redis's
   * `client-output-buffer-limit`: a connection past it is closed at once and
   * `onOutputLimit` is told. Defaults to `Infinity`. Reading and executing
   * already stop at the connection's high-water mark (the
   * {@linkcode TcpConnection.write} backpressure), so only a high-water mark
   * above this limit, or one huge batch, reaches it.
   */
  outputLimit?: number;
  /** Told when the connection is closed for passing `outputLimit`, with its unsent byte count. */
  onOutputLimit?: (unsentBytes: number) => void;
  /**
   * Told each time the connection stops reading because its output is full
   * (`true`, with the unsent byte count) and when it resumes (`false`).
   */
  onBackpressure?: (stopped: boolean, unsentBytes: number) => void;
}

/** What {@linkcode serveConnection} returns: the socket's handler, and what a server watches. */
export interface ServedConnection extends TcpConnectionHandler {
  /** Complete request lines received so far (an idle timer compares it between two looks). */
  readonly requests: number;
  /**
   * Stops taking requests, as if the client had half-closed: the requests
   * already received are answered, then the connection closes (with a FIN).
   * Bytes that arrive after it are read and dropped, so that closing does
   * not find unread input (which would reset the connection).
   */
  shutdown(): void;
}

/** A request line that was over the limit: queued like a command. */
const TOO_LONG = Symbol("too long");
type Request = Command | typeof TOO_LONG;

/** Write when this much output is ready even in the middle of a read. */
const FLUSH_SIZE = 64 * 1024;
/** Output at least this large is handed to the connection without a copy (`writeOwned`). */
const HAND_OVER_SIZE = 16 * 1024;
/**
 * Most requests in one batch to the store. A batch is run whole before the
 * output is looked at again, so this bounds how far past the high-water mark
 * one read can push the output (16 replies of at most a line each: 1 MiB with
 * 64 KiB lines), instead of a whole read's worth (a 64 KiB read holds 6,000
 * `GET`s, each possibly answering a large value). A pipelining client still
 * costs one call per bucket per 16 requests.
 */
const MAX_BATCH = 16;

function reportError(error: unknown): void {
  console.error("KV connection failed to serve a request:", error);
}

/**
 * Serves the KV protocol on `conn`; the result is the connection's handler
 * (what a {@linkcode TcpAcceptor} returns).
 *
 * - Requests run in order and replies go out in request order. With an
 *   asynchronous store, requests are *started* without waiting for earlier
 *   ones to settle (pipelining), except after a `CREATE` that has not
 *   settled, since later lookups may need its bucket. So the store must apply
 *   operations on one bucket in the order they were issued (true of messages
 *   to one process).
 * - A store with {@linkcode KvStore.executeMany} gets the requests of each
 *   read as one batch instead; while a batch is unsettled, later requests
 *   wait for it.
 * - The replies produced from one read go out in one write (asynchronous
 *   replies settled in the same tick are coalesced too).
 * - Backpressure: when `write` reports a full buffer, or too many requests
 *   wait, the connection is paused (no more reads from that client) until
 *   the output drains and the backlog shrinks.
 * - A store failure answers `ERROR\r\n`; a line over the limit answers
 *   `ERROR LINE TOO LONG\r\n` once and is skipped.
 * - When the client half-closes, pending requests are answered, then the
 *   connection closes; an unterminated last line is discarded.
 *
 * @example Serving a Map store
 * ```ts
 * import { listen } from "../../net/tcp.ts";
 * import { MapStore } from "./map_store.ts";
 * import { serveConnection } from "./serve_connection.ts";
 * import * as net from "node:net";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * const server = await listen({ port: 0 }, (conn) => serveConnection(conn, store));
 * const socket = net.connect(server.port, "127.0.0.1");
 * let received = "";
 * socket.on("data", (chunk) => received += chunk.toString("latin1"));
 * const closed = new Promise((resolve) => socket.on("close", resolve));
 * socket.end("CREATE a\r\nPUT a x 1\r\nGET a x\r\nGET zz x\r\n");
 * await closed;
 * assert.equal(received, "OK\r\nOK\r\n1\r\nOK\r\nNOT FOUND\r\n");
 * await server.close();
 * ```
 *
 * @typeParam B The store's bucket handle.
 * @param conn The connection to serve.
 * @param store Where the data lives.
 * @param options See {@linkcode ServeConnectionOptions}.
 * @returns The connection's handler.
 */
export function serveConnection<B>(
  conn: TcpConnection,
  store: KvStore<B>,
  options: ServeConnectionOptions = {},
): ServedConnection {
  return new ConnectionServer(conn, store, options);
}

class ConnectionServer<B> implements ServedConnection, LineSink {
  readonly #conn: TcpConnection;
  readonly #store: KvStore<B>;
  readonly #onError: (error: unknown) => void;
  readonly #maxPending: number;
  readonly #reader: LineReader;
  readonly #out = new ReplyBuffer();

  /**
   * Replies of started requests, in request order, while any is unsettled
   * (`undefined` = unsettled). Empty on the synchronous fast path, where
   * replies go straight to `#out`.
   */
  #slots: (Reply | undefined)[] = [];
  /** Index in `#slots` of the oldest reply not yet moved to `#out`. */
  #head = 0;
  /** Sequence number of `#slots[0]`: settling callbacks find their slot by it. */
  #first = 0;
  /** Requests not started: waiting for a `CREATE` to settle or for output to drain. */
  #blocked: Request[] = [];
  #blockedHead = 0;
  /** A started `CREATE` has not settled. */
  #barrier = false;
  /** `write` reported a full buffer; waiting for `drain`. */
  #outputFull = false;
  #paused = false;
  #flushScheduled = false;
  /** The store's `executeMany`, when it has one: requests then go in batches. */
  readonly #many: KvStore<B>["executeMany"];
  /** Commands started since the last `#flushBatch`. */
  #batch: Command[] = [];
  /** Sequence number of the first one's slot. */
  #batchSeq = 0;
  /** An emptied batch array, for the next batch. */
  #spareBatch: Command[] | undefined;
  /** The batch handed to the store and not settled yet (at most one: later ones wait). */
  #settlingSeq = 0;
  #settlingCount = 0;
  /** The store's callback for a batch that settles later: one function for the connection's life. */
  readonly #batchDone = (replies: Reply[]): void => this.#settleBatch(replies);
  #ended = false;
  #closed = false;
  /** {@linkcode ServedConnection.shutdown} was called: input is read and dropped. */
  #shuttingDown = false;
  /** The client half-closed. */
  #peerEnded = false;
  /** Our FIN was sent (shutdown), the client's is awaited. */
  #halfClosed = false;
  readonly #outputLimit: number;
  readonly #onOutputLimit: ((unsentBytes: number) => void) | undefined;
  readonly #onBackpressure: ((stopped: boolean, unsentBytes: number) => void) | undefined;
  /** Reading is stopped because the output is full (not for the pending-request count). */
  #outputStopped = false;
  requests = 0;

  constructor(conn: TcpConnection, store: KvStore<B>, options: ServeConnectionOptions) {
    this.#conn = conn;
    this.#store = store;
    this.#onError = options.onError ?? reportError;
    this.#maxPending = options.maxPendingRequests ?? 256;
    this.#reader = new LineReader({ maxLineLength: options.maxLineLength });
    this.#many = store.executeMany;
    this.#outputLimit = options.outputLimit ?? Infinity;
    this.#onOutputLimit = options.onOutputLimit;
    this.#onBackpressure = options.onBackpressure;
  }

  // --- TcpConnectionHandler ---

  data(bytes: Uint8Array): void {
    if (this.#closed || this.#ended) return;
    this.#reader.push(bytes, this);
    this.#flushBatch();
    this.#collect();
    this.#write();
    this.#updatePause();
  }

  drain(): void {
    this.#outputFull = false;
    this.#startBlocked();
    this.#sendSettled();
  }

  end(): void {
    this.#peerEnded = true;
    this.#stopTaking();
  }

  shutdown(): void {
    if (this.#closed) return;
    this.#shuttingDown = true;
    // Keep reading (and dropping) what comes: see `ServedConnection.shutdown`.
    if (this.#paused) {
      this.#paused = false;
      this.#conn.resume();
    }
    this.#stopTaking();
  }

  /** No more requests: answer those received, then close. */
  #stopTaking(): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#reader.end();
    }
    this.#finishIfDone();
  }

  close(): void {
    this.#closed = true;
    this.#slots = [];
    this.#blocked = [];
    this.#batch = [];
    this.#out.clear();
  }

  // --- LineSink ---

  line(bytes: Uint8Array, start: number, end: number): void {
    this.requests++;
    this.#request(parse(bytes, start, end));
  }

  tooLong(): void {
    this.#request(TOO_LONG);
  }

  // --- the pipeline ---

  #request(request: Request): void {
    if (this.#barrier || this.#outputFull || this.#blockedHead < this.#blocked.length) {
      this.#blocked.push(request);
    } else {
      this.#start(request);
    }
  }

  #start(request: Request): void {
    if (this.#many !== undefined) {
      if (request !== TOO_LONG) {
        // Batched: its reply's slot waits for the batch, started by `#flushBatch`.
        if (this.#batch.length === 0) this.#batchSeq = this.#first + this.#slots.length;
        this.#batch.push(request);
        this.#slots.push(undefined);
        if (this.#batch.length >= MAX_BATCH) {
          // Run it and send its replies now: the next request sees the output's level.
          this.#flushBatch();
          this.#collect();
          this.#write();
        }
        return;
      }
      // A batch's slots must stay contiguous: start it before this reply takes a slot.
      this.#flushBatch();
    }
    const reply = request === TOO_LONG ? ERROR_LINE_TOO_LONG : execute(request, this.#store, this.#onError);
    if (reply instanceof Promise) {
      const seq = this.#first + this.#slots.length;
      this.#slots.push(undefined);
      const isCreate = request !== TOO_LONG && request.kind === "create";
      if (isCreate) this.#barrier = true;
      reply.then((settled) => this.#settle(seq, settled, isCreate));
    } else if (this.#head === this.#slots.length) {
      // Nothing unsettled ahead of it: the fast path.
      this.#out.push(reply);
      if (this.#out.length >= FLUSH_SIZE) this.#write();
    } else {
      this.#slots.push(reply);
    }
  }

  #settle(seq: number, reply: Reply, isCreate: boolean): void {
    if (this.#closed) return;
    try {
      this.#slots[seq - this.#first] = reply;
      if (isCreate) {
        this.#barrier = false;
        this.#startBlocked();
      }
      // Replies settled in the same tick share one write.
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flushSettled());
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Hands the batch gathered so far to the store's `executeMany`. */
  #flushBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = this.#spareBatch ?? [];
    this.#spareBatch = undefined;
    const seq = this.#batchSeq;
    this.#settlingSeq = seq;
    this.#settlingCount = batch.length;
    let replies: Reply[] | undefined;
    try {
      replies = this.#many!.call(this.#store, batch, this.#batchDone, this.#onError);
    } catch (error) {
      this.#onError(error);
      replies = batch.map(() => ERROR);
    }
    if (replies === undefined) {
      // Later requests wait: they may need a bucket this batch creates.
      this.#barrier = true;
    } else {
      this.#fillSlots(seq, replies, batch.length);
      // Answered: the store is done with the array, so the next batch reuses it.
      batch.length = 0;
      this.#spareBatch = batch;
    }
  }

  #fillSlots(seq: number, replies: Reply[], count: number): void {
    const at = seq - this.#first;
    const slots = this.#slots;
    for (let i = 0; i < count; i++) slots[at + i] = replies[i] ?? ERROR;
  }

  #settleBatch(replies: Reply[]): void {
    if (this.#closed) return;
    try {
      this.#fillSlots(this.#settlingSeq, replies, this.#settlingCount);
      this.#barrier = false;
      this.#startBlocked();
      this.#sendSettled();
    } catch (error) {
      this.#fail(error);
    }
  }

  #flushSettled(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    try {
      this.#sendSettled();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Starts blocked requests until one blocks again. */
  #startBlocked(): void {
    const blocked = this.#blocked;
    while (this.#blockedHead < blocked.length && !this.#barrier && !this.#outputFull) {
      const request = blocked[this.#blockedHead];
      this.#blockedHead++;
      this.#start(request);
    }
    if (this.#blockedHead === blocked.length) {
      blocked.length = 0;
      this.#blockedHead = 0;
    }
    this.#flushBatch();
  }

  /**
   * Writes the replies settled at the head of the line, then pauses or
   * resumes reading, and closes a half-closed connection that is done.
   */
  #sendSettled(): void {
    this.#collect();
    this.#write();
    this.#updatePause();
    this.#finishIfDone();
  }

  /** Moves settled replies at the head of the line to the output buffer. */
  #collect(): void {
    const slots = this.#slots;
    let head = this.#head;
    while (head < slots.length) {
      const reply = slots[head];
      if (reply === undefined) break;
      this.#out.push(reply);
      head++;
      // Large replies go out as they come: the buffer stays small, and it is handed over, not copied.
      if (this.#out.length >= FLUSH_SIZE) this.#write();
    }
    if (head === slots.length) {
      this.#first += slots.length;
      slots.length = 0;
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }

  #write(): void {
    if (this.#out.length === 0 || this.#closed) return;
    const conn = this.#conn;
    const out = this.#out;
    let ok: boolean;
    if (out.length < HAND_OVER_SIZE) {
      // Small: a copy (if the runtime queues it at all) costs less than a new buffer.
      ok = conn.write(out.bytes, out.length);
      out.clear();
    } else {
      // Large: handed over, not copied, so the reply bytes waiting for a slow reader exist once.
      ok = conn.writeOwned(out.bytes, out.length);
      if (conn.bufferedAmount === 0) out.clear();
      else out.release();
    }
    const unsent = conn.bufferedAmount;
    if (!ok) this.#outputFull = true;
    if (unsent > this.#outputLimit) this.#overLimit(unsent);
  }

  #overLimit(unsent: number): void {
    this.#closed = true;
    this.#conn.abort();
    try {
      this.#onOutputLimit?.(unsent);
    } catch (error) {
      this.#onError(error);
    }
  }

  #pendingCount(): number {
    return this.#slots.length - this.#head + this.#blocked.length - this.#blockedHead;
  }

  #updatePause(): void {
    // Shutting down, input is dropped as it comes: reading must go on.
    const pause = !this.#shuttingDown && (this.#outputFull || this.#pendingCount() >= this.#maxPending);
    if (pause === this.#paused || this.#closed) return;
    this.#paused = pause;
    if (pause) this.#conn.pause();
    else this.#conn.resume();
    const outputStopped = pause && this.#outputFull;
    if (outputStopped !== this.#outputStopped) {
      this.#outputStopped = outputStopped;
      this.#onBackpressure?.(outputStopped, this.#conn.bufferedAmount);
    }
  }

  #finishIfDone(): void {
    if (!this.#ended || this.#closed || this.#pendingCount() !== 0) return;
    if (this.#peerEnded) {
      this.#conn.close();
    } else if (!this.#halfClosed) {
      // Shutting down while the client may still be sending: a FIN now, the close once it is done
      // (closing with its bytes unread would reset the connection).
      this.#halfClosed = true;
      this.#conn.closeWrite();
    }
  }

  #fail(error: unknown): void {
    this.#onError(error);
    this.#conn.abort();
  }
}
