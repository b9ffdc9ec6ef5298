/**
 * Erlang's external term format (the bytes of `erlang:term_to_binary/1`, and of every message
 * between distributed nodes), decoded to plain JS values and encoded back. Lossless: decoding the
 * bytes `term_to_binary(T, [{minor_version, 2}])` produces (the form OTP 26+ emits by default and
 * the form used on the wire between nodes) and encoding the result gives the identical bytes.
 *
 * | Erlang                          | JS (decode gives / encode takes)                                   | Tags decoded → emitted                    |
 * | ------------------------------- | ------------------------------------------------------------------ | ----------------------------------------- |
 * | integer                         | `number`; `bigint` beyond ±(2^53 − 1). Encode takes both.          | 97, 98, 110, 111 → the smallest that fits |
 * | float                           | `number` when not integral; {@link Float} when integral (`1.0`, `-0.0`) | 70, 99 → 70                          |
 * | atom `true` / `false`           | `true` / `false`                                                   | 100, 115, 118, 119 → 119, 118             |
 * | any other atom                  | `Symbol.for(name)` (a registered symbol; see {@link atom})         | 100, 115, 118, 119 → 119, 118             |
 * | tuple `{A, B}`                  | JS array `[a, b]`                                                  | 104, 105 → 104, 105                       |
 * | `[]`                            | the constant {@link NIL}                                           | 106 → 106                                 |
 * | list `[A, B \| T]`, charlist    | {@link List} (`items`, `tail`, `NIL` when proper); `"ab"` is `List([97, 98])` | 107, 108 → 107 when a proper list of 1..65535 integers 0..255, else 108 |
 * | binary                          | `Uint8Array`; a JS `string` encodes as its UTF-8 binary            | 109 → 109                                 |
 * | bitstring                       | {@link BitBinary} (`bytes`, `bits` used in the last byte, 1..8)    | 77 → 77                                   |
 * | map                             | JS `Map` (insertion order = wire order, so encoding is stable)     | 116 → 116                                 |
 * | pid                             | {@link ErlPid} `{node, id, serial, creation}`                      | 88, 103 → 88                              |
 * | reference                       | {@link ErlRef} `{node, creation, ids}` (1..5 words)                | 90, 114, 101 → 90                         |
 * | port                            | {@link ErlPort} `{node, id, creation}`                             | 89, 120, 102 → 89, or 120 past 28 bits    |
 * | fun, external fun `fun M:F/A`   | {@link ErlFun}: the raw bytes, kept opaque                         | 112, 113 → the same bytes                 |
 *
 * Node names inside pids, refs and ports decode to JS strings (`"foo@host"`); encode takes a
 * string or an atom symbol. Decoded pids, refs and ports are new objects each time: compare them
 * with {@link equals} or by their `key`. JS `Map` looks keys up by reference, so a map whose keys
 * are tuples or binaries must be searched with {@link equals}. `null`, `undefined`, plain objects,
 * functions, unregistered symbols, `NaN` and infinities are refused with a `TypeError` naming the
 * path of the offending value. Compressed terms (tag 80) and the atom cache are not supported.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * // term_to_binary({ok, [1, 2 | x], <<"hi">>, 1.0})
 * const bytes = Term.encode([Symbol.for("ok"), new Term.List([1, 2], Symbol.for("x")), "hi", new Term.Float(1)]);
 * const back = Term.decode(bytes);
 * console.assert(Term.equals(back, [Term.atom("ok"), new Term.List([1, 2], Term.atom("x")), new TextEncoder().encode("hi"), new Term.Float(1)]));
 * console.assert(Term.format(back) === '{ok,[1,2|x],<<"hi">>,1.0}');
 * ```
 *
 * @module
 */

/** Every value this codec encodes or decodes. See the module table for the mapping. */
export type Term =
  | number
  | bigint
  | boolean
  | symbol
  | string
  | Float
  | Uint8Array
  | BitBinary
  | List
  | TermTuple
  | TermMap
  | ErlPid
  | ErlRef
  | ErlPort
  | ErlFun;

/** An Erlang tuple: a JS array of terms. */
export interface TermTuple extends Array<Term> {}
/** An Erlang map: a JS `Map` of terms. */
export interface TermMap extends Map<Term, Term> {}

/**
 * A float whose value is integral (`1.0`, `-0.0`, `1.0e300`): a bare JS number would come back
 * as an integer. Non-integral floats decode to plain numbers; both encode as floats.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.decode(Term.encode(new Term.Float(2))) instanceof Term.Float);
 * console.assert(Term.decode(Term.encode(2.5)) === 2.5);
 * ```
 */
export class Float {
  /** The float's value. */
  readonly value: number;
  /**
   * Wraps a float value.
   * @param value the float's value.
   */
  constructor(value: number) {
    this.value = value;
  }
  /** The value, so `+f` and comparisons work. */
  valueOf(): number {
    return this.value;
  }
}

const theNil: { list?: List } = {}; // set once NIL exists, so new List(items) can default to it

/**
 * An Erlang list: `items` followed by `tail`. A proper list's tail is {@link NIL}; `[1 | 2]` is
 * `new List([1], 2)`. Charlists are lists of code points (see {@link charlist}).
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * const proper = new Term.List([1, 2]);
 * console.assert(proper.tail === Term.NIL && proper.isProper());
 * console.assert(Term.format(new Term.List([Term.atom("alias")], Term.atom("ref"))) === "[alias|ref]");
 * ```
 */
