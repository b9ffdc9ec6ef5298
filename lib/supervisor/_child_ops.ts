/**
 * What every supervisor does to one child: start it (inside the supervisor
 * process) and stop it with OTP's shutdown protocol. Private.
 *
 * @module
 */
import type { Pid } from "../process/pid.ts";
import { schedule, type Timer } from "../process/_timers.ts";
import {
  addMonitor,
  deliver,
  exitSignal,
  findMatch,
  linkProcs,
  lookup,
  type Proc,
  takeAt,
  unlinkProcs,
} from "../process/_runtime.ts";
import { nextRefId } from "../process/pid.ts";
import { ExitMessage } from "../process/messages.ts";
import { StartError } from "../gen_server.ts";
import { type FullChildSpec, isPid, type Shutdown } from "./child_spec.ts";

/** The outcome of starting a child: its pid (`undefined`: it returned ignore), or why it failed. */
export type StartOutcome = readonly ["ok", Pid | undefined] | readonly ["error", unknown];

/**
 * Runs `spec.start()` in the supervisor `self` and makes sure the child is
 * linked to it. A start that rejects with `StartError` gives its reason
 * (`"ignore"` becomes `["ok", undefined]`); any other throw gives
 * `["error", thrown]`; a value that is not a pid gives
 * `["bad_return_value", value]`.
 */
export async function startChildProc(self: Proc, spec: FullChildSpec): Promise<StartOutcome> {
  let r: unknown;
  try {
    r = await spec.start();
  } catch (e) {
    if (e instanceof StartError) return e.reason === "ignore" ? ["ok", undefined] : ["error", e.reason];
    return ["error", ["error", e]];
  }
  if (!isPid(r)) return ["error", ["bad_return_value", r]];
  const p = lookup(r);
  if (p !== null && p.alive) {
    linkProcs(self, p); // a no-op when start linked it already
  } else if (queuedExit(self, r) < 0) {
    // Died before we could link, and was not linked: tell ourselves, as a link would have.
    deliver(self, new ExitMessage(r, "noproc"));
  }
  return ["ok", r];
}

/** Index of a queued ExitMessage from `pid` in `self`'s mailbox, or -1. */
function queuedExit(self: Proc, pid: Pid): number {
  return findMatch(self, (m) => m instanceof ExitMessage && m.from === pid, self.mqHead);
}

/**
 * Stops a child as OTP's `shutdown/2`: unlinks it (dropping an exit message
 * it already sent), monitors it, then sends `kill` for `"brutal_kill"`, or
 * `shutdown` followed by `kill` after `shutdown` ms. Resolves with the
 * reason the child exited with.
 */
export function shutdownChild(self: Proc, pid: Pid, shutdown: Shutdown): Promise<unknown> {
  const p = lookup(pid);
  if (p !== null) unlinkProcs(self, p);
  const i = queuedExit(self, pid);
  const early = i >= 0 ? (takeAt(self, i) as ExitMessage).reason : undefined;
  if (p === null || !p.alive) return Promise.resolve(early ?? "noproc");
  return new Promise((resolve) => {
    let timer: Timer | null = null;
    addMonitor(p, nextRefId(), {
      down(_target: Proc, reason: unknown) {
        if (timer !== null) timer.cancel();
        if (self.alive) resolve(reason); // a dead supervisor's code must not resume
      },
    });
    if (shutdown === "brutal_kill") {
      exitSignal(p, self, self.pid, "kill", false);
    } else {
      exitSignal(p, self, self.pid, "shutdown", false);
      if (shutdown !== Infinity && p.alive) {
        timer = schedule(shutdown, () => {
          timer = null;
          if (self.alive) exitSignal(p, self, self.pid, "kill", false);
        });
      }
    }
  });
}
