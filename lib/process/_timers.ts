/**
 * A timer service tuned for many short-lived timeouts (every `GenServer.call`
 * has one). Timers of the same duration expire in the order they were made,
 * so each distinct duration keeps a FIFO lane with at most one host timer.
 * Cancelling is O(1): the entry is marked and skipped later; a lane compacts
 * itself when dead entries dominate. When nothing live is left after a burst
 * of work its host timer is unref'd, so an idle program can exit, and kept, so
 * the next burst reuses it; it is dropped when it fires with nothing live.
 *
 * @module
 */

// node:timers' timers: they have `ref`/`unref` on every runtime (Deno's global `setTimeout` gives a number).
import { clearTimeout, setImmediate, setTimeout } from "node:timers";

/**
 * A scheduled action. Subclasses override `fire` (a call's `From` is one, so a
 * call costs no separate timer object).
 */
export class Timer {
  /** When it is due, in `performance.now()` milliseconds. */
  deadline = 0;
  /** @ignore The lane it waits in; null once fired or cancelled. */
  lane: Lane | null = null;
  /** Runs when due. */
  fire(): void {}
  /** Stops the timer; returns false if it already fired or was cancelled. */
  cancel(): boolean {
    const lane = this.lane;
    if (lane === null) return false;
    this.lane = null;
    // The newest entry (a call answered before the next one starts, nested
    // calls answered innermost first) leaves the lane at once: a cancelled
    // entry left for the next compaction keeps what it references (a call's
    // request, its promise) alive long enough to outlive young collections,
    // and the holes it leaves in old blocks are never given back.
    const entries = lane.entries;
    let last = entries.length - 1;
    while (last >= lane.head && entries[last].lane !== lane) entries.length = last--;
    if (--lane.live === 0) lane.idleSoon();
    return true;
  }
}

/** A timer that runs a callback. */
class CallbackTimer extends Timer {
  readonly callback: () => void;
  constructor(callback: () => void) {
    super();
    this.callback = callback;
  }
  override fire(): void {
    this.callback();
  }
}

const lanes = new Map<number, Lane>();

/** @ignore One FIFO of timers sharing a duration. */
export class Lane {
  readonly ms: number;
  entries: Timer[] = [];
  head = 0;
  live = 0;
  compactAt = 1024;
  handle: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The host timer is unref'd: nothing live waits on it. */
  idle = false;
  idleCheck = false;
  constructor(ms: number) {
    this.ms = ms;
  }
  /**
   * Nothing live is left: on the next macrotask turn, once the current burst
   * of work is over (not at once: back-to-back calls each add and cancel one
   * timer), let go of the entries and unref the host timer, so an idle
   * program can exit. The timer stays armed rather than cleared, so the next
   * burst reuses it instead of arming a new one; it is dropped when it fires
   * with nothing live.
   */
  idleSoon(): void {
    if (this.idleCheck) return;
    this.idleCheck = true;
    setImmediate(this.checkIdle);
  }
  checkIdle = (): void => {
    this.idleCheck = false;
    if (this.live !== 0 || this.idle) return;
    this.dropEntries();
    if (this.handle === undefined) return;
    this.idle = true;
    this.handle.unref();
  };
  add(t: Timer): void {
    t.deadline = performance.now() + this.ms;
    t.lane = this;
    this.live++;
    const entries = this.entries;
    entries.push(t);
    if (entries.length >= this.compactAt) this.compact();
    if (this.handle === undefined) this.arm(this.ms);
    else if (this.idle) {
      this.idle = false;
      this.handle.ref();
    }
  }
  /** Drops cancelled entries; amortised O(1) per add. */
  compact(): void {
    const kept: Timer[] = [];
    const entries = this.entries;
    for (let i = this.head; i < entries.length; i++) if (entries[i].lane === this) kept.push(entries[i]);
    this.entries = kept;
    this.head = 0;
    this.compactAt = Math.max(1024, kept.length * 2);
  }
  arm(delay: number): void {
    this.idle = false;
    this.handle = setTimeout(this.onTimeout, delay < 0 ? 0 : delay);
  }
  reset(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.idle = false;
    this.dropEntries();
    this.live = 0;
    if (lanes.get(this.ms) === this) lanes.delete(this.ms);
  }
  /** Lets go of every entry (none is live, or the lane is being reset). */
  private dropEntries(): void {
    this.entries = [];
    this.head = 0;
    this.compactAt = 1024;
  }
  onTimeout = (): void => {
    this.handle = undefined;
    this.idle = false;
    const t0 = performance.now();
    const entries = this.entries;
    while (this.head < entries.length) {
      const t = entries[this.head];
      if (t.lane !== this) {
        this.head++;
        continue;
      }
      // Host timers may fire a little early; allow 1 ms of slack.
      if (t.deadline > t0 + 1) break;
      this.head++;
      t.lane = null;
      this.live--;
      try {
        t.fire();
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    if (this.live === 0) {
      this.reset();
      return;
    }
    if (this.entries !== entries) return; // a callback compacted or reset the lane
    if (this.head > 1024 && this.head * 2 > entries.length) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    }
    if (this.handle === undefined) {
      let i = this.head;
      while (this.entries[i].lane !== this) i++;
      this.arm(this.entries[i].deadline - performance.now());
    }
  };
}

/** Puts `timer` in the lane for `ms` (rounded up to a whole ms). */
export function start(timer: Timer, ms: number): Timer {
  const key = ms <= 0 ? 0 : Math.ceil(ms);
  let lane = lanes.get(key);
  if (lane === undefined) {
    lane = new Lane(key);
    lanes.set(key, lane);
  }
  lane.add(timer);
  return timer;
}

/**
 * Runs `callback` after `ms` milliseconds unless the returned timer is cancelled.
 * `Infinity` is not allowed here.
 */
export function schedule(ms: number, callback: () => void): Timer {
  return start(new CallbackTimer(callback), ms);
}
