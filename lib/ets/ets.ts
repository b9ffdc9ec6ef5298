/**
 * ETS-like tables: owned, access-controlled, in-memory term storage, as
 * Erlang's `ets` module provides.
 *
 * **Objects** are tuples, written as arrays: `Ets.insert(tab, ["milk", 3])`.
 * The key is the element at `keyPos` (1-based as in Erlang; default 1, so
 * index 0). A table is referred to by the {@linkcode Table} id `new` returns
 * or, for a `named` table, by its name.
 *
 * **Types**: `set` (one object per key; inserting again overwrites),
 * `ordered_set` (the same, kept in term order), `bag` (several objects per
 * key, but never two equal ones), `duplicate_bag` (several objects per key,
 * equal ones included).
 *
 * **Ownership and access**: the process that calls `new` owns the table; when
 * it dies the table is deleted, unless it has an heir, which then becomes the
 * owner and receives `["ETS-TRANSFER", table, fromPid, heirData]`. `public`
 * tables take reads and writes from anyone; `protected` (the default) take
 * writes from the owner only; `private` tables answer their owner only.
 * Plain code (not inside a process) counts as one more process: it owns the
 * tables it creates (never deleted automatically) and is a non-owner
 * elsewhere. A forbidden operation throws {@linkcode EtsError} (`access`) and
 * changes nothing; so does any operation on a deleted table (`no_table`).
 *
 * **Keys** are numbers, strings, booleans, `null`, `undefined`, pids, refs,
 * and arrays (tuples) of these, nested to any depth. Keys compare as Erlang
 * terms: two equal arrays are the same key, `"1"` and `1` are different keys,
 * `-0` is the same key as `0` (JS numbers do not tell floats from integers, so
 * `1` and `1.0` are one key), and `NaN` is rejected (Erlang has no NaN). Other
 * values (plain objects, class instances, functions, symbols, bigints) cannot
 * be keys. Strings like `"__proto__"` and `"constructor"` are ordinary keys:
 * tables never use keys as object properties.
 *
 * **Term order**, used by `ordered_set`, `first`/`next` and guard
 * comparisons, maps Erlang's `number < atom < reference < pid < tuple <
 * binary` onto our types:
 * `number < false < null < true < undefined < Ref < Pid < array < string`.
 * Booleans, `null` (Erlang's `nil`) and `undefined` are atoms, ordered by
 * name. Arrays are tuples: a shorter array comes first, then arrays compare
 * element by element. Pids and refs compare by creation order. Strings (which
 * are binaries in Elixir) come last, compared by UTF-16 code units (JS `<`;
 * this differs from Erlang's UTF-8 byte order only between characters above
 * U+FFFF and those in U+E000–U+FFFF).
 *
 * **Copies, not freezing**: `insert` stores a deep copy of the object
 * (arrays and plain objects are copied recursively; other objects, such as
 * pids, `Map`s or class instances, are stored by reference), so mutating the
 * caller's object afterwards cannot change the table. Reads return the
 * stored objects themselves, without copying, typed `Readonly`: do not
 * mutate them (the types forbid it; JS code that ignores the types would
 * change the table in place). They are not frozen because on Bun
 * `Object.freeze` makes an array about 4x bigger and several times slower to
 * build, which would cost more than the rest of an insert.
 *
 * **Speed**: hash tables (`set`, `bag`, `duplicate_bag`) keep number keys in
 * an open-addressing table of their own, whose lookup costs about one cache
 * miss where a `Map`'s costs two or three; other primitive keys key a `Map`
 * directly, and compound keys key another by a canonical string encoding.
 * `ordered_set` is a B+ tree with O(log n) insert, delete and lookup.
 * {@linkcode lookupOne} skips the result array `lookup` allocates, which is
 * a quarter of a lookup's cost. `readConcurrency` and `writeConcurrency` are
 * accepted for compatibility and reported by `info`, but are only hints: a JS
 * runtime runs one thread, so there is nothing to tune.
 *
 * @example A shopping list
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new<[string, number]>("groceries");
 * Ets.insert(t, ["milk", 1]);
 * Ets.insert(t, ["eggs", 12]);
 * Ets.updateCounter(t, "milk", 2);
 * console.assert(Ets.lookup(t, "milk")[0][1] === 3);
 * Ets.delete(t);
 * ```
 *
 * @module
 */
import { currentProc, lookup as lookupProc } from "../process/_runtime.ts";
import { _ } from "../process/pattern.ts";
import { Pid } from "../process/pid.ts";
import {
  $,
  $$,
  $_,
  apply,
  type Compiled,
  compileSpec,
  type MatchClause,
  type MatchSpec,
  MatchVar,
  NO_MATCH,
} from "./_match.ts";
import { BagStore, END_OF_TABLE, type Obj, OrderedStore, SetStore, type Store, storeBytes } from "./_store.ts";
import {
  type Access,
  accessName,
  all as allTables,
  destroy,
  named,
  owned,
  PRIVATE,
  PROTECTED,
  PUBLIC,
  readable,
  register,
  renameTable,
  resolve,
  Table,
  type TableType,
  transfer,
  type TransferMessage,
  writable,
} from "./_table.ts";
import { checkKey, copyTerm, copyTuple, isKey, show } from "./_term.ts";
import { EtsError, type EtsErrorCode } from "./error.ts";
import { readTable, writeTable } from "./_file.ts";

export { $, $$, $_, _, END_OF_TABLE, EtsError, MatchVar, Table };
export type { Access, EtsErrorCode, MatchClause, MatchSpec, TableType, TransferMessage };

