/**
 * The error a supervisor's client functions reject with when the supervisor
 * refuses a request (Elixir's `{:error, reason}` results other than start
 * failures, which reject with `GenServer.StartError`).
 *
 * @module
 */
import { formatReason } from "../process/reason.ts";

/**
 * A supervisor refused a request. `reason` is `"not_found"` (no such child),
 * `"running"` or `"restarting"` (the child must be stopped first), or
 * `"not_a_supervisor"`.
 *
 * @example
 * ```ts
 * import { Supervisor } from "../../mod.ts";
 * const sup = await Supervisor.startLink([], { strategy: "one_for_one" });
 * const err = await Supervisor.terminateChild(sup, "nope").catch((e) => e);
 * console.assert(err instanceof Supervisor.SupervisorError && err.reason === "not_found");
 * await Supervisor.stop(sup);
 * ```
 */
export class SupervisorError extends Error {
  /** Why the request was refused. */
  readonly reason: unknown;
  constructor(operation: string, reason: unknown) {
    super(`${operation} failed: ${formatReason(reason)}`);
    this.name = "SupervisorError";
    this.reason = reason;
  }
}
