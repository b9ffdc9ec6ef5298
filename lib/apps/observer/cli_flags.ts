/**
 * The `kv serve` flags that turn the Observer on: `--observer [HOST:]PORT`
 * and `--observer-read-only`. Kept here so `lib/apps/kv_server/cli.ts` only wires them in.
 *
 * @module
 */

/** Where the Observer listens, and whether it may kill. */
export interface ObserverFlags {
  /** The address to bind; loopback unless the flag names another. */
  readonly hostname: string;
  /** The port; `0` picks a free one. */
  readonly port: number;
  /** Refuse the kill action. */
  readonly readOnly: boolean;
}

/**
 * Parses the value of `--observer`: `PORT`, `HOST:PORT` or `[IPv6]:PORT`.
 * Throws a `RangeError` whose message says what is wrong.
 *
 * @example
 * ```ts
 * import { parseObserverAddress } from "./cli_flags.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseObserverAddress("4000"), { hostname: "127.0.0.1", port: 4000 });
 * assert.deepEqual(parseObserverAddress("0.0.0.0:0"), { hostname: "0.0.0.0", port: 0 });
 * assert.deepEqual(parseObserverAddress("[::1]:80"), { hostname: "::1", port: 80 });
 * assert.throws(() => parseObserverAddress("host:"), /--observer must be \[HOST:\]PORT/);
 * ```
 */
export function parseObserverAddress(value: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]:|([^:\[\]\s]+):)?(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new RangeError(`--observer must be [HOST:]PORT with PORT in 0..65535, got "${value}"`);
  }
  return { hostname: m[1] ?? m[2] ?? "127.0.0.1", port };
}

/** How the observer's line shows its address (IPv6 in brackets). */
export function observerLine(hostname: string, port: number): string {
  return `observer on http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}