/** Any object a table holds: an array (a tuple). */
export type Tuple = readonly unknown[];

/** A table id, or the name of a `named` table. */
export type TableRef<O extends Tuple = Tuple> = Table<O> | string;

/** Options for {@linkcode new}. */
export interface NewOptions {
  /** Table type; default `set`. */
  type?: TableType;
  /** Register the name so it can stand for the table (a second table with the name fails with `name_taken`). */
  named?: boolean;
  /** 1-based position of the key in each object; default 1. */
  keyPos?: number;
  /** Who may read and write; default `protected`. */
  access?: Access;
  /** Accepted and reported by `info`; a hint only (one thread, nothing to tune). */
  readConcurrency?: boolean;
  /** Accepted and reported by `info`; a hint only (one thread, nothing to tune). */
  writeConcurrency?: boolean | "auto";
  /** Who gets the table when the owner dies, with what data; `"none"` (default): nobody. */
  heir?: Heir | "none";
}

/** An heir: the process that inherits a table, and the data it is sent. */
export interface Heir {
  /** The process. */
  pid: Pid;
  /** Sent as the fourth element of the `ETS-TRANSFER` message. */
  data?: unknown;
}

/** What {@linkcode info} reports. */
export interface TableInfo {
  /** The table's unique number. */
  id: number;
  /** The table's name. */
  name: string;
  /** Whether it is found by name (`named_table`). */
  named: boolean;
  /** `set`, `ordered_set`, `bag` or `duplicate_bag`. */
  type: TableType;
  /** 1-based key position. */
  keyPos: number;
  /** Who may read and write it. */
  access: Access;
  /** The owner's pid; undefined when plain code owns the table. */
  owner: Pid | undefined;
  /** The heir's pid, if any. */
  heir: Pid | undefined;
  /** Number of objects. */
  size: number;
  /** Estimated bytes held (structure plus objects, from a sample). */
  memory: number;
  /** Accepted for compatibility; no effect (one thread). */
  readConcurrency: boolean;
  /** Accepted for compatibility; no effect (one thread). */
  writeConcurrency: boolean;
}

const TYPES: readonly TableType[] = ["set", "ordered_set", "bag", "duplicate_bag"];
const ACCESS: Record<string, number> = { public: PUBLIC, protected: PROTECTED, private: PRIVATE };

function badarg(msg: string): EtsError {
  return new EtsError("badarg", msg);
}

/** Checks and copies an object on its way in. */
function toObj(obj: unknown, keyIdx: number): Obj {
  if (!Array.isArray(obj)) throw badarg(`An object must be an array (a tuple), got ${show(obj)}`);
  if (obj.length <= keyIdx) {
    throw badarg(`Object ${show(obj)} has no element at key position ${keyIdx + 1}`);
  }
  return copyTuple(obj);
}

function checkHeir(h: unknown): Pid | null {
  if (h === undefined || h === "none") return null;
  const pid = h !== null && typeof h === "object" ? (h as Heir).pid : undefined;
  if (!(pid instanceof Pid)) throw badarg(`An heir is { pid, data } or "none", got ${show(h)}`);
  return pid;
}

/**
 * Creates a table owned by the calling process (or by plain code) and returns
 * its id. Throws `name_taken` if `named` and a named table already has the
 * name, `badarg` for bad options.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new<[string, number]>("doc_new", { type: "ordered_set", access: "public" });
 * Ets.insert(t, ["b", 2]);
 * Ets.insert(t, ["a", 1]);
 * console.assert(Ets.first(t) === "a");
 * Ets.delete(t);
 * ```
 */
function newTable<O extends Tuple = unknown[]>(name: string, opts: NewOptions = {}): Table<O> {
  if (typeof name !== "string") throw badarg(`A table name must be a string, got ${show(name)}`);
  const type = opts.type ?? "set";
  if (!TYPES.includes(type)) throw badarg(`Unknown table type ${show(type)}: use one of ${TYPES.join(", ")}`);
  const keyPos = opts.keyPos ?? 1;
  if (!Number.isInteger(keyPos) || keyPos < 1) throw badarg(`keyPos must be an integer from 1, got ${show(keyPos)}`);
  const accessName = opts.access ?? "protected";
  const access = Object.prototype.hasOwnProperty.call(ACCESS, accessName) ? ACCESS[accessName] : -1;
  if (access < 0) throw badarg(`Unknown access ${show(accessName)}: use public, protected or private`);
  const heir = checkHeir(opts.heir);
  const owner = currentProc();
  if (owner !== null && !owner.alive) throw badarg(`Process ${owner.pid} is not alive, so it cannot own a table`);
  const keyIdx = keyPos - 1;
  const store: Store = type === "set"
    ? new SetStore(keyIdx)
    : type === "ordered_set"
    ? new OrderedStore()
    : new BagStore(keyIdx, type === "duplicate_bag");
  const t = new Table<O>(
    name,
    opts.named === true,
    type,
    keyIdx,
    access,
    owner,
    store,
    opts.readConcurrency === true,
    opts.writeConcurrency === true || opts.writeConcurrency === "auto",
  );
  if (heir !== null) {
    t.heir = heir;
    t.heirData = (opts.heir as Heir).data;
  }
  register(t);
  return t;
}

/**
 * Inserts one object; for `set` and `ordered_set` it replaces any object with
 * the same key. Stores a deep copy. Returns true.
 *
 * To insert several objects at once use {@linkcode insertMany}: a JS array
 * cannot tell a tuple from a list, so one function takes one object.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_insert");
 * Ets.insert(t, ["k", 1]);
 * Ets.insert(t, ["k", 2]);
 * console.assert(Ets.lookup(t, "k")[0][1] === 2);
 * ```
 */
