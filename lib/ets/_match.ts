/**
 * Match specifications: a small, JS-shaped version of Erlang's
 * `[{Head, Guards, [Result]}]`, compiled once per call into closures.
 * The language is documented on `select` in `ets.ts`.
 *
 * @module
 */
import { _ } from "../process/pattern.ts";
import { Pid, Ref } from "../process/pid.ts";
import { compare, show, termEquals } from "./_term.ts";
import { EtsError } from "./error.ts";

/** A match variable, Erlang's `'$1'`, `'$2'`, ...: make one with {@linkcode $}. */
export class MatchVar {
  /** Its number. */
  readonly n: number;
  /** @ignore */
  constructor(n: number) {
    this.n = n;
  }
  /** Erlang's spelling, `$1`. */
  toString(): string {
    return `$${this.n}`;
  }
}

const vars: MatchVar[] = [];

/** The match variable number `n` (`$(1)` is Erlang's `'$1'`). */
export function $(n: number): MatchVar {
  if (!Number.isInteger(n) || n < 0 || n > 100_000_000) {
    throw new EtsError("badarg", `A match variable number must be an integer from 0, got ${show(n)}`);
  }
  return vars[n] ??= new MatchVar(n);
}

/** In a result or guard: the whole matched object (Erlang's `'$_'`). */
export const $_: unique symbol = Symbol("$_");
/** In a result or guard: the values of all variables, in variable order (Erlang's `'$$'`). */
export const $$: unique symbol = Symbol("$$");

/** A guard or result expression evaluator. */
type Expr = (obj: readonly unknown[], b: unknown[]) => unknown;

/** One clause of a match specification. */
export interface MatchClause {
  /** What objects must look like (see `select`). */
  head: unknown;
  /** Conditions that must all be `true`. */
  guards?: readonly unknown[];
  /** What to return for a matching object; the object itself if omitted. */
  result?: unknown;
}

/** One clause, or several tried in order. */
export type MatchSpec = MatchClause | readonly MatchClause[];

/** A compiled clause. */
export interface Clause {
  match(obj: readonly unknown[], b: unknown[]): boolean;
  guard: Expr | null;
  result: Expr | null;
}

/** A compiled match specification. */
export interface Compiled {
  clauses: Clause[];
  /** Size of the bindings array. */
  width: number;
  /** If every object that can match has this one key: the key (lets callers look it up). */
  key: unknown;
  hasKey: boolean;
}

function bad(msg: string): EtsError {
  return new EtsError("badarg", msg);
}

/** True if `p` holds no variable and no wildcard. */
function ground(p: unknown): boolean {
  if (p === _ || p instanceof MatchVar || p === $_ || p === $$) return false;
  if (Array.isArray(p)) return p.every(ground);
  if (isPlainObject(p)) return Object.values(p as object).every(ground);
  return true;
}

function isPlainObject(v: unknown): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

type Matcher = (v: unknown, b: unknown[]) => boolean;

/** Compiles a head pattern; `bound` collects variables as they are first seen. */
function compilePattern(p: unknown, bound: Set<number>): Matcher {
  if (p === _) return () => true;
  if (p instanceof MatchVar) {
    const n = p.n;
    if (bound.has(n)) return (v, b) => termEquals(b[n], v);
    bound.add(n);
    return (v, b) => {
      b[n] = v;
      return true;
    };
  }
  if (p === $_ || p === $$) throw bad(`${String(p)} can only be used in guards and results`);
  if (Array.isArray(p)) {
    const subs = p.map((x) => compilePattern(x, bound));
    const len = p.length;
    return (v, b) => {
      if (!Array.isArray(v) || v.length !== len) return false;
      for (let i = 0; i < len; i++) if (!subs[i](v[i], b)) return false;
      return true;
    };
  }
  if (isPlainObject(p)) {
    // A map pattern: the object must have each key, matching; other keys are ignored.
    const keys = Object.keys(p as object);
    const subs = keys.map((k) => compilePattern((p as Record<string, unknown>)[k], bound));
    return (v, b) => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
      for (let i = 0; i < keys.length; i++) {
        if (!Object.prototype.hasOwnProperty.call(v, keys[i])) return false;
        if (!subs[i]((v as Record<string, unknown>)[keys[i]], b)) return false;
      }
      return true;
    };
  }
  return (v) => termEquals(p, v);
}

/** Thrown inside a guard for a type error; makes the guard false, as in Erlang. */
const FAIL = new Error("guard failed");

function num(v: unknown): number {
  if (typeof v !== "number") throw FAIL;
  return v;
}

