/**
 * Terms as ETS sees them: validation of keys, Erlang's term order, term
 * equality, the canonical string encoding of compound keys used by hash
 * tables, and the deep copy made of every stored object.
 *
 * Supported key types and their order (Erlang's order, mapped onto ours):
 *
 * | rank | our type | Erlang type |
 * |---|---|---|
 * | 0 | `number` (finite or ±Infinity; `NaN` is rejected; `-0` is `0`) | number |
 * | 1 | `false` < `null` < `true` < `undefined` | atom (`false`, `nil`, `true`, `undefined`) |
 * | 2 | {@linkcode Ref} (by creation order) | reference |
 * | 3 | {@linkcode Pid} (by creation order) | pid |
 * | 4 | array: shorter first, then element by element | tuple |
 * | 5 | `string`, by UTF-16 code units (JS `<`) | binary |
 *
 * Private: the public contract is documented in `ets.ts`.
 *
 * @module
 */
import { Pid, Ref } from "../process/pid.ts";
import { EtsError } from "./error.ts";

/** Where a value sits in the cross-type order, or -1 if it cannot be a key. */
function rank(v: unknown): number {
  switch (typeof v) {
    case "number":
      return v === v ? 0 : -1;
    case "boolean":
      return 1;
    case "undefined":
      return 1;
    case "string":
      return 5;
    case "object":
      if (v === null) return 1;
      if (Array.isArray(v)) return 4;
      if (v instanceof Ref) return 2;
      if (v instanceof Pid) return 3;
      return -1;
    default:
      return -1;
  }
}

/** Atoms compare alphabetically by their Erlang names: false, nil, true, undefined. */
function atomOrder(v: unknown): number {
  return v === false ? 0 : v === null ? 1 : v === true ? 2 : 3;
}

/** Formats a value for an error message. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "symbol") return v.toString();
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (v instanceof Pid || v instanceof Ref) return String(v);
  if (typeof v === "function") return "[function]";
  if (v !== null && typeof v === "object") {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return "[object]";
    }
  }
  return String(v);
}

function badKey(v: unknown): EtsError {
  return new EtsError(
    "badarg",
    `Unsupported key ${show(v)}: keys are numbers, strings, booleans, null, undefined, pids, refs or arrays of these`,
  );
}

/**
 * Erlang's term order over the key types: negative, zero or positive.
 * Throws `badarg` for values that are not terms (objects, functions, NaN).
 */
export function compare(a: unknown, b: unknown): number {
  // Fast paths first: most keys are all numbers or all strings.
  if (typeof a === "number" && typeof b === "number" && a === a && b === b) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const ra = rank(a), rb = rank(b);
  if (ra < 0) throw badKey(a);
  if (rb < 0) throw badKey(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1: {
      const x = atomOrder(a), y = atomOrder(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 2:
    case 3: {
      const x = (a as Pid | Ref).id, y = (b as Pid | Ref).id;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default: {
      const x = a as unknown[], y = b as unknown[];
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      for (let i = 0; i < x.length; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return 0;
    }
  }
}

/** True if `v` can be a key (see the module doc). */
export function isKey(v: unknown): boolean {
  const r = rank(v);
  if (r < 0) return false;
  if (r === 4) {
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) if (!isKey(a[i])) return false;
  }
  return true;
}

/** Throws `badarg` unless `v` can be a key. */
export function checkKey(v: unknown): void {
  // Inline the common cases; `isKey` walks the rest.
  if (typeof v === "number" ? v !== v : typeof v !== "string" && !isKey(v)) throw badKey(v);
}

/**
 * Term equality, as Erlang's `=:=` on the key types (and `-0` equal to `0`).
 * Arrays and plain objects compare structurally, pids and refs by id, any
 * other object by identity.
 */
export function termEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!termEquals(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Pid || a instanceof Ref) {
    return (b instanceof Pid || b instanceof Ref) && a.constructor === b.constructor && a.id === b.id;
  }
  if (isPlain(a) && isPlain(b) && !Array.isArray(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
      if (!termEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    }
    return true;
  }
  return false;
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/**
 * The canonical string of a compound key (an array, pid or ref) for hash
 * tables: prefix-free, so two keys encode alike exactly when they are equal
 * terms. Primitive keys never go through here (they key a `Map` directly), so
 * a string key can never collide with an encoding. Throws `badarg` for
 * unsupported keys.
 */
export function encodeKey(k: unknown): string {
  switch (typeof k) {
    case "number":
      if (k !== k) throw badKey(k);
      return "n" + (k === 0 ? "0" : String(k)) + ";";
    case "string":
      return "s" + k.length + ":" + k;
    case "boolean":
      return k ? "T" : "F";
    case "undefined":
      return "U";
    case "object": {
      if (k === null) return "N";
      if (Array.isArray(k)) {
        let s = "[";
        for (let i = 0; i < k.length; i++) s += encodeKey(k[i]);
        return s + "]";
      }
      if (k instanceof Pid) return "p" + k.id + ";";
      if (k instanceof Ref) return "r" + k.id + ";";
      throw badKey(k);
    }
    default:
      throw badKey(k);
  }
}

/**
 * A deep copy of `v` for storage: arrays and plain objects are copied,
 * recursively; primitives and other objects (class instances such as pids,
 * `Map`s, functions) are kept as they are, by reference. Not frozen: on Bun,
 * `Object.freeze` makes an array about 4x bigger and several times slower to
 * build, so stored objects are protected by the copy and by readonly types.
 */
export function copyTerm(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return copyTuple(v);
  if (!isPlain(v)) return v;
  const out = Object.create(Object.getPrototypeOf(v)) as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    // defineProperty, not assignment, so a "__proto__" key stays a plain key.
    Object.defineProperty(out, k, {
      value: copyTerm((v as Record<string, unknown>)[k]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** {@linkcode copyTerm} for an array (a tuple). */
export function copyTuple(a: readonly unknown[]): unknown[] {
  const n = a.length;
  // A literal for the common pair: cheaper than a sized `new Array`.
  if (n === 2) {
    const x = a[0], y = a[1];
    return [
      typeof x === "object" && x !== null ? copyTerm(x) : x,
      typeof y === "object" && y !== null ? copyTerm(y) : y,
    ];
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    out[i] = typeof x === "object" && x !== null ? copyTerm(x) : x;
  }
  return out;
}

/** A rough estimate of the heap bytes a stored term takes (for `info`). */
export function termBytes(v: unknown, depth = 0): number {
  switch (typeof v) {
    case "number":
      return 8;
    case "string":
      return 16 + v.length;
    case "object": {
      if (v === null) return 8;
      if (depth > 8) return 32;
      if (Array.isArray(v)) {
        let n = 16 + v.length * 8;
        for (let i = 0; i < v.length; i++) {
          if (typeof v[i] === "object" || typeof v[i] === "string") n += termBytes(v[i], depth + 1);
        }
        return n;
      }
      if (v instanceof Pid || v instanceof Ref) return 8;
      if (isPlain(v)) {
        let n = 32;
        for (const k of Object.keys(v)) n += 16 + termBytes((v as Record<string, unknown>)[k], depth + 1);
        return n;
      }
      return 32;
    }
    default:
      return 8;
  }
}