export function insert<O extends Tuple>(tab: TableRef<O>, obj: O): true {
  const t = writable(tab);
  const o = toObj(obj, t.keyIdx);
  t.store.put(o[t.keyIdx], o);
  return true;
}

/** Checks and copies a list of objects, all or nothing. */
function toObjs(objs: readonly unknown[], keyIdx: number): Obj[] {
  if (!Array.isArray(objs)) throw badarg(`Expected an array of objects, got ${show(objs)}`);
  const out = new Array<Obj>(objs.length);
  for (let i = 0; i < objs.length; i++) {
    const o = toObj(objs[i], keyIdx);
    checkKey(o[keyIdx]);
    out[i] = o;
  }
  return out;
}

/**
 * Inserts several objects, all or none: every object is checked before any
 * is stored. Returns true.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_insert_many");
 * Ets.insertMany(t, [["a", 1], ["b", 2]]);
 * console.assert(Ets.info(t)!.size === 2);
 * ```
 */
export function insertMany<O extends Tuple>(tab: TableRef<O>, objs: readonly O[]): true {
  const t = writable(tab);
  const os = toObjs(objs, t.keyIdx);
  for (const o of os) t.store.put(o[t.keyIdx], o);
  return true;
}

/**
 * Inserts `obj` only if no object has its key; returns whether it did.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_insert_new");
 * console.assert(Ets.insertNew(t, ["k", 1]) === true);
 * console.assert(Ets.insertNew(t, ["k", 2]) === false);
 * console.assert(Ets.lookup(t, "k")[0][1] === 1);
 * ```
 */
export function insertNew<O extends Tuple>(tab: TableRef<O>, obj: O): boolean {
  const t = writable(tab);
  const o = toObj(obj, t.keyIdx);
  const k = o[t.keyIdx];
  checkKey(k);
  if (t.store.member(k)) return false;
  t.store.put(k, o);
  return true;
}

/**
 * Inserts all of `objs` if none of their keys is present, else nothing;
 * returns whether it inserted.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_insert_new_many");
 * Ets.insert(t, ["b", 0]);
 * console.assert(Ets.insertNewMany(t, [["a", 1], ["b", 2]]) === false);
 * console.assert(!Ets.member(t, "a"));
 * ```
 */
export function insertNewMany<O extends Tuple>(tab: TableRef<O>, objs: readonly O[]): boolean {
  const t = writable(tab);
  const os = toObjs(objs, t.keyIdx);
  for (const o of os) if (t.store.member(o[t.keyIdx])) return false;
  for (const o of os) t.store.put(o[t.keyIdx], o);
  return true;
}

/**
 * The objects with `key`: none or one for sets, any number for bags (in
 * insertion order). The objects are the stored ones: treat them as read-only.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_lookup", { type: "bag" });
 * Ets.insert(t, ["k", 1]);
 * Ets.insert(t, ["k", 2]);
 * console.assert(Ets.lookup(t, "k").length === 2);
 * console.assert(Ets.lookup(t, "nope").length === 0);
 * ```
 */
export function lookup<O extends Tuple>(tab: TableRef<O>, key: unknown): Array<Readonly<O>> {
  // Fast path: a live table id that is not private needs no further check.
  const t = typeof tab !== "string" && tab.deleted === false && tab.access !== PRIVATE ? tab : readable(tab);
  return t.store.lookup(key) as unknown as Array<Readonly<O>>;
}

/**
 * The object with `key`, or undefined: {@linkcode lookup} without the array,
 * for the hot path (for bags, the first object).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new<[string, number]>("doc_lookup_one");
 * Ets.insert(t, ["k", 1]);
 * console.assert(Ets.lookupOne(t, "k")?.[1] === 1);
 * console.assert(Ets.lookupOne(t, "nope") === undefined);
 * ```
 */
export function lookupOne<O extends Tuple>(tab: TableRef<O>, key: unknown): Readonly<O> | undefined {
  // Fast path: a live table id that is not private needs no further check.
  const t = typeof tab !== "string" && tab.deleted === false && tab.access !== PRIVATE ? tab : readable(tab);
  return t.store.lookupOne(key) as unknown as Readonly<O> | undefined;
}

/**
 * The element at 1-based `pos` of the object with `key` (for bags, an array
 * with that element of each object). If there is no such object, returns
 * `fallback` when given, else throws `badarg`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_lookup_element");
 * Ets.insert(t, ["k", "v"]);
 * console.assert(Ets.lookupElement(t, "k", 2) === "v");
 * console.assert(Ets.lookupElement(t, "nope", 2, "default") === "default");
 * ```
 */
export function lookupElement<R = unknown>(tab: TableRef, key: unknown, pos: number, fallback?: R): R {
  const t = readable(tab);
  const objs = t.store.lookup(key);
  if (objs.length === 0) {
    if (arguments.length >= 4) return fallback as R;
    throw badarg(`Key ${show(key)} is not in table ${show(t.name)}`);
  }
  if (!Number.isInteger(pos) || pos < 1) throw badarg(`A position must be an integer from 1, got ${show(pos)}`);
  for (const o of objs) {
    if (pos > o.length) throw badarg(`Object ${show(o)} has no element at position ${pos}`);
  }
  if (t.type === "bag" || t.type === "duplicate_bag") return objs.map((o) => o[pos - 1]) as R;
  return objs[0][pos - 1] as R;
}

/**
 * True if some object has `key`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_member");
 * Ets.insert(t, [["compound", 1], true]);
 * console.assert(Ets.member(t, ["compound", 1]));
 * ```
 */
