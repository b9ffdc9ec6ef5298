/**
 * The KV protocol's commands: {@linkcode parse} turns one line into a
 * {@linkcode Command}, {@linkcode run} runs it against a {@linkcode KvStore}
 * and gives the reply bytes (see `PROTOCOL.md`).
 *
 * Tokens are opaque bytes, carried as *binary strings* (one char code
 * 0..255 per byte), never decoded as UTF-8: invalid UTF-8 round-trips, and
 * names can key a `Map` without ever becoming object properties.
 *
 * {@linkcode run} stays synchronous when the store answers synchronously and
 * returns a promise only when the store does, so a plain `Map` store costs no
 * promise per request while an actor-based store can answer later.
 *
 * Every example below runs as a test (`tests/doc_examples_test.ts`).
 *
 * @example A session, row by row of the protocol table
 * ```ts
 * import { parse, run } from "./command.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * const ask = (line: string) => new TextDecoder().decode(
 *   run(parse(new TextEncoder().encode(line)), store) as Uint8Array,
 * );
 *
 * assert.equal(ask("GET shopping milk"), "NOT FOUND\r\n");
 * assert.equal(ask("PUT shopping milk 1"), "NOT FOUND\r\n");
 * assert.equal(ask("DELETE shopping milk"), "NOT FOUND\r\n");
 * assert.equal(ask("CREATE shopping"), "OK\r\n");
 * assert.equal(ask("CREATE shopping"), "OK\r\n");
 * assert.equal(ask("GET shopping milk"), "\r\nOK\r\n");
 * assert.equal(ask("PUT shopping milk 1"), "OK\r\n");
 * assert.equal(ask("GET shopping milk"), "1\r\nOK\r\n");
 * assert.equal(ask("PUT shopping milk 3"), "OK\r\n");
 * assert.equal(ask("GET shopping milk"), "3\r\nOK\r\n");
 * assert.equal(ask("DELETE shopping milk"), "OK\r\n");
 * assert.equal(ask("DELETE shopping milk"), "OK\r\n");
 * assert.equal(ask("GET shopping milk"), "\r\nOK\r\n");
 * ```
 *
 * @example Unknown commands
 * ```ts
 * import { parse, run } from "./command.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * for (const line of [
 *   "UNKNOWN shopping", "GET b", "PUT b k", "PUT b k 1 2", "CREATE a b", "CREATE",
 *   "", "   ", "\r", "create shopping", "Get b k", "put b k v",
 * ]) {
 *   const command = parse(new TextEncoder().encode(line));
 *   assert.deepEqual(command, { kind: "unknown" });
 *   assert.equal(new TextDecoder().decode(run(command, store) as Uint8Array), "UNKNOWN COMMAND\r\n");
 * }
 * ```
 *
 * @module
 */

import { fromBinaryString, toBinaryString } from "./_binary.ts";

/** A value, or a promise of it: what a store may answer. */
export type Awaitable<T> = T | PromiseLike<T>;

/** A parsed request line. Names, keys and values are binary strings. */
export type Command =
  | { readonly kind: "create"; readonly bucket: string }
  | { readonly kind: "put"; readonly bucket: string; readonly key: string; readonly value: string }
  | { readonly kind: "get"; readonly bucket: string; readonly key: string }
  | { readonly kind: "delete"; readonly bucket: string; readonly key: string }
  | { readonly kind: "unknown" };

/**
 * What {@linkcode run} needs from a key-value store. Every name, key and
 * value is a binary string (one char code 0..255 per byte).
 *
 * `lookup` is synchronous (a table read); the other methods may answer
 * synchronously or with a promise. A throw or a rejection becomes the reply
 * `ERROR\r\n`.
 *
 * A pipelining server (see `serve_connection.ts`) issues the requests of one
 * client without waiting for earlier ones to settle, except after an
 * unsettled `create`. So operations issued on one bucket must take effect in
 * the order they were issued, as messages to one process do.
 *
 * @typeParam B The store's bucket handle (e.g. an agent's pid); never `undefined`.
 */
