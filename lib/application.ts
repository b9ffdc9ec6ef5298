/**
 * Applications: named units that start and stop a supervision tree, declare
 * the applications they depend on, and carry an environment of configuration
 * values — Elixir's `Application`.
 *
 * An application is a plain object ({@linkcode Spec}): `start(type, env)`
 * starts its top supervisor and returns its pid; `env` holds defaults that
 * `start(app, { env })` overrides; `dependencies` must be started first
 * (`ensureAllStarted` does that).
 *
 * **Who owns the tree.** Each running application has an *application
 * master*, a small process that calls `start` (so `Supervisor.startLink`
 * there links the top supervisor to the master, not to whoever called
 * `Application.start`), links to and monitors the top process, and stops it.
 * The application therefore outlives the code that started it: a test
 * process or script that starts an application and then dies leaves it
 * running; only {@linkcode stop} or the death of its top process ends it.
 *
 * **Stopping.** `stop(app)` runs `prepStop(env)`, sends the top process the
 * exit signal `shutdown` from the master (its parent, so a supervisor that
 * traps exits stops its children in reverse order), waits for its `DOWN`, then
 * runs `stop(env)`. The environment stays loaded after a stop (as in OTP);
 * {@linkcode unload} forgets it.
 *
 * **When the top process dies on its own**, the master runs `prepStop` and
 * `stop` and the application is no longer started. With `type: "permanent"`
 * (any reason) or `"transient"` (a reason other than `normal`, `shutdown` or
 * `["shutdown", _]`), every other started application is then stopped too,
 * newest first: OTP would stop the whole node; a library stops what it owns,
 * then calls the handler set with {@linkcode setNodeStopHandler} (a program
 * that is the node exits there).
 *
 * @example An application with a configurable port
 * ```ts
 * import { Application, GenServer } from "../mod.ts";
 * const app = Application.define({
 *   name: "doc_app",
 *   env: { port: 4040 },
 *   start: (_type, env) => GenServer.startLink({ init: () => ["ok", env.port] }, undefined),
 * });
 * await Application.start(app, { env: { port: 5050 } });
 * console.assert(Application.getEnv(app, "port") === 5050);
 * await Application.stop(app);
 * ```
 *
 * @module
 */
import { nextRefId, Pid } from "./process/pid.ts";
import { addMonitor, callerIsDead, lookup, never } from "./process/_runtime.ts";
import { spawnBody } from "./process/_spawn.ts";
import { formatReason, isNormalExit } from "./process/reason.ts";
import { DownMessage } from "./process/messages.ts";
import { exit, isAlive, link, monitor, type ProcessContext, send, TIMEOUT } from "./process/process.ts";

/** An application's environment: configuration values by key. */
export type Env = Record<string, unknown>;

/** How `start` is called; always `"normal"` here (OTP's takeover and failover need nodes). */
export type StartType = "normal";

/**
 * What happens when the application's top process exits on its own:
 * `"temporary"` (default) only reports it; `"transient"` stops every other
 * application unless the reason is normal; `"permanent"` always does.
 */
export type RestartType = "temporary" | "transient" | "permanent";

/** An application. `E` is the type of its environment. */
export interface Spec<E extends Env = Env> {
  /** Unique name. */
  readonly name: string;
  /** Shown by `startedApplications`. */
  readonly description?: string;
  /** Shown by `startedApplications`. */
  readonly version?: string;
  /**
   * Applications that must be running before this one starts, in start order:
   * specs, or names of applications already loaded.
   */
  readonly dependencies?: ReadonlyArray<Spec<any> | string>;
  /** Environment defaults. */
  readonly env?: E;
  /**
   * Starts the application's supervision tree and returns its top process
   * (usually a supervisor started with `startLink`). Runs in the application
   * master's process. A throw or rejection fails `Application.start`.
   */
  start(type: StartType, env: Readonly<E>): Pid | Promise<Pid>;
  /** Runs before the tree is stopped. */
  prepStop?(env: Readonly<E>): unknown;
  /** Runs after the tree has stopped (or died). */
  stop?(env: Readonly<E>): unknown;
}

