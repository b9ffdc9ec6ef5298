/**
 * Restart intensity: at most `maxRestarts` restarts within any `maxSeconds`
 * window, as OTP's supervisors count them. Private.
 *
 * @module
 */

/** Counts restarts in a sliding window. */
export class RestartIntensity {
  readonly maxRestarts: number;
  readonly periodMs: number;
  private times: number[] = [];
  private head = 0;
  constructor(maxRestarts: number, maxSeconds: number) {
    this.maxRestarts = maxRestarts;
    this.periodMs = maxSeconds * 1000;
  }

  /**
   * Records a restart at `now` (ms) and returns false if that makes more than
   * `maxRestarts` restarts within the period (OTP's `add_restart` then
   * `can_restart`).
   *
   * @example
   * ```ts
   * import { RestartIntensity } from "./_restart_intensity.ts";
   * const i = new RestartIntensity(1, 5);
   * console.assert(i.add(0) && !i.add(1000) && i.add(10_000));
   * ```
   */
  add(now: number): boolean {
    const threshold = now - this.periodMs;
    const times = this.times;
    while (this.head < times.length && times[this.head] < threshold) this.head++;
    if (this.head > 64 && this.head * 2 > times.length) {
      this.times = times.slice(this.head);
      this.head = 0;
    }
    this.times.push(now);
    return this.times.length - this.head <= this.maxRestarts;
  }

  /** Restarts counted in the current window (introspection, tests). */
  get count(): number {
    return this.times.length - this.head;
  }
}

/** @ignore Validates intensity options; throws a `TypeError` naming the bad one. */
export function checkIntensity(maxRestarts: unknown, maxSeconds: unknown): void {
  if (typeof maxRestarts !== "number" || !(maxRestarts >= 0)) {
    throw new TypeError(`"maxRestarts" must be a non-negative number, got ${String(maxRestarts)}`);
  }
  if (typeof maxSeconds !== "number" || !(maxSeconds > 0)) {
    throw new TypeError(`"maxSeconds" must be a positive number, got ${String(maxSeconds)}`);
  }
}

/** @ignore The report's words for a supervisor that gives up. */
export function shutdownAction(intensity: RestartIntensity): string {
  return `more than ${intensity.maxRestarts} restarts in ${intensity.periodMs / 1000} s: shutting down`;
}
