/**
 * A B+ tree keyed by Erlang's term order: the engine of `ordered_set`.
 *
 * Why a B+ tree: O(log n) insert, delete and lookup with few, compact nodes
 * (two arrays of up to {@linkcode MAX} slots per leaf), so a million entries
 * take a few thousand small arrays rather than a million tree nodes; leaves
 * are linked both ways so in-order walks and `next`/`prev` are cheap.
 *
 * Invariants: every leaf but a lone root holds between {@linkcode MIN} and
 * {@linkcode MAX} entries; an inner node with `n` children holds `n - 1`
 * separators, where every key in `children[i]` is `< keys[i]` and every key
 * in `children[i + 1]` is `>= keys[i]`.
 *
 * @module
 */
import { compare } from "./_term.ts";

/** Maximum entries per leaf and children per inner node. */
const MAX = 64;
/** Minimum fill below which a node borrows from or merges with a sibling. */
const MIN = MAX >> 1;

/** A leaf: sorted keys and their values, linked to its neighbours. */
export class Leaf<V> {
  keys: unknown[] = [];
  vals: V[] = [];
  next: Leaf<V> | null = null;
  prev: Leaf<V> | null = null;
}

class Inner<V> {
  keys: unknown[] = [];
  children: Array<Node<V>> = [];
}

type Node<V> = Leaf<V> | Inner<V>;

/** Index of the first key in `keys` that is > `key` (the child to descend to). */
function upperBound(keys: unknown[], key: unknown): number {
  let lo = 0, hi = keys.length;
  // Same-type keys compare inline; only mixed types pay for `compare`.
  if (typeof key === "number") {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = keys[mid];
      if (typeof k === "number" ? key < k : compare(key, k) < 0) hi = mid;
      else lo = mid + 1;
    }
  } else if (typeof key === "string") {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = keys[mid];
      if (typeof k === "string" ? key < k : compare(key, k) < 0) hi = mid;
      else lo = mid + 1;
    }
  } else {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(key, keys[mid]) < 0) hi = mid;
      else lo = mid + 1;
    }
  }
  return lo;
}

/** Index of the first key in `keys` that is >= `key`. */
function lowerBound(keys: unknown[], key: unknown): number {
  let lo = 0, hi = keys.length;
  if (typeof key === "number") {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = keys[mid];
      if (typeof k === "number" ? k < key : compare(k, key) < 0) lo = mid + 1;
      else hi = mid;
    }
  } else if (typeof key === "string") {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = keys[mid];
      if (typeof k === "string" ? k < key : compare(k, key) < 0) lo = mid + 1;
      else hi = mid;
    }
  } else {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(keys[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
  }
  return lo;
}

/** True if `a` and `b` are the same key (`-0` and `0` included). */
function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && compare(a, b) === 0);
}

/** Inserts `x` at `i`, shifting by hand: `splice` allocates a result array. */
function insertAt<T>(a: T[], i: number, x: T): void {
  let j = a.length;
  a.push(x);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = x;
}

/** Removes the element at `i`, shifting by hand. */
function removeAt<T>(a: T[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1];
  a.pop();
}

/** An ordered map from terms to values. */
export class BTree<V> {
  root: Node<V> = new Leaf<V>();
  size = 0;
  /** Bumped on every structural change, so walks know to re-seek. */
  version = 0;

  /** The leaf where `key` is or would be. */
  leafFor(key: unknown): Leaf<V> {
    let n = this.root;
    while (!(n instanceof Leaf)) n = n.children[upperBound(n.keys, key)];
    return n;
  }

  /** The value under `key`, or undefined. */
  get(key: unknown): V | undefined {
    const leaf = this.leafFor(key);
    const i = lowerBound(leaf.keys, key);
    return i < leaf.keys.length && same(leaf.keys[i], key) ? leaf.vals[i] : undefined;
  }

  /** True if `key` is present. */
  has(key: unknown): boolean {
    const leaf = this.leafFor(key);
    const i = lowerBound(leaf.keys, key);
    return i < leaf.keys.length && same(leaf.keys[i], key);
  }

  /** Sets `key` to `val`; returns true if the key is new. */
  set(key: unknown, val: V): boolean {
    const root = this.root;
    const split = this.insertInto(root, key, val);
    if (split === null) return this.lastWasNew;
    const nr = new Inner<V>();
    nr.keys.push(split[0]);
    nr.children.push(root, split[1]);
    this.root = nr;
    return true;
  }

  private lastWasNew = false;

