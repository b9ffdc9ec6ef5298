/**
 * The `kv` command: the binary's entry point.
 *
 * ```sh
 * kv serve [--host H] [--port P] [--max-line BYTES] [--max-connections N]
 *          [--high-water BYTES] [--low-water BYTES] [--output-limit BYTES]
 *          [--idle-timeout SECONDS] [--idle-gc SECONDS] [--drain-timeout SECONDS] [--log-level LEVEL]
 *          [--dir DIR [--appendfsync always|everysec|no] [--fsync inline|thread] [--repair truncate]]
 *          [--name NAME@HOST --cookie COOKIE --routes 'a-m=foo@host,n-z=bar@host']
 * kv --help
 * kv --version
 * ```
 *
 * `kv serve` starts the `"kv"` and `"kv_server"` applications (permanent:
 * if either stops on its own, the process says so in one line and exits 1,
 * so that systemd or a container runtime restarts it), binds every listener
 * (the server's, the Observer's), then prints exactly one line
 * `listening on HOST:PORT` to stdout. Its signal handlers are installed
 * before it starts anything: on SIGINT or SIGTERM it stops accepting,
 * answers the requests already received (at most `--drain-timeout` seconds),
 * closes each connection with a FIN, stops the applications in order and
 * exits 0; a second signal exits 1 at once.
 * The port comes from `--port`, else the `PORT` environment variable, else
 * 4040; `0` picks a free port (the line tells which).
 *
 * Runs on Bun, Deno and Node: arguments, environment, signals and exit go
 * through `node:process`.
 *
 * Standalone binaries:
 * - `npm run build` writes `dist/kv` with `bun build --compile` (CI builds it
 *   and runs `scripts/smoke_binary.sh` against it);
 * - `deno task compile` writes `dist/kv-deno` with `deno compile`. It
 *   downloads the Deno runtime it embeds (`denort`) on first use, so it needs
 *   network access to dl.deno.land: it is for users, not run in CI.
 *
 * @module
 */

import process from "node:process";
import { isMainThread } from "node:worker_threads";
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Application, DiskLog, formatReason, Logger, Node } from "../../../mod.ts";
import * as Server from "./server.ts";
import { AddressInUseError } from "../../net/mod.ts";
import { app as kvApp, Bucket, type KVEnv, LOG, parseRoutes, ROUTING_TABLE, type RoutingTable } from "../kv/mod.ts";
import { routerApp } from "./router.ts";
import { DEFAULT_MAX_LINE_LENGTH } from "./line_reader.ts";
import denoJson from "../../../deno.json" with { type: "json" };
// --- observer (lib/apps/observer/): `--observer [HOST:]PORT`, `--observer-read-only`
import * as Observer from "../observer/mod.ts";
import { type ObserverFlags, observerLine, parseObserverAddress } from "../observer/mod.ts";
// --- end observer

/** The program's version (from `deno.json`). */
export const VERSION: string = denoJson.version;

/** `kv --help`. */
export const USAGE = `kv ${VERSION}: the KV server of the Elixir "Mix and OTP" guide, in TypeScript

Usage:
  kv serve [options]    serve the KV text protocol over TCP
  kv --help             show this help
  kv --version          show the version

Options of serve:
  --host HOST             address to bind (default ${Server.DEFAULT_HOSTNAME}; 0.0.0.0 exposes it)
  --port PORT             port to bind (default: $PORT, else ${Server.DEFAULT_PORT}; 0 picks a free one)
  --max-line BYTES        longest request line (default ${DEFAULT_MAX_LINE_LENGTH})
  --max-connections N     most connections served at once (default ${Server.DEFAULT_MAX_CONNECTIONS})
  --high-water BYTES      unsent reply bytes at which a connection stops reading and executing (default ${Server.DEFAULT_HIGH_WATER_MARK})
  --low-water BYTES       unsent reply bytes at which it resumes (default ${Server.DEFAULT_LOW_WATER_MARK})
  --output-limit BYTES    unsent reply bytes past which a client is disconnected (default ${Server.DEFAULT_OUTPUT_LIMIT})
  --idle-timeout SECONDS  close a connection after SECONDS without a request (default 0: never)
  --idle-gc SECONDS       idle that long after memory grew by 64 MiB, collect garbage and return it to the system
                          (Bun; default ${Server.DEFAULT_IDLE_COLLECT}; 0: never)
  --drain-timeout SECONDS on SIGINT/SIGTERM, how long connections get to be answered (default ${Server.DEFAULT_DRAIN_TIMEOUT})
  --log-level LEVEL       error, warning, notice, info, debug or none (default ${Logger.DEFAULT_LEVEL})
  --dir DIR               keep the data in an append-only log in DIR (default: in memory only)
  --appendfsync POLICY    with --dir: always, everysec (default) or no
  --fsync WHERE           with --appendfsync always: inline (default: the server waits for each fdatasync,
                          as Redis) or thread (off the main thread: a slow disk stalls only the writes)
  --repair truncate       with --dir: start even on a damaged log, cutting it at the damage
  --observer [HOST:]PORT  serve the Observer web page (default host 127.0.0.1; off by default)
  --observer-read-only    the Observer shows but cannot kill
  --name NAME@HOST        run as a distributed node (Erlang distribution, hidden node, loopback)
  --cookie COOKIE         the cluster's cookie (default: $KV_COOKIE, else ~/.erlang.cookie)
  --routes TABLE          bucket routes by first byte, e.g. 'a-m=foo@localhost,n-z=bar@localhost'
                          (default: $KV_ROUTES; none: every bucket on this node); needs --name

Prints "listening on HOST:PORT" once it accepts connections. SIGINT or SIGTERM stops it: the requests
already received are answered, then it exits 0; a second signal exits 1 at once. If the KV tree or the
server stops for good, it says so in one line and exits 1.
`;

