/**
 * What a table keeps its objects in, one class per table type: a hash index
 * for `set`, `bag` and `duplicate_bag`, a B+ tree for `ordered_set`.
 * Objects reaching a store are already copies; stores never copy.
 *
 * Hash key scheme: a number key goes to an open-addressing table of its own
 * ({@linkcode NumTable}, `-0` is `0`); another primitive key (string, boolean,
 * null, undefined) keys the `prim` map directly (a `Map` tells `"1"` from
 * `1`); a compound key (array, pid, ref) keys the `comp` map by its canonical
 * encoding ({@linkcode encodeKey}). Keeping these apart means no string key
 * can ever equal an encoding.
 *
 * @module
 */
import { BTree, type Leaf } from "./_btree.ts";
import { NumTable } from "./_num_table.ts";
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
  return new EtsError(
    "badarg",
    `Unsupported key ${show(k)}: keys are numbers, strings, booleans, null, undefined, pids, refs or arrays of these`,
  );
}

function notInTable(k: unknown): EtsError {
  return new EtsError("badarg", `Key ${show(k)} is not in the table, so it has no next key`);
}

/** Validates a non-number primitive key on the way in (lookups of odd keys just miss). */
function checkPrim(k: unknown): void {
  const t = typeof k;
  if (t === "string" || t === "boolean" || t === "undefined" || k === null) return;
  throw badHashKey(k);
}

function takeFrom<K, V>(map: Map<K, V>, k: K): V | undefined {
  const v = map.get(k);
  if (v !== undefined) map.delete(k);
  return v;
}

/**
 * Values by key for the hash table types: number keys in a {@linkcode NumTable}
 * (the common, hot case), other primitive keys in one `Map`, compound keys by
 * their canonical encoding in another. Iteration goes numbers (in slot
 * order), then other primitives, then compound keys (in insertion order);
 * as in Erlang, callers must not rely on the order of a hash table.
 */
class HashIndex<V> {
  readonly num = new NumTable<V>();
  readonly prim = new Map<unknown, V>();
  readonly comp = new Map<string, V>();
  get size(): number {
    return this.num.size + this.prim.size + this.comp.size;
  }
  get(key: unknown): V | undefined {
    if (typeof key === "number") return this.num.get(key);
    return typeof key === "object" && key !== null ? this.comp.get(encodeKey(key)) : this.prim.get(key);
  }
  has(key: unknown): boolean {
    return this.get(key) !== undefined;
  }
  set(key: unknown, v: V): void {
    if (typeof key === "number") {
      if (key !== key) throw badHashKey(key);
      this.num.set(key, v);
    } else if (typeof key === "object" && key !== null) {
      this.comp.set(encodeKey(key), v);
    } else {
      checkPrim(key);
      this.prim.set(key, v);
    }
  }
  /** Removes `key`; returns its value, or undefined if it was absent. */
  delete(key: unknown): V | undefined {
    if (typeof key === "number") return this.num.delete(key);
    if (typeof key === "object" && key !== null) return takeFrom(this.comp, encodeKey(key));
    return takeFrom(this.prim, key);
  }
  clear(): void {
    this.num.clear();
    this.prim.clear();
    this.comp.clear();
  }
  /** Calls `fn` on each value until it returns false; `fn` may change the table. */
  each(fn: (v: V) => boolean | void): void {
    const num = this.num;
    const stopped = num.pinned(() => {
      for (let i = 0; i < num.slotCount; i++) {
        const v = num.at(i);
        if (v !== undefined && fn(v) === false) return true;
      }
      return false;
    });
    if (stopped) return;
    for (const v of this.prim.values()) if (fn(v) === false) return;
    for (const v of this.comp.values()) if (fn(v) === false) return;
  }
  /** Every value, in iteration order. */
  values(): V[] {
    const out: V[] = [];
    this.each((v) => {
      out.push(v);
    });
    return out;
  }
}

/**
 * Walks the keys of a {@linkcode HashIndex}. The position is kept, so a
 * `first`, `next`, `next`, ... loop costs O(1) a step, and deleting the
 * current key mid-walk is safe, as with Erlang's `safe_fixtable`. A number
 * key finds its place directly, so `next` on it is O(1) even off the walk.
 */
class HashCursor<V> {
  /** -1: no walk; 0: number keys; 1: other primitives; 2: compound keys. */
  private segment = -1;
  private pos = -1;
  private epoch = 0;
  private iter: Iterator<V> | null = null;
  private lastKey: unknown = undefined;
  constructor(private readonly index: HashIndex<V>, private readonly keyOf: (v: V) => unknown) {}

