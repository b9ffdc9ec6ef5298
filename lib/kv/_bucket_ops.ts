/**
 * Runs several `GET`/`PUT`/`DELETE` on one bucket in **one** message to its
 * process: the server's batches (see `KvStore.executeMany`) cost one call per
 * bucket per read instead of one per request.
 *
 * The operations are applied to the bucket agent's state with the same
 * meaning as `Bucket.get`, `Bucket.put` and `Bucket.del` (`tests/kv_server_test.ts`
 * checks them against each other). They know the state's shape
 * (`Bucket.State`: `null`, a `Bucket.Single`, or a `Map`); a state of any
 * other shape is left untouched and the operations fail (`ERROR`), so the
 * bucket never crashes on our account.
 *
 * @module
 */

import * as Agent from "../agent.ts";
import type { Pid } from "../process/pid.ts";
import { Single, type State } from "./bucket.ts";

/** What to do: 0 get, 1 put, 2 delete. */
export type OpKind = 0 | 1 | 2;

/** A run of operations on one bucket, in order; `results` receives the gets' values. */
export class BucketOps {
  /** The operations' kinds. */
  readonly kinds: OpKind[] = [];
  /** Their keys. */
  readonly keys: string[] = [];
  /** Their values (puts only). */
  readonly values: (string | undefined)[] = [];
  /** Each operation's index in the batch. */
  readonly indexes: number[] = [];
  /** After the run: each get's value (`undefined`: missing key). */
  readonly results: (string | undefined)[] = [];
  /** Set when the state had a shape these operations do not know. */
  failed = false;

  /** Appends an operation. */
  add(kind: OpKind, key: string, value: string | undefined, index: number): void {
    this.kinds.push(kind);
    this.keys.push(key);
    this.values.push(value);
    this.indexes.push(index);
  }

  /** Applies the operations to a bucket's state; runs inside the bucket's process. */
  apply(s: State): State {
    if (!(s === null || s instanceof Single || s instanceof Map)) {
      this.failed = true;
      return s;
    }
    const { kinds, keys, values, results } = this;
    for (let i = 0; i < kinds.length; i++) {
      const key = keys[i];
      switch (kinds[i]) {
        case 0:
          results[i] = s === null ? undefined : s instanceof Single ? (s.key === key ? s.value : undefined) : s.get(key);
          break;
        case 1: {
          const value = values[i]!;
          if (s === null) s = new Single(key, value);
          else if (s instanceof Single) s = s.key === key ? new Single(key, value) : new Map([[s.key, s.value], [key, value]]);
          else s.set(key, value);
          break;
        }
        default:
          if (s === null) break;
          if (s instanceof Single) {
            if (s.key === key) s = null;
          } else if (s.delete(key) && s.size === 1) {
            const [[k, v]] = s;
            s = new Single(k, v);
          }
      }
    }
    return s;
  }
}

/**
 * Runs `ops` on `bucket` in one call. Resolves once applied; rejects as the
 * call does (`noproc` when the bucket is gone) or when the state's shape is
 * unknown.
 *
 * @param bucket The bucket's process.
 * @param ops The operations.
 * @returns Once they ran; their results are in `ops.results`.
 */
export function runBucketOps(bucket: Pid, ops: BucketOps): Promise<void> {
  // No timeout: the functions are pure and quick, and the call fails at once if the bucket dies.
  return Agent.update(bucket, (s: State) => ops.apply(s), Infinity).then(() => {
    if (ops.failed) throw new Error("Unknown bucket state shape");
  });
}
