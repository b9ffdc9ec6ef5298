/**
 * What a table keeps its objects in, one class per table type: a pair of
 * `Map`s for `set`, `bag` and `duplicate_bag`, a B+ tree for `ordered_set`.
 * Objects reaching a store are already copies; stores never copy.
 *
 * Hash key scheme: a primitive key (string, number, boolean, null, undefined)
 * keys the `prim` map directly (a `Map` tells `"1"` from `1`, and treats `-0`
 * as `0`); a compound key (array, pid, ref) keys the `comp` map by
 * its canonical encoding ({@linkcode encodeKey}). Keeping the two apart means
 * no string key can ever equal an encoding.
 *
 * @module
 */
import { BTree, type Leaf } from "./_btree.ts";
import { checkKey, encodeKey, show, termBytes, termEquals } from "./_term.ts";
import { EtsError } from "./error.ts";

/** A stored object: an array only the table holds. */
export type Obj = readonly unknown[];

/** Returned by `first`/`next`/`last`/`prev` past either end (Erlang's `'$end_of_table'`). */
export const END_OF_TABLE: unique symbol = Symbol("$end_of_table");

/** The operations every table type provides. */
export interface Store {
  /** Number of objects. */
  readonly size: number;
  /** Objects under `key` (a fresh array). */
  lookup(key: unknown): Obj[];
  /** The object under `key` (the first one, for bags), or undefined. */
  lookupOne(key: unknown): Obj | undefined;
  /** True if some object has `key`. */
  member(key: unknown): boolean;
  /** Stores `obj` under `key` with the type's semantics. */
  put(key: unknown, obj: Obj): void;
  /** Replaces the one object under `key` (set types only; the key is present). */
  replace(key: unknown, obj: Obj): void;
  /** Removes and returns every object under `key`. */
  take(key: unknown): Obj[];
  /** Removes every object under `key`; returns how many. */
  deleteKey(key: unknown): number;
  /** Removes the objects equal to `obj`; returns how many. */
  deleteObject(key: unknown, obj: Obj): number;
  /** Removes everything. */
  clear(): void;
  /** Calls `fn` on each object until it returns false (descending for `reverse`). */
  each(fn: (obj: Obj) => boolean | void, reverse?: boolean): void;
  /** Iteration by key (see `ets.ts`). */
  first(): unknown;
  next(key: unknown): unknown;
  last(): unknown;
  prev(key: unknown): unknown;
  /** Rough bytes of structure per object, excluding the objects themselves. */
  readonly overhead: number;
}

function badHashKey(k: unknown): EtsError {
  return new EtsError("badarg", `Unsupported key ${show(k)}: keys are numbers, strings, booleans, null, undefined, pids, refs or arrays of these`);
}

/** Validates a primitive key on the way in (lookups of odd keys just miss). */
function checkPrim(k: unknown): void {
  const t = typeof k;
  if (t === "string" || t === "boolean" || t === "undefined" || k === null) return;
  if (t === "number" && k === k) return;
  throw badHashKey(k);
}

/**
 * Walks keys of a hash table in `Map` order. The last iterator is kept, so a
 * `first`, `next`, `next`, ... loop costs O(1) a step; `Map` iterators are
 * live, so deleting the current key mid-walk is safe, as with Erlang's
 * `safe_fixtable`.
 */
class HashCursor<V> {
  private iter: Iterator<V> | null = null;
  private lastKey: unknown = undefined;
  constructor(
    private readonly prim: Map<unknown, V>,
    private readonly comp: Map<string, V>,
    private readonly keyOf: (v: V) => unknown,
    private readonly has: (key: unknown) => boolean,
  ) {}

  private *values(): Generator<V> {
    yield* this.prim.values();
    yield* this.comp.values();
  }

  private step(): unknown {
    const r = this.iter!.next();
    if (r.done) {
      this.iter = null;
      return END_OF_TABLE;
    }
    return this.lastKey = this.keyOf(r.value);
  }

  first(): unknown {
    this.iter = this.values();
    return this.step();
  }

  next(key: unknown): unknown {
    if (this.iter !== null && termEquals(this.lastKey, key)) return this.step();
    if (!this.has(key)) throw new EtsError("badarg", `Key ${show(key)} is not in the table, so it has no next key`);
    this.iter = this.values();
    for (let k = this.step(); k !== END_OF_TABLE; k = this.step()) {
      if (termEquals(k, key)) return this.step();
    }
    return END_OF_TABLE;
  }
}