export class List {
  /** What follows the items: {@link NIL} for a proper list. */
  readonly tail: Term;
  /** The elements, in order. */
  readonly items: Term[];
  /**
   * A list of `items` followed by `tail`.
   * @param items the elements, in order.
   * @param tail what follows them ({@link NIL} by default).
   */
  constructor(items: Term[], tail?: Term) {
    this.items = items;
    this.tail = tail ?? theNil.list ?? this;
  }
  /** True when the tail is the empty list. */
  isProper(): boolean {
    return this.tail === NIL || (this.tail instanceof List && this.tail.items.length === 0 && this.tail.isProper());
  }
}

/**
 * The empty list `[]` (its tail is itself). Decoding `[]` gives this very object.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.decode(Term.encode(Term.NIL)) === Term.NIL);
 * ```
 */
export const NIL: List = new List([]);
theNil.list = NIL;
Object.freeze(NIL.items);
Object.freeze(NIL);

/**
 * A bitstring whose length is not a whole number of bytes: `bits` (1..8) bits of the last byte
 * are used, the high ones, as in Erlang.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * // <<1:3>> is one byte 0b001_00000 with 3 bits used
 * const b = new Term.BitBinary(new Uint8Array([0x20]), 3);
 * console.assert(Term.format(b) === "<<1:3>>");
 * ```
 */
export class BitBinary {
  /** The bytes, the last one partly used. */
  readonly bytes: Uint8Array;
  /** How many high bits of the last byte belong to the bitstring (1..8). */
  readonly bits: number;
  /**
   * A bitstring of `bytes` whose last byte has `bits` bits used.
   * @param bytes the bytes, the last one partly used.
   * @param bits how many high bits of the last byte belong to the bitstring (1..8).
   */
  constructor(bytes: Uint8Array, bits: number) {
    this.bytes = bytes;
    this.bits = bits;
    if (!Number.isInteger(bits) || bits < 1 || bits > 8 || bytes.length === 0) {
      throw new RangeError(
        `BitBinary: bits must be 1..8 and bytes non-empty, got ${bits} bits of ${bytes.length} bytes`,
      );
    }
  }
}

function nodeName(node: symbol | string): string {
  return typeof node === "string" ? node : (Symbol.keyFor(node) ?? String(node.description));
}

/**
 * A process identifier of any node (NEW_PID_EXT): `<node.id.serial>` plus the creation of the
 * node's incarnation.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * const pid = new Term.ErlPid("foo@host", 85, 0, 3);
 * console.assert(Term.equals(Term.decode(Term.encode(pid)), pid));
 * console.assert(pid.key === "foo@host/85.0.3");
 * ```
 */
export class ErlPid {
  /**
   * A pid of `node`.
   * @param node the node's name (`"name@host"` or its atom).
   * @param id the 32-bit process number.
   * @param serial the 32-bit serial.
   * @param creation the 32-bit creation of the node's incarnation.
   */
  constructor(node: symbol | string, id: number, serial: number, creation: number) {
    this.node = node;
    this.id = id;
    this.serial = serial;
    this.creation = creation;
  }
  /** The node's name. */
  readonly node: symbol | string;
  /** The process number. */
  readonly id: number;
  /** The serial. */
  readonly serial: number;
  /** The creation of the node's incarnation. */
  readonly creation: number;
  /** A string equal for equal pids, usable as a Map key. */
  get key(): string {
    return `${nodeName(this.node)}/${this.id}.${this.serial}.${this.creation}`;
  }
  /** `<node.id.serial>` */
  toString(): string {
    return `<${nodeName(this.node)}.${this.id}.${this.serial}>`;
  }
}

/**
 * A reference of any node (NEWER_REFERENCE_EXT): 1 to 5 32-bit words.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * const ref = new Term.ErlRef("foo@host", 1, [7, 8, 9]);
 * console.assert(Term.equals(Term.decode(Term.encode(ref)), ref));
 * ```
 */
export class ErlRef {
  /**
   * A reference of `node`.
   * @param node the node's name.
   * @param creation the node incarnation's creation.
   * @param ids the 32-bit words (1..5).
   */
  constructor(node: symbol | string, creation: number, ids: number[]) {
    this.node = node;
    this.creation = creation;
    this.ids = ids;
  }
  /** The node's name. */
  readonly node: symbol | string;
  /** The creation of the node's incarnation. */
  readonly creation: number;
  /** The 32-bit words (1..5). */
  readonly ids: number[];
  /** A string equal for equal refs, usable as a Map key. */
  get key(): string {
    return `${nodeName(this.node)}/${this.creation}/${this.ids.join(".")}`;
  }
  /** `#Ref<node.w0.w1...>` */
  toString(): string {
    return `#Ref<${nodeName(this.node)}.${this.ids.join(".")}>`;
  }
}

/**
 * A port of any node (NEW_PORT_EXT, or V4_PORT_EXT when the id needs more than 28 bits, as the BEAM does).
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * const port = new Term.ErlPort("foo@host", 5, 1);
 * console.assert(Term.equals(Term.decode(Term.encode(port)), port));
 * ```
 */
export class ErlPort {
  /**
   * A port of `node`.
   * @param node the node's name.
   * @param id the port number (up to 64 bits: a bigint past 2^53).
   * @param creation the node incarnation's creation.
   */
  constructor(node: symbol | string, id: number | bigint, creation: number) {
    this.node = node;
    this.id = id;
    this.creation = creation;
  }
  /** The node's name. */
  readonly node: symbol | string;
  /** The port number (a bigint past 2^53). */
  readonly id: number | bigint;
  /** The creation of the node's incarnation. */
  readonly creation: number;
  /** A string equal for equal ports, usable as a Map key. */
  get key(): string {
    return `${nodeName(this.node)}/${this.id}/${this.creation}`;
  }
  /** `#Port<node.id>` */
  toString(): string {
    return `#Port<${nodeName(this.node)}.${this.id}>`;
  }
}

