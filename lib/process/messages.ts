/**
 * The messages the runtime itself puts in mailboxes.
 *
 * @module
 */
import type { Pid, Ref } from "./pid.ts";

/**
 * `{'EXIT', from, reason}`: an exit signal turned into a message, received by a
 * process that traps exits.
 */
export class ExitMessage {
  /** The process the signal came from (itself for `exit(self(), r)`). */
  readonly from: Pid;
  /** The exit reason carried by the signal. */
  readonly reason: unknown;
  /** @ignore */
  constructor(from: Pid, reason: unknown) {
    this.from = from;
    this.reason = reason;
  }
}

/** `{'DOWN', ref, process, pid, reason}`: a monitored process has died. */
export class DownMessage {
  /** The ref returned by `monitor`. */
  readonly ref: Ref;
  /**
   * The process that died (the dead pid itself when it was monitored dead).
   * A monitor made with a name nobody held has no pid: `<0.0.0>`, see `name`.
   */
  readonly pid: Pid;
  /** Why it died; `"noproc"` when it was already dead when monitored. */
  readonly reason: unknown;
  /**
   * The registered name the monitor was made with, if it was: OTP reports
   * `{Name, Node}` in place of the pid then.
   */
  readonly name: string | undefined;
  /**
   * What the monitor was tagged with (`Process.monitor(pid, { tag })`, as
   * OTP's `{tag, Tag}` monitor option), or undefined.
   */
  readonly tag: unknown;
  /** @ignore */
  constructor(ref: Ref, pid: Pid, reason: unknown, name?: string, tag?: unknown) {
    this.ref = ref;
    this.pid = pid;
    this.reason = reason;
    this.name = name;
    this.tag = tag;
  }
}

/**
 * True if `msg` is an {@linkcode ExitMessage}.
 *
 * @example
 * ```ts
 * import { isExitMessage } from "./messages.ts";
 * console.assert(!isExitMessage({ from: 1 }));
 * ```
 */
export function isExitMessage(msg: unknown): msg is ExitMessage {
  return msg instanceof ExitMessage;
}

/**
 * True if `msg` is a {@linkcode DownMessage}.
 *
 * @example
 * ```ts
 * import { isDownMessage } from "./messages.ts";
 * console.assert(!isDownMessage("DOWN"));
 * ```
 */
export function isDownMessage(msg: unknown): msg is DownMessage {
  return msg instanceof DownMessage;
}
