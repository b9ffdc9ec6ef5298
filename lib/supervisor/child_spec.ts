/**
 * Child specifications: how a supervisor starts, restarts and stops a child,
 * as Elixir's child spec maps.
 *
 * A child is written in one of three shapes, as in Elixir:
 *
 * - an explicit spec: `{ id, start: () => GenServer.startLink(...), restart, shutdown, type }`;
 * - a module-like value with a `childSpec(arg)` function (Elixir's `use GenServer`),
 *   written alone (`Registry`, arg `undefined`);
 * - or with its argument: `[Bucket, opts]` (Elixir's `{Bucket, opts}`).
 *
 * Defaults are OTP's: `restart: "permanent"`, `type: "worker"`, `shutdown: 5000`
 * for a worker and `Infinity` for a supervisor.
 *
 * @example
 * ```ts
 * import { Agent, Supervisor } from "../../mod.ts";
 * const Stack = Supervisor.childModule("Stack", (items: number[]) => Agent.startLink(() => items));
 * const spec = Supervisor.childSpec([Stack, [1, 2]], { restart: "transient" });
 * console.assert(spec.id === "Stack" && spec.restart === "transient" && spec.shutdown === 5000);
 * ```
 *
 * @module
 */
import { Pid } from "../process/pid.ts";

/** A child's identifier, unique among a supervisor's children. */
export type ChildId = string | number | symbol;

/**
 * When a terminated child is restarted: `permanent` always, `transient` only
 * after an abnormal exit (not `normal`, `shutdown` or `["shutdown", _]`),
 * `temporary` never (its spec is then forgotten).
 */
export type RestartType = "permanent" | "transient" | "temporary";

/**
 * How a child is stopped: a number of ms to wait after the `shutdown` exit
 * signal before sending `kill` (`Infinity`: wait forever), or `"brutal_kill"`
 * to kill at once.
 */
export type Shutdown = number | "brutal_kill";

/** A worker, or a supervisor (whose children tools may walk in turn). */
export type ChildType = "worker" | "supervisor";

/**
 * What a child's `start` returns: the pid of the started (and linked) child.
 * A start that rejects with a `StartError` whose reason is `"ignore"` leaves
 * the child not started but known, as OTP's `:ignore`.
 */
export type StartResult = Pid | Promise<Pid>;

/** A child specification, as Elixir's child spec map. */
export interface ChildSpec {
  /** Identifies the child among its supervisor's children. */
  id: ChildId;
  /**
   * Starts the child; runs inside the supervisor process, so `startLink`
   * functions link the child to its supervisor.
   */
  start: () => StartResult;
  /** When to restart it. Default `"permanent"`. */
  restart?: RestartType;
  /** How to stop it. Default 5000 for a worker, `Infinity` for a supervisor. */
  shutdown?: Shutdown;
  /** Default `"worker"`. */
  type?: ChildType;
  /** What implements the child, for introspection (Elixir's `modules`). */
  modules?: readonly unknown[];
}

/** A child spec with every field filled in. */
export interface FullChildSpec {
  readonly id: ChildId;
  readonly start: () => StartResult;
  readonly restart: RestartType;
  readonly shutdown: Shutdown;
  readonly type: ChildType;
  readonly modules: readonly unknown[];
}

/** A module-like value that knows its own child spec (Elixir's `child_spec/1`). */
export interface ChildModule<A = unknown> {
  /** Builds the spec for `arg` (`undefined` when the module is written alone). */
  childSpec(arg: A): ChildSpec;
}

/** Any way of writing a child: a spec, a module, or `[module, arg]`. */
export type Child = ChildSpec | ChildModule | readonly [ChildModule, unknown];

/** Fields that {@linkcode childModule} and {@linkcode childSpec} may set. */
export type ChildSpecOverrides = Partial<ChildSpec>;

const RESTARTS: readonly string[] = ["permanent", "transient", "temporary"];
const TYPES: readonly string[] = ["worker", "supervisor"];

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "symbol" || typeof v === "function") return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** @ignore Renders a child id for error messages. */
export function showId(id: ChildId): string {
  return show(id);
}

function invalid(what: string): TypeError {
  return new TypeError(`Invalid child spec: ${what}`);
}