export function member(tab: TableRef, key: unknown): boolean {
  // Fast path: a live table id that is not private needs no further check.
  const t = typeof tab !== "string" && tab.deleted === false && tab.access !== PRIVATE ? tab : readable(tab);
  return t.store.member(key);
}

/**
 * `delete(tab)` deletes the table (a write: the owner only, unless it is
 * public); `delete(tab, key)` deletes the objects with `key`. Returns true.
 *
 * Exported as `delete`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_delete");
 * Ets.insert(t, ["k", 1]);
 * Ets.delete(t, "k");
 * console.assert(!Ets.member(t, "k"));
 * Ets.delete(t);
 * console.assert(Ets.info(t) === undefined);
 * ```
 */
function del(tab: TableRef): true;
/** Deletes the objects with `key`. */
function del(tab: TableRef, key: unknown): true;
function del(tab: TableRef, key?: unknown): true {
  const t = writable(tab);
  if (arguments.length < 2) destroy(t);
  else t.store.deleteKey(key);
  return true;
}

/**
 * Deletes the objects equal to `obj` (all copies, in a `duplicate_bag`).
 * Returns true.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_delete_object", { type: "bag" });
 * Ets.insertMany(t, [["k", 1], ["k", 2]]);
 * Ets.deleteObject(t, ["k", 1]);
 * console.assert(Ets.lookup(t, "k").length === 1);
 * ```
 */
export function deleteObject<O extends Tuple>(tab: TableRef<O>, obj: O): true {
  const t = writable(tab);
  const o = toObj(obj, t.keyIdx);
  t.store.deleteObject(o[t.keyIdx], o);
  return true;
}

/**
 * Deletes every object; the table stays. Returns true.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_delete_all");
 * Ets.insertMany(t, [["a", 1], ["b", 2]]);
 * Ets.deleteAllObjects(t);
 * console.assert(Ets.info(t)!.size === 0);
 * ```
 */
export function deleteAllObjects(tab: TableRef): true {
  writable(tab).store.clear();
  return true;
}

/**
 * An `updateCounter` operation: an increment for the element after the key;
 * `[pos, incr]`; or `[pos, incr, threshold, setValue]`, where a result past
 * `threshold` (above it for a non-negative `incr`, below it otherwise)
 * becomes `setValue`, as in Erlang.
 */
export type CounterOp = number | readonly [number, number] | readonly [number, number, number, number];

/**
 * Adds to counters in the object with `key` (a `set` or `ordered_set`) and
 * returns the new value, or the new values for a list of operations. If the
 * key is absent, `fallback` (when given) is inserted first, with its key
 * replaced by `key`; otherwise it throws `badarg`, as it does for a position
 * that is the key, out of range, or not an integer: counters, increments,
 * thresholds and set values are integers, as in Erlang. An empty list of
 * operations returns `[]`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_counter");
 * console.assert(Ets.updateCounter(t, "hits", 1, ["hits", 0]) === 1);
 * console.assert(Ets.updateCounter(t, "hits", [2, 10]) === 11);
 * console.assert(Ets.updateCounter(t, "hits", [2, 10, 15, 0]) === 0);
 * const many = Ets.updateCounter(t, "hits", [[2, 1], [2, 1]]);
 * console.assert(many[0] === 1 && many[1] === 2);
 * ```
 */
export function updateCounter(tab: TableRef, key: unknown, op: CounterOp, fallback?: Tuple): number;
/** Applies several counter operations to one object; returns each new value. */
export function updateCounter(tab: TableRef, key: unknown, ops: readonly CounterOp[], fallback?: Tuple): number[];
export function updateCounter(
  tab: TableRef,
  key: unknown,
  op: CounterOp | readonly CounterOp[],
  fallback?: Tuple,
): number | number[] {
  const t = writable(tab);
  setOnly(t, "updateCounter");
  const ki = t.keyIdx;
  let obj = t.store.lookupOne(key);
  if (obj === undefined) {
    if (fallback === undefined) throw badarg(`Key ${show(key)} is not in table ${show(t.name)}`);
    checkKey(key);
    const d = toObj(fallback, ki).slice();
    d[ki] = copyTerm(key);
    obj = d;
  }
  // A list of operations, possibly empty (OTP returns `[]` for `[]`).
  const many = Array.isArray(op) && (op.length === 0 || Array.isArray(op[0]));
  const ops = (many ? op : [op]) as CounterOp[];
  const next = obj.slice();
  const results: number[] = [];
  for (const one of ops) {
    let pos: number, incr: number, threshold: number | undefined, setValue = 0;
    if (typeof one === "number") {
      pos = ki + 2;
      incr = one;
    } else if (Array.isArray(one) && (one.length === 2 || one.length === 4)) {
      [pos, incr, threshold, setValue] = one as [number, number, number?, number?] as [number, number, number, number];
    } else {
      throw badarg(`A counter operation is incr, [pos, incr] or [pos, incr, threshold, setValue], got ${show(one)}`);
    }
    if (!Number.isInteger(pos) || pos < 1 || pos > next.length || pos - 1 === ki) {
      throw badarg(`Cannot update position ${show(pos)} of ${show(obj)} (the key is at ${ki + 1})`);
    }
    const cur = next[pos - 1];
    if (!Number.isInteger(cur)) {
      throw badarg(`Element ${pos} of ${show(obj)} is not an integer, so it is not a counter`);
    }
    if (
      !Number.isInteger(incr) ||
      (threshold !== undefined && (!Number.isInteger(threshold) || !Number.isInteger(setValue)))
    ) {
      throw badarg(`A counter's increment, threshold and set value must be integers, got ${show(one)}`);
    }
    let v = (cur as number) + incr;
    if (threshold !== undefined && (incr >= 0 ? v > threshold : v < threshold)) v = setValue;
    next[pos - 1] = v;
    results.push(v);
  }
  t.store.replace(next[ki], next);
  return many ? results : results[0];
}