function bool(v: unknown): boolean {
  if (typeof v !== "boolean") throw FAIL;
  return v;
}

function cmp(a: unknown, b: unknown): number {
  try {
    return compare(a, b);
  } catch {
    throw FAIL;
  }
}

/** Guard functions by name: arity and implementation. */
const FUNCTIONS: Record<string, [number, (...args: unknown[]) => unknown]> = Object.assign(Object.create(null), {
  "<": [2, (a: unknown, b: unknown) => cmp(a, b) < 0],
  ">": [2, (a: unknown, b: unknown) => cmp(a, b) > 0],
  "=<": [2, (a: unknown, b: unknown) => cmp(a, b) <= 0],
  "<=": [2, (a: unknown, b: unknown) => cmp(a, b) <= 0],
  ">=": [2, (a: unknown, b: unknown) => cmp(a, b) >= 0],
  "==": [2, (a: unknown, b: unknown) => termEquals(a, b)],
  "=:=": [2, (a: unknown, b: unknown) => termEquals(a, b)],
  "===": [2, (a: unknown, b: unknown) => termEquals(a, b)],
  "/=": [2, (a: unknown, b: unknown) => !termEquals(a, b)],
  "=/=": [2, (a: unknown, b: unknown) => !termEquals(a, b)],
  "!==": [2, (a: unknown, b: unknown) => !termEquals(a, b)],
  "not": [1, (a: unknown) => !bool(a)],
  "xor": [2, (a: unknown, b: unknown) => bool(a) !== bool(b)],
  "and": [2, (a: unknown, b: unknown) => bool(a) && bool(b)],
  "or": [2, (a: unknown, b: unknown) => bool(a) || bool(b)],
  "+": [2, (a: unknown, b: unknown) => num(a) + num(b)],
  "-": [2, (a: unknown, b: unknown) => num(a) - num(b)],
  "*": [2, (a: unknown, b: unknown) => num(a) * num(b)],
  "/": [2, (a: unknown, b: unknown) => {
    if (num(b) === 0) throw FAIL;
    return num(a) / num(b);
  }],
  "div": [2, (a: unknown, b: unknown) => {
    if (!Number.isInteger(a) || !Number.isInteger(b) || b === 0) throw FAIL;
    return Math.trunc((a as number) / (b as number));
  }],
  "rem": [2, (a: unknown, b: unknown) => {
    if (!Number.isInteger(a) || !Number.isInteger(b) || b === 0) throw FAIL;
    return (a as number) % (b as number);
  }],
  "abs": [1, (a: unknown) => Math.abs(num(a))],
  "min": [2, (a: unknown, b: unknown) => cmp(a, b) <= 0 ? a : b],
  "max": [2, (a: unknown, b: unknown) => cmp(a, b) >= 0 ? a : b],
  "element": [2, (n: unknown, t: unknown) => {
    if (!Number.isInteger(n) || !Array.isArray(t) || (n as number) < 1 || (n as number) > t.length) throw FAIL;
    return t[(n as number) - 1];
  }],
  "size": [1, (t: unknown) => {
    if (Array.isArray(t) || typeof t === "string") return t.length;
    throw FAIL;
  }],
  "is_number": [1, (a: unknown) => typeof a === "number"],
  "is_integer": [1, (a: unknown) => Number.isInteger(a)],
  "is_float": [1, (a: unknown) => typeof a === "number" && !Number.isInteger(a)],
  "is_string": [1, (a: unknown) => typeof a === "string"],
  "is_binary": [1, (a: unknown) => typeof a === "string"],
  "is_boolean": [1, (a: unknown) => typeof a === "boolean"],
  "is_atom": [1, (a: unknown) => typeof a === "boolean" || a === null || a === undefined],
  "is_tuple": [1, (a: unknown) => Array.isArray(a)],
  "is_array": [1, (a: unknown) => Array.isArray(a)],
  "is_list": [1, (a: unknown) => Array.isArray(a)],
  "is_map": [1, (a: unknown) => isPlainObject(a)],
  "is_pid": [1, (a: unknown) => a instanceof Pid],
  "is_reference": [1, (a: unknown) => a instanceof Ref],
});