function isModule(v: unknown): v is ChildModule {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as ChildModule).childSpec === "function";
}

function isSpec(v: unknown): v is ChildSpec {
  return v !== null && typeof v === "object" && typeof (v as ChildSpec).start === "function";
}

/**
 * Turns any child shape into a full spec, then applies `overrides`, as
 * Elixir's `Supervisor.child_spec/2`. Throws a `TypeError` naming the bad
 * field if the result is not a valid spec.
 *
 * @example
 * ```ts
 * import { GenServer, Supervisor } from "../../mod.ts";
 * const spec = Supervisor.childSpec({
 *   id: "worker",
 *   start: () => GenServer.startLink({ init: () => ["ok", 0] }, undefined),
 * }, { id: "other", shutdown: "brutal_kill" });
 * console.assert(spec.id === "other" && spec.restart === "permanent" && spec.type === "worker");
 * ```
 */
export function childSpec(child: Child, overrides?: ChildSpecOverrides): FullChildSpec {
  let spec: ChildSpec;
  let modules: readonly unknown[] = [];
  if (Array.isArray(child)) {
    if (child.length !== 2 || !isModule(child[0])) {
      throw invalid(`expected [module, arg] where module has a childSpec function, got ${show(child)}`);
    }
    spec = child[0].childSpec(child[1]);
    modules = [child[0]];
  } else if (isSpec(child)) {
    spec = child;
  } else if (isModule(child)) {
    spec = child.childSpec(undefined);
    modules = [child];
  } else {
    throw invalid(
      `expected a spec with a start function, a module with a childSpec function, or [module, arg], got ${show(child)}`,
    );
  }
  if (!isSpec(spec)) throw invalid(`childSpec returned ${show(spec)}, which has no start function`);
  const merged: ChildSpec = overrides === undefined ? spec : { ...spec, ...overrides };
  const id = merged.id;
  if (typeof id !== "string" && typeof id !== "number" && typeof id !== "symbol") {
    throw invalid(`"id" must be a string, number or symbol, got ${show(id)}`);
  }
  if (typeof merged.start !== "function") throw invalid(`"start" must be a function, got ${show(merged.start)}`);
  const restart = merged.restart ?? "permanent";
  if (!RESTARTS.includes(restart)) {
    throw invalid(`"restart" must be "permanent", "transient" or "temporary", got ${show(restart)}`);
  }
  const type = merged.type ?? "worker";
  if (!TYPES.includes(type)) throw invalid(`"type" must be "worker" or "supervisor", got ${show(type)}`);
  const shutdown = merged.shutdown ?? (type === "supervisor" ? Infinity : 5000);
  if (shutdown !== "brutal_kill" && !(typeof shutdown === "number" && shutdown >= 0)) {
    throw invalid(`"shutdown" must be a non-negative number of ms, Infinity or "brutal_kill", got ${show(shutdown)}`);
  }
  return {
    id,
    start: merged.start,
    restart,
    shutdown,
    type,
    modules: merged.modules ?? modules,
  };
}

/**
 * Makes a module-like value whose `childSpec(arg)` starts the child with
 * `startLink(arg)`: what `use GenServer` gives an Elixir module. Spread it
 * into your module object, then list the module as a child (`Bucket` or
 * `[Bucket, arg]`).
 *
 * @example
 * ```ts
 * import { GenServer, Supervisor } from "../../mod.ts";
 * const Counter = {
 *   ...Supervisor.childModule("Counter", (start: number) =>
 *     GenServer.startLink({ init: (n: number) => ["ok", n] }, start)),
 *   // ...the module's client functions
 * };
 * const spec = Supervisor.childSpec([Counter, 5]);
 * console.assert(spec.id === "Counter");
 * ```
 */
export function childModule<A = undefined>(
  id: ChildId,
  startLink: (arg: A) => StartResult,
  defaults?: Omit<ChildSpecOverrides, "start">,
): ChildModule<A> {
  return {
    childSpec(arg: A): ChildSpec {
      return { id, start: () => startLink(arg), ...defaults };
    },
  };
}

/** @ignore True if `v` is a pid (used to check what `start` returned). */
export function isPid(v: unknown): v is Pid {
  return v instanceof Pid;
}
