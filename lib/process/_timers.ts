/**
 * A timer service tuned for many short-lived timeouts (every `GenServer.call`
 * has one). Timers of the same duration expire in the order they were made,
 * so each distinct duration keeps a FIFO and at most one host timer. Cancelled
 * entries are skipped lazily and compacted when they dominate.
 *
 * @module
 */

/** A scheduled callback; `cancel()` it to keep it from running. */
export class Timer {
  deadline: number;
  callback: (() => void) | null;
  lane: Lane;
  constructor(deadline: number, callback: () => void, lane: Lane) {
    this.deadline = deadline;
    this.callback = callback;
    this.lane = lane;
  }
  /** Stops the timer; returns false if it already fired or was cancelled. */
  cancel(): boolean {
    if (this.callback === null) return false;
    this.callback = null;
    this.lane.onCancel();
    return true;
  }
}

const lanes = new Map<number, Lane>();
const now: () => number = () => performance.now();

class Lane {
  readonly ms: number;
  entries: Timer[] = [];
  head = 0;
  cancelled = 0;
  handle: ReturnType<typeof setTimeout> | undefined = undefined;
  constructor(ms: number) {
    this.ms = ms;
  }
  add(callback: () => void): Timer {
    const t = new Timer(now() + this.ms, callback, this);
    this.entries.push(t);
    if (this.handle === undefined) this.arm(this.ms);
    return t;
  }
  arm(delay: number): void {
    this.handle = setTimeout(this.fire, delay < 0 ? 0 : delay);
  }
  onCancel(): void {
    this.cancelled++;
    const live = this.entries.length - this.head - this.cancelled;
    if (live === 0) {
      // Nothing left to wait for: release the host timer so idle programs can exit.
      this.reset();
    } else if (this.cancelled > 512 && this.cancelled > live) {
      this.entries = this.entries.slice(this.head).filter((t) => t.callback !== null);
      this.head = 0;
      this.cancelled = 0;
    }
  }
  reset(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.entries = [];
    this.head = 0;
    this.cancelled = 0;
    lanes.delete(this.ms);
  }
  fire = (): void => {
    this.handle = undefined;
    const t0 = now();
    const entries = this.entries;
    while (this.head < entries.length) {
      const t = entries[this.head];
      const cb = t.callback;
      if (cb === null) {
        this.head++;
        this.cancelled--;
        continue;
      }
      // Host timers may fire a little early; allow 1 ms of slack.
      if (t.deadline > t0 + 1) break;
      this.head++;
      t.callback = null;
      try {
        cb();
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    if (this.head >= entries.length) {
      if (this.entries === entries) this.reset();
      return;
    }
    if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
    if (this.handle === undefined) this.arm(this.entries[this.head].deadline - now());
  };
}

/**
 * Runs `callback` after `ms` milliseconds unless the returned timer is cancelled.
 * `ms` is rounded to a whole number; `Infinity` is not allowed here.
 */
export function schedule(ms: number, callback: () => void): Timer {
  const key = ms <= 0 ? 0 : Math.ceil(ms);
  let lane = lanes.get(key);
  if (lane === undefined) {
    lane = new Lane(key);
    lanes.set(key, lane);
  }
  return lane.add(callback);
}
