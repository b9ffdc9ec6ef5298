/**
 * Table records, the name registry, access checks and ownership: who owns a
 * table, what happens when the owner dies (heir transfer or deletion).
 *
 * Plain code (a script or test, not inside any process) acts as one more
 * pseudo-process, "the outside": `currentProc()` is null there, tables it
 * creates have a null owner and are never deleted automatically, and it is a
 * non-owner for tables that processes own.
 *
 * @module
 */
import { currentProc, deliver, lookup, type Proc } from "../process/_runtime.ts";
import type { Pid } from "../process/pid.ts";
import { ROOT } from "../process/_spawn.ts";
import type { Store } from "./_store.ts";
import { show } from "./_term.ts";
import { EtsError } from "./error.ts";

/** Table types, as Erlang names them. */
export type TableType = "set" | "ordered_set" | "bag" | "duplicate_bag";
/** Who may read and write a table. */
export type Access = "public" | "protected" | "private";

/** Access modes as numbers, so the hot-path check is one comparison. */
export const PUBLIC = 0;
export const PROTECTED = 1;
export const PRIVATE = 2;
const ACCESS_NAMES: readonly Access[] = ["public", "protected", "private"];

let nextId = 1;

/**
 * A table id, as returned by `Ets.new`: pass it (or, for a named table, its
 * name) to every operation. It stays a valid value after the table is deleted,
 * but operations on it then fail with `no_table`. `O` is the type of the
 * objects (arrays) it holds, a compile-time hint only.
 */
export class Table<O extends readonly unknown[] = readonly unknown[]> {
  /** Phantom field carrying the object type; never set at run time. */
  declare readonly __object?: O;
  /** A number unique to this table for the life of the runtime. */
  readonly id: number;
  /** @ignore */ name: string;
  /** @ignore */ readonly named: boolean;
  /** @ignore */ readonly type: TableType;
  /** @ignore 0-based index of the key in each object. */
  readonly keyIdx: number;
  /** @ignore */ readonly access: number;
  /** @ignore null: the outside. */
  owner: Proc | null;
  /** @ignore */ heir: Pid | null = null;
  /** @ignore */ heirData: unknown = undefined;
  /** @ignore */ readonly store: Store;
  /** @ignore */ deleted = false;
  /** @ignore */ readonly readConcurrency: boolean;
  /** @ignore */ readonly writeConcurrency: boolean;

  /** @ignore */
  constructor(
    name: string,
    named: boolean,
    type: TableType,
    keyIdx: number,
    access: number,
    owner: Proc | null,
    store: Store,
    readConcurrency: boolean,
    writeConcurrency: boolean,
  ) {
    this.id = nextId++;
    this.name = name;
    this.named = named;
    this.type = type;
    this.keyIdx = keyIdx;
    this.access = access;
    this.owner = owner;
    this.store = store;
    this.readConcurrency = readConcurrency;
    this.writeConcurrency = writeConcurrency;
  }

  /** Erlang-style rendering: `#Ets<name.ID>`. */
  toString(): string {
    return `#Ets<${this.name}.${this.id}>`;
  }
  /** Lets `console.log` print the short form. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
  /** JSON form, for introspection APIs. */
  toJSON(): string {
    return this.toString();
  }
}

/** The access mode's name. */
export function accessName(t: Table): Access {
  return ACCESS_NAMES[t.access];
}

/** Named tables by name. A `Map`, so any string (even `__proto__`) is a plain name. */
export const named = new Map<string, Table>();
/** Every live table. */
export const all = new Set<Table>();

function noTable(t: Table | string): EtsError {
  return typeof t === "string"
    ? new EtsError("no_table", `No table is named ${show(t)}`)
    : new EtsError("no_table", `Table ${show(t.name)} (${t}) does not exist: it was deleted or its owner died`);
}

/** Resolves a table id or name to a live table; throws `no_table` otherwise. */
export function resolve(t: Table | string): Table {
  if (typeof t === "string") {
    const x = named.get(t);
    if (x === undefined) throw noTable(t);
    return x;
  }
  if (!(t instanceof Table)) throw new EtsError("badarg", `Not a table: ${show(t)}`);
  if (t.deleted) throw noTable(t);
  return t;
}

