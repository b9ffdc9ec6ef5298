/**
 * A growable output buffer that encodes {@linkcode Reply}s in place, so the
 * replies to one read become one `write` with no allocation per reply.
 *
 * @module
 */

import type { Reply } from "./command.ts";

const INITIAL_SIZE = 4096;
/** Past this size the buffer is dropped after a write, so idle connections stay small. */
const KEEP_LIMIT = 256 * 1024;

/** Reply bytes accumulated between two writes. */
export class ReplyBuffer {
  /** The storage; valid bytes are `[0, length)`. */
  bytes: Uint8Array = new Uint8Array(INITIAL_SIZE);
  /** How many bytes are queued. */
  length = 0;

  /** Appends a reply; a string is a found value, sent as `value\r\nOK\r\n`. */
  push(reply: Reply): void {
    if (typeof reply === "string") {
      const n = reply.length;
      const at = this.#reserve(n + 6);
      const bytes = this.bytes;
      for (let i = 0; i < n; i++) bytes[at + i] = reply.charCodeAt(i);
      const o = at + n;
      bytes[o] = 13;
      bytes[o + 1] = 10;
      bytes[o + 2] = 79; // O
      bytes[o + 3] = 75; // K
      bytes[o + 4] = 13;
      bytes[o + 5] = 10;
      return;
    }
    const n = reply.length;
    const at = this.#reserve(n);
    if (n <= 16) {
      // Short constants: a loop beats `set`'s call overhead.
      const bytes = this.bytes;
      for (let i = 0; i < n; i++) bytes[at + i] = reply[i];
    } else {
      this.bytes.set(reply, at);
    }
  }

  /** Forgets the queued bytes; a grown buffer is released. */
  clear(): void {
    this.length = 0;
    if (this.bytes.length > KEEP_LIMIT) this.bytes = new Uint8Array(INITIAL_SIZE);
  }

  /**
   * Forgets the queued bytes and lets go of the storage (a connection kept
   * it: `TcpConnection.writeOwned`); the next reply starts a new one.
   */
  release(): void {
    this.length = 0;
    this.bytes = new Uint8Array(INITIAL_SIZE);
  }

  /** Makes room for `n` more bytes; returns where they go. */
  #reserve(n: number): number {
    const at = this.length;
    const needed = at + n;
    if (needed > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < needed) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    this.length = needed;
    return at;
  }
}