  private step(): unknown {
    if (this.segment === 0) {
      const num = this.index.num;
      for (let i = this.pos + 1; i < num.slotCount; i++) {
        const v = num.at(i);
        if (v !== undefined) {
          this.pos = i;
          return this.lastKey = this.keyOf(v);
        }
      }
      this.segment = 1;
      this.iter = this.index.prim.values();
    }
    while (this.segment === 1 || this.segment === 2) {
      const r = this.iter!.next();
      if (!r.done) return this.lastKey = this.keyOf(r.value);
      if (this.segment === 2) break;
      this.segment = 2;
      this.iter = this.index.comp.values();
    }
    this.segment = -1;
    this.iter = null;
    return END_OF_TABLE;
  }

  /** Places the walk on number key `key`, which must be in the table. */
  private seek(key: number): void {
    const i = this.index.num.slotOf(key);
    if (i < 0) throw notInTable(key);
    this.segment = 0;
    this.pos = i;
    this.epoch = this.index.num.epoch;
  }

  first(): unknown {
    this.segment = 0;
    this.pos = -1;
    this.epoch = this.index.num.epoch;
    return this.step();
  }

  next(key: unknown): unknown {
    if (this.segment !== -1 && termEquals(this.lastKey, key)) {
      // The slots were rehashed under the walk: find our place again.
      if (this.segment === 0 && this.epoch !== this.index.num.epoch) this.seek(key as number);
      return this.step();
    }
    if (typeof key === "number") {
      this.seek(key);
      return this.step();
    }
    if (!this.index.has(key)) throw notInTable(key);
    for (let k = this.first(); k !== END_OF_TABLE; k = this.step()) {
      if (termEquals(k, key)) return this.step();
    }
    return END_OF_TABLE;
  }
}

/** What `set` and `bag` tables share: a {@linkcode HashIndex} and a cursor over it. */
abstract class HashStore<V> {
  readonly index = new HashIndex<V>();
  private readonly cursor: HashCursor<V>;
  constructor(keyOf: (v: V) => unknown) {
    this.cursor = new HashCursor(this.index, keyOf);
  }
  member(key: unknown): boolean {
    return this.index.has(key);
  }
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
  constructor(keyIdx: number) {
    super((o) => o[keyIdx]);
  }
  get size(): number {
    return this.index.size;
  }
  lookupOne(key: unknown): Obj | undefined {
    // The number branch again, on purpose: through `index.get` alone the
    // engine did not inline the probe, and random lookups on 1M entries
    // fell from 24–33M/s to 13M/s (`scripts/_bench_ets.ts`).
    return typeof key === "number" ? this.index.num.get(key) : this.index.get(key);
  }
  lookup(key: unknown): Obj[] {
    // See `lookupOne` for the number branch.
    const o = typeof key === "number" ? this.index.num.get(key) : this.index.get(key);
    return o === undefined ? [] : [o];
  }
  put(key: unknown, obj: Obj): void {
    this.index.set(key, obj);
  }
  replace(key: unknown, obj: Obj): void {
    this.index.set(key, obj);
  }
  take(key: unknown): Obj[] {
    const o = this.index.delete(key);
    return o === undefined ? [] : [o];
  }
  deleteKey(key: unknown): number {
    return this.index.delete(key) === undefined ? 0 : 1;
  }
  deleteObject(key: unknown, obj: Obj): number {
    const o = this.lookupOne(key);
    return o !== undefined && termEquals(o, obj) ? this.deleteKey(key) : 0;
  }
  clear(): void {
    this.index.clear();
  }
  each(fn: (obj: Obj) => boolean | void, reverse = false): void {
    if (!reverse) return this.index.each(fn);
    const all = this.index.values();
    for (let i = all.length - 1; i >= 0; i--) if (fn(all[i]) === false) return;
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
  lookupOne(key: unknown): Obj | undefined {
    return this.index.get(key)?.[0];
  }
  lookup(key: unknown): Obj[] {
    const l = this.index.get(key);
    return l === undefined ? [] : l.slice();
  }
  put(key: unknown, obj: Obj): void {
    const l = this.index.get(key);
    if (l === undefined) {
      this.index.set(key, [obj]);
      this.count++;
      return;
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
    const l = this.index.delete(key);
    if (l === undefined) return [];
    this.count -= l.length;
    return l;
  }
  deleteKey(key: unknown): number {
    return this.take(key).length;
  }
  deleteObject(key: unknown, obj: Obj): number {
    const l = this.index.get(key);
    if (l === undefined) return 0;
    const keep = l.filter((o) => !termEquals(o, obj));
    const gone = l.length - keep.length;
    if (gone === 0) return 0;
    if (keep.length === 0) {
      this.deleteKey(key);
      return gone;
    }
    // Replace in place: the list object stays the one the index holds.
    l.length = 0;
    for (const o of keep) l.push(o);
    this.count -= gone;
    return gone;
  }
  clear(): void {
    this.index.clear();
    this.count = 0;
  }
  each(fn: (obj: Obj) => boolean | void, reverse = false): void {
    const lists = this.index.values();
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