/** Options for {@linkcode start} and {@linkcode ensureAllStarted}. */
export interface StartOptions<E extends Env = Env> {
  /** Values that override the environment (applied before `start` runs). */
  env?: Partial<E>;
  /** See {@linkcode RestartType}. Default `"temporary"`. */
  type?: RestartType;
}

/** Options for {@linkcode stop}. */
export interface StopOptions {
  /**
   * How long (ms) to wait for the top process after `shutdown` before killing
   * it. Default `Infinity`, as OTP gives a top supervisor.
   */
  timeout?: number;
}

/** One entry of {@linkcode startedApplications}. */
export interface ApplicationInfo {
  /** The application's name. */
  name: string;
  /** Its `description`. */
  description: string;
  /** Its `version`. */
  version: string;
  /** The top process. */
  pid: Pid;
  /** How its exit is treated (`temporary`, `transient`, `permanent`). */
  type: RestartType;
}

/**
 * An application operation failed. `reason` is one of:
 * `["already_started", name]`, `["not_started", name]` (a dependency of the
 * application being started, or the application being stopped),
 * `["running", name]` (`unload` of a running application),
 * `["not_loaded", name]` (a dependency named by a string nobody loaded),
 * `["circular_dependencies", names]`, `["bad_return", value]` (`start` did
 * not return a live pid), `["start_failed", reasonOrThrown]`.
 */