/**
 * A fun (NEW_FUN_EXT) or external fun `fun M:F/A` (EXPORT_EXT), kept opaque: `bytes` are the
 * term's bytes from its tag on, re-emitted unchanged. No code is ever run from them.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * // term_to_binary(fun lists:map/2, [{minor_version, 2}])
 * const bytes = new Uint8Array([131, 113, 119, 5, 108, 105, 115, 116, 115, 119, 3, 109, 97, 112, 97, 2]);
 * const fun = Term.decode(bytes);
 * console.assert(fun instanceof Term.ErlFun && Term.format(fun) === "fun lists:map/2");
 * ```
 */
export class ErlFun {
  /** The term's bytes from its tag on. */
  readonly bytes: Uint8Array;
  /**
   * A fun from its bytes.
   * @param bytes the term's bytes from its tag (112 or 113) on.
   */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    if (bytes[0] !== 112 && bytes[0] !== 113) throw new RangeError(`ErlFun: bytes must start with tag 112 or 113`);
  }
}

/**
 * The atom `name` as this codec represents it: `true`/`false` as booleans, others as
 * `Symbol.for(name)`.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.atom("ok") === Symbol.for("ok") && Term.atom("true") === true);
 * ```
 */
export function atom(name: string): symbol | boolean {
  return name === "true" ? true : name === "false" ? false : Symbol.for(name);
}

/**
 * The atom's name when `t` is an atom (a registered symbol or a boolean), else `undefined`.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.atomName(Symbol.for("ok")) === "ok" && Term.atomName(true) === "true");
 * console.assert(Term.atomName("ok") === undefined);
 * ```
 */
export function atomName(t: unknown): string | undefined {
  if (typeof t === "symbol") return Symbol.keyFor(t);
  if (typeof t === "boolean") return t ? "true" : "false";
  return undefined;
}

/**
 * A charlist: the list of the string's code points (what Erlang's `"abc"` is).
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.equals(Term.charlist("ab"), new Term.List([97, 98])));
 * ```
 */
export function charlist(s: string): List {
  if (s.length === 0) return NIL;
  const items: number[] = [];
  for (const ch of s) items.push(ch.codePointAt(0)!);
  return new List(items);
}

// ---------------------------------------------------------------------------------------------
// Tags

const VERSION = 131;
const NEW_FLOAT_EXT = 70;
const BIT_BINARY_EXT = 77;
const NEW_PID_EXT = 88;
const NEW_PORT_EXT = 89;
const NEWER_REFERENCE_EXT = 90;
const SMALL_INTEGER_EXT = 97;
const INTEGER_EXT = 98;
const FLOAT_EXT = 99;
const ATOM_EXT = 100;
const REFERENCE_EXT = 101;
const PORT_EXT = 102;
const PID_EXT = 103;
const SMALL_TUPLE_EXT = 104;
const LARGE_TUPLE_EXT = 105;
const NIL_EXT = 106;
const STRING_EXT = 107;
const LIST_EXT = 108;
const BINARY_EXT = 109;
const SMALL_BIG_EXT = 110;
const LARGE_BIG_EXT = 111;
const NEW_FUN_EXT = 112;
const EXPORT_EXT = 113;
const NEW_REFERENCE_EXT = 114;
const SMALL_ATOM_EXT = 115;
const MAP_EXT = 116;
const ATOM_UTF8_EXT = 118;
const SMALL_ATOM_UTF8_EXT = 119;
const V4_PORT_EXT = 120;

// ---------------------------------------------------------------------------------------------
// Encoding

const utf8 = new TextEncoder();
const MAX_U32 = 0xffffffff;

/** A growable byte buffer the encoder writes into. */
class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** What cannot be encoded; `encode` then finds where (see `locate`) and says it. */
class EncodeFault extends TypeError {}

function fail(what: string): never {
  throw new EncodeFault(what);
}

function isAsciiAtomSafe(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 127) return false;
  return true;
}

/** Encoded atoms (tag, length, name) by name: the same few atoms recur in every message. */
const atomBytes = new Map<string, Uint8Array>();
const ATOM_CACHE_MAX = 4096;

function writeAtom(w: Writer, name: string): void {
  const cached = atomBytes.get(name);
  if (cached !== undefined) {
    w.bytes(cached);
    return;
  }
  const start = w.pos;
  writeAtomUncached(w, name);
  if (atomBytes.size < ATOM_CACHE_MAX) atomBytes.set(name, w.buf.slice(start, w.pos));
}

function writeAtomUncached(w: Writer, name: string): void {
  if (name.length <= 255 && isAsciiAtomSafe(name)) {
    w.u8(SMALL_ATOM_UTF8_EXT);
    w.u8(name.length);
    w.ensure(name.length);
    for (let i = 0; i < name.length; i++) w.buf[w.pos++] = name.charCodeAt(i);
    return;
  }
  let chars = 0;
  for (const _ of name) chars++;
  if (chars > 255) fail(`atom longer than 255 characters (${chars})`);
  const b = utf8.encode(name);
  if (b.length <= 255) {
    w.u8(SMALL_ATOM_UTF8_EXT);
    w.u8(b.length);
  } else {
    w.u8(ATOM_UTF8_EXT);
    w.u16(b.length);
  }
  w.bytes(b);
}

function writeNode(w: Writer, node: symbol | string): void {
  const name = typeof node === "string" ? node : Symbol.keyFor(node);
  if (name === undefined) fail("node name is an unregistered symbol");
  writeAtom(w, name);
}

function writeBig(w: Writer, v: bigint): void {
  const negative = v < 0n;
  let mag = negative ? -v : v;
  const digits: number[] = [];
  while (mag > 0n) {
    digits.push(Number(mag & 0xffn));
    mag >>= 8n;
  }
  writeBigDigits(w, negative, digits);
}