  /** Inserts below `n`; returns `[separator, newRightSibling]` if `n` split. */
  private insertInto(n: Node<V>, key: unknown, val: V): [unknown, Node<V>] | null {
    if (n instanceof Leaf) {
      const keys = n.keys;
      const i = lowerBound(keys, key);
      if (i < keys.length && same(keys[i], key)) {
        n.vals[i] = val;
        this.lastWasNew = false;
        return null;
      }
      this.lastWasNew = true;
      this.size++;
      this.version++;
      insertAt(keys, i, key);
      insertAt(n.vals, i, val);
      if (keys.length <= MAX) return null;
      const right = new Leaf<V>();
      right.keys = keys.splice(MIN);
      right.vals = n.vals.splice(MIN);
      right.next = n.next;
      right.prev = n;
      if (n.next !== null) n.next.prev = right;
      n.next = right;
      return [right.keys[0], right];
    }
    const i = upperBound(n.keys, key);
    const split = this.insertInto(n.children[i], key, val);
    if (split === null) return null;
    insertAt(n.keys, i, split[0]);
    insertAt(n.children, i + 1, split[1]);
    if (n.children.length <= MAX) return null;
    const right = new Inner<V>();
    // Children [0, MIN) stay; keys[MIN - 1] moves up; the rest go right.
    right.children = n.children.splice(MIN);
    right.keys = n.keys.splice(MIN);
    const up = n.keys.pop();
    return [up, right];
  }

  /** Removes `key`; returns its value, or undefined if it was absent. */
  delete(key: unknown): V | undefined {
    const root = this.root;
    const removed = this.deleteFrom(root, key);
    if (removed === NONE) return undefined;
    if (!(root instanceof Leaf) && root.children.length === 1) this.root = root.children[0];
    return removed as V;
  }

  private deleteFrom(n: Node<V>, key: unknown): V | typeof NONE {
    if (n instanceof Leaf) {
      const i = lowerBound(n.keys, key);
      if (i >= n.keys.length || !same(n.keys[i], key)) return NONE;
      const v = n.vals[i];
      removeAt(n.keys, i);
      removeAt(n.vals, i);
      this.size--;
      this.version++;
      return v;
    }
    const i = upperBound(n.keys, key);
    const child = n.children[i];
    const v = this.deleteFrom(child, key);
    if (v !== NONE && nodeSize(child) < MIN) this.rebalance(n, i);
    return v;
  }

  /** Restores the fill of `parent.children[i]` by borrowing or merging. */
  private rebalance(parent: Inner<V>, i: number): void {
    const c = parent.children[i];
    const left = i > 0 ? parent.children[i - 1] : null;
    const right = i + 1 < parent.children.length ? parent.children[i + 1] : null;
    if (left !== null && nodeSize(left) > MIN) {
      if (c instanceof Leaf) {
        const l = left as Leaf<V>;
        c.keys.unshift(l.keys.pop());
        c.vals.unshift(l.vals.pop()!);
        parent.keys[i - 1] = c.keys[0];
      } else {
        const l = left as Inner<V>;
        c.keys.unshift(parent.keys[i - 1]);
        c.children.unshift(l.children.pop()!);
        parent.keys[i - 1] = l.keys.pop();
      }
      return;
    }
    if (right !== null && nodeSize(right) > MIN) {
      if (c instanceof Leaf) {
        const r = right as Leaf<V>;
        c.keys.push(r.keys.shift());
        c.vals.push(r.vals.shift()!);
        parent.keys[i] = r.keys[0];
      } else {
        const r = right as Inner<V>;
        c.keys.push(parent.keys[i]);
        c.children.push(r.children.shift()!);
        parent.keys[i] = r.keys.shift();
      }
      return;
    }
    // Both neighbours are at minimum: merge with one of them.
    if (left !== null) this.merge(parent, i - 1);
    else if (right !== null) this.merge(parent, i);
  }

  /** Merges `parent.children[i + 1]` into `parent.children[i]`. */
  private merge(parent: Inner<V>, i: number): void {
    const a = parent.children[i], b = parent.children[i + 1];
    const sep = parent.keys[i];
    if (a instanceof Leaf) {
      const bl = b as Leaf<V>;
      for (let j = 0; j < bl.keys.length; j++) {
        a.keys.push(bl.keys[j]);
        a.vals.push(bl.vals[j]);
      }
      a.next = bl.next;
      if (bl.next !== null) bl.next.prev = a;
    } else {
      const bi = b as Inner<V>;
      a.keys.push(sep);
      for (let j = 0; j < bi.keys.length; j++) a.keys.push(bi.keys[j]);
      for (let j = 0; j < bi.children.length; j++) a.children.push(bi.children[j]);
    }
    removeAt(parent.keys, i);
    removeAt(parent.children, i + 1);
  }

  /** Removes every entry. */
  clear(): void {
    this.root = new Leaf<V>();
    this.size = 0;
    this.version++;
  }

  /** The leftmost leaf. */
  firstLeaf(): Leaf<V> {
    let n = this.root;
    while (!(n instanceof Leaf)) n = n.children[0];
    return n;
  }