export interface KvStore<B = unknown> {
  /** Creates the bucket, or does nothing when it exists. */
  create(bucket: string): Awaitable<unknown>;
  /** The bucket's handle, or `undefined` when there is no such bucket. */
  lookup(bucket: string): B | undefined;
  /** The value stored under `key`, or `undefined`. */
  get(bucket: B, key: string): Awaitable<string | undefined>;
  /** Stores `value` under `key`, overwriting. */
  put(bucket: B, key: string, value: string): Awaitable<unknown>;
  /** Removes `key`; a missing key is not an error. */
  delete(bucket: B, key: string): Awaitable<unknown>;
  /**
   * Optional: runs `commands` in order and gives their replies, in order,
   * all at once: returned when it can answer at once, else passed to `done`
   * (exactly once; it then returns `undefined`). A store whose operations
   * are messages implements it so that a whole read's requests cost one
   * message per bucket instead of one per request, and no promise per
   * request; a server then hands it each read's requests at once and, while
   * a batch is unsettled, starts no other (so a `CREATE` is seen by every
   * later request). Must never throw: a failed request answers `ERROR\r\n`.
   */
  executeMany?(
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError?: (error: unknown) => void,
  ): Reply[] | undefined;
}

/**
 * A reply before encoding: either its bytes, or (for a `GET` that found a
 * value) the value as a binary string, to be sent as `value\r\nOK\r\n`.
 * Keeping the value unencoded lets a server write it straight into its
 * output buffer.
 */
export type Reply = Uint8Array | string;

const ascii = (s: string): Uint8Array => fromBinaryString(s);

/** `OK\r\n`. Shared: never modify the reply constants. */
export const OK: Uint8Array = ascii("OK\r\n");
/** `\r\nOK\r\n`: a `GET` of a missing key. */
export const EMPTY_OK: Uint8Array = ascii("\r\nOK\r\n");
/** `NOT FOUND\r\n`: no such bucket. */
export const NOT_FOUND: Uint8Array = ascii("NOT FOUND\r\n");
/** `UNKNOWN COMMAND\r\n`. */
export const UNKNOWN_COMMAND: Uint8Array = ascii("UNKNOWN COMMAND\r\n");
/** `ERROR\r\n`: the store failed. */
export const ERROR: Uint8Array = ascii("ERROR\r\n");
/** `ERROR LINE TOO LONG\r\n`: a request line over the limit. */
export const ERROR_LINE_TOO_LONG: Uint8Array = ascii("ERROR LINE TOO LONG\r\n");

const UNKNOWN: Command = Object.freeze({ kind: "unknown" });

/** ASCII whitespace: space, \t, \n, \v, \f, \r. */
function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}

// Verb bytes, compared in place so parsing allocates no verb string.
const C = 67, R = 82, E = 69, A = 65, T = 84, P = 80, U = 85, G = 71, D = 68, L = 76;

/**
 * Parses one request line (without its `\n`) into a {@linkcode Command}.
 * Tokens split on runs of ASCII whitespace; verbs are case-sensitive; a
 * wrong token count, an unknown verb or a blank line is `unknown`.
 *
 * @example Tokens and whitespace
 * ```ts
 * import { parse } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * const line = new TextEncoder().encode("  PUT\tshopping   tab\t 9  \r");
 * assert.deepEqual(parse(line), { kind: "put", bucket: "shopping", key: "tab", value: "9" });
 * assert.deepEqual(parse(new TextEncoder().encode("CREATE b")), { kind: "create", bucket: "b" });
 * assert.deepEqual(parse(new TextEncoder().encode("GET b k")), { kind: "get", bucket: "b", key: "k" });
 * assert.deepEqual(parse(new TextEncoder().encode("DELETE b k")), { kind: "delete", bucket: "b", key: "k" });
 * assert.deepEqual(parse(new TextEncoder().encode("\v\fGET\vb\fk\r")), { kind: "get", bucket: "b", key: "k" });
 * ```
 *
 * @example Tokens are bytes: invalid UTF-8 becomes a binary string
 * ```ts
 * import { parse } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * const line = new Uint8Array([...new TextEncoder().encode("PUT b "), 0xff, 0xfe, 0x20, 0xc3, 0xa9]);
 * assert.deepEqual(parse(line), { kind: "put", bucket: "b", key: "\xff\xfe", value: "\xc3\xa9" });
 * ```
 *
 * @example Parsing a line inside a larger buffer
 * ```ts
 * import { parse } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * const buffer = new TextEncoder().encode("CREATE a\nGET a x\n");
 * assert.deepEqual(parse(buffer, 9, 16), { kind: "get", bucket: "a", key: "x" });
 * ```
 *
 * @param line The bytes holding the line.
 * @param start Where the line starts in `line`. Defaults to 0.
 * @param end Where it ends (exclusive). Defaults to `line.length`.
 * @returns The command; `{ kind: "unknown" }` for anything malformed.
 */