function writeBigDigits(w: Writer, negative: boolean, digits: number[]): void {
  if (digits.length <= 255) {
    w.u8(SMALL_BIG_EXT);
    w.u8(digits.length);
  } else {
    w.u8(LARGE_BIG_EXT);
    w.u32(digits.length);
  }
  w.u8(negative ? 1 : 0);
  w.ensure(digits.length);
  for (const d of digits) w.buf[w.pos++] = d;
}

function writeInteger(w: Writer, v: number): void {
  if (v >= 0 && v <= 255) {
    w.u8(SMALL_INTEGER_EXT);
    w.u8(v);
  } else if (v >= -0x80000000 && v <= 0x7fffffff) {
    w.u8(INTEGER_EXT);
    w.ensure(4);
    w.view.setInt32(w.pos, v);
    w.pos += 4;
  } else if (Number.isSafeInteger(v)) {
    const negative = v < 0;
    let mag = Math.abs(v);
    const digits: number[] = [];
    while (mag > 0) {
      digits.push(mag % 256);
      mag = Math.floor(mag / 256);
    }
    writeBigDigits(w, negative, digits);
  } else {
    writeBig(w, BigInt(v));
  }
}

function writeFloat(w: Writer, v: number): void {
  if (!Number.isFinite(v)) fail(`non-finite float ${v}`);
  w.u8(NEW_FLOAT_EXT);
  w.ensure(8);
  w.view.setFloat64(w.pos, v);
  w.pos += 8;
}

/** True when `items` go out as STRING_EXT, exactly as the BEAM decides. */
function isByteString(items: Term[]): boolean {
  if (items.length === 0 || items.length > 65535) return false;
  for (const x of items) {
    if (typeof x === "number") {
      if (!(x >= 0 && x <= 255 && Number.isInteger(x))) return false;
    } else if (typeof x === "bigint") {
      if (!(x >= 0n && x <= 255n)) return false;
    } else return false;
  }
  return true;
}

function write(w: Writer, t: Term, depth: number): void {
  if (depth > 10000) fail("term nested too deeply");
  switch (typeof t) {
    case "number":
      // -0 from JS arithmetic is integer 0; a decoded -0.0 is a Float and stays one.
      if (Number.isInteger(t)) writeInteger(w, t === 0 ? 0 : t);
      else writeFloat(w, t);
      return;
    case "bigint":
      if (t >= -0x80000000n && t <= 0x7fffffffn) writeInteger(w, Number(t));
      else writeBig(w, t);
      return;
    case "boolean":
      writeAtom(w, t ? "true" : "false");
      return;
    case "symbol": {
      const name = Symbol.keyFor(t);
      if (name === undefined) fail(`unregistered symbol ${String(t)} (atoms are Symbol.for(name))`);
      writeAtom(w, name);
      return;
    }
    case "string": {
      // Encoded in place: at most 3 bytes per UTF-16 unit.
      w.ensure(5 + t.length * 3);
      w.buf[w.pos] = BINARY_EXT;
      const { written } = utf8.encodeInto(t, w.buf.subarray(w.pos + 5));
      w.view.setUint32(w.pos + 1, written);
      w.pos += 5 + written;
      return;
    }
    case "object":
      break;
    default:
      fail(`cannot encode a ${typeof t}`);
  }
  if (t === null) fail("cannot encode null");
  if (Array.isArray(t)) {
    if (t.length <= 255) {
      w.u8(SMALL_TUPLE_EXT);
      w.u8(t.length);
    } else {
      w.u8(LARGE_TUPLE_EXT);
      w.u32(t.length);
    }
    for (let i = 0; i < t.length; i++) write(w, t[i], depth + 1);
  } else if (t instanceof Uint8Array) {
    w.u8(BINARY_EXT);
    w.u32(t.length);
    w.bytes(t);
  } else if (t instanceof List) {
    writeList(w, t, depth);
  } else if (t instanceof Float) {
    writeFloat(w, t.value);
  } else if (t instanceof Map) {
    w.u8(MAP_EXT);
    w.u32(t.size);
    let i = 0;
    for (const [k, v] of t) {
      write(w, k, depth + 1);
      write(w, v, depth + 1);
      i++;
    }
  } else if (t instanceof ErlPid) {
    w.u8(NEW_PID_EXT);
    writeNode(w, t.node);
    w.u32(checkU32(t.id, "pid id"));
    w.u32(checkU32(t.serial, "pid serial"));
    w.u32(checkU32(t.creation, "pid creation"));
  } else if (t instanceof ErlRef) {
    if (t.ids.length < 1 || t.ids.length > 5) fail(`reference with ${t.ids.length} words (1..5)`);
    w.u8(NEWER_REFERENCE_EXT);
    w.u16(t.ids.length);
    writeNode(w, t.node);
    w.u32(checkU32(t.creation, "ref creation"));
    for (const id of t.ids) w.u32(checkU32(id, "ref word"));
  } else if (t instanceof ErlPort) {
    const id = BigInt(t.id);
    if (id < 0n || id > 0xffffffffffffffffn) fail(`port id out of range`);
    if (id > 0xfffffffn) { // the BEAM switches to V4_PORT_EXT past 28 bits
      w.u8(V4_PORT_EXT);
      writeNode(w, t.node);
      w.u32(Number(id >> 32n));
      w.u32(Number(id & 0xffffffffn));
    } else {
      w.u8(NEW_PORT_EXT);
      writeNode(w, t.node);
      w.u32(Number(id));
    }
    w.u32(checkU32(t.creation, "port creation"));
  } else if (t instanceof BitBinary) {
    w.u8(BIT_BINARY_EXT);
    w.u32(t.bytes.length);
    w.u8(t.bits);
    w.bytes(t.bytes);
  } else if (t instanceof ErlFun) {
    w.bytes(t.bytes);
  } else {
    fail(`cannot encode ${Object.prototype.toString.call(t)} (maps are JS Map, tuples arrays)`);
  }
}

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_U32) fail(`${what} ${v} is not a 32-bit unsigned integer`);
  return v;
}