/** What the command line asks for. */
export type Invocation =
  | { readonly command: "help" }
  | { readonly command: "version" }
  | {
    readonly command: "serve";
    readonly options: Server.ServerEnv;
    readonly observer?: ObserverFlags;
    /** Present when `--log-level` or `--drain-timeout` is given. */
    readonly process?: ProcessFlags;
    /** The `"kv"` application's durability settings (with `--dir`). */
    readonly kv?: Partial<KVEnv>;
    /** `--name` (and `--cookie`, `--routes`): a node of a KV cluster. */
    readonly distribution?: Distribution;
  };

/** What `kv serve` does as a program (not the server's settings). */
export interface ProcessFlags {
  /** `--log-level`. */
  readonly logLevel?: Logger.Level | "none";
  /** `--drain-timeout`, in seconds. */
  readonly drainTimeout?: number;
}

/** `--name`, `--cookie`, `--routes`: run as a node of a KV cluster. */
export interface Distribution {
  /** The node's name (`name@host`, or `name` for `name@localhost`). */
  readonly name: string;
  /** The cookie (else `Node.start` reads `$KV_COOKIE` or `~/.erlang.cookie`). */
  readonly cookie?: string;
  /** The routing table (empty: every bucket here). */
  readonly routes: RoutingTable;
}

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the command line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function integer(name: string, text: string | undefined, min: number, max: number): number {
  const value = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(`${name} must be an integer in ${min}..${max}, got "${text ?? ""}"`);
  }
  return value;
}

/**
 * Parses the command line (without the program's own path).
 *
 * @example
 * ```ts
 * import { parseArgs } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseArgs(["serve", "--port", "0", "--max-line=100"], {}), {
 *   command: "serve",
 *   options: { idleCollect: 1, hostname: "127.0.0.1", port: 0, maxLineLength: 100, maxConnections: 10000 },
 * });
 * assert.equal(parseArgs(["serve"], { PORT: "5050" }).command, "serve");
 * assert.deepEqual(parseArgs(["--version"], {}), { command: "version" });
 * assert.throws(() => parseArgs(["serve", "--port", "http"], {}), /--port must be an integer/);
 * ```
 *
 * @param args The arguments.
 * @param env The environment (for `PORT`).
 * @returns What to do.
 * @throws {UsageError} On an unknown command or option, or a bad value.
 */