export function parse(line: Uint8Array, start = 0, end: number = line.length): Command {
  // Token bounds in locals: no array per line.
  let s0 = 0, e0 = 0, s1 = 0, e1 = 0, s2 = 0, e2 = 0, s3 = 0, e3 = 0;
  let count = 0;
  let i = start;
  while (i < end) {
    while (i < end && isSpace(line[i])) i++;
    if (i >= end) break;
    const s = i;
    while (i < end && !isSpace(line[i])) i++;
    switch (count) {
      case 0:
        s0 = s;
        e0 = i;
        break;
      case 1:
        s1 = s;
        e1 = i;
        break;
      case 2:
        s2 = s;
        e2 = i;
        break;
      case 3:
        s3 = s;
        e3 = i;
        break;
      default:
        return UNKNOWN;
    }
    count++;
  }
  const verbLength = e0 - s0;
  if (count === 3 && verbLength === 3) {
    const v0 = line[s0], v1 = line[s0 + 1], v2 = line[s0 + 2];
    if (v0 === G && v1 === E && v2 === T) {
      return { kind: "get", bucket: toBinaryString(line, s1, e1), key: toBinaryString(line, s2, e2) };
    }
  } else if (count === 4 && verbLength === 3) {
    if (line[s0] === P && line[s0 + 1] === U && line[s0 + 2] === T) {
      return {
        kind: "put",
        bucket: toBinaryString(line, s1, e1),
        key: toBinaryString(line, s2, e2),
        value: toBinaryString(line, s3, e3),
      };
    }
  } else if (count === 2 && verbLength === 6) {
    if (
      line[s0] === C && line[s0 + 1] === R && line[s0 + 2] === E &&
      line[s0 + 3] === A && line[s0 + 4] === T && line[s0 + 5] === E
    ) {
      return { kind: "create", bucket: toBinaryString(line, s1, e1) };
    }
  } else if (count === 3 && verbLength === 6) {
    if (
      line[s0] === D && line[s0 + 1] === E && line[s0 + 2] === L &&
      line[s0 + 3] === E && line[s0 + 4] === T && line[s0 + 5] === E
    ) {
      return { kind: "delete", bucket: toBinaryString(line, s1, e1), key: toBinaryString(line, s2, e2) };
    }
  }
  return UNKNOWN;
}

function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return value !== null && typeof value === "object" && typeof (value as PromiseLike<T>).then === "function";
}

/** Calls `onError` and gives the `ERROR` reply; `onError` itself must not break the reply. */
function failed(error: unknown, onError: ((error: unknown) => void) | undefined): Reply {
  try {
    onError?.(error);
  } catch {
    // A broken error hook must not turn one failed request into a dead connection.
  }
  return ERROR;
}

/** Maps a store answer to a fixed reply, synchronously when it can. */
function settle(
  answer: unknown,
  reply: Reply,
  onError: ((error: unknown) => void) | undefined,
): Reply | Promise<Reply> {
  if (!isThenable(answer)) return reply;
  return Promise.resolve(answer).then(() => reply, (error) => failed(error, onError));
}

function gotValue(value: string | undefined): Reply {
  return value === undefined ? EMPTY_OK : value;
}

/**
 * Runs a command against a store, giving the unencoded {@linkcode Reply}:
 * what {@linkcode run} does, for servers that encode found values straight
 * into their output buffer. Synchronous when the store answers synchronously;
 * never throws nor rejects (store failures become `ERROR`).
 *
 * @example A found value stays a string
 * ```ts
 * import { execute, OK, parse } from "./command.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * const line = (s: string) => parse(new TextEncoder().encode(s));
 * execute(line("CREATE b"), store);
 * assert.equal(execute(line("PUT b k v"), store), OK);
 * assert.equal(execute(line("GET b k"), store), "v");
 * ```
 *
 * @typeParam B The store's bucket handle.
 * @param command The command.
 * @param store The store to run it against.
 * @param onError Told about each store failure (the client only sees `ERROR`).
 * @returns The reply, or a promise of it when the store answered with one.
 */