function writeList(w: Writer, list: List, depth: number): void {
  // Flatten nested List tails ([1 | [2, 3]] is [1, 2, 3]) the way the BEAM sees it.
  let items = list.items;
  let tail = list.tail;
  if (tail instanceof List && tail !== NIL) {
    items = items.slice();
    while (tail instanceof List && tail !== NIL) {
      items.push(...tail.items);
      tail = tail.tail;
    }
  }
  if (items.length === 0) {
    if (tail === NIL) w.u8(NIL_EXT);
    else write(w, tail, depth + 1);
    return;
  }
  if (tail === NIL && isByteString(items)) {
    w.u8(STRING_EXT);
    w.u16(items.length);
    w.ensure(items.length);
    for (const x of items) w.buf[w.pos++] = Number(x);
    return;
  }
  w.u8(LIST_EXT);
  w.u32(items.length);
  for (let i = 0; i < items.length; i++) write(w, items[i], depth + 1);
  if (tail === NIL) w.u8(NIL_EXT);
  else write(w, tail, depth + 1);
}

/** The parts of a compound term, each with how a path names it. */
function childrenOf(t: Term): [label: string, child: Term][] {
  if (Array.isArray(t)) return t.map((c, i) => [`[${i}]`, c]);
  if (t instanceof List) {
    const { items, tail } = flatten(t);
    const out: [string, Term][] = items.map((c, i) => [`[${i}]`, c]);
    if (tail !== NIL) out.push(["|tail", tail]);
    return out;
  }
  if (t instanceof Map) {
    const out: [string, Term][] = [];
    let i = 0;
    for (const [k, v] of t) {
      out.push([`{key ${i}}`, k], [`{value ${i}}`, v]);
      i++;
    }
    return out;
  }
  return [];
}

/** The path of the deepest part of `t` that cannot be encoded (only walked after a failure). */
function locate(t: Term, path: string): string {
  for (const [label, child] of childrenOf(t)) {
    try {
      write(new Writer(16), child, 0);
    } catch (e) {
      if (e instanceof EncodeFault) return locate(child, path + label);
      throw e;
    }
  }
  return path || "top";
}

/** Writes `t`; a value that cannot be encoded gets an error naming where it is. */
function writeTop(w: Writer, t: Term): void {
  try {
    write(w, t, 0);
  } catch (e) {
    if (e instanceof EncodeFault) throw new TypeError(`Term.encode: ${e.message} at ${locate(t, "")}`);
    throw e;
  }
}

/**
 * The external term format bytes of `term`, starting with the version byte 131.
 * Throws a `TypeError` naming the path of a value it cannot encode.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * // term_to_binary({ok, 1}) =:= <<131,104,2,119,2,111,107,97,1>>
 * console.assert(Term.encode([Symbol.for("ok"), 1]).join() === "131,104,2,119,2,111,107,97,1");
 * ```
 */
export function encode(term: Term): Uint8Array {
  const w = takeWriter();
  try {
    w.u8(VERSION);
    writeTop(w, term);
    return w.buf.slice(0, w.pos);
  } finally {
    giveBack(w);
  }
}

/**
 * Encodes several terms back to back, each with its own version byte, after `prefix` bytes and
 * leaving `reserve` zero bytes at the front (filled by the caller, e.g. a length): the layout of a
 * distribution message. Returns the whole buffer.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * const frame = Term.encodeSequence([Term.atom("a"), 1], [112], 4);
 * console.assert(frame.join() === "0,0,0,0,112,131,119,1,97,131,97,1");
 * ```
 */
export function encodeSequence(terms: readonly Term[], prefix: readonly number[] = [], reserve = 0): Uint8Array {
  const w = takeWriter();
  try {
    w.ensure(reserve);
    w.buf.fill(0, 0, reserve);
    w.pos = reserve;
    for (const b of prefix) w.u8(b);
    for (const t of terms) {
      w.u8(VERSION);
      writeTop(w, t);
    }
    return w.buf.slice(0, w.pos);
  } finally {
    giveBack(w);
  }
}

/** One writer reused by every encoding (an encoding runs to its end synchronously): no buffer per message. */
let spareWriter: Writer | null = null;

function takeWriter(): Writer {
  const w = spareWriter ?? new Writer(256);
  spareWriter = null;
  w.pos = 0;
  return w;
}

function giveBack(w: Writer): void {
  // A writer grown by a large term is dropped rather than kept.
  if (w.buf.length <= 1 << 16) spareWriter = w;
}

/**
 * @ignore For lib/node/_dist.ts: one connection's outgoing distribution frames (a 4-byte length,
 * the `prefix` byte, then each term with its version byte), encoded back to back into one
 * growable buffer, so a turn's messages cost neither a buffer each nor a copy to join them.
 * Two buffers take turns: one may be held by the socket (being written) while the other fills.
 */