function setOnly(t: Table, what: string): void {
  if (t.type !== "set" && t.type !== "ordered_set") {
    throw badarg(`${what} needs a set or ordered_set table; ${show(t.name)} is a ${t.type}`);
  }
}

/**
 * Replaces elements of the object with `key` (a `set` or `ordered_set`):
 * `[pos, value]` or a list of them. Returns false if there is no such object.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_update_element");
 * Ets.insert(t, ["k", "a", "b"]);
 * Ets.updateElement(t, "k", [[2, "x"], [3, "y"]]);
 * console.assert(Ets.lookup(t, "k")[0].join() === "k,x,y");
 * ```
 */
export function updateElement(
  tab: TableRef,
  key: unknown,
  change: readonly [number, unknown] | ReadonlyArray<readonly [number, unknown]>,
): boolean {
  const t = writable(tab);
  setOnly(t, "updateElement");
  const obj = t.store.lookupOne(key);
  // A list of changes, possibly empty (OTP returns true for `[]` when the key is there).
  const many = Array.isArray(change) && (change.length === 0 || Array.isArray(change[0]));
  const changes = (many ? change : [change]) as Array<readonly [number, unknown]>;
  for (const c of changes) {
    if (!Array.isArray(c) || c.length !== 2) throw badarg(`An element change is [pos, value], got ${show(c)}`);
  }
  if (obj === undefined) return false;
  const next = obj.slice();
  for (const [pos, value] of changes) {
    if (!Number.isInteger(pos) || pos < 1 || pos > next.length || pos - 1 === t.keyIdx) {
      throw badarg(`Cannot update position ${show(pos)} of ${show(obj)} (the key is at ${t.keyIdx + 1})`);
    }
    next[pos - 1] = copyTerm(value);
  }
  t.store.replace(next[t.keyIdx], next);
  return true;
}

/**
 * Removes and returns the objects with `key`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_take");
 * Ets.insert(t, ["job", 1]);
 * console.assert(Ets.take(t, "job").length === 1);
 * console.assert(Ets.take(t, "job").length === 0);
 * ```
 */
export function take<O extends Tuple>(tab: TableRef<O>, key: unknown): O[] {
  return writable(tab).store.take(key) as unknown as O[];
}

/**
 * Folds over the objects: in key order for `ordered_set`, in the table's
 * internal order otherwise (unspecified for the hash types, as in Erlang).
 * `fn` may change the table; the walk then goes on from where it was.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new<[string, number]>("doc_foldl");
 * Ets.insertMany(t, [["a", 1], ["b", 2]]);
 * console.assert(Ets.foldl(t, (o, sum) => sum + o[1], 0) === 3);
 * ```
 */
export function foldl<O extends Tuple, A>(tab: TableRef<O>, fn: (obj: Readonly<O>, acc: A) => A, acc: A): A {
  readable(tab).store.each((o) => {
    acc = fn(o as unknown as Readonly<O>, acc);
  });
  return acc;
}

/**
 * {@linkcode foldl} in the opposite order (descending keys for `ordered_set`).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new<[number]>("doc_foldr", { type: "ordered_set" });
 * Ets.insertMany(t, [[1], [2], [3]]);
 * console.assert(Ets.foldr(t, (o, acc: number[]) => [...acc, o[0]], []).join() === "3,2,1");
 * ```
 */
export function foldr<O extends Tuple, A>(tab: TableRef<O>, fn: (obj: Readonly<O>, acc: A) => A, acc: A): A {
  readable(tab).store.each((o) => {
    acc = fn(o as unknown as Readonly<O>, acc);
  }, true);
  return acc;
}

/**
 * Every object, in {@linkcode foldl} order.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_tab2list", { type: "ordered_set" });
 * Ets.insertMany(t, [["b"], ["a"]]);
 * console.assert(Ets.tab2list(t).map((o) => o[0]).join() === "a,b");
 * ```
 */
export function tab2list<O extends Tuple>(tab: TableRef<O>): Array<Readonly<O>> {
  const out: Array<Readonly<O>> = [];
  readable(tab).store.each((o) => {
    out.push(o as unknown as Readonly<O>);
  });
  return out;
}

/**
 * The first key ({@linkcode END_OF_TABLE} if the table is empty): the
 * smallest for `ordered_set`, the first in internal order otherwise.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_first", { type: "ordered_set" });
 * console.assert(Ets.first(t) === Ets.END_OF_TABLE);
 * Ets.insertMany(t, [[2], [1]]);
 * console.assert(Ets.first(t) === 1);
 * ```
 */
export function first<K = unknown>(tab: TableRef): K | typeof END_OF_TABLE {
  return readable(tab).store.first() as K;
}

/**
 * The key after `key` ({@linkcode END_OF_TABLE} at the end). For
 * `ordered_set`, the smallest key greater than `key`, present or not. For the
 * hash types, the next key in internal order; `key` must be in the table
 * unless it is the key the last `first`/`next` returned (so deleting the
 * current key while walking is safe), else this throws `badarg`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_next", { type: "ordered_set" });
 * Ets.insertMany(t, [[1], [3]]);
 * console.assert(Ets.next(t, 1) === 3);
 * console.assert(Ets.next(t, 2) === 3);
 * console.assert(Ets.next(t, 3) === Ets.END_OF_TABLE);
 * ```
 */