  /** The rightmost leaf. */
  lastLeaf(): Leaf<V> {
    let n = this.root;
    while (!(n instanceof Leaf)) n = n.children[n.children.length - 1];
    return n;
  }

  /** Leaf and index of the smallest key > `key` (strictly), or null. */
  after(key: unknown): [Leaf<V>, number] | null {
    let leaf: Leaf<V> | null = this.leafFor(key);
    let i = upperBound(leaf.keys, key);
    while (leaf !== null && i >= leaf.keys.length) {
      leaf = leaf.next;
      i = 0;
    }
    return leaf === null ? null : [leaf, i];
  }

  /** Leaf and index of the largest key < `key` (strictly), or null. */
  before(key: unknown): [Leaf<V>, number] | null {
    let leaf: Leaf<V> | null = this.leafFor(key);
    let i = lowerBound(leaf.keys, key) - 1;
    while (leaf !== null && i < 0) {
      leaf = leaf.prev;
      i = leaf === null ? -1 : leaf.keys.length - 1;
    }
    return leaf === null ? null : [leaf, i];
  }

  /**
   * Calls `fn` on each entry in order (descending if `reverse`) until it
   * returns false. Safe against changes made by `fn`: after one, the walk
   * re-seeks from the last key it visited.
   */
  each(fn: (key: unknown, val: V) => boolean | void, reverse = false): void {
    let leaf: Leaf<V> | null;
    let i: number;
    if (reverse) {
      leaf = this.lastLeaf();
      i = leaf.keys.length - 1;
    } else {
      leaf = this.firstLeaf();
      i = 0;
    }
    while (leaf !== null) {
      if (reverse ? i < 0 : i >= leaf.keys.length) {
        leaf = reverse ? leaf.prev : leaf.next;
        if (leaf !== null) i = reverse ? leaf.keys.length - 1 : 0;
        continue;
      }
      const k = leaf.keys[i];
      const v = this.version;
      if (fn(k, leaf.vals[i]) === false) return;
      if (this.version !== v) {
        const at = reverse ? this.before(k) : this.after(k);
        if (at === null) return;
        [leaf, i] = at;
      } else {
        i += reverse ? -1 : 1;
      }
    }
  }

  /** Number of leaves and inner nodes (for memory estimates). */
  nodeCount(): number {
    let count = 0;
    const walk = (n: Node<V>): void => {
      count++;
      if (!(n instanceof Leaf)) { for (const c of n.children) walk(c); }
    };
    walk(this.root);
    return count;
  }

  /** Checks every invariant; throws on the first broken one (tests only). */
  check(): void {
    let count = 0;
    const walk = (n: Node<V>, lo: unknown, hi: unknown, depth: number, isRoot: boolean): number => {
      if (n instanceof Leaf) {
        if (!isRoot && n.keys.length < MIN) throw new Error(`Leaf underfull: ${n.keys.length}`);
        if (n.keys.length > MAX) throw new Error(`Leaf overfull: ${n.keys.length}`);
        for (let i = 0; i < n.keys.length; i++) {
          const k = n.keys[i];
          if (i > 0 && compare(n.keys[i - 1], k) >= 0) throw new Error("Leaf keys out of order");
          if (lo !== NONE && compare(k, lo) < 0) throw new Error("Key below separator");
          if (hi !== NONE && compare(k, hi) >= 0) throw new Error("Key above separator");
        }
        count += n.keys.length;
        return depth;
      }
      if (n.children.length !== n.keys.length + 1) throw new Error("Inner node arity mismatch");
      if (!isRoot && n.children.length < MIN) throw new Error(`Inner node underfull: ${n.children.length}`);
      if (n.children.length > MAX) throw new Error("Inner node overfull");
      let d = -1;
      for (let i = 0; i < n.children.length; i++) {
        const cd = walk(
          n.children[i],
          i === 0 ? lo : n.keys[i - 1],
          i === n.keys.length ? hi : n.keys[i],
          depth + 1,
          false,
        );
        if (d >= 0 && cd !== d) throw new Error("Unbalanced tree");
        d = cd;
      }
      return d;
    };
    walk(this.root, NONE, NONE, 0, true);
    if (count !== this.size) throw new Error(`Size ${this.size} but ${count} entries`);
    let linked = 0;
    for (let l: Leaf<V> | null = this.firstLeaf(); l !== null; l = l.next) {
      linked += l.keys.length;
      if (l.next !== null && l.next.prev !== l) throw new Error("Broken leaf links");
    }
    if (linked !== this.size) throw new Error("Leaf chain misses entries");
  }
}

const NONE: unique symbol = Symbol("none");

function nodeSize(n: Node<unknown>): number {
  return n instanceof Leaf ? n.keys.length : n.children.length;
}