export function parseArgs(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Invocation {
  if (args.length === 0) throw new UsageError("missing command");
  const [command, ...rest] = args;
  if (command === "--help" || command === "-h" || command === "help") return { command: "help" };
  if (command === "--version" || command === "-V" || command === "version") return { command: "version" };
  if (command !== "serve") throw new UsageError(`unknown command "${command}"`);
  let host: string | undefined;
  let port: string | undefined;
  let maxLine: string | undefined;
  let maxConnections: string | undefined;
  const extra = new Map<string, string>();
  let observer: string | undefined; // observer
  let observerReadOnly = false; // observer
  let dir: string | undefined;
  let appendfsync: string | undefined;
  let fsync: string | undefined;
  let repair: string | undefined;
  let nodeName: string | undefined;
  let cookie: string | undefined;
  let routes: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--help" || arg === "-h") return { command: "help" };
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined;
    const takeValue = (): string => {
      if (eq > 0 && name !== arg) return arg.slice(eq + 1);
      const next = rest[++i];
      if (next === undefined) throw new UsageError(`${name} needs a value`);
      return next;
    };
    switch (name) {
      case "--host":
        host = value = takeValue();
        if (value === "") throw new UsageError("--host must not be empty");
        break;
      case "--port":
        port = takeValue();
        break;
      case "--max-line":
        maxLine = takeValue();
        break;
      case "--max-connections":
        maxConnections = takeValue();
        break;
      case "--high-water":
      case "--low-water":
      case "--output-limit":
      case "--idle-timeout":
      case "--idle-gc":
      case "--drain-timeout":
      case "--log-level":
        extra.set(name, takeValue());
        break;
      case "--dir":
        dir = takeValue();
        if (dir === "") throw new UsageError("--dir must not be empty");
        break;
      case "--appendfsync":
        appendfsync = takeValue();
        if (!["always", "everysec", "no"].includes(appendfsync)) {
          throw new UsageError(`--appendfsync must be always, everysec or no, got "${appendfsync}"`);
        }
        break;
      case "--fsync":
        fsync = takeValue();
        if (fsync !== "inline" && fsync !== "thread") {
          throw new UsageError(`--fsync must be inline or thread, got "${fsync}"`);
        }
        break;
      case "--repair":
        repair = takeValue();
        if (repair !== "truncate") throw new UsageError(`--repair takes only "truncate", got "${repair}"`);
        break;
      case "--observer": // observer
        observer = takeValue();
        break;
      case "--observer-read-only": // observer
        if (eq > 0) throw new UsageError(`--observer-read-only takes no value`);
        observerReadOnly = true;
        break;
      case "--name":
        nodeName = takeValue();
        break;
      case "--cookie":
        cookie = takeValue();
        break;
      case "--routes":
        routes = takeValue();
        break;
      default:
        throw new UsageError(`unknown option "${arg}"`);
    }
  }
  // --- observer
  let observerFlags: ObserverFlags | undefined;
  if (observer !== undefined) {
    try {
      observerFlags = { ...parseObserverAddress(observer), readOnly: observerReadOnly };
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  } else if (observerReadOnly) {
    throw new UsageError("--observer-read-only needs --observer");
  }
  // --- end observer
  if (dir === undefined && (appendfsync !== undefined || repair !== undefined)) {
    throw new UsageError(`${appendfsync !== undefined ? "--appendfsync" : "--repair"} needs --dir`);
  }
  if (fsync !== undefined && appendfsync !== "always") throw new UsageError("--fsync needs --appendfsync always");
  const distribution = parseDistribution(nodeName, cookie ?? env.KV_COOKIE, routes ?? env.KV_ROUTES, routes);
  const portText = port ?? env.PORT;
  const bytes = (flag: string): number | undefined =>
    extra.has(flag) ? integer(flag, extra.get(flag), 1, 2 ** 40) : undefined;
  const highWater = bytes("--high-water");
  const lowWater = extra.has("--low-water") ? integer("--low-water", extra.get("--low-water"), 0, 2 ** 40) : undefined;
  if ((lowWater ?? Server.DEFAULT_LOW_WATER_MARK) >= (highWater ?? Server.DEFAULT_HIGH_WATER_MARK)) {
    throw new UsageError(
      `--low-water (${lowWater ?? Server.DEFAULT_LOW_WATER_MARK}) must be below --high-water (${
        highWater ?? Server.DEFAULT_HIGH_WATER_MARK
      })`,
    );
  }
  const logLevel = extra.get("--log-level");
  if (logLevel !== undefined && !(Logger.LEVELS as readonly string[]).includes(logLevel) && logLevel !== "none") {
    throw new UsageError(`--log-level must be one of ${Logger.LEVELS.join(", ")}, none; got "${logLevel}"`);
  }
  const seconds = (flag: string) => {
    const text = extra.get(flag);
    if (text === undefined) return undefined;
    const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(value >= 0 && value <= 2 ** 31 / 1000)) {
      throw new UsageError(`${flag} must be a number of seconds, got "${text}"`);
    }
    return value;
  };
  const idleTimeout = seconds("--idle-timeout");
  const idleCollect = seconds("--idle-gc") ?? Server.DEFAULT_IDLE_COLLECT;
  const drainTimeout = seconds("--drain-timeout");
  const processFlags: ProcessFlags = {
    ...(logLevel === undefined ? {} : { logLevel: logLevel as Logger.Level | "none" }),
    ...(drainTimeout === undefined ? {} : { drainTimeout }),
  };
  return {
    command: "serve",
    ...(distribution === undefined ? {} : { distribution }),
    ...(observerFlags === undefined ? {} : { observer: observerFlags }),
    ...(Object.keys(processFlags).length === 0 ? {} : { process: processFlags }),
    ...(dir === undefined ? {} : {
      kv: {
        dir,
        appendfsync: (appendfsync ?? "everysec") as KVEnv["appendfsync"],
        ...(fsync === undefined ? {} : { fsync: fsync as "inline" | "thread" }),
        repair: repair === "truncate" ? "truncate" as const : true,
      },
    }),
    options: {
      ...(highWater === undefined ? {} : { highWaterMark: highWater }),
      ...(lowWater === undefined ? {} : { lowWaterMark: lowWater }),
      ...(extra.has("--output-limit") ? { outputLimit: bytes("--output-limit") } : {}),
      ...(idleTimeout === undefined ? {} : { idleTimeout }),
      idleCollect,
      hostname: host ?? Server.DEFAULT_HOSTNAME,
      port: portText === undefined || (port === undefined && portText === "")
        ? Server.DEFAULT_PORT
        : integer(port === undefined ? "PORT" : "--port", portText, 0, 65535),
      maxLineLength: maxLine === undefined ? DEFAULT_MAX_LINE_LENGTH : integer("--max-line", maxLine, 1, 2 ** 30),
      maxConnections: maxConnections === undefined
        ? Server.DEFAULT_MAX_CONNECTIONS
        : integer("--max-connections", maxConnections, 1, 2 ** 30),
    },
  };
}