/** Compiles a guard or result expression; `tuples`: arrays are templates (results) or calls (guards). */
function compileExpr(e: unknown, bound: Set<number>, used: number[], inGuard: boolean): Expr {
  if (e instanceof MatchVar) {
    const n = e.n;
    if (!bound.has(n)) throw bad(`Variable ${e} is not bound by the head`);
    return (_o, b) => b[n];
  }
  if (e === $_) return (o) => o;
  if (e === $$) return (_o, b) => used.map((n) => b[n]);
  if (e === _) throw bad("The wildcard _ can only be used in heads");
  if (typeof e === "function") {
    const f = e as (vars: unknown[], obj: readonly unknown[]) => unknown;
    return (o, b) => f(used.map((n) => b[n]), o);
  }
  if (Array.isArray(e)) {
    if (inGuard) return compileCall(e, bound, used);
    const subs = e.map((x) => compileExpr(x, bound, used, false));
    return (o, b) => subs.map((s) => s(o, b));
  }
  return () => e;
}

function compileCall(e: unknown[], bound: Set<number>, used: number[]): Expr {
  const [name, ...args] = e;
  if (name === "const") {
    if (args.length !== 1) throw bad(`Guard ["const", value] takes one value, got ${show(e)}`);
    const v = args[0];
    return () => v;
  }
  if (name === "andalso" || name === "orelse") {
    if (args.length !== 2) throw bad(`Guard function "${name}" takes 2 arguments, got ${args.length}`);
    const [a, b] = args.map((x) => compileExpr(x, bound, used, true));
    return name === "andalso" ? (o, v) => bool(a(o, v)) && bool(b(o, v)) : (o, v) => bool(a(o, v)) || bool(b(o, v));
  }
  const fn = typeof name === "string" ? FUNCTIONS[name] : undefined;
  if (fn === undefined) {
    throw bad(`Unknown guard function ${show(name)} in ${show(e)} (wrap a literal array as ["const", array])`);
  }
  if (args.length !== fn[0]) {
    throw bad(`Guard function "${name as string}" takes ${fn[0]} argument(s), got ${args.length}`);
  }
  const f = fn[1];
  const subs = args.map((x) => compileExpr(x, bound, used, true));
  if (subs.length === 1) {
    const a = subs[0];
    return (o, b) => f(a(o, b));
  }
  const [a, c] = subs;
  return (o, b) => f(a(o, b), c(o, b));
}

/** Compiles a specification for a table whose key is at index `keyIdx`. */
export function compileSpec(spec: MatchSpec, keyIdx: number): Compiled {
  const list: readonly MatchClause[] = Array.isArray(spec) ? spec : [spec as MatchClause];
  if (list.length === 0) throw bad("A match specification needs at least one clause");
  let width = 1;
  const clauses: Clause[] = [];
  const keys: unknown[] = [];
  for (const c of list) {
    if (c === null || typeof c !== "object" || !("head" in c)) {
      throw bad(`A match clause is an object { head, guards?, result? }, got ${show(c)}`);
    }
    const bound = new Set<number>();
    const m = compilePattern(c.head, bound);
    const used = [...bound].sort((a, b) => a - b);
    for (const n of bound) width = Math.max(width, n + 1);
    let guard: Expr | null = null;
    const guards = c.guards ?? [];
    if (!Array.isArray(guards)) throw bad(`Guards must be an array, got ${show(guards)}`);
    if (guards.length > 0) {
      const gs = guards.map((g) => compileExpr(g, bound, used, true));
      guard = (o, b) => {
        try {
          for (const g of gs) if (g(o, b) !== true) return false;
          return true;
        } catch (e) {
          if (e === FAIL) return false;
          throw e;
        }
      };
    }
    const result = "result" in c && c.result !== $_ ? compileExpr(c.result, bound, used, false) : null;
    clauses.push({ match: (o, b) => m(o, b), guard, result });
    const h = c.head;
    if (Array.isArray(h) && keyIdx < h.length && ground(h[keyIdx])) keys.push(h[keyIdx]);
    else keys.push(NO_KEY);
  }
  const k0 = keys[0];
  const hasKey = k0 !== NO_KEY && keys.every((k) => k !== NO_KEY && termEquals(k, k0));
  return { clauses, width, key: k0, hasKey };
}

const NO_KEY: unique symbol = Symbol("no key");

/** Sentinel: no clause matched. */
export const NO_MATCH: unique symbol = Symbol("no match");

/** Runs `c` on one object: the first matching clause's result, or {@linkcode NO_MATCH}. */
export function apply(c: Compiled, obj: readonly unknown[]): unknown {
  const b = new Array<unknown>(c.width);
  for (const cl of c.clauses) {
    if (!cl.match(obj, b)) continue;
    if (cl.guard !== null && !cl.guard(obj, b)) continue;
    return cl.result === null ? obj : cl.result(obj, b);
  }
  return NO_MATCH;
}
