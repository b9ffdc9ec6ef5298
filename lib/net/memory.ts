/**
 * Giving memory back to the operating system, per runtime.
 *
 * Bun's collector (JavaScriptCore's) starts a full collection on its own
 * schedule, which after a burst of allocation can be many seconds later, and
 * its allocators hand freed pages back later still. A server that has just
 * made a million buckets and gone quiet holds hundreds of megabytes it no
 * longer needs until then. `Bun.gc(true)` runs a full, synchronous
 * collection and then returns what it freed to the operating system (Bun's
 * docs and oven-sh/bun#42428: `mi_collect(true)` after the collection).
 *
 * Deno (V8) and Node give memory back on their own and expose no collector
 * without a command-line flag (`--expose-gc`), so there {@linkcode collectGarbage}
 * only collects when that flag made `gc` available.
 *
 * @module
 */

import { runtime } from "./runtime.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/**
 * Whether {@linkcode collectGarbage} can run a collection here: always on
 * Bun, elsewhere only when the runtime was started with `--expose-gc`.
 *
 * @example
 * ```ts
 * import { canCollectGarbage, runtime } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * if (runtime === "bun") assert.equal(canCollectGarbage(), true);
 * ```
 *
 * @returns True if a collection can be asked for.
 */
export function canCollectGarbage(): boolean {
  return runtime === "bun" ? typeof g.Bun?.gc === "function" : typeof g.gc === "function";
}

/**
 * Runs a full, synchronous garbage collection and hands the memory it frees
 * back to the operating system, where the runtime offers that (Bun:
 * `Bun.gc(true)`; elsewhere the global `gc` of `--expose-gc`). It stops
 * everything while it runs, about 2 ms per MiB of live heap on Bun (1-1.7 s
 * with a million buckets, on a shared 2-core machine): call it when nothing
 * is waiting.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof collectGarbage(), "boolean");
 * ```
 *
 * @returns Whether a collection ran (false: the runtime offers none).
 */
export function collectGarbage(): boolean {
  if (runtime === "bun" && typeof g.Bun?.gc === "function") {
    g.Bun.gc(true);
    return true;
  }
  if (typeof g.gc === "function") {
    g.gc();
    return true;
  }
  return false;
}