export function next<K = unknown>(tab: TableRef, key: unknown): K | typeof END_OF_TABLE {
  return readable(tab).store.next(key) as K;
}

/**
 * The last key: the largest for `ordered_set`; for the hash types, the same
 * as {@linkcode first} (as in Erlang).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_last", { type: "ordered_set" });
 * Ets.insertMany(t, [[2], [1]]);
 * console.assert(Ets.last(t) === 2);
 * ```
 */
export function last<K = unknown>(tab: TableRef): K | typeof END_OF_TABLE {
  return readable(tab).store.last() as K;
}

/**
 * The key before `key`: for `ordered_set`, the largest key smaller than
 * `key`; for the hash types, the same as {@linkcode next} (as in Erlang).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_prev", { type: "ordered_set" });
 * Ets.insertMany(t, [[1], [3]]);
 * console.assert(Ets.prev(t, 3) === 1);
 * console.assert(Ets.prev(t, 1) === Ets.END_OF_TABLE);
 * ```
 */
export function prev<K = unknown>(tab: TableRef, key: unknown): K | typeof END_OF_TABLE {
  return readable(tab).store.prev(key) as K;
}

/** Calls `fn(obj, result)` for each object the spec matches, looking the key up when the spec fixes it. */
function run(t: Table, c: Compiled, fn: (obj: Obj, r: unknown) => void): void {
  if (c.hasKey) {
    if (!isKey(c.key)) return;
    for (const o of t.store.lookup(c.key)) {
      const r = apply(c, o);
      if (r !== NO_MATCH) fn(o, r);
    }
    return;
  }
  t.store.each((o) => {
    const r = apply(c, o);
    if (r !== NO_MATCH) fn(o, r);
  });
}

/**
 * Objects matching a match specification, mapped through its result
 * (Erlang's `ets:select/2`), in {@linkcode foldl} order.
 *
 * A specification is one clause or a list of clauses `{ head, guards?, result? }`;
 * for each object the first clause whose head matches and whose guards all
 * evaluate to `true` gives the result.
 *
 * **Head**: a pattern for the whole object. In a pattern, `_` (the wildcard
 * exported here and by `mod.ts`) matches anything; `$(n)` (Erlang's `'$n'`)
 * matches anything and binds it, and a second `$(n)` must then be an equal
 * term; an array matches an array of the same length element by element; a
 * plain object matches an object having each of its keys, matching; any other
 * value matches an equal term. A head whose key element is fixed (no
 * variables or wildcards) looks that key up instead of scanning the table.
 *
 * **Guards**: expressions that must all evaluate to `true`. An expression is a
 * variable; `$_` (the whole object); `$$` (the list of bound variables); a
 * constant; `["const", value]` (a literal array); or a call
 * `[name, ...args]`: comparisons `<`, `>`, `=<` (or `<=`), `>=`, `==` and
 * `=:=` (or `===`), `/=` and `=/=` (or `!==`) in term order; `and`, `or`,
 * `xor`, `not`, `andalso`, `orelse`; arithmetic `+`, `-`, `*`, `/`, `div`,
 * `rem`, `abs`, `min`, `max`; `element` (1-based), `size`; type tests
 * `is_number`, `is_integer`, `is_float`, `is_string` (or `is_binary`),
 * `is_boolean`, `is_atom`, `is_tuple` (or `is_array`, `is_list`), `is_map`,
 * `is_pid`, `is_reference`. As in Erlang, a guard that fails to evaluate
 * (e.g. `+` on a string) is false. A function `(vars, obj) => boolean` is
 * also accepted as a guard, where `vars` are the bound variables in order.
 *
 * **Result** (default `$_`): `$_`, `$$`, a variable, a constant, or an array
 * template whose elements are results in turn (arrays here are tuples to
 * build, not calls); a function `(vars, obj) => value` is also accepted.
 *
 * @example Names of people over 40
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const { $, _ } = Ets;
 * const t = Ets.new("doc_select");
 * Ets.insertMany(t, [["ann", 42, "oslo"], ["bob", 35, "rome"], ["cy", 51, "oslo"]]);
 * const names = Ets.select(t, { head: [$(1), $(2), _], guards: [[">", $(2), 40]], result: $(1) });
 * console.assert(names.sort().join() === "ann,cy");
 * ```
 */
export function select<R = unknown>(tab: TableRef, spec: MatchSpec): R[] {
  const t = readable(tab);
  const c = compileSpec(spec, t.keyIdx);
  const out: R[] = [];
  run(t, c, (_o, r) => out.push(r as R));
  return out;
}

/**
 * The number of objects for which the specification's result is `true` (or
 * which match a clause with no result).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const { $ } = Ets;
 * const t = Ets.new("doc_select_count");
 * Ets.insertMany(t, [["a", 1], ["b", 5], ["c", 9]]);
 * console.assert(Ets.selectCount(t, { head: [$(1), $(2)], guards: [[">=", $(2), 5]], result: true }) === 2);
 * ```
 */
export function selectCount(tab: TableRef, spec: MatchSpec): number {
  const t = readable(tab);
  const c = compileSpec(spec, t.keyIdx);
  let n = 0;
  run(t, c, (o, r) => {
    if (r === true || r === o) n++;
  });
  return n;
}

