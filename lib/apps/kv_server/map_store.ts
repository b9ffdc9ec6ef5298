/**
 * A {@linkcode KvStore} on plain `Map`s, with no processes: the baseline the
 * actor-based store is measured against, and a store for tests.
 *
 * @module
 */

import type { KvStore } from "./command.ts";

/**
 * A synchronous in-memory {@linkcode KvStore}: one `Map` of buckets, each a
 * `Map` of keys to values. `Map`s, not objects, so that `__proto__` is data.
 *
 * @example Usage
 * ```ts
 * import { MapStore } from "./map_store.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MapStore();
 * store.create("b");
 * const bucket = store.lookup("b")!;
 * store.put(bucket, "k", "v");
 * assert.equal(store.get(bucket, "k"), "v");
 * assert.equal(store.lookup("__proto__"), undefined);
 * ```
 */
export class MapStore implements KvStore<Map<string, string>> {
  /** The buckets, by name. */
  readonly buckets: Map<string, Map<string, string>> = new Map();

  /** Creates the bucket unless it exists. */
  create(bucket: string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
  }

  /** The bucket, or `undefined`. */
  lookup(bucket: string): Map<string, string> | undefined {
    return this.buckets.get(bucket);
  }

  /** The value under `key`, or `undefined`. */
  get(bucket: Map<string, string>, key: string): string | undefined {
    return bucket.get(key);
  }

  /** Stores `value` under `key`. */
  put(bucket: Map<string, string>, key: string, value: string): void {
    bucket.set(key, value);
  }

  /** Removes `key`. */
  delete(bucket: Map<string, string>, key: string): void {
    bucket.delete(key);
  }
}