function who(p: Proc | null): string {
  return p === null ? "plain code (no process)" : `process ${p.pid}`;
}

function denied(t: Table, what: string, caller: Proc | null): EtsError {
  return new EtsError(
    "access",
    `Cannot ${what} ${accessName(t)} table ${show(t.name)} from ${who(caller)}: it is owned by ${who(t.owner)}`,
  );
}

/** Resolves for reading: a private table only answers its owner. */
export function readable(t: Table | string): Table {
  const x = resolve(t);
  if (x.access === PRIVATE) {
    const caller = currentProc();
    if (caller !== x.owner) throw denied(x, "read", caller);
  }
  return x;
}

/** Resolves for writing: only a public table takes writes from non-owners. */
export function writable(t: Table | string): Table {
  const x = resolve(t);
  const caller = currentProc();
  if (x.access !== PUBLIC) {
    if (caller !== x.owner) throw denied(x, "write to", caller);
  } else if (caller !== null && !caller.alive) {
    // Code a dead process left running (see Process's module doc) changes nothing.
    throw new EtsError("access", `Cannot write to table ${show(x.name)} from process ${caller.pid}: it is not alive`);
  }
  return x;
}

/** Resolves for an owner-only operation (`giveAway`, `setopts`). */
export function owned(t: Table | string, what: string): Table {
  const x = resolve(t);
  const caller = currentProc();
  if (caller !== x.owner) {
    throw new EtsError(
      "access",
      `Cannot ${what} table ${show(x.name)} from ${who(caller)}: only its owner, ${who(x.owner)}, can`,
    );
  }
  return x;
}

// ---------------------------------------------------------------- ownership

/** Tables each process owns; one exit hook per process handles them all. */
const byOwner = new WeakMap<Proc, Set<Table>>();

/** Makes `p` (null: the outside) the owner of `t`. */
export function adopt(t: Table, p: Proc | null): void {
  const old = t.owner;
  if (old !== null) byOwner.get(old)?.delete(t);
  t.owner = p;
  if (p === null) return;
  let set = byOwner.get(p);
  if (set === undefined) {
    set = new Set();
    byOwner.set(p, set);
    (p.exitHooks ??= []).push(() => ownerDied(p));
  }
  set.add(t);
}

/** Registers a new table (its name, if named, must be free). */
export function register(t: Table): void {
  if (t.named) {
    if (named.has(t.name)) throw new EtsError("name_taken", `A table named ${show(t.name)} already exists`);
    named.set(t.name, t);
  }
  all.add(t);
  adopt(t, t.owner);
}

/** Deletes a table: frees its objects, its name and its owner's record. */
export function destroy(t: Table): void {
  if (t.deleted) return;
  t.deleted = true;
  t.store.clear();
  if (t.named && named.get(t.name) === t) named.delete(t.name);
  all.delete(t);
  if (t.owner !== null) byOwner.get(t.owner)?.delete(t);
}

/** Renames a table (and moves its registration if it is named). */
export function renameTable(t: Table, name: string): void {
  if (t.named && name !== t.name) {
    if (named.has(name)) throw new EtsError("name_taken", `A table named ${show(name)} already exists`);
    named.delete(t.name);
    named.set(name, t);
  }
  t.name = name;
}

/** The `ETS-TRANSFER` message an heir or a `giveAway` target receives. */
export type TransferMessage<O extends readonly unknown[] = readonly unknown[]> = [
  "ETS-TRANSFER",
  Table<O>,
  Pid,
  unknown,
];

/** Hands `t` to `to` and tells it, as `giveAway` and heirs do. */
export function transfer(t: Table, to: Proc, from: Proc | null, data: unknown): void {
  adopt(t, to);
  const msg: TransferMessage = ["ETS-TRANSFER", t, from === null ? ROOT : from.pid, data];
  deliver(to, msg);
}

/** Runs when an owner dies: each table goes to its heir, or is deleted. */
function ownerDied(p: Proc): void {
  const set = byOwner.get(p);
  if (set === undefined) return;
  byOwner.delete(p);
  for (const t of set) {
    if (t.owner !== p || t.deleted) continue;
    const heir = t.heir === null ? null : lookup(t.heir);
    if (heir !== null && heir !== p && heir.alive) transfer(t, heir, p, t.heirData);
    else destroy(t);
  }
}