function parseDistribution(
  name: string | undefined,
  cookie: string | undefined,
  routes: string | undefined,
  routesFlag: string | undefined,
): Distribution | undefined {
  if (name === undefined) {
    if (routesFlag !== undefined) throw new UsageError("--routes needs --name");
    return undefined;
  }
  if (!/^[A-Za-z0-9_-]+(@[A-Za-z0-9_.-]+)?$/.test(name)) {
    throw new UsageError(`--name must be NAME or NAME@HOST (letters, digits, _ and -), got "${name}"`);
  }
  let table: RoutingTable = [];
  try {
    if (routes !== undefined) table = parseRoutes(routes);
  } catch (e) {
    throw new UsageError(`${routesFlag !== undefined ? "--routes" : "KV_ROUTES"}: ${(e as Error).message}`);
  }
  return { name, ...(cookie === undefined || cookie === "" ? {} : { cookie }), routes: table };
}

/** How a `listening on` line shows an address (IPv6 in brackets). */
function showAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * Runs `kv serve`: installs the signal handlers, starts `"kv"` then
 * `"kv_server"` (permanent), binds the Observer if asked, prints the
 * listening line; on the first SIGINT/SIGTERM drains and stops in order, then
 * exits 0; on a second one exits 1 at once.
 *
 * @param options The server's settings.
 * @param observer The Observer's flags, if it is to be served.
 * @param flags Log level and drain timeout.
 * @param kv The `"kv"` application's settings (with `--dir`).
 * @param distribution `--name`, `--cookie`, `--routes`: start the node and the router first.
 * @returns Once the server listens.
 */
