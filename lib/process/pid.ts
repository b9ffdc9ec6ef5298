/**
 * Process identifiers and references.
 *
 * A {@linkcode Pid} is an opaque handle to a process; it stays valid (and
 * comparable) after the process dies, as in Erlang. A {@linkcode Ref} is a
 * unique value used to tag monitors, calls and timers.
 *
 * @module
 */

/**
 * An opaque process identifier. `M` is the type of messages the process
 * accepts; it is a compile-time hint only.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * const pid = Process.spawn(async () => {});
 * console.log(String(pid)); // "<0.42.0>"-like
 * ```
 */
// deno-lint-ignore no-explicit-any
export class Pid<M = any> {
  /** Phantom field carrying the message type; never set at run time. */
  declare readonly __message?: M;
  /** A number unique to this process for the life of the runtime. */
  readonly id: number;
  /**
   * @ignore The live process behind this pid; null once it is dead, so a
   * kept pid does not keep the process's state alive.
   */
  _proc: unknown;
  /**
   * @ignore What `Process.setLabel` set. Kept on the pid, not the process,
   * so that a supervisor's report of the process's death can still name it.
   */
  _label: unknown = undefined;
  /** @ignore Messages its process has handled (see `Proc.handled`). */
  _handled = 0;
  /** @ignore */
  constructor(id: number, proc: unknown = null) {
    this.id = id;
    this._proc = proc;
  }
  /** Erlang-style rendering, `<0.ID.0>`. */
  toString(): string {
    return `<0.${this.id}.0>`;
  }
  /** Lets `console.log` and `util.inspect` print the Erlang form. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
  /** JSON form, for introspection APIs. */
  toJSON(): string {
    return this.toString();
  }
}

let nextRef = 1;

/**
 * A unique reference, as made by Erlang's `make_ref/0`: used by monitors,
 * calls and timers. Two refs are the same only if they are the same object.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * await Process.run(() => {
 *   const ref = Process.monitor(Process.self()); // a ref, even for a monitor that is not made
 *   console.assert(ref instanceof Process.Ref);
 * });
 * ```
 */
export class Ref {
  /** A number unique to this reference. */
  readonly id: number;
  /** @ignore */
  constructor(id: number) {
    this.id = id;
  }
  /** Erlang-style rendering, `#Ref<0.ID>`. */
  toString(): string {
    return `#Ref<0.${this.id}>`;
  }
  /** Lets `console.log` print the Erlang form. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
  /** JSON form, for introspection APIs. */
  toJSON(): string {
    return this.toString();
  }
}

/**
 * Makes a new unique reference.
 *
 * @example
 * ```ts
 * import { makeRef } from "./pid.ts";
 * const a = makeRef(), b = makeRef();
 * console.assert(a !== b && a.id !== b.id);
 * ```
 */
export function makeRef(): Ref {
  return new Ref(nextRef++);
}

/** @ignore Returns a fresh ref id without allocating a {@linkcode Ref}. */
export function nextRefId(): number {
  return nextRef++;
}
