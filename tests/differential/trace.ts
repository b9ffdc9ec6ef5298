/**
 * The TypeScript side of the differential suite's traces: the same canonical
 * text as `beam/difftrace.erl` prints, with pids and refs renamed P1, P2, ...
 * and R1, R2, ... in order of first appearance.
 *
 * Mapping of values (the library's conventions for Erlang terms): a string is
 * an atom, an array is a tuple, {@linkcode list} marks a list, `null` is `nil`,
 * an object is a map, an `ExitMessage`/`DownMessage` is the Erlang tuple (a
 * DOWN of a monitor by name names `{Name,nonode@nohost}`), and
 * `["error", Error]` (a throw) is `{crash,Message}` as the BEAM's
 * `{Reason, Stacktrace}` is.
 */
import { DownMessage, Ets, ExitMessage, Pid, Ref } from "../../mod.ts";

/** Marks an array to print as an Erlang list (`[a,b]`) rather than a tuple. */
export class List {
  constructor(readonly items: readonly unknown[]) {}
}

/** Wraps `items` to print as a list. */
export function list(items: readonly unknown[]): List {
  return new List(items);
}

/** One scenario's trace: events formatted as they are recorded. */
export class Trace {
  readonly lines: string[] = [];
  #pids = new Map<number, string>();
  #refs = new Map<object, string>();

  /** Records one event. */
  ev(term: unknown): void {
    this.lines.push(this.fmt(term));
  }

  /** The canonical text of `t`. */
  fmt(t: unknown): string {
    if (typeof t === "string") return t;
    if (typeof t === "number") return Number.isInteger(t) ? String(t) : String(t);
    if (typeof t === "bigint") return String(t);
    if (typeof t === "boolean") return String(t);
    if (t === undefined) return "undefined";
    if (t === null) return "nil";
    if (typeof t === "symbol") return t.description ?? "?";
    if (t instanceof Pid) return this.#name(this.#pids, "P", t.id);
    // A ref is unique by identity; an unnamed table id is a ref on the BEAM, a named one its name.
    if (t instanceof Ref) return this.#name(this.#refs, "R", t);
    if (t instanceof Ets.Table) return t.named ? this.fmt(Ets.info(t)?.name ?? "?") : this.#name(this.#refs, "R", t);
    if (t instanceof List) return `[${t.items.map((x) => this.fmt(x)).join(",")}]`;
    if (t instanceof ExitMessage) return this.fmt(["EXIT", t.from, t.reason]);
    // A DOWN for a monitor made by name names {Name, Node}; this runtime is one node, OTP's nonode@nohost.
    if (t instanceof DownMessage) {
      return this.fmt(["DOWN", t.ref, "process", t.name === undefined ? t.pid : [t.name, "nonode@nohost"], t.reason]);
    }
    if (t instanceof Error) return `{crash,${t.message}}`;
    if (Array.isArray(t)) {
      if (t.length === 2 && t[0] === "error" && t[1] instanceof Error) return this.fmt(t[1]);
      return `{${t.map((x) => this.fmt(x)).join(",")}}`;
    }
    if (typeof t === "function") return "fun";
    if (typeof t === "object") {
      const keys = Object.keys(t).sort();
      return `#{${keys.map((k) => `${k}=>${this.fmt((t as Record<string, unknown>)[k])}`).join(",")}}`;
    }
    return "?";
  }

  #name<K>(map: Map<K, string>, prefix: string, id: K): string {
    let n = map.get(id);
    if (n === undefined) {
      n = `${prefix}${map.size + 1}`;
      map.set(id, n);
    }
    return n;
  }
}
