/**
 * Patterns for selective receive: a predicate function, or a value shaped like
 * the messages wanted. In a shape, {@linkcode _} matches anything, arrays match
 * element by element (same length), plain objects match when each of their own
 * keys matches the message's, and anything else matches by `Object.is`.
 *
 * @example
 * ```ts
 * import { _, matches } from "./pattern.ts";
 * console.assert(matches(["ok", _], ["ok", 42]));
 * console.assert(!matches({ type: "ping" }, { type: "pong" }));
 * ```
 *
 * @module
 */

/** The wildcard: matches any value. */
export const _: unique symbol = Symbol("_");

/** A predicate or a shape (see the module doc). */
export type Pattern =
  // deno-lint-ignore no-explicit-any
  | ((msg: any) => boolean)
  | object
  | string
  | number
  | boolean
  | symbol
  | bigint
  | null
  | undefined;

/**
 * True if `value` matches `pattern` (a predicate or a shape).
 *
 * @example
 * ```ts
 * import { matches } from "./pattern.ts";
 * console.assert(matches((m: unknown) => m === 1, 1));
 * ```
 */
export function matches(pattern: unknown, value: unknown): boolean {
  if (typeof pattern === "function") return Boolean((pattern as (m: unknown) => unknown)(value));
  return shapeMatches(pattern, value);
}

function shapeMatches(pattern: unknown, value: unknown): boolean {
  if (pattern === _) return true;
  if (Object.is(pattern, value)) return true;
  if (pattern === null || typeof pattern !== "object" || value === null || typeof value !== "object") return false;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return false;
    for (let i = 0; i < pattern.length; i++) if (!shapeMatches(pattern[i], value[i])) return false;
    return true;
  }
  if (Array.isArray(value)) return false;
  for (const key of Object.keys(pattern)) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) return false;
    if (!shapeMatches((pattern as Record<string, unknown>)[key], (value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** @ignore Compiles a pattern to a predicate (null matches everything). */
export function toMatcher(pattern: unknown): ((m: unknown) => boolean) | null {
  if (pattern === undefined || pattern === _) return null;
  if (typeof pattern === "function") return pattern as (m: unknown) => boolean;
  return (m) => shapeMatches(pattern, m);
}
