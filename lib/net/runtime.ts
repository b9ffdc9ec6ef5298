/**
 * The one place that knows which JavaScript runtime runs the program.
 *
 * Everything else asks {@linkcode runtime} instead of probing globals, so the
 * core stays free of `Bun.` and `Deno.`.
 *
 * @module
 */

/** The runtimes the networking adapters support. */
export type Runtime = "bun" | "deno" | "node";

/**
 * Detects the current runtime from its globals.
 *
 * Bun is checked first: Bun also defines `process`, and Deno may too
 * (through its Node compatibility layer), so `process` proves nothing.
 *
 * @example Usage
 * ```ts
 * import { detectRuntime } from "./runtime.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(["bun", "deno", "node"].includes(detectRuntime()));
 * ```
 *
 * @returns The runtime's name.
 */
export function detectRuntime(): Runtime {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  if (typeof g.Bun !== "undefined") return "bun";
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  return "node";
}

/** The runtime this program runs on, detected once at load. */
export const runtime: Runtime = detectRuntime();
