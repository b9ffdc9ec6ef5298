/**
 * {@linkcode RemotePid}: the pid of a process on another node. It is a
 * {@linkcode Pid}, so it goes wherever a pid goes (`Process.send`, `link`,
 * `monitor`, `exit`, `GenServer.call`/`cast`); the distribution layer
 * (`_remote.ts`) carries those operations over the connection to its node.
 *
 * Decoding the same pid twice gives the same object (pids are interned while
 * anything holds them), so remote pids compare with `===` like local ones.
 *
 * @module
 */
import { Pid } from "../process/pid.ts";

/**
 * A process on another node: its node's name, its number and serial there,
 * and the node's creation (which incarnation of the node made it).
 *
 * @example
 * ```ts
 * import { RemotePid } from "./remote_pid.ts";
 * const a = RemotePid.of("foo@localhost", 42, 0, 7);
 * console.assert(a === RemotePid.of("foo@localhost", 42, 0, 7));
 * console.assert(String(a) === "<foo@localhost.42.0>");
 * ```
 */
export class RemotePid extends Pid {
  /** The node the process lives on. */
  readonly node: string;
  /** Its serial on that node (Erlang's second pid number). */
  readonly serial: number;
  /** The creation of the node incarnation that made it. */
  readonly creation: number;
  /** @ignore Use {@linkcode RemotePid.of}. */
  constructor(node: string, id: number, serial: number, creation: number) {
    super(id, null);
    this.node = node;
    this.serial = serial;
    this.creation = creation;
  }
  /** Erlang-style rendering with the node's name, `<node.ID.Serial>`. */
  override toString(): string {
    return `<${this.node}.${this.id}.${this.serial}>`;
  }
  /**
   * The one `RemotePid` for these numbers (made on first use).
   *
   * @example
   * ```ts
   * import { RemotePid } from "./remote_pid.ts";
   * console.assert(RemotePid.of("a@h", 1, 0, 1) !== RemotePid.of("a@h", 1, 0, 2));
   * ```
   */
  static of(node: string, id: number, serial: number, creation: number): RemotePid {
    // The pids of the last few messages (a caller calling again): no key to build.
    const slot = (id ^ (serial << 7) ^ creation) & (RECENT_SIZE - 1);
    const last = recent[slot];
    if (
      last !== undefined && last.id === id && last.serial === serial && last.creation === creation && last.node === node
    ) return last;
    const key = `${node}\0${id}.${serial}.${creation}`;
    let pid = interned.get(key)?.deref();
    if (pid === undefined) {
      pid = new RemotePid(node, id, serial, creation);
      interned.set(key, new WeakRef(pid));
      forget.register(pid, key);
    }
    recent[slot] = pid;
    return pid;
  }
}

const RECENT_SIZE = 64;
const recent: (RemotePid | undefined)[] = new Array(RECENT_SIZE).fill(undefined);

const interned = new Map<string, WeakRef<RemotePid>>();
const forget = new FinalizationRegistry<string>((key) => {
  if (interned.get(key)?.deref() === undefined) interned.delete(key);
});