/**
 * Deletes the objects for which the specification's result is `true` (or
 * which match a clause with no result); returns how many it deleted.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const { $, _ } = Ets;
 * const t = Ets.new("doc_select_delete");
 * Ets.insertMany(t, [["a", 1], ["b", 5], ["c", 9]]);
 * console.assert(Ets.selectDelete(t, { head: [_, $(1)], guards: [["<", $(1), 6]], result: true }) === 2);
 * console.assert(Ets.info(t)!.size === 1);
 * ```
 */
export function selectDelete(tab: TableRef, spec: MatchSpec): number {
  const t = writable(tab);
  const c = compileSpec(spec, t.keyIdx);
  const doomed: Obj[] = [];
  run(t, c, (o, r) => {
    if (r === true || r === o) doomed.push(o);
  });
  let n = 0;
  for (const o of doomed) n += t.store.deleteObject(o[t.keyIdx], o);
  return n;
}

/**
 * For each object matching `pattern` (a head, see {@linkcode select}), the
 * values of its variables in variable order (Erlang's `ets:match/2`).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const { $, _ } = Ets;
 * const t = Ets.new("doc_match");
 * Ets.insertMany(t, [["ann", "oslo", 42], ["bob", "rome", 35]]);
 * const rows = Ets.match(t, [$(1), "oslo", $(2)]);
 * console.assert(rows.length === 1 && rows[0][0] === "ann" && rows[0][1] === 42);
 * ```
 */
export function match(tab: TableRef, pattern: unknown): unknown[][] {
  return select<unknown[]>(tab, { head: pattern, result: $$ });
}

/**
 * The objects matching `pattern` (Erlang's `ets:match_object/2`).
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const { _ } = Ets;
 * const t = Ets.new("doc_match_object", { type: "bag" });
 * Ets.insertMany(t, [["k", 1], ["k", 2], ["j", 1]]);
 * console.assert(Ets.matchObject(t, [_, 1]).length === 2);
 * ```
 */
export function matchObject<O extends Tuple>(tab: TableRef<O>, pattern: unknown): Array<Readonly<O>> {
  return select<Readonly<O>>(tab, { head: pattern });
}

/**
 * Deletes the objects matching `pattern`; returns true.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const { _ } = Ets;
 * const t = Ets.new("doc_match_delete");
 * Ets.insertMany(t, [["a", "tmp"], ["b", "keep"]]);
 * Ets.matchDelete(t, [_, "tmp"]);
 * console.assert(Ets.tab2list(t).length === 1);
 * ```
 */
export function matchDelete(tab: TableRef, pattern: unknown): true {
  selectDelete(tab, { head: pattern });
  return true;
}

/**
 * Facts about a table, or undefined if it does not exist (deleted, or no
 * named table has the name), as Erlang's `ets:info/1`.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_info", { type: "bag", access: "public" });
 * Ets.insert(t, ["k", 1]);
 * const i = Ets.info(t)!;
 * console.assert(i.size === 1 && i.type === "bag" && i.access === "public" && i.owner === undefined);
 * ```
 */
export function info(tab: TableRef): TableInfo | undefined {
  let t: Table;
  try {
    t = resolve(tab);
  } catch (e) {
    if (e instanceof EtsError && e.code === "no_table") return undefined;
    throw e;
  }
  return {
    id: t.id,
    name: t.name,
    named: t.named,
    type: t.type,
    keyPos: t.keyIdx + 1,
    access: accessName(t),
    owner: t.owner?.pid,
    heir: t.heir ?? undefined,
    size: t.store.size,
    memory: 200 + storeBytes(t.store),
    readConcurrency: t.readConcurrency,
    writeConcurrency: t.writeConcurrency,
  };
}

/**
 * The named table registered as `name`, or undefined.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_whereis", { named: true });
 * console.assert(Ets.whereis("doc_whereis") === t);
 * Ets.delete(t);
 * console.assert(Ets.whereis("doc_whereis") === undefined);
 * ```
 */
export function whereis<O extends Tuple = Tuple>(name: string): Table<O> | undefined {
  return named.get(name) as Table<O> | undefined;
}

/**
 * Every live table.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_all");
 * console.assert(Ets.all().includes(t));
 * ```
 */
export function all(): Table[] {
  return [...allTables];
}

/**
 * Makes `pid` the owner of `tab` and sends it
 * `["ETS-TRANSFER", tab, fromPid, data]` (see {@linkcode TransferMessage};
 * `fromPid` is `<0.0.0>`, the pid of plain code, when plain code gives the table away). Only the
 * owner may give a table away; `pid` must be alive and not the owner.
 *
 * @example
 * ```ts
 * import { Ets, Process } from "../../mod.ts";
 * const t = Ets.new("doc_give_away");
 * const pid = Process.spawn(async () => {
 *   const [, table, , data] = await Process.receive<Ets.TransferMessage>(["ETS-TRANSFER", Ets._, Ets._, Ets._]);
 *   Ets.insert(table, ["note", data]); // the new owner may write
 *   await Process.receive("stop");
 * });
 * Ets.giveAway(t, pid, "yours");
 * console.assert(Ets.info(t)!.owner === pid);
 * Process.send(pid, "stop");
 * ```
 */
export function giveAway(tab: TableRef, pid: Pid, data?: unknown): true {
  const t = owned(tab, "give away");
  const to = lookupProc(pid);
  if (to === null || !to.alive) throw badarg(`Cannot give table ${show(t.name)} to ${pid}: it is not alive`);
  if (to === t.owner) throw badarg(`Cannot give table ${show(t.name)} to ${pid}: it already owns it`);
  transfer(t, to, t.owner, data);
  return true;
}

/** Options {@linkcode setopts} can change. */
export interface SetOptions {
  /** The new heir, or `"none"`. */
  heir?: Heir | "none";
}

