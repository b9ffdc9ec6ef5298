/**
 * A hash table for number keys, the hot case of ETS (ids, counters): open
 * addressing with linear probing over a `Float64Array` of keys and a plain
 * array of values, both indexed by slot. A lookup's two loads do not depend
 * on each other, so on a table larger than the CPU caches their two misses
 * overlap; a `Map` pays two or three misses one after another and is about
 * three times slower there.
 *
 * The slot is taken from the top bits of a Fibonacci (multiplicative) hash
 * of the key, seeded per table and folded first (`x ^ x >>> 16`), so runs of
 * integers spread evenly and strides of powers of two do not pile up.
 *
 * Walks go in slot order and are safe while deleting: a delete leaves a
 * tombstone, and only an insert ever rehashes (never while a walk has
 * pinned the table, unless the table fills up). A rehash bumps `epoch`, so a
 * cursor knows its place has moved. Tombstones are cleared by that rehash,
 * which also shrinks a table that has emptied.
 *
 * @module
 */

const SCRATCH = new Float64Array(1);
const SCRATCH_BITS = new Int32Array(SCRATCH.buffer);
const MIN_BITS = 3;
/** Marks a deleted slot in `vals` (its key is set to NaN, which no key equals). */
const TOMBSTONE = Symbol("tombstone");

/** A map from numbers (not NaN; `-0` is `0`) to values (never undefined). */
export class NumTable<V> {
  private keys = new Float64Array(1 << MIN_BITS).fill(NaN);
  /** Values by slot: undefined is free, {@linkcode TOMBSTONE} deleted. */
  private vals: Array<V | typeof TOMBSTONE | undefined> = new Array(1 << MIN_BITS).fill(undefined);
  private shift = 32 - MIN_BITS;
  private mask = (1 << MIN_BITS) - 1;
  private live = 0;
  private dead = 0;
  private pins = 0;
  private readonly seed = (Math.random() * 0x1_0000_0000) | 0;
  /** Bumped whenever slots move (a rehash or a clear). */
  epoch = 0;

  /** Number of keys. */
  get size(): number {
    return this.live;
  }

  /** Number of slots: walks go from 0 to this. */
  get slotCount(): number {
    return this.mask + 1;
  }

  /** The value in slot `i`, or undefined if the slot holds none. */
  at(i: number): V | undefined {
    const v = this.vals[i];
    return v === TOMBSTONE ? undefined : v;
  }

  private home(k: number): number {
    let x: number;
    if ((k | 0) === k) {
      x = k ^ this.seed;
    } else {
      SCRATCH[0] = k;
      x = SCRATCH_BITS[0] ^ Math.imul(SCRATCH_BITS[1], 0x85ebca6b) ^ this.seed;
    }
    return Math.imul(x ^ (x >>> 16), 0x9e3779b1) >>> this.shift;
  }

  /**
   * The value under `k`, or undefined. Written out rather than through
   * {@linkcode slotOf}: loading the value inside the probe loop is what lets
   * its cache miss overlap the key's; `slotOf` then `vals[j]` measured 13M
   * random lookups/s on 1M entries against 24M (`scripts/_bench_ets.ts`).
   */
  get(k: number): V | undefined {
    const keys = this.keys, vals = this.vals, m = this.mask;
    for (let j = this.home(k);; j = (j + 1) & m) {
      const v = vals[j];
      if (v === undefined) return undefined;
      // A tombstone's key is NaN, so it never matches.
      if (keys[j] === k) return v as V;
    }
  }

  /** The slot holding `k`, or -1. */
  slotOf(k: number): number {
    const keys = this.keys, vals = this.vals, m = this.mask;
    for (let j = this.home(k);; j = (j + 1) & m) {
      if (vals[j] === undefined) return -1;
      if (keys[j] === k) return j;
    }
  }

  /** Stores `v` under `k`. */
  set(k: number, v: V): void {
    const keys = this.keys, vals = this.vals, m = this.mask;
    let free = -1;
    let j = this.home(k);
    for (;; j = (j + 1) & m) {
      const old = vals[j];
      if (old === undefined) break;
      if (keys[j] === k) {
        vals[j] = v;
        return;
      }
      if (old === TOMBSTONE && free < 0) free = j;
    }
    if (free >= 0) {
      this.dead--;
      j = free;
    } else if (
      (this.live + this.dead + 1) * 2 > m + 1 && (this.pins === 0 || (this.live + this.dead + 1) * 8 > (m + 1) * 7)
    ) {
      // Over half full (or, while pinned by a walk, nearly full): rehash.
      this.rehash();
      j = this.freeSlot(k);
    }
    this.keys[j] = k;
    this.vals[j] = v;
    this.live++;
  }

  /** Removes `k`; returns its value, or undefined if it was absent. */
  delete(k: number): V | undefined {
    const j = this.slotOf(k);
    if (j < 0) return undefined;
    const v = this.vals[j] as V;
    this.vals[j] = TOMBSTONE;
    this.keys[j] = NaN;
    this.live--;
    this.dead++;
    return v;
  }

  /** Removes everything. */
  clear(): void {
    this.epoch++;
    this.alloc(MIN_BITS);
    this.live = 0;
    this.dead = 0;
  }

  /**
   * Runs `fn` with slots held still: no rehash unless the table fills up,
   * for walks that may change the table.
   */
  pinned<R>(fn: () => R): R {
    this.pins++;
    try {
      return fn();
    } finally {
      this.pins--;
    }
  }

  private alloc(bits: number): void {
    this.keys = new Float64Array(1 << bits).fill(NaN);
    this.vals = new Array(1 << bits).fill(undefined);
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
  }

  private freeSlot(k: number): number {
    const vals = this.vals, m = this.mask;
    let j = this.home(k);
    while (vals[j] !== undefined) j = (j + 1) & m;
    return j;
  }

  /**
   * Rebuilds the slots, dropping tombstones, at most 3/8 full: at least an
   * eighth of the slots are inserted into before the next rehash, which
   * keeps inserts O(1) amortised however deletes and inserts interleave.
   */
  private rehash(): void {
    const keys = this.keys, vals = this.vals;
    let bits = MIN_BITS;
    while ((1 << bits) * 3 < (this.live + 1) * 8) bits++;
    this.alloc(bits);
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v !== undefined && v !== TOMBSTONE) {
        const j = this.freeSlot(keys[i]);
        this.keys[j] = keys[i];
        this.vals[j] = v;
      }
    }
    this.dead = 0;
    this.epoch++;
  }
}
