/**
 * Supervisor reports: one log line per child that exits abnormally, saying
 * who (supervisor, child id or label, pid), why (the reason) and what the
 * supervisor did — as OTP's `supervisor_report`s, in one line. Private.
 *
 * @module
 */

import * as Logger from "../logger.ts";
import type { Pid } from "../process/pid.ts";
import { labelOfPid, type Proc } from "../process/_runtime.ts";
import { formatLabel } from "../process/process.ts";
import { formatReason, isNormalExit } from "../process/reason.ts";

/** Longest reason text in a report: a report is one line, not a dump. */
const MAX_REASON = 300;

/**
 * Logs (level `error`) that `pid`, a child of `sup`, exited with `reason`
 * and the supervisor then `action` (e.g. `restarted as <0.9.0>`). Normal
 * exits (`normal`, `shutdown`, `["shutdown", _]`) are not reported.
 *
 * @param sup The supervisor's process.
 * @param id The child's id, if it has one (dynamic children have none).
 * @param pid The child that exited.
 * @param reason Its exit reason.
 * @param action What the supervisor did.
 */
export function reportChildExit(
  sup: Proc,
  id: unknown,
  pid: Pid,
  reason: unknown,
  action: () => string,
): void {
  if (isNormalExit(reason) || !Logger.enabled("error")) return;
  Logger.error(() => {
    const label = labelOfPid(pid);
    const who = [id === undefined ? undefined : String(id), label === undefined ? undefined : formatLabel(label), pid]
      .filter((x) => x !== undefined).join(" ");
    return `supervisor ${sup.name ?? sup.pid}: child ${who} exited: ${oneLine(reason)}; ${action()}`;
  });
}

function oneLine(reason: unknown): string {
  let text = formatReason(reason).replace(/\s+/g, " ");
  if (text.length > MAX_REASON) text = `${text.slice(0, MAX_REASON)}...`;
  return text;
}
