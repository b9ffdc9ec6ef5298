/**
 * A small logger, after Erlang's `logger` / Elixir's `Logger`: one line per
 * event, a level per line, one process-wide level below which lines are
 * dropped before they are formatted, and one handler that writes them.
 *
 * Levels, most severe first: `"error"`, `"warning"`, `"notice"`, `"info"`,
 * `"debug"`. The default level is `"notice"` (as OTP's): errors, warnings
 * and notices are written, `info` and `debug` are not. `"none"` drops
 * everything. The default handler writes `[level] message` to stderr.
 *
 * The library logs through it: supervisors write one line per child that
 * exits abnormally (who, why, what the supervisor did), as OTP's supervisor
 * reports. {@linkcode Throttle} rate-limits a kind of line that a client can
 * cause at will, and sums up what it dropped.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const previous = Logger.setHandler((level, message) => lines.push(`${level}: ${message}`));
 * Logger.error("disk full");
 * Logger.info(() => "not formatted: below the level");
 * assert.deepEqual(lines, ["error: disk full"]);
 * Logger.setHandler(previous);
 * ```
 *
 * @module
 */

/** A line's severity. */
export type Level = "error" | "warning" | "notice" | "info" | "debug";

/** The levels, most severe first. */
export const LEVELS: readonly Level[] = ["error", "warning", "notice", "info", "debug"];

/** The level in force until {@linkcode setLevel}: `"notice"`. */
export const DEFAULT_LEVEL: Level = "notice";

/** Writes one line. */
export type Handler = (level: Level, message: string) => void;

/** A message, or a function that makes it (called only when the line is written). */
export type Message = string | (() => string);

const RANK: Record<Level | "none", number> = { error: 0, warning: 1, notice: 2, info: 3, debug: 4, none: -1 };

let threshold = RANK[DEFAULT_LEVEL];
let current: Level | "none" = DEFAULT_LEVEL;

/** The default handler: `[level] message` on stderr. */
export const stderrHandler: Handler = (level, message): void => console.error(`[${level}] ${message}`);

let handler: Handler = stderrHandler;

/**
 * Sets the level: lines less severe than it are dropped. `"none"` drops all.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const before = Logger.level();
 * Logger.setLevel("debug");
 * assert.ok(Logger.enabled("debug"));
 * Logger.setLevel(before);
 * assert.throws(() => Logger.setLevel("loud" as Logger.Level), /level must be one of/);
 * ```
 *
 * @param level The new level.
 * @throws {RangeError} If `level` is not a level.
 */
export function setLevel(level: Level | "none"): void {
  if (!Object.hasOwn(RANK, level)) {
    throw new RangeError(`level must be one of ${[...LEVELS, "none"].join(", ")}, got "${level}"`);
  }
  current = level;
  threshold = RANK[level];
}

/**
 * The level in force.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * console.assert(Logger.LEVELS.includes(Logger.level() as Logger.Level) || Logger.level() === "none");
 * ```
 *
 * @returns The level.
 */
export function level(): Level | "none" {
  return current;
}

/**
 * Whether a line of `level` would be written.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * console.assert(typeof Logger.enabled("error") === "boolean");
 * ```
 *
 * @param level The level of the line.
 * @returns `true` if it passes the level in force.
 */
export function enabled(level: Level): boolean {
  return RANK[level] <= threshold;
}

/**
 * Replaces the handler (tests capture lines this way).
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * const previous = Logger.setHandler(() => {});
 * Logger.setHandler(previous);
 * ```
 *
 * @param next The new handler.
 * @returns The previous one, to put back.
 */
export function setHandler(next: Handler): Handler {
  const previous = handler;
  handler = next;
  return previous;
}

/**
 * Writes a line at `level` if the level in force lets it through. A failing
 * handler never throws into the caller.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const previous = Logger.setHandler((_level, message) => lines.push(message));
 * Logger.log("warning", "careful");
 * Logger.setHandler(previous);
 * assert.deepEqual(lines, ["careful"]);
 * ```
 *
 * @param level The line's level.
 * @param message The line, or a function that makes it.
 */