/**
 * What `set` and `bag` tables share: primitive keys key one `Map`, compound
 * keys (by their canonical encoding) the other, and a cursor walks both.
 */
abstract class HashStore<V> {
  readonly prim = new Map<unknown, V>();
  readonly comp = new Map<string, V>();
  private readonly cursor: HashCursor<V>;
  constructor(keyOf: (v: V) => unknown) {
    this.cursor = new HashCursor(this.prim, this.comp, keyOf, (k) => this.member(k));
  }
  abstract member(key: unknown): boolean;
  first(): unknown {
    return this.cursor.first();
  }
  next(key: unknown): unknown {
    return this.cursor.next(key);
  }
  /** Hash tables have no order: `last` is `first`, `prev` is `next`, as in Erlang. */
  last(): unknown {
    return this.cursor.first();
  }
  prev(key: unknown): unknown {
    return this.cursor.next(key);
  }
}

/** `set`: one object per key. */
export class SetStore extends HashStore<Obj> implements Store {
  readonly overhead = 56;
  constructor(private readonly keyIdx: number) {
    super((o) => o[keyIdx]);
  }
  get size(): number {
    return this.prim.size + this.comp.size;
  }
  lookupOne(key: unknown): Obj | undefined {
    return typeof key === "object" && key !== null ? this.comp.get(encodeKey(key)) : this.prim.get(key);
  }
  lookup(key: unknown): Obj[] {
    const o = typeof key === "object" && key !== null ? this.comp.get(encodeKey(key)) : this.prim.get(key);
    return o === undefined ? [] : [o];
  }
  member(key: unknown): boolean {
    return typeof key === "object" && key !== null ? this.comp.has(encodeKey(key)) : this.prim.has(key);
  }
  put(key: unknown, obj: Obj): void {
    if (typeof key === "object" && key !== null) {
      this.comp.set(encodeKey(key), obj);
    } else {
      checkPrim(key);
      this.prim.set(key, obj);
    }
  }
  replace(key: unknown, obj: Obj): void {
    this.put(key, obj);
  }
  take(key: unknown): Obj[] {
    const r = this.lookup(key);
    if (r.length > 0) this.deleteKey(key);
    return r;
  }
  deleteKey(key: unknown): number {
    const gone = typeof key === "object" && key !== null ? this.comp.delete(encodeKey(key)) : this.prim.delete(key);
    return gone ? 1 : 0;
  }
  deleteObject(key: unknown, obj: Obj): number {
    const o = this.lookupOne(key);
    return o !== undefined && termEquals(o, obj) ? this.deleteKey(key) : 0;
  }
  clear(): void {
    this.prim.clear();
    this.comp.clear();
  }
  each(fn: (obj: Obj) => boolean | void, reverse = false): void {
    if (reverse) {
      const all = [...this.prim.values(), ...this.comp.values()];
      for (let i = all.length - 1; i >= 0; i--) if (fn(all[i]) === false) return;
      return;
    }
    for (const o of this.prim.values()) if (fn(o) === false) return;
    for (const o of this.comp.values()) if (fn(o) === false) return;
  }
}