export class _FrameWriter {
  #w = new Writer(FRAME_BUFFER_SIZE);
  /** The buffer handed to the socket last, reusable once the socket has written it. */
  #lent: Writer | null = null;
  /** The buffer; its first {@linkcode _FrameWriter.length} bytes are the frames. */
  get bytes(): Uint8Array {
    return this.#w.buf;
  }
  /** Bytes written since the last {@linkcode _FrameWriter.clear} or {@linkcode _FrameWriter.handOver}. */
  get length(): number {
    return this.#w.pos;
  }
  /** Appends one frame; a term that cannot be encoded throws and leaves the writer as it was. */
  append(terms: readonly Term[], prefix: number): void {
    const w = this.#w;
    const start = w.pos;
    try {
      w.ensure(5);
      w.pos += 4;
      w.buf[w.pos++] = prefix;
      for (let i = 0; i < terms.length; i++) {
        w.u8(VERSION);
        writeTop(w, terms[i]);
      }
    } catch (e) {
      w.pos = start;
      throw e;
    }
    w.view.setUint32(start, w.pos - start - 4);
  }
  /** Appends bytes already framed. */
  appendBytes(b: Uint8Array): void {
    this.#w.bytes(b);
  }
  /** Empties the writer, keeping its buffer (the socket took the bytes at once, or copied them). */
  clear(): void {
    this.#w.pos = 0;
    if (this.#w.buf.length > FRAME_BUFFER_MAX) this.#w = new Writer(FRAME_BUFFER_SIZE);
  }
  /**
   * Empties the writer after its buffer was handed to the socket (which may hold it until
   * written), and takes the other buffer if `lentFree` (the socket has written all it held
   * before), else a new one.
   */
  handOver(lentFree: boolean): void {
    const handed = this.#w;
    const next = lentFree ? this.#lent : null;
    this.#w = next ?? new Writer(FRAME_BUFFER_SIZE);
    this.#w.pos = 0;
    this.#lent = handed.buf.length > FRAME_BUFFER_MAX ? null : handed;
  }
}
const FRAME_BUFFER_SIZE = 512;
/** A frame buffer grown past this (a large message) is not kept. */
const FRAME_BUFFER_MAX = 1 << 16;

// ---------------------------------------------------------------------------------------------
// Decoding

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

class Reader {
  #view: DataView | undefined;
  constructor(readonly buf: Uint8Array, public pos: number) {}
  /** A view for floats (made on first use: most messages have none). */
  get view(): DataView {
    return this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new RangeError(`Term.decode: truncated term (need ${n} bytes at offset ${this.pos} of ${this.buf.length})`);
    }
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  u16(): number {
    this.need(2);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return (b[p] << 8) | b[p + 1];
  }
  u32(): number {
    this.need(4);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

function latin1(b: Uint8Array): string {
  if (b.length <= 1024) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = "";
  for (let i = 0; i < b.length; i += 1024) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 1024) as unknown as number[]);
  }
  return s;
}

function utf8Text(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) if (b[i] > 127) return utf8Decoder.decode(b);
  return latin1(b);
}

/** A decoded atom: its bytes on the wire (to check a hash hit), its name and its term. */
interface DecodedAtom {
  bytes: Uint8Array;
  utf8: boolean;
  name: string;
  term: symbol | boolean;
}

/**
 * Atoms decoded so far, by a hash of their bytes: the same few atoms (`$gen_call`, node names,
 * `ok`, ...) come in every message, and this skips making their strings and looking up their
 * symbols each time. A hash collision only replaces the entry; the size is bounded.
 */
const decodedAtoms = new Map<number, DecodedAtom>();
const DECODED_ATOMS_MAX = 4096;