export function log(level: Level, message: Message): void {
  if (RANK[level] > threshold) return;
  try {
    handler(level, typeof message === "string" ? message : message());
  } catch {
    // Logging must not be a new way to fail.
  }
}

/**
 * `log("error", message)`.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * const previous = Logger.setHandler(() => {});
 * Logger.error("x");
 * Logger.setHandler(previous);
 * ```
 *
 * @param message The line.
 */
export function error(message: Message): void {
  log("error", message);
}

/**
 * `log("warning", message)`.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * const previous = Logger.setHandler(() => {});
 * Logger.warning("x");
 * Logger.setHandler(previous);
 * ```
 *
 * @param message The line.
 */
export function warning(message: Message): void {
  log("warning", message);
}

/**
 * `log("notice", message)`.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * const previous = Logger.setHandler(() => {});
 * Logger.notice("x");
 * Logger.setHandler(previous);
 * ```
 *
 * @param message The line.
 */
export function notice(message: Message): void {
  log("notice", message);
}

/**
 * `log("info", message)`.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * Logger.info("dropped at the default level");
 * ```
 *
 * @param message The line.
 */
export function info(message: Message): void {
  log("info", message);
}

/**
 * `log("debug", message)`.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * Logger.debug(() => "dropped at the default level, never formatted");
 * ```
 *
 * @param message The line.
 */
export function debug(message: Message): void {
  log("debug", message);
}

/** Options of a {@linkcode Throttle}. */
export interface ThrottleOptions {
  /** The level of its lines. */
  level: Level;
  /** Lines written per window; more are counted, not written. Default 10. */
  max?: number;
  /** The window, in ms. Default 1000. */
  windowMs?: number;
  /** Names what was dropped in the summary line. Default `"similar messages"`. */
  what?: string;
}

/**
 * A rate-limited kind of line: at most `max` lines per window; the rest are
 * counted, and one line `suppressed N similar messages` follows when the
 * window ends. For lines a client can cause at will (each request it sends
 * that fails), so that it cannot flood the log.
 *
 * @example
 * ```ts
 * import * as Logger from "./logger.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const previous = Logger.setHandler((_level, message) => lines.push(message));
 * const throttle = new Logger.Throttle({ level: "error", max: 2, windowMs: 10, what: "failed requests" });
 * for (let i = 0; i < 5; i++) throttle.log(`request ${i} failed`);
 * await new Promise<void>((resolve) => throttle.onSummary = resolve);
 * Logger.setHandler(previous);
 * assert.deepEqual(lines, ["request 0 failed", "request 1 failed", "suppressed 3 failed requests"]);
 * ```
 */
export class Throttle {
  readonly #level: Level;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #what: string;
  #windowStart = -Infinity;
  #written = 0;
  #suppressed = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Called after each summary line (tests wait on it). */
  onSummary: (() => void) | undefined;

  /**
   * Creates the throttle.
   *
   * @param options See {@linkcode ThrottleOptions}.
   */
  constructor(options: ThrottleOptions) {
    this.#level = options.level;
    this.#max = options.max ?? 10;
    this.#windowMs = options.windowMs ?? 1000;
    this.#what = options.what ?? "similar messages";
  }

  /**
   * Writes `message`, or counts it if this window's lines are spent.
   *
   * @param message The line, or a function that makes it (not called when dropped).
   */
  log(message: Message): void {
    if (!enabled(this.#level)) return;
    const now = performance.now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#max) {
      this.#written++;
      log(this.#level, message);
      return;
    }
    this.#suppressed++;
    if (this.#timer === undefined) {
      const timer = setTimeout(() => this.#summarize(), this.#windowStart + this.#windowMs - now);
      // A pending summary must not keep the program alive.
      (timer as { unref?: () => void }).unref?.();
      this.#timer = timer;
    }
  }

  #summarize(): void {
    this.#timer = undefined;
    const n = this.#suppressed;
    this.#suppressed = 0;
    if (n > 0) log(this.#level, `suppressed ${n} ${this.#what}`);
    this.onSummary?.();
  }
}