export async function serve(
  options: Server.ServerEnv,
  observer?: ObserverFlags,
  flags: ProcessFlags = {},
  kv?: Partial<KVEnv>,
  distribution?: Distribution,
): Promise<void> {
  if (kv !== undefined) Application.load(kvApp, kv);
  if (flags.logLevel !== undefined) Logger.setLevel(flags.logLevel);
  const drainMs = (flags.drainTimeout ?? Server.DEFAULT_DRAIN_TIMEOUT) * 1000;
  // Installed first: a signal during start-up (or right after the line) must stop the server, not kill it.
  let started = false;
  let signalled: string | undefined;
  let obs: Observer.ObserverServer | undefined; // observer
  const stop = async () => {
    let code = 0;
    try {
      await obs?.close(); // observer
      if (Server.address() !== undefined) await Server.drain(Server.NAME, drainMs);
      if (Application.isStarted(Server.app)) await Application.stop(Server.app);
      if (Application.isStarted(routerApp)) await Application.stop(routerApp);
      if (Application.isStarted(kvApp)) await Application.stop(kvApp);
      await Node.stop();
    } catch (error) {
      console.error(`kv: failed to stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
      code = 1;
    }
    process.exit(code);
  };
  const onSignal = (signal: string) => {
    if (signalled !== undefined) {
      console.error(`kv: ${signal} again: exiting at once`);
      process.exit(1);
    }
    signalled = signal;
    Logger.info(`kv: ${signal}: stopping (draining connections for at most ${drainMs / 1000} s)`);
    if (started) void stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // As a permanent application stops an Erlang node: a tree that gave up ends the process.
  Application.setNodeStopHandler((app, reason) => {
    if (signalled !== undefined) return;
    console.error(`kv: application "${app}" stopped (${formatReason(reason)}); exiting`);
    process.exit(1);
  });
  if (distribution !== undefined) {
    // The node first, so the router and the server route with its name.
    await Node.start(distribution.name, distribution.cookie === undefined ? {} : { cookie: distribution.cookie });
    Application.putEnv(kvApp, ROUTING_TABLE, distribution.routes);
    await Application.ensureAllStarted(routerApp, { type: "permanent" });
  }
  await Application.ensureAllStarted(Server.app, { env: options, type: "permanent" });
  // --- observer
  if (observer !== undefined) {
    // The detail panel shows a bucket's key count.
    Observer.describeLabel("bucket", async (pid) => ({ keys: await Bucket.size(pid, 1000) }));
    try {
      obs = await Observer.start(observer);
    } catch (e) {
      signalled = "start-up failure";
      await Application.stop(Server.app).catch(() => {});
      await Application.stop(kvApp).catch(() => {});
      throw new Error(`observer on ${showAddress(observer.hostname, observer.port)}: ${describe(e)}`);
    }
  }
  // --- end observer
  const address = Server.address()!;
  if (kv?.dir !== undefined) {
    // What an operator needs to know of the data's safety, in one line: as the running log has it.
    const log = DiskLog.info(LOG);
    Logger.notice(
      `kv: data in ${log.dir} (appendfsync ${log.policy}${log.policy === "always" ? `, fsync ${log.fsync}` : ""})`,
    );
  }
  console.log(`listening on ${showAddress(address.hostname, address.port)}`);
  if (obs !== undefined) console.log(observerLine(obs.hostname, obs.port)); // observer
  started = true;
  if (signalled !== undefined) void stop();
}

/**
 * The command line's entry point.
 *
 * @param args The arguments (without the program's own path).
 * @returns The exit code when the command is done; `kv serve` keeps running.
 */
export async function main(args: readonly string[]): Promise<number | undefined> {
  let invocation: Invocation;
  try {
    invocation = parseArgs(args, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`kv: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  switch (invocation.command) {
    case "help":
      console.log(USAGE);
      return 0;
    case "version":
      console.log(`kv ${VERSION}`);
      return 0;
    case "serve":
      try {
        await serve(
          invocation.options,
          invocation.observer,
          invocation.process,
          invocation.kv,
          invocation.distribution,
        );
      } catch (error) {
        const { hostname, port } = invocation.options;
        const why = describe(error);
        // "address 127.0.0.1:4040 is already in use" says it all; other failures get the address.
        console.error(
          / is already in use$/.test(why) ? `kv: ${why}` : `kv: cannot serve on ${showAddress(hostname, port)}: ${why}`,
        );
        return 1;
      }
      return undefined;
  }
}

/** A short description of a start failure (the innermost cause). */
function describe(error: unknown): string {
  let e = error;
  // The innermost cause, except that "address … is already in use" says it better than the runtime's own words.
  for (let i = 0; i < 10 && e instanceof Error && e.cause !== undefined && !(e instanceof AddressInUseError); i++) {
    e = e.cause;
  }
  // Application and supervisor errors carry the reason as ["start_failed", ...] tuples.
  const reason = (e as { reason?: unknown } | null)?.reason;
  if (reason !== undefined) return findMessage(reason) ?? String(e);
  return e instanceof Error ? e.message : String(e);
}

function findMessage(value: unknown, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  if (value instanceof Error) {
    const inner = (value as { reason?: unknown }).reason;
    return (inner !== undefined ? findMessage(inner, depth + 1) : undefined) ?? value.message;
  }
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) {
      const found = findMessage(value[i], depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Whether this module is the program's entry point: `import.meta.main` on Bun
 * and Deno; on Node (no `import.meta.main` before Node 24) whether the script
 * Node was given is this file. Without it, `node cli.js serve` would do
 * nothing and exit 0.
 */
function isEntryPoint(): boolean {
  // In a standalone binary every worker thread (the disk log's compaction
  // worker) runs this bundle too: only the main thread is the program.
  if (!isMainThread) return false;
  const main = (import.meta as { main?: boolean }).main;
  if (main !== undefined) return main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exit(code);
}

// Named by `serve` and `Invocation`.
export type { ServerEnv } from "./server.ts";