export class ApplicationError extends Error {
  /** Why it failed. */
  readonly reason: readonly [string, unknown];
  /** The application concerned. */
  readonly application: string;
  /**
   * Creates the error.
   *
   * @param application The application.
   * @param reason The reason tuple.
   * @param message The error message.
   */
  constructor(application: string, reason: readonly [string, unknown], message: string) {
    super(message);
    this.name = "ApplicationError";
    this.application = application;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------- registry

interface Running {
  readonly master: Pid;
  top: Pid | null;
  readonly type: RestartType;
  /** Settles when the start has finished (either way). */
  starting: Promise<void> | null;
  stopping: Promise<void> | null;
}

interface Loaded {
  readonly spec: Spec<any>;
  env: Env;
  running: Running | null;
  /**
   * Its top process died on its own and no `stop` or `start` came since. OTP's
   * application controller still counts such an application as running for a
   * while (until its master has reported), so a `stop` right after the top
   * process's DOWN returns ok there; here the master reports at once.
   */
  exitedAlone?: boolean;
}

const loaded = new Map<string, Loaded>();
/** Started applications' names, oldest first. */
const order: string[] = [];

function nameOf(app: Spec<any> | string): string {
  return typeof app === "string" ? app : app.name;
}

function q(name: string): string {
  return JSON.stringify(name);
}

/** Asks the master to stop the tree; `done` settles when it has. */
class StopRequest {
  constructor(readonly timeout: number, readonly done: () => void) {}
}

/**
 * Identity helper that lets TypeScript infer an application's environment
 * type from its `env` defaults.
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * const app = Application.define({
 *   name: "doc_define",
 *   env: { greeting: "hi" },
 *   start: () => Process.spawn(async () => { await Process.receive(); }),
 * });
 * Application.load(app); // the environment exists once the app is loaded
 * const g: string = Application.getEnv(app, "greeting");
 * console.assert(g === "hi");
 * ```
 */
export function define<E extends Env>(spec: Spec<E>): Spec<E> {
  return spec;
}

/**
 * Loads an application: records its spec and environment (defaults, then
 * `env` overrides) without starting it. Loading an already loaded
 * application only applies `env`; loading a different spec under the name of
 * a stopped one replaces it and its environment. `start` loads as needed.
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * const app = Application.define({
 *   name: "doc_load",
 *   env: { size: 1 },
 *   start: () => Process.spawn(async () => { await Process.receive(); }),
 * });
 * Application.load(app, { size: 2 });
 * console.assert(Application.getEnv(app, "size") === 2);
 * Application.unload(app);
 * ```
 */
export function load<E extends Env>(app: Spec<E>, env?: Partial<E>): void {
  let l = loaded.get(app.name);
  if (l === undefined) {
    l = { spec: app, env: { ...app.env }, running: null };
    loaded.set(app.name, l);
  } else if (l.spec !== app && l.running === null) {
    l = { spec: app, env: { ...app.env }, running: null };
    loaded.set(app.name, l);
  }
  if (env !== undefined) Object.assign(l.env, env);
}

/**
 * Forgets a stopped application and its environment. Returns false if it was
 * not loaded; throws {@linkcode ApplicationError} `["running", name]` if it
 * is running (OTP's `{error, {running, Name}}`).
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(Application.unload("never_loaded") === false);
 * ```
 */
export function unload(app: Spec<any> | string): boolean {
  const name = nameOf(app);
  const l = loaded.get(name);
  if (l === undefined) return false;
  if (l.running !== null) {
    throw new ApplicationError(name, ["running", name], `Cannot unload application ${q(name)}: it is running`);
  }
  loaded.delete(name);
  return true;
}

/**
 * Starts `app`: loads it, applies `opts.env`, checks that each dependency is
 * running, and calls its `start` from a new application master process.
 * Resolves with the top process's pid. Rejects with
 * {@linkcode ApplicationError}: `["already_started", name]` if it is running
 * (or starting), `["not_started", dep]` if a dependency is not running,
 * `["start_failed", reason]` or `["bad_return", value]` if `start` failed.
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * const app = { name: "doc_start", start: () => Process.spawn(async () => { await Process.receive(); }) };
 * const top = await Application.start(app);
 * console.assert(Process.isAlive(top));
 * const again = await Application.start(app).catch((e) => e);
 * console.assert(again.reason[0] === "already_started");
 * await Application.stop(app);
 * ```
 */
export function start<E extends Env>(app: Spec<E>, opts?: StartOptions<E>): Promise<Pid> {
  if (callerIsDead()) return never();
  const name = app.name;
  const current = loaded.get(name);
  if (current?.running != null) {
    return Promise.reject(
      new ApplicationError(name, ["already_started", name], `Application ${q(name)} is already started`),
    );
  }
  for (const dep of app.dependencies ?? []) {
    const depName = nameOf(dep);
    const d = loaded.get(depName);
    if (d === undefined || d.running === null || d.running.top === null || d.running.stopping !== null) {
      return Promise.reject(
        new ApplicationError(
          name,
          ["not_started", depName],
          `Cannot start application ${q(name)}: dependency ${q(depName)} is not started`,
        ),
      );
    }
  }
  load(app, opts?.env);
  return launch(loaded.get(name)!, opts?.type ?? "temporary");
}

function launch(l: Loaded, type: RestartType): Promise<Pid> {
  const name = l.spec.name;
  l.exitedAlone = false;
  const env = { ...l.env };
  let settled = false;
  let resolveStart!: (pid: Pid) => void;
  let rejectStart!: (e: unknown) => void;
  const result = new Promise<Pid>((res, rej) => {
    resolveStart = (pid) => {
      settled = true;
      res(pid);
    };
    rejectStart = (e) => {
      settled = true;
      rej(e);
    };
  });
  // An `async` body: the runtime keeps the process context across its awaits.
  const proc = spawnBody(
    async (ctx) => await masterBody(ctx, l, env, resolveStart, rejectStart),
    { trapExit: true },
    "ApplicationMaster",
  );
  const running: Running = { master: proc.pid, top: null, type, starting: null, stopping: null };
  (proc.exitHooks ??= []).push((reason) => {
    // Normally a no-op; covers a master that is killed or fails unexpectedly.
    if (!settled) {
      rejectStart(
        new ApplicationError(
          name,
          ["start_failed", reason],
          `Cannot start application ${q(name)}: ${formatReason(reason)}`,
        ),
      );
    }
    if (l.running === running) finished(l);
  });
  running.starting = result.then(() => {}, () => {});
  l.running = running;
  return result.then((top) => {
    running.starting = null;
    if (l.running === running) order.push(name);
    return top;
  }, (e) => {
    if (l.running === running) l.running = null;
    throw e;
  });
}

async function masterBody(
  ctx: ProcessContext,
  l: Loaded,
  env: Env,
  resolveStart: (pid: Pid) => void,
  rejectStart: (e: unknown) => void,
): Promise<void> {
  const spec = l.spec;
  const name = spec.name;
  let top: unknown;
  try {
    top = await spec.start("normal", env);
  } catch (e) {
    const reason = e !== null && typeof e === "object" && "reason" in e ? (e as { reason: unknown }).reason : e;
    rejectStart(
      new ApplicationError(
        name,
        ["start_failed", reason],
        `Cannot start application ${q(name)}: ${formatReason(reason)}`,
      ),
    );
    exit("shutdown"); // takes down anything start linked before failing
  }
  if (!(top instanceof Pid) || !isAlive(top)) {
    rejectStart(
      new ApplicationError(
        name,
        ["bad_return", top],
        `Cannot start application ${q(name)}: start must return the pid of a live process, got ${formatReason(top)}`,
      ),
    );
    exit("shutdown");
  }
  const topPid = top as Pid;
  link(topPid);
  const ref = monitor(topPid);
  l.running!.top = topPid;
  resolveStart(topPid);

  const msg = await ctx.receive<DownMessage | StopRequest>((m: unknown) =>
    (m instanceof DownMessage && m.ref === ref) || m instanceof StopRequest
  );
  if (msg instanceof StopRequest) {
    await callback(spec.prepStop, spec, env);
    exit(topPid, "shutdown");
    let down = await ctx.receive<DownMessage>({ ref }, msg.timeout);
    if (down === TIMEOUT) {
      exit(topPid, "kill");
      down = await ctx.receive<DownMessage>({ ref });
    }
    await callback(spec.stop, spec, env);
    finished(l);
    msg.done();
    return;
  }
  // The top process died on its own.
  await callback(spec.prepStop, spec, env);
  await callback(spec.stop, spec, env);
  const type = l.running!.type;
  finished(l);
  l.exitedAlone = true;
  if (type === "permanent" || (type === "transient" && !isNormalExit(msg.reason))) {
    for (const other of [...order].reverse()) {
      const o = loaded.get(other);
      if (o !== undefined) await stop(o.spec).catch(() => {});
    }
    const handler = nodeStopHandler;
    if (handler !== undefined) {
      try {
        handler(name, msg.reason);
      } catch {
        // The hook's failure must not keep the master from finishing.
      }
    }
  }
}

/** What a permanent application's exit does to the "node" (see {@linkcode setNodeStopHandler}). */
export type NodeStopHandler = (application: string, reason: unknown) => void;

let nodeStopHandler: NodeStopHandler | undefined;

/**
 * Sets what happens to the whole program when a `"permanent"` application
 * stops on its own (or a `"transient"` one, abnormally), after every other
 * application was stopped. In OTP that stops the node; a library must not
 * exit its host, so by default nothing more happens. A program that is the
 * node (a server run by systemd or a container runtime, which restarts it)
 * sets a handler that says so in one line and exits non-zero — as `kv serve`
 * does. `undefined` removes it.
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const stopped = Promise.withResolvers<[string, unknown]>();
 * const previous = Application.setNodeStopHandler((app, reason) => stopped.resolve([app, reason]));
 * const app = { name: "doc_node_stop", start: () => Process.spawn(async () => { await Process.receive(); }) };
 * const top = await Application.start(app, { type: "permanent" });
 * Process.exit(top, "kill");
 * assert.deepEqual(await stopped.promise, ["doc_node_stop", "killed"]);
 * Application.setNodeStopHandler(previous);
 * ```
 *
 * @param handler Gets the application's name and its top process's exit reason.
 * @returns The previous handler.
 */
export function setNodeStopHandler(handler: NodeStopHandler | undefined): NodeStopHandler | undefined {
  const previous = nodeStopHandler;
  nodeStopHandler = handler;
  return previous;
}

async function callback(fn: ((env: any) => unknown) | undefined, spec: Spec<any>, env: Env): Promise<void> {
  if (fn === undefined) return;
  try {
    await fn.call(spec, env);
  } catch {
    // As OTP's application master: a failing prepStop/stop does not keep the application from stopping.
  }
}

function finished(l: Loaded): void {
  l.running = null;
  const i = order.indexOf(l.spec.name);
  if (i >= 0) order.splice(i, 1);
}

/**
 * Stops a running application: `prepStop`, then exit `shutdown` to its top
 * process and a wait for its `DOWN` (killing it after `opts.timeout` ms), then
 * `stop`. Resolves once all that is done; a concurrent second `stop` gets
 * the same promise. Dependencies and dependents are left running. Rejects
 * with {@linkcode ApplicationError} `["not_started", name]` if it is not
 * running; once after its top process died on its own, it resolves instead,
 * as OTP's does right after that death.
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * const app = { name: "doc_stop", start: () => Process.spawn(async () => { await Process.receive(); }) };
 * const top = await Application.start(app);
 * await Application.stop(app);
 * console.assert(!Process.isAlive(top));
 * ```
 */
export async function stop(app: Spec<any> | string, opts?: StopOptions): Promise<void> {
  if (callerIsDead()) return never();
  const name = nameOf(app);
  const l = loaded.get(name);
  let r = l?.running ?? null;
  if (r !== null && r.starting !== null) {
    await r.starting;
    r = l!.running;
  }
  if (r === null && l?.exitedAlone) {
    l.exitedAlone = false;
    return; // ok, as OTP answers a stop that follows the top process's death
  }
  if (r === null || r.top === null) {
    throw new ApplicationError(name, ["not_started", name], `Application ${q(name)} is not started`);
  }
  if (r.stopping === null) {
    const master = r.master;
    const timeout = opts?.timeout ?? Infinity;
    r.stopping = new Promise<void>((resolve) => {
      // The master may be finishing on its own (its top process just died): wait for it either way.
      let settled = false;
      const done = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      if (watch(master, done)) send(master, new StopRequest(timeout, done));
    });
  }
  return r.stopping;
}

/** Calls `done` when `pid` dies; false (and `done` at once) if it is already dead. */
function watch(pid: Pid, done: () => void): boolean {
  const p = lookup(pid);
  if (p === null || !p.alive) {
    done();
    return false;
  }
  addMonitor(p, nextRefId(), { down: done });
  return true;
}

/**
 * Starts `app` after every application it depends on, recursively and in
 * order, skipping those already running. Resolves with the names of the
 * applications it started, in start order. If one fails, those it started are
 * stopped again (newest first) and it rejects with that failure's
 * {@linkcode ApplicationError}. `opts.env` applies to `app` only; `opts.type`
 * to every application it starts (as OTP's `ensure_all_started/2`).
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * const idle = () => Process.spawn(async () => { await Process.receive(); });
 * const base = { name: "doc_base", start: idle };
 * const web = { name: "doc_web", dependencies: [base], start: idle };
 * const started = await Application.ensureAllStarted(web);
 * console.assert(started.join() === "doc_base,doc_web");
 * await Application.stop(web);
 * await Application.stop(base);
 * ```
 */
export async function ensureAllStarted<E extends Env>(app: Spec<E>, opts?: StartOptions<E>): Promise<string[]> {
  const plan: Spec<any>[] = [];
  collect(app, [], new Set(), plan);
  const started: string[] = [];
  try {
    for (const spec of plan) {
      if (isRunning(spec.name)) continue;
      await start(spec, spec === app ? opts : opts?.type === undefined ? undefined : { type: opts.type });
      started.push(spec.name);
    }
  } catch (e) {
    for (const name of [...started].reverse()) await stop(name).catch(() => {});
    throw e;
  }
  return started;
}

function collect(app: Spec<any> | string, path: string[], done: Set<string>, plan: Spec<any>[]): void {
  const name = nameOf(app);
  if (done.has(name)) return;
  if (path.includes(name)) {
    const cycle = [...path.slice(path.indexOf(name)), name];
    throw new ApplicationError(
      path[0],
      ["circular_dependencies", cycle],
      `Cannot start application ${q(path[0])}: circular dependencies ${cycle.map(q).join(" -> ")}`,
    );
  }
  let spec: Spec<any>;
  if (typeof app === "string") {
    const l = loaded.get(app);
    if (l === undefined) {
      const root = path[0] ?? app;
      throw new ApplicationError(
        root,
        ["not_loaded", app],
        `Cannot start application ${q(root)}: application ${q(app)} is not loaded`,
      );
    }
    spec = l.spec;
  } else {
    spec = app;
  }
  for (const dep of spec.dependencies ?? []) collect(dep, [...path, name], done, plan);
  done.add(name);
  plan.push(spec);
}

function isRunning(name: string): boolean {
  const r = loaded.get(name)?.running;
  return r !== undefined && r !== null && r.stopping === null;
}

/**
 * True if the application is started (or starting).
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(!Application.isStarted("doc_nothing"));
 * ```
 */
export function isStarted(app: Spec<any> | string): boolean {
  return isRunning(nameOf(app));
}

/**
 * The running applications, the most recently started first (Erlang's
 * `which_applications`, Elixir's `started_applications`).
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(Array.isArray(Application.startedApplications()));
 * ```
 */
export function startedApplications(): ApplicationInfo[] {
  const out: ApplicationInfo[] = [];
  for (let i = order.length - 1; i >= 0; i--) {
    const name = order[i];
    const l = loaded.get(name)!;
    const r = l.running;
    if (r === null || r.top === null) continue;
    out.push({
      name,
      description: l.spec.description ?? name,
      version: l.spec.version ?? "",
      pid: r.top,
      type: r.type,
    });
  }
  return out;
}

/**
 * Same as {@linkcode startedApplications} (Erlang's `which_applications`).
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(Application.which().length === Application.startedApplications().length);
 * ```
 */
export function which(): ApplicationInfo[] {
  return startedApplications();
}

/**
 * The top process of a running application, or `undefined`.
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(Application.getSupervisor("doc_nothing") === undefined);
 * ```
 */
export function getSupervisor(app: Spec<any> | string): Pid | undefined {
  return loaded.get(nameOf(app))?.running?.top ?? undefined;
}

/**
 * A value from a loaded application's environment, or `fallback` when the key
 * (or the application) is absent. With a spec, the key and value are typed.
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(Application.getEnv("doc_unknown_app", "port", 4040) === 4040);
 * ```
 */
export function getEnv<E extends Env, K extends keyof E & string>(app: Spec<E>, key: K): E[K];
/** `key` of an application given by spec or name, or `fallback` when unset. */
export function getEnv<T = unknown>(app: Spec<any> | string, key: string, fallback?: T): T;
export function getEnv(app: Spec<any> | string, key: string, fallback?: unknown): unknown {
  const env = loaded.get(nameOf(app))?.env;
  if (env === undefined || !Object.prototype.hasOwnProperty.call(env, key)) return fallback;
  return env[key];
}

/**
 * A copy of the application's whole environment (empty if not loaded).
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * console.assert(Object.keys(Application.getAllEnv("doc_unknown_app")).length === 0);
 * ```
 */
export function getAllEnv<E extends Env>(app: Spec<E> | string): Partial<E> {
  return { ...(loaded.get(nameOf(app))?.env ?? {}) } as Partial<E>;
}

/**
 * Sets a value in the application's environment (loading a spec if needed).
 * Running code sees it at its next `getEnv`; `start` has already read its
 * copy. Throws {@linkcode ApplicationError} for a name nobody loaded.
 *
 * @example
 * ```ts
 * import { Application, Process } from "../mod.ts";
 * const app = Application.define({
 *   name: "doc_put_env",
 *   env: { level: "info" },
 *   start: () => Process.spawn(async () => { await Process.receive(); }),
 * });
 * Application.putEnv(app, "level", "debug");
 * console.assert(Application.getEnv(app, "level") === "debug");
 * Application.unload(app);
 * ```
 */
export function putEnv<E extends Env, K extends keyof E & string>(app: Spec<E>, key: K, value: E[K]): void;
/** Sets `key` of an application given by name. */
export function putEnv(app: string, key: string, value: unknown): void;
export function putEnv(app: Spec<any> | string, key: string, value: unknown): void {
  if (typeof app !== "string") load(app);
  const name = nameOf(app);
  const l = loaded.get(name);
  if (l === undefined) {
    throw new ApplicationError(
      name,
      ["not_loaded", name],
      `Cannot set ${q(key)}: application ${q(name)} is not loaded`,
    );
  }
  l.env[key] = value;
}

/**
 * Removes a key from the application's environment (a no-op if absent).
 *
 * @example
 * ```ts
 * import { Application } from "../mod.ts";
 * Application.deleteEnv("doc_unknown_app", "port");
 * ```
 */
export function deleteEnv(app: Spec<any> | string, key: string): void {
  const env = loaded.get(nameOf(app))?.env;
  if (env !== undefined) delete env[key];
}
