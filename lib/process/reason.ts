/**
 * Exit reasons, as in Erlang. A reason is any value; a few are special:
 *
 * - `"normal"`: a clean exit. Linked processes that do not trap exits ignore it.
 * - `"shutdown"` and `["shutdown", detail]`: an orderly stop asked for by a
 *   supervisor or the application; not a crash, not restarted when `transient`.
 * - `"kill"`: sent with {@linkcode exit}, it cannot be trapped and the target
 *   dies with reason `"killed"`.
 * - `["error", thrown]`: a callback or body threw `thrown`.
 * - `"noproc"`: the process did not exist (monitors, calls).
 *
 * @module
 */

/** Any exit reason. The named members are the ones the runtime gives meaning. */
export type ExitReason =
  | "normal"
  | "shutdown"
  | "kill"
  | "killed"
  | "noproc"
  | readonly ["shutdown", unknown]
  | readonly ["error", unknown]
  // deno-lint-ignore ban-types
  | (string & {})
  | unknown;

/**
 * True for `"normal"`, `"shutdown"` and `["shutdown", _]`: the reasons that are
 * not crashes (no crash log, no restart of a `transient` child).
 *
 * @example
 * ```ts
 * import { isNormalExit } from "./reason.ts";
 * console.assert(isNormalExit("normal") && isNormalExit(["shutdown", "bye"]));
 * console.assert(!isNormalExit("killed"));
 * ```
 */
export function isNormalExit(reason: unknown): boolean {
  return reason === "normal" || reason === "shutdown" ||
    (Array.isArray(reason) && reason.length === 2 && reason[0] === "shutdown");
}

/**
 * Builds the `["error", thrown]` reason a process dies with when its code throws.
 *
 * @example
 * ```ts
 * import { errorReason } from "./reason.ts";
 * const r = errorReason(new Error("boom"));
 * console.assert(r[0] === "error");
 * ```
 */
export function errorReason(thrown: unknown): readonly ["error", unknown] {
  return ["error", thrown];
}

/**
 * Renders a reason for error messages and logs.
 *
 * @example
 * ```ts
 * import { formatReason } from "./reason.ts";
 * console.assert(formatReason(["shutdown", "x"]) === '["shutdown","x"]');
 * ```
 */
export function formatReason(reason: unknown): string {
  if (typeof reason === "string") return reason;
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  if (Array.isArray(reason)) return `[${reason.map(formatInner).join(",")}]`;
  return formatInner(reason);
}

function formatInner(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (Array.isArray(v)) return `[${v.map(formatInner).join(",")}]`;
  if (
    v !== null && typeof v === "object" && typeof (v as { toString(): string }).toString === "function" &&
    (v as object).toString !== Object.prototype.toString
  ) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