/** `bag` (distinct objects per key) and `duplicate_bag` (any objects per key). */
export class BagStore extends HashStore<Obj[]> implements Store {
  readonly overhead = 88;
  private count = 0;
  constructor(keyIdx: number, private readonly duplicates: boolean) {
    super((l) => l[0][keyIdx]);
  }
  get size(): number {
    return this.count;
  }
  private list(key: unknown): Obj[] | undefined {
    return typeof key === "object" && key !== null ? this.comp.get(encodeKey(key)) : this.prim.get(key);
  }
  lookupOne(key: unknown): Obj | undefined {
    return this.list(key)?.[0];
  }
  lookup(key: unknown): Obj[] {
    const l = this.list(key);
    return l === undefined ? [] : l.slice();
  }
  member(key: unknown): boolean {
    return typeof key === "object" && key !== null ? this.comp.has(encodeKey(key)) : this.prim.has(key);
  }
  put(key: unknown, obj: Obj): void {
    let l: Obj[] | undefined;
    if (typeof key === "object" && key !== null) {
      const h = encodeKey(key);
      l = this.comp.get(h);
      if (l === undefined) {
        this.comp.set(h, [obj]);
        this.count++;
        return;
      }
    } else {
      checkPrim(key);
      l = this.prim.get(key);
      if (l === undefined) {
        this.prim.set(key, [obj]);
        this.count++;
        return;
      }
    }
    if (!this.duplicates) {
      for (let i = 0; i < l.length; i++) if (termEquals(l[i], obj)) return;
    }
    l.push(obj);
    this.count++;
  }
  replace(): void {
    throw new EtsError("badarg", "This operation needs a set or ordered_set table");
  }
  take(key: unknown): Obj[] {
    const l = this.list(key);
    if (l === undefined) return [];
    this.deleteKey(key);
    return l;
  }
  deleteKey(key: unknown): number {
    const l = this.list(key);
    if (l === undefined) return 0;
    if (typeof key === "object" && key !== null) this.comp.delete(encodeKey(key));
    else this.prim.delete(key);
    this.count -= l.length;
    return l.length;
  }
  deleteObject(key: unknown, obj: Obj): number {
    const l = this.list(key);
    if (l === undefined) return 0;
    const keep = l.filter((o) => !termEquals(o, obj));
    const gone = l.length - keep.length;
    if (gone === 0) return 0;
    if (keep.length === 0) {
      this.deleteKey(key);
      return gone;
    }
    // Replace in place: the list object stays the one the map holds.
    l.length = 0;
    for (const o of keep) l.push(o);
    this.count -= gone;
    return gone;
  }
  clear(): void {
    this.prim.clear();
    this.comp.clear();
    this.count = 0;
  }
  each(fn: (obj: Obj) => boolean | void, reverse = false): void {
    const lists = [...this.prim.values(), ...this.comp.values()];
    if (reverse) {
      for (let i = lists.length - 1; i >= 0; i--) {
        const l = lists[i].slice();
        for (let j = l.length - 1; j >= 0; j--) if (fn(l[j]) === false) return;
      }
      return;
    }
    for (const list of lists) {
      const l = list.slice();
      for (let j = 0; j < l.length; j++) if (fn(l[j]) === false) return;
    }
  }
}

/** `ordered_set`: one object per key, in term order (a B+ tree). */
export class OrderedStore implements Store {
  readonly tree = new BTree<Obj>();
  readonly overhead = 20;
  get size(): number {
    return this.tree.size;
  }
  lookupOne(key: unknown): Obj | undefined {
    return this.tree.get(key);
  }
  lookup(key: unknown): Obj[] {
    const o = this.tree.get(key);
    return o === undefined ? [] : [o];
  }
  member(key: unknown): boolean {
    return this.tree.has(key);
  }
  put(key: unknown, obj: Obj): void {
    checkKey(key);
    this.tree.set(key, obj);
  }
  replace(key: unknown, obj: Obj): void {
    this.tree.set(key, obj);
  }
  take(key: unknown): Obj[] {
    const o = this.tree.delete(key);
    return o === undefined ? [] : [o];
  }
  deleteKey(key: unknown): number {
    return this.tree.delete(key) === undefined ? 0 : 1;
  }
  deleteObject(key: unknown, obj: Obj): number {
    const o = this.tree.get(key);
    return o !== undefined && termEquals(o, obj) ? this.deleteKey(key) : 0;
  }
  clear(): void {
    this.tree.clear();
  }
  each(fn: (obj: Obj) => boolean | void, reverse = false): void {
    this.tree.each((_k, o) => fn(o), reverse);
  }
  first(): unknown {
    const l = this.tree.firstLeaf();
    return l.keys.length === 0 ? END_OF_TABLE : l.keys[0];
  }
  last(): unknown {
    const l = this.tree.lastLeaf();
    return l.keys.length === 0 ? END_OF_TABLE : l.keys[l.keys.length - 1];
  }
  next(key: unknown): unknown {
    return keyAt(this.tree.after(key));
  }
  prev(key: unknown): unknown {
    return keyAt(this.tree.before(key));
  }
}

function keyAt(at: [Leaf<Obj>, number] | null): unknown {
  return at === null ? END_OF_TABLE : at[0].keys[at[1]];
}

/** Estimated bytes of a store: its structure plus a sample of its objects. */
export function storeBytes(s: Store): number {
  const n = s.size;
  if (n === 0) return 0;
  let sampled = 0, bytes = 0;
  s.each((o) => {
    bytes += termBytes(o);
    return ++sampled < 64;
  });
  return Math.round(n * (s.overhead + bytes / sampled));
}