export function execute<B>(
  command: Command,
  store: KvStore<B>,
  onError?: (error: unknown) => void,
): Reply | Promise<Reply> {
  try {
    switch (command.kind) {
      case "create":
        return settle(store.create(command.bucket), OK, onError);
      case "get": {
        const bucket = store.lookup(command.bucket);
        if (bucket === undefined) return NOT_FOUND;
        const answer = store.get(bucket, command.key);
        if (!isThenable<string | undefined>(answer)) return gotValue(answer);
        return Promise.resolve(answer).then(gotValue, (error) => failed(error, onError));
      }
      case "put": {
        const bucket = store.lookup(command.bucket);
        if (bucket === undefined) return NOT_FOUND;
        return settle(store.put(bucket, command.key, command.value), OK, onError);
      }
      case "delete": {
        const bucket = store.lookup(command.bucket);
        if (bucket === undefined) return NOT_FOUND;
        return settle(store.delete(bucket, command.key), OK, onError);
      }
      default:
        return UNKNOWN_COMMAND;
    }
  } catch (error) {
    return failed(error, onError);
  }
}

/**
 * The bytes of a {@linkcode Reply}.
 *
 * @example Usage
 * ```ts
 * import { replyBytes } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(replyBytes("\xff"), new Uint8Array([0xff, 13, 10, 79, 75, 13, 10]));
 * ```
 *
 * @param reply The reply.
 * @returns Its bytes; the shared constants are returned as they are.
 */
export function replyBytes(reply: Reply): Uint8Array {
  if (typeof reply !== "string") return reply;
  return fromBinaryString(reply + "\r\nOK\r\n");
}

/**
 * Runs a command against a store and gives the reply bytes. Synchronous
 * when the store answers synchronously, a promise otherwise; never throws
 * nor rejects: a store failure answers `ERROR\r\n`.
 *
 * @example Values are bytes: invalid UTF-8 round-trips
 * ```ts
 * import { parse, run } from "./command.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * const bytes = (...parts: (string | number[])[]) =>
 *   new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p));
 * run(parse(bytes("CREATE b")), store);
 * assert.deepEqual(run(parse(bytes("PUT b ", [0xff, 0xfe], " ", [0xfe, 0xff])), store), bytes("OK\r\n"));
 * assert.deepEqual(run(parse(bytes("GET b ", [0xff, 0xfe])), store), bytes([0xfe, 0xff], "\r\nOK\r\n"));
 * ```
 *
 * @example Names are data: `__proto__` and `constructor` are ordinary names
 * ```ts
 * import { parse, run } from "./command.ts";
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * const ask = (line: string) => new TextDecoder().decode(
 *   run(parse(new TextEncoder().encode(line)), store) as Uint8Array,
 * );
 * assert.equal(ask("GET __proto__ constructor"), "NOT FOUND\r\n");
 * assert.equal(ask("CREATE __proto__"), "OK\r\n");
 * assert.equal(ask("GET __proto__ constructor"), "\r\nOK\r\n");
 * assert.equal(ask("PUT __proto__ constructor hasOwnProperty"), "OK\r\n");
 * assert.equal(ask("GET __proto__ constructor"), "hasOwnProperty\r\nOK\r\n");
 * assert.equal(ask("GET constructor toString"), "NOT FOUND\r\n");
 * ```
 *
 * @example An asynchronous store gives a promise; a failing one gives ERROR
 * ```ts
 * import { type KvStore, parse, run } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * const data = new Map<string, string>();
 * const store: KvStore<Map<string, string>> = {
 *   create: async () => {},
 *   lookup: (bucket) => bucket === "b" ? data : undefined,
 *   get: async (bucket, key) => bucket.get(key),
 *   put: async (bucket, key, value) => { bucket.set(key, value); },
 *   delete: () => Promise.reject(new Error("bucket crashed")),
 * };
 * const ask = async (line: string) => new TextDecoder().decode(
 *   await run(parse(new TextEncoder().encode(line)), store, () => {}),
 * );
 * assert.ok(run(parse(new TextEncoder().encode("GET b k")), store) instanceof Promise);
 * assert.equal(await ask("PUT b k v"), "OK\r\n");
 * assert.equal(await ask("GET b k"), "v\r\nOK\r\n");
 * assert.equal(await ask("GET c k"), "NOT FOUND\r\n");
 * assert.equal(await ask("DELETE b k"), "ERROR\r\n");
 * ```
 *
 * @typeParam B The store's bucket handle.
 * @param command The command, from {@linkcode parse}.
 * @param store The store to run it against.
 * @param onError Told about each store failure (the client only sees `ERROR`).
 * @returns The reply bytes, or a promise of them when the store answered with one.
 */
export function run<B>(
  command: Command,
  store: KvStore<B>,
  onError?: (error: unknown) => void,
): Uint8Array | Promise<Uint8Array> {
  const reply = execute(command, store, onError);
  return reply instanceof Promise ? reply.then(replyBytes) : replyBytes(reply);
}
