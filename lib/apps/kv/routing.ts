/**
 * The routing table of the guide's distributed chapter: which node holds a
 * bucket, by the first **byte** of its name. It lives in the `"kv"`
 * application's environment under {@linkcode ROUTING_TABLE}; an empty table
 * (the default) means one node holding every bucket.
 *
 * @example
 * ```ts
 * import { parseRoutes, routeOf } from "./routing.ts";
 * const table = parseRoutes("a-m=foo@localhost,n-z=bar@localhost");
 * console.assert(routeOf(table, "shopping") === "bar@localhost");
 * console.assert(routeOf(table, "apples") === "foo@localhost");
 * console.assert(routeOf(table, "42") === undefined);
 * ```
 *
 * @module
 */

/** The `"kv"` environment key holding the {@linkcode RoutingTable}. */
export const ROUTING_TABLE = "routingTable";

/** One entry: bucket names whose first byte is in `first..last` (inclusive) live on `node`. */
export interface Route {
  /** Lowest first byte (0..255). */
  readonly first: number;
  /** Highest first byte (0..255). */
  readonly last: number;
  /** The node's name, `name@host`. */
  readonly node: string;
}

/** Entries in order; the first that matches wins. */
export type RoutingTable = readonly Route[];

/**
 * Parses `a-m=foo@host,n-z=bar@host` (a single byte `x=node` works too).
 * Bounds are single characters of code 0..255. Throws a `RangeError` that
 * names the bad entry.
 *
 * @example
 * ```ts
 * import { parseRoutes } from "./routing.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseRoutes("a-c=x@h"), [{ first: 97, last: 99, node: "x@h" }]);
 * assert.throws(() => parseRoutes("a-m"), /a-m/);
 * ```
 */
export function parseRoutes(text: string): Route[] {
  const table: Route[] = [];
  for (const entry of text.split(",")) {
    const spec = entry.trim();
    if (spec === "") continue;
    const m = /^(.)(?:-(.))?=([^@\s=]+@[^@\s=]+)$/su.exec(spec);
    const first = m?.[1].charCodeAt(0) ?? -1, last = m?.[2]?.charCodeAt(0) ?? first;
    if (m === null || first > 255 || last > 255 || first > last) {
      throw new RangeError(`Bad route "${spec}": expected FIRST-LAST=name@host (single-byte bounds, FIRST <= LAST)`);
    }
    table.push({ first, last, node: m[3] });
  }
  return table;
}

/**
 * The node holding `bucket` (a binary string, one char per byte), or
 * `undefined` when no entry covers its first byte.
 *
 * @example
 * ```ts
 * import { routeOf } from "./routing.ts";
 * console.assert(routeOf([{ first: 0, last: 255, node: "a@h" }], "x") === "a@h");
 * ```
 */
export function routeOf(table: RoutingTable, bucket: string): string | undefined {
  const byte = bucket.charCodeAt(0);
  for (let i = 0; i < table.length; i++) {
    const r = table[i];
    if (byte >= r.first && byte <= r.last) return r.node;
  }
  return undefined;
}

/**
 * Checks a table given as data (the application environment): an array of
 * `{ first, last, node }`. Throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { checkRoutes } from "./routing.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkRoutes([{ first: 1 }]), TypeError);
 * ```
 */
export function checkRoutes(value: unknown): RoutingTable {
  if (!Array.isArray(value)) throw new TypeError(`The kv routing table must be an array, got ${typeof value}`);
  for (const r of value) {
    const ok = r !== null && typeof r === "object" && Number.isInteger(r.first) && Number.isInteger(r.last) &&
      r.first >= 0 && r.last <= 255 && r.first <= r.last && typeof r.node === "string" && r.node.includes("@");
    if (!ok) throw new TypeError(`Bad kv route ${JSON.stringify(r)}: expected { first, last, node: "name@host" }`);
  }
  return value as RoutingTable;
}