/** The atom of `n` bytes at the reader's position (latin-1 or UTF-8), cached. */
function readAtomBytes(r: Reader, n: number, utf8: boolean): DecodedAtom {
  r.need(n);
  const b = r.buf, at = r.pos;
  let h = n ^ (utf8 ? 0x40000000 : 0);
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + b[at + i]) | 0;
  r.pos += n;
  const hit = decodedAtoms.get(h);
  if (hit !== undefined && hit.utf8 === utf8 && hit.bytes.length === n) {
    const hb = hit.bytes;
    let same = true;
    for (let i = 0; i < n; i++) {
      if (hb[i] !== b[at + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  const bytes = b.slice(at, at + n);
  const name = utf8 ? utf8Text(bytes) : latin1(bytes);
  const entry: DecodedAtom = { bytes, utf8, name, term: atom(name) };
  if (hit !== undefined || decodedAtoms.size < DECODED_ATOMS_MAX) decodedAtoms.set(h, entry);
  return entry;
}

function readAtom(r: Reader): DecodedAtom {
  const tag = r.u8();
  switch (tag) {
    case SMALL_ATOM_UTF8_EXT:
      return readAtomBytes(r, r.u8(), true);
    case ATOM_UTF8_EXT:
      return readAtomBytes(r, r.u16(), true);
    case ATOM_EXT:
      return readAtomBytes(r, r.u16(), false);
    case SMALL_ATOM_EXT:
      return readAtomBytes(r, r.u8(), false);
    default:
      throw new RangeError(`Term.decode: expected an atom, got tag ${tag} at offset ${r.pos - 1}`);
  }
}

function readAtomName(r: Reader): string {
  return readAtom(r).name;
}

function readBig(r: Reader, n: number): number | bigint {
  const negative = r.u8() !== 0;
  const digits = r.take(n);
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + digits[i];
    return negative ? -v : v;
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(digits[i]);
  if (negative) v = -v;
  return v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function floatTerm(v: number): number | Float {
  return Number.isInteger(v) ? new Float(v) : v;
}

function read(r: Reader, depth: number): Term {
  if (depth > 10000) throw new RangeError("Term.decode: term nested too deeply");
  const tag = r.u8();
  switch (tag) {
    case SMALL_INTEGER_EXT:
      return r.u8();
    case INTEGER_EXT:
      return r.u32() | 0;
    case SMALL_BIG_EXT:
      return readBig(r, r.u8());
    case LARGE_BIG_EXT:
      return readBig(r, r.u32());
    case NEW_FLOAT_EXT: {
      r.need(8);
      const v = r.view.getFloat64(r.pos);
      r.pos += 8;
      return floatTerm(v);
    }
    case FLOAT_EXT: {
      const text = latin1(r.take(31)).replace(/\0+$/, "");
      const v = Number.parseFloat(text);
      if (!Number.isFinite(v)) throw new RangeError(`Term.decode: bad FLOAT_EXT "${text}"`);
      return floatTerm(v);
    }
    case SMALL_ATOM_UTF8_EXT:
    case ATOM_UTF8_EXT:
    case ATOM_EXT:
    case SMALL_ATOM_EXT:
      r.pos--;
      return readAtom(r).term;
    case SMALL_TUPLE_EXT:
    case LARGE_TUPLE_EXT: {
      const n = tag === SMALL_TUPLE_EXT ? r.u8() : r.u32();
      r.need(n);
      const t: Term[] = new Array(n);
      for (let i = 0; i < n; i++) t[i] = read(r, depth + 1);
      return t;
    }
    case NIL_EXT:
      return NIL;
    case STRING_EXT: {
      const b = r.take(r.u16());
      return b.length === 0 ? NIL : new List(Array.from(b));
    }
    case LIST_EXT: {
      const n = r.u32();
      r.need(n);
      const items: Term[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = read(r, depth + 1);
      const tail = read(r, depth + 1);
      if (n === 0) return tail;
      return new List(items, tail);
    }
    case BINARY_EXT:
      return r.take(r.u32()).slice();
    case BIT_BINARY_EXT: {
      const n = r.u32();
      const bits = r.u8();
      const bytes = r.take(n).slice();
      if (n === 0) return bytes; // <<>> never comes this way, but be lenient
      return new BitBinary(bytes, bits);
    }
    case MAP_EXT: {
      const n = r.u32();
      r.need(n * 2);
      const m = new Map<Term, Term>();
      for (let i = 0; i < n; i++) {
        const k = read(r, depth + 1);
        m.set(k, read(r, depth + 1));
      }
      return m;
    }
    case NEW_PID_EXT:
    case PID_EXT: {
      const node = readAtomName(r);
      const id = r.u32();
      const serial = r.u32();
      return new ErlPid(node, id, serial, tag === PID_EXT ? r.u8() : r.u32());
    }
    case NEWER_REFERENCE_EXT:
    case NEW_REFERENCE_EXT: {
      const n = r.u16();
      if (n < 1 || n > 5) throw new RangeError(`Term.decode: reference with ${n} words`);
      const node = readAtomName(r);
      const creation = tag === NEW_REFERENCE_EXT ? r.u8() : r.u32();
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push(r.u32());
      return new ErlRef(node, creation, ids);
    }
    case REFERENCE_EXT: {
      const node = readAtomName(r);
      const id = r.u32();
      return new ErlRef(node, r.u8(), [id]);
    }
    case NEW_PORT_EXT:
    case PORT_EXT: {
      const node = readAtomName(r);
      const id = r.u32();
      return new ErlPort(node, id, tag === PORT_EXT ? r.u8() : r.u32());
    }
    case V4_PORT_EXT: {
      const node = readAtomName(r);
      const hi = r.u32();
      const lo = r.u32();
      const id = (BigInt(hi) << 32n) | BigInt(lo);
      return new ErlPort(node, id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id, r.u32());
    }
    case NEW_FUN_EXT: {
      const start = r.pos - 1;
      const size = r.u32();
      if (size < 4) throw new RangeError(`Term.decode: bad NEW_FUN_EXT size ${size}`);
      r.take(size - 4);
      return new ErlFun(r.buf.slice(start, r.pos));
    }
    case EXPORT_EXT: {
      const start = r.pos - 1;
      readAtomName(r);
      readAtomName(r);
      read(r, depth + 1);
      return new ErlFun(r.buf.slice(start, r.pos));
    }
    default:
      throw new RangeError(`Term.decode: unsupported tag ${tag} at offset ${r.pos - 1}`);
  }
}

/**
 * Decodes one whole external-format term (version byte 131 first). Throws a `RangeError` on a
 * truncated term, an unsupported tag or trailing bytes.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * // binary_to_term(<<131,104,2,119,2,111,107,97,1>>) =:= {ok, 1}
 * const t = Term.decode(new Uint8Array([131, 104, 2, 119, 2, 111, 107, 97, 1]));
 * console.assert(Term.equals(t, [Symbol.for("ok"), 1]));
 * ```
 */
export function decode(bytes: Uint8Array): Term {
  const { term, end } = decodeAt(bytes, 0);
  if (end !== bytes.length) {
    throw new RangeError(`Term.decode: ${bytes.length - end} trailing bytes after the term`);
  }
  return term;
}

/**
 * Decodes the term that starts (with its version byte) at `offset`, and says where it ends:
 * for buffers holding several terms back to back, as distribution messages do.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * const buf = Term.encodeSequence([1, 2]);
 * const first = Term.decodeAt(buf, 0);
 * console.assert(first.term === 1 && Term.decodeAt(buf, first.end).term === 2);
 * ```
 */
export function decodeAt(bytes: Uint8Array, offset: number): { term: Term; end: number } {
  const r = new Reader(bytes, offset);
  const version = r.u8();
  if (version !== VERSION) {
    throw new RangeError(`Term.decode: version byte ${version} at offset ${offset}, expected 131`);
  }
  const term = read(r, 0);
  return { term, end: r.pos };
}

// ---------------------------------------------------------------------------------------------
// Equality and printing

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function flatten(l: List): { items: Term[]; tail: Term } {
  let items = l.items;
  let tail = l.tail;
  if (tail instanceof List && tail !== NIL) {
    items = items.slice();
    while (tail instanceof List && tail !== NIL) {
      items.push(...tail.items);
      tail = tail.tail;
    }
  }
  return { items, tail };
}

function asBinary(t: unknown): Uint8Array | undefined {
  if (t instanceof Uint8Array) return t;
  if (typeof t === "string") return utf8.encode(t);
  return undefined;
}

/**
 * Erlang's exact equality (`=:=`) on terms: by value for tuples, lists, binaries (a JS string
 * equals its UTF-8 binary), maps, pids, refs, ports and funs; `1` and `1.0` differ.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.equals(new Term.ErlRef("a@h", 1, [1, 2, 3]), new Term.ErlRef("a@h", 1, [1, 2, 3])));
 * console.assert(!Term.equals(1, new Term.Float(1)));
 * ```
 */
export function equals(a: Term, b: Term): boolean {
  if (a === b) return true;
  if (typeof a === "bigint" || typeof b === "bigint") {
    return (typeof a === "bigint" || typeof a === "number") && (typeof b === "bigint" || typeof b === "number") &&
      Number.isInteger(Number(a)) && Number.isInteger(Number(b)) && BigInt(a) === BigInt(b);
  }
  if (typeof a === "number" && b instanceof Float) return false;
  if (a instanceof Float && b instanceof Float) return Object.is(a.value, b.value);
  if (a instanceof Float && typeof b === "number") return !Number.isInteger(b) && a.value === b;
  if (typeof b === "number" && a instanceof Float) return false;
  const binA = asBinary(a);
  if (binA !== undefined) {
    const binB = asBinary(b);
    return binB !== undefined && bytesEqual(binA, binB);
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equals(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof List) {
    if (!(b instanceof List)) return false;
    const fa = flatten(a);
    const fb = flatten(b);
    if (fa.items.length !== fb.items.length) return false;
    for (let i = 0; i < fa.items.length; i++) if (!equals(fa.items[i], fb.items[i])) return false;
    return equals(fa.tail, fb.tail);
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    outer: for (const [k, v] of a) {
      if (b.has(k)) {
        if (!equals(v, b.get(k)!)) return false;
        continue;
      }
      for (const [k2, v2] of b) {
        if (equals(k, k2)) {
          if (!equals(v, v2)) return false;
          continue outer;
        }
      }
      return false;
    }
    return true;
  }
  if (a instanceof ErlPid) return b instanceof ErlPid && a.key === b.key;
  if (a instanceof ErlRef) return b instanceof ErlRef && a.key === b.key;
  if (a instanceof ErlPort) return b instanceof ErlPort && a.key === b.key;
  if (a instanceof BitBinary) return b instanceof BitBinary && a.bits === b.bits && bytesEqual(a.bytes, b.bytes);
  if (a instanceof ErlFun) return b instanceof ErlFun && bytesEqual(a.bytes, b.bytes);
  return false;
}

const BARE_ATOM = /^[a-z][a-zA-Z0-9_@]*$/;

function formatAtom(name: string): string {
  return BARE_ATOM.test(name) ? name : `'${name.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function formatFloat(v: number): string {
  if (Object.is(v, -0)) return "-0.0";
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return `${v}.0`;
  return String(v).replace(/e\+?/, "e");
}

function isPrintable(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 32 || b > 126 || b === 34 || b === 92) return false;
  return true;
}

/**
 * The term in Erlang syntax (as `io:format("~w")` prints it, binaries shown as text when
 * printable), for logs and error messages.
 *
 * @example
 * ```ts
 * import { Term } from "../../mod.ts";
 * console.assert(Term.format([Symbol.for("error"), new Map([[1, "x"]])]) === '{error,#{1=><<"x">>}}');
 * ```
 */
export function format(t: Term): string {
  switch (typeof t) {
    case "number":
      return Number.isInteger(t) && !Object.is(t, -0) ? String(t) : formatFloat(t);
    case "bigint":
      return t.toString();
    case "boolean":
      return String(t);
    case "symbol": {
      const name = Symbol.keyFor(t);
      return name === undefined ? String(t) : formatAtom(name);
    }
    case "string":
      return format(utf8.encode(t));
  }
  if (Array.isArray(t)) return `{${t.map(format).join(",")}}`;
  if (t instanceof Uint8Array) {
    if (t.length > 0 && isPrintable(t)) return `<<"${latin1(t)}">>`;
    return `<<${t.join(",")}>>`;
  }
  if (t instanceof List) {
    const { items, tail } = flatten(t);
    const tailText = tail === NIL ? "" : `|${format(tail)}`;
    return `[${items.map(format).join(",")}${tailText}]`;
  }
  if (t instanceof Float) return formatFloat(t.value);
  if (t instanceof Map) return `#{${[...t].map(([k, v]) => `${format(k)}=>${format(v)}`).join(",")}}`;
  if (t instanceof BitBinary) {
    const whole = Array.from(t.bytes.subarray(0, t.bytes.length - 1));
    const last = t.bytes[t.bytes.length - 1] >> (8 - t.bits);
    return `<<${[...whole.map(String), `${last}:${t.bits}`].join(",")}>>`;
  }
  if (t instanceof ErlFun) {
    if (t.bytes[0] === EXPORT_EXT) {
      const r = new Reader(t.bytes, 1);
      const m = readAtomName(r);
      const f = readAtomName(r);
      const arity = read(r, 0);
      return `fun ${formatAtom(m)}:${formatAtom(f)}/${String(arity)}`;
    }
    return "#Fun<>";
  }
  if (t instanceof ErlPid || t instanceof ErlRef || t instanceof ErlPort) return t.toString();
  return String(t);
}
