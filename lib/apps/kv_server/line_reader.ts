/**
 * {@linkcode LineReader}: cuts a byte stream into `\n`-terminated lines with
 * a bounded line length.
 *
 * @module
 */

/** The default {@linkcode LineReaderOptions.maxLineLength}: 64 KiB. */
export const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

/** Options of {@linkcode LineReader}. */
export interface LineReaderOptions {
  /**
   * The longest line accepted, in bytes, not counting its `\r\n` or `\n`.
   * Defaults to {@linkcode DEFAULT_MAX_LINE_LENGTH}.
   */
  maxLineLength?: number;
}

/** Receives what {@linkcode LineReader.push} finds, in stream order. */
export interface LineSink {
  /**
   * A complete line: `bytes[start, end)`, without its `\n` nor a `\r` right
   * before it. Only valid during the call: `bytes` is the caller's chunk or
   * the reader's own buffer, both reused.
   */
  line(bytes: Uint8Array, start: number, end: number): void;
  /** A line went over the limit; called once per such line, as soon as known. */
  tooLong(): void;
}

const LF = 10;
const CR = 13;
/** The carry buffer's first size, and the size it shrinks back to. */
const SMALL_CARRY = 1024;

/**
 * Cuts a stream of chunks into lines without quadratic copying: lines that
 * sit inside one chunk are handed out in place (no copy); only a line split
 * across chunks is gathered in a carry buffer, which grows by doubling and
 * never beyond the limit. A line over the limit is reported once through
 * {@linkcode LineSink.tooLong} and the rest of it is skipped unbuffered.
 *
 * @example Lines split across chunks, and several lines per chunk
 * ```ts
 * import { LineReader } from "./line_reader.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const sink = {
 *   line: (b: Uint8Array, s: number, e: number) => lines.push(new TextDecoder().decode(b.subarray(s, e))),
 *   tooLong: () => lines.push("<too long>"),
 * };
 * const reader = new LineReader({ maxLineLength: 8 });
 * const enc = new TextEncoder();
 * reader.push(enc.encode("CREATE a\r\nGET"), sink);
 * reader.push(enc.encode(" a x\nPUT a x 12345\nGET a"), sink);
 * reader.push(enc.encode(" y\r\n"), sink);
 * reader.push(enc.encode("GET a z"), sink);
 * reader.end();
 * assert.deepEqual(lines, ["CREATE a", "GET a x", "<too long>", "GET a y"]);
 * ```
 */
export class LineReader {
  readonly #max: number;
  #carry: Uint8Array = new Uint8Array(0);
  #carryLength = 0;
  /** Skipping the rest of a too-long line. */
  #discarding = false;

  /**
   * Makes a reader.
   *
   * @param options See {@linkcode LineReaderOptions}.
   */
  constructor(options: LineReaderOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot make a line reader: maxLineLength must be a positive integer, got "${max}"`);
    }
    this.#max = max;
  }

  /** Bytes of an unfinished line held between chunks. */
  get buffered(): number {
    return this.#carryLength;
  }

  /**
   * Feeds a chunk; complete lines go to `sink` before this returns. The
   * reader keeps no reference to `chunk`.
   *
   * @param chunk The next bytes of the stream.
   * @param sink Receives the lines and too-long reports.
   */
  push(chunk: Uint8Array, sink: LineSink): void {
    const length = chunk.length;
    let start = 0;
    if (this.#discarding || this.#carryLength > 0) {
      const lf = chunk.indexOf(LF);
      if (this.#discarding) {
        if (lf < 0) return;
        this.#discarding = false;
      } else {
        // The line began in an earlier chunk: gather it in the carry buffer.
        const end = lf < 0 ? length : lf;
        // One byte over the limit may be the `\r` of `\r\n`.
        if (this.#carryLength + end > this.#max + 1) {
          this.#dropCarry();
          sink.tooLong();
          if (lf < 0) {
            this.#discarding = true;
            return;
          }
        } else {
          this.#append(chunk, 0, end);
          if (lf < 0) return;
          let lineEnd = this.#carryLength;
          const carry = this.#carry;
          if (lineEnd > 0 && carry[lineEnd - 1] === CR) lineEnd--;
          this.#carryLength = 0;
          if (lineEnd > this.#max) sink.tooLong();
          else sink.line(carry, 0, lineEnd);
          if (carry.length > SMALL_CARRY && this.#carry === carry) this.#carry = new Uint8Array(SMALL_CARRY);
        }
      }
      start = lf + 1;
    }
    while (start < length) {
      const lf = chunk.indexOf(LF, start);
      if (lf < 0) {
        // An unfinished line: keep it unless it is already too long.
        if (length - start > this.#max + 1) {
          sink.tooLong();
          this.#discarding = true;
        } else {
          this.#append(chunk, start, length);
        }
        return;
      }
      let end = lf;
      if (end > start && chunk[end - 1] === CR) end--;
      if (end - start > this.#max) sink.tooLong();
      else sink.line(chunk, start, end);
      start = lf + 1;
    }
  }

  /**
   * Ends the stream: an unfinished last line is discarded, not handed out.
   * The reader can then be fed a new stream.
   *
   * @returns The number of bytes discarded.
   */
  end(): number {
    const dropped = this.#carryLength;
    this.#dropCarry();
    this.#discarding = false;
    return dropped;
  }

  #dropCarry(): void {
    this.#carryLength = 0;
    if (this.#carry.length > SMALL_CARRY) this.#carry = new Uint8Array(SMALL_CARRY);
  }

  #append(chunk: Uint8Array, start: number, end: number): void {
    const needed = this.#carryLength + (end - start);
    if (needed > this.#carry.length) {
      let size = Math.max(SMALL_CARRY, this.#carry.length * 2);
      while (size < needed) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.#max + 2));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(chunk.subarray(start, end), this.#carryLength);
    this.#carryLength = needed;
  }
}