/**
 * Changes a table's heir (owner only).
 *
 * @example
 * ```ts
 * import { Ets, Process } from "../../mod.ts";
 * const heir = Process.spawn(async () => { await Process.receive(); });
 * const t = Ets.new("doc_setopts");
 * Ets.setopts(t, { heir: { pid: heir, data: "hi" } });
 * console.assert(Ets.info(t)!.heir === heir);
 * Process.exit(heir, "kill");
 * ```
 */
export function setopts(tab: TableRef, opts: SetOptions): true {
  const t = owned(tab, "set options of");
  if ("heir" in opts) {
    const heir = checkHeir(opts.heir ?? "none");
    t.heir = heir;
    t.heirData = heir === null ? undefined : (opts.heir as Heir).data;
  }
  return true;
}

/**
 * Renames a table (a write). For a named table the new name must be free
 * (`name_taken` otherwise), and the old name no longer finds it. Returns the
 * new name for a named table and the table itself for an unnamed one, as
 * OTP returns the table id.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_rename_old", { named: true });
 * Ets.rename(t, "doc_rename_new");
 * console.assert(Ets.whereis("doc_rename_new") === t && Ets.whereis("doc_rename_old") === undefined);
 * ```
 */
export function rename<O extends Tuple>(tab: TableRef<O>, name: string): TableRef<O> {
  if (typeof name !== "string") throw badarg(`A table name must be a string, got ${show(name)}`);
  const t = writable(tab);
  renameTable(t, name);
  return t.named ? name : t as Table<O>;
}

export { del as delete, newTable as new };

/** Options of {@linkcode tab2file}. */
export interface Tab2FileOptions {
  /** fsync the file before it replaces the old one (OTP's `{sync, true}`). Default false. */
  sync?: boolean;
}

/**
 * Writes the table's objects and options to `file` (OTP's `ets:tab2file`),
 * for {@linkcode file2tab} to read back, with a count and a CRC-32 for
 * `verify`. Written to `file.tmp`, then renamed over `file`: a crash leaves
 * the old file or the new one. A value that cannot survive a restart (a pid,
 * a reference, a function, a symbol, a class instance) throws
 * {@linkcode EtsError} (`badarg`, naming the object and where in it) and
 * writes nothing. Numbers (`NaN`, `-0`, `±Infinity` included), strings,
 * booleans, `null`, `undefined`, bigints, arrays, plain objects (`__proto__`
 * as an ordinary key), `Map`, `Set`, `Uint8Array` and `Date` round-trip.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * import * as os from "node:os";
 * const file = `${os.tmpdir()}/doc_tab2file_${process.pid}.ets`;
 * const t = Ets.new("doc_tab2file", { type: "ordered_set" });
 * Ets.insert(t, ["milk", 3, { __proto__: "a key, not a prototype" }]);
 * Ets.tab2file(t, file);
 * const back = Ets.file2tab(file, { verify: true });
 * console.assert(Ets.info(back)!.type === "ordered_set" && Ets.lookupOne(back, "milk")![1] === 3);
 * try {
 *   Ets.insert(t, ["pid", Ets.info(t)!.owner ?? new Map([["f", () => 1]])]);
 *   Ets.tab2file(t, file);
 * } catch (e) {
 *   console.assert(e instanceof Ets.EtsError && e.code === "badarg");
 * }
 * ```
 */
export function tab2file(tab: TableRef, file: string, opts: Tab2FileOptions = {}): true {
  const t = readable(tab);
  if (typeof file !== "string" || file === "") throw badarg(`tab2file needs a file name, got ${show(file)}`);
  const objects = tab2list(t);
  writeTable(
    file,
    {
      format: "otp-ts-ets",
      version: 1,
      name: t.name,
      named: t.named,
      type: t.type,
      keyPos: t.keyIdx + 1,
      access: accessName(t),
      readConcurrency: t.readConcurrency,
      writeConcurrency: t.writeConcurrency,
      size: objects.length,
    },
    objects,
    opts.sync === true,
  );
  return true;
}

/** Options of {@linkcode file2tab}. */
export interface File2TabOptions {
  /** Check the object count, the checksum and the end marker (OTP's `{verify, true}`). Default false: a torn end is dropped. */
  verify?: boolean;
}

/**
 * Makes a table, owned by the caller, from a file written by
 * {@linkcode tab2file} (OTP's `ets:file2tab`): same name, type, key
 * position, access and objects. Throws {@linkcode EtsError}: `badarg` for a
 * missing, foreign or (with `verify`) damaged or truncated file,
 * `name_taken` when the table was named and the name is in use.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * import * as fs from "node:fs";
 * import * as os from "node:os";
 * const file = `${os.tmpdir()}/doc_file2tab_${process.pid}.ets`;
 * fs.writeFileSync(file, "not a table\n");
 * try {
 *   Ets.file2tab(file, { verify: true });
 * } catch (e) {
 *   console.assert(e instanceof Ets.EtsError && e.code === "badarg");
 * }
 * ```
 */
export function file2tab<O extends Tuple = unknown[]>(file: string, opts: File2TabOptions = {}): Table<O> {
  const { header, objects } = readTable(file, opts.verify === true);
  const t = newTable<O>(header.name, {
    type: header.type as TableType,
    named: header.named,
    keyPos: header.keyPos,
    access: header.access as Access,
    readConcurrency: header.readConcurrency,
    writeConcurrency: header.writeConcurrency,
  });
  try {
    insertMany(t, objects as unknown as O[]);
  } catch (e) {
    del(t);
    throw e;
  }
  return t;
}
