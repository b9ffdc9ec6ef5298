/**
 * The error every ETS operation throws, with a machine-readable code (the
 * `badarg` Erlang would raise, made specific).
 *
 * @module
 */

/**
 * Why an ETS operation failed:
 *
 * - `no_table`: the table was deleted (or its owner died), or no named table has that name.
 * - `access`: the calling process may not do this (a write to a `protected` table
 *   from a non-owner, anything on a `private` table from a non-owner, `giveAway`
 *   or `setopts` from a non-owner).
 * - `name_taken`: a named table with this name already exists.
 * - `badarg`: anything else Erlang calls `badarg` (an unsupported key, an object
 *   that is not an array or is too short for the key position, a missing key for
 *   `lookupElement`, a counter that is not a number, an operation the table type
 *   does not support, a bad match specification).
 */
export type EtsErrorCode = "no_table" | "access" | "name_taken" | "badarg";

/**
 * Thrown by ETS operations; a failed operation changes nothing.
 *
 * @example
 * ```ts
 * import { Ets } from "../../mod.ts";
 * const t = Ets.new("doc_error");
 * Ets.delete(t);
 * try {
 *   Ets.lookup(t, "k");
 * } catch (e) {
 *   console.assert(e instanceof Ets.EtsError && e.code === "no_table");
 * }
 * ```
 */
export class EtsError extends Error {
  /** What went wrong, for programs. */
  readonly code: EtsErrorCode;
  /** Makes an error with a code and a std-style message. */
  constructor(code: EtsErrorCode, message: string) {
    super(message);
    this.name = "EtsError";
    this.code = code;
  }
}
