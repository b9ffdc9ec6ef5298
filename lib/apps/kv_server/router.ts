/**
 * KV across nodes, as the guide's distributed chapter (`KV.Router`): a
 * {@linkcode RoutedStore} runs each command on the node its bucket's first
 * byte routes to (the `"kv"` application's `routingTable`, see
 * `../kv/routing.ts`). Commands routed to this node run in the local store;
 * the others go, as data, **one message per destination node per read**, to
 * the registered {@linkcode ROUTER} of that node, which re-routes them with
 * its own table and runs them under its local `Task.Supervisor`
 * ({@linkcode ROUTER_TASKS}), so `NOT FOUND` is decided where the bucket
 * lives. Replies come back in request order.
 *
 * A command whose bucket has no route answers `ERROR no route`; one whose
 * node is down or unreachable `ERROR nodedown NODE` at once, one whose node
 * does not answer in time `ERROR timeout` (the call's timeout, not the net
 * tick, bounds a silent peer); the other ranges keep serving, and a node that
 * comes back is reconnected lazily by the next request.
 *
 * The router's message protocol (so any node, an Erlang one too, can serve a
 * range): a `gen_server` call to the name `'KV.Router'` with
 * `{route, [Command], Hops}`, each command `{create, B}`, `{get, B, K}`,
 * `{put, B, K, V}` or `{delete, B, K}` (binaries), answered with the list of
 * reply binaries, byte for byte what the protocol writes.
 *
 * Only data crosses nodes: no closure, no code (unlike the guide, which
 * sends `Agent.get(pid, fn)` closures between BEAMs running the same code).
 *
 * @module
 */
import {
  Application,
  GenServer,
  Node,
  type Pid,
  Process,
  Supervisor,
  Task,
  TaskSupervisor,
  Term,
} from "../../../mod.ts";
import { app as kvApp, checkRoutes, routeOf, ROUTING_TABLE, type RoutingTable } from "../kv/mod.ts";
import { fromBinaryString, toBinaryString } from "./_binary.ts";
import { type Awaitable, type Command, execute, type KvStore, type Reply, replyBytes } from "./command.ts";
import { registryStore } from "./kv_store.ts";

/** The router's registered name on every node. */
export const ROUTER = "KV.Router";
/** The task supervisor the router runs commands under. */
export const ROUTER_TASKS = "KV.RouterTasks";
/** How long a command routed to another node may take (ms) before it answers `ERROR timeout`. */
export const DEFAULT_ROUTE_TIMEOUT = 5000;
/** A command forwarded this many times answers `ERROR routing loop` (tables that disagree). */
const MAX_HOPS = 3;

const atom = (s: string): symbol => Symbol.for(s);
const ROUTE = atom("route");
const VERBS: Record<string, symbol> = {
  create: atom("create"),
  get: atom("get"),
  put: atom("put"),
  delete: atom("delete"),
};

const enc = new TextEncoder();
/** `ERROR <short reason>\r\n`. */
function errorReply(reason: unknown): Uint8Array {
  const words = Array.isArray(reason) && reason.every((x) => typeof x === "string") ? reason.join(" ") : undefined;
  const text = (words ?? Process.formatReason(reason)).replace(/[\r\n]+/g, " ").slice(0, 80);
  return enc.encode(`ERROR ${text}\r\n`);
}
const NO_ROUTE = enc.encode("ERROR no route\r\n");
const LOOP = enc.encode("ERROR routing loop\r\n");
const UNKNOWN: Command = Object.freeze({ kind: "unknown" });

/** A command as the router protocol's term. */
function commandToTerm(c: Command): unknown[] {
  switch (c.kind) {
    case "create":
      return [VERBS.create, fromBinaryString(c.bucket)];
    case "put":
      return [VERBS.put, fromBinaryString(c.bucket), fromBinaryString(c.key), fromBinaryString(c.value)];
    case "get":
    case "delete":
      return [VERBS[c.kind], fromBinaryString(c.bucket), fromBinaryString(c.key)];
    default:
      return [atom("unknown")];
  }
}

function bin(v: unknown): string | undefined {
  return v instanceof Uint8Array ? toBinaryString(v) : undefined;
}

/** A router protocol term as a command; anything malformed is an unknown command. */
function commandFromTerm(t: unknown): Command {
  if (!Array.isArray(t)) return UNKNOWN;
  const bucket = bin(t[1]);
  if (bucket === undefined || bucket === "") return UNKNOWN;
  if (t[0] === VERBS.create && t.length === 2) return { kind: "create", bucket };
  const key = bin(t[2]);
  if (key === undefined) return UNKNOWN;
  if (t[0] === VERBS.get && t.length === 3) return { kind: "get", bucket, key };
  if (t[0] === VERBS.delete && t.length === 3) return { kind: "delete", bucket, key };
  const value = bin(t[3]);
  if (t[0] === VERBS.put && t.length === 4 && value !== undefined) return { kind: "put", bucket, key, value };
  return UNKNOWN;
}

/** The items of a decoded list (a `List`, the empty list, or an array). */
function listItems(v: unknown): unknown[] | undefined {
  if (v === Term.NIL) return [];
  if (v instanceof Term.List) return v.tail === Term.NIL ? v.items : undefined;
  return Array.isArray(v) ? v : undefined;
}

/** Options of {@linkcode RoutedStore}. */
export interface RoutedStoreOptions {
  /** The routing table, or how to read it (default: the `"kv"` application's `routingTable`). */
  table?: RoutingTable | (() => RoutingTable);
  /** This node's name (default: the running node's). */
  self?: () => string;
  /** Ms before a remote command answers `ERROR timeout`. Default {@linkcode DEFAULT_ROUTE_TIMEOUT}. */
  timeout?: number;
  /** The routers' registered name. Default {@linkcode ROUTER}. */
  router?: string;
}

/** The `"kv"` application's routing table (empty: one node). */
export function currentRoutes(): RoutingTable {
  return checkRoutes(Application.getEnv(kvApp.name, ROUTING_TABLE, []));
}

/**
 * A {@linkcode KvStore} that runs each command on its bucket's node: here
 * in `local`, elsewhere through that node's router. The single-command
 * methods serve local buckets only; the server uses `executeMany`.
 *
 * @example One node routing everything to itself is the local store
 * ```ts
 * import { RoutedStore } from "./router.ts";
 * import { MapStore } from "./map_store.ts";
 * import { parse, replyBytes } from "./command.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new RoutedStore(new MapStore(), { table: [{ first: 0, last: 255, node: "me@h" }], self: () => "me@h" });
 * const lines = ["CREATE a", "PUT a k 1", "GET a k"].map((l) => parse(new TextEncoder().encode(l)));
 * const replies = store.executeMany(lines, () => {})!;
 * assert.equal(new TextDecoder().decode(replyBytes(replies[2])), "1\r\nOK\r\n");
 * ```
 */
export class RoutedStore implements KvStore<unknown> {
  readonly #local: KvStore<unknown>;
  readonly #table: () => RoutingTable;
  readonly #self: () => string;
  readonly #timeout: number;
  readonly #router: string;

  /**
   * @param local The store of this node's buckets.
   * @param options The table, this node's name, the remote timeout.
   */
  constructor(local: KvStore<unknown>, options: RoutedStoreOptions = {}) {
    this.#local = local;
    const t = options.table ?? currentRoutes;
    this.#table = typeof t === "function" ? t : () => t;
    this.#self = options.self ?? Node.self;
    this.#timeout = options.timeout ?? DEFAULT_ROUTE_TIMEOUT;
    this.#router = options.router ?? ROUTER;
  }

  #isLocal(bucket: string): boolean {
    const table = this.#table();
    return table.length === 0 || routeOf(table, bucket) === this.#self();
  }

  #localOnly(bucket: string): void {
    if (!this.#isLocal(bucket)) throw new Error(`Bucket ${JSON.stringify(bucket)} is not on this node`);
  }

  /** Creates a bucket of this node. */
  create(bucket: string): unknown {
    this.#localOnly(bucket);
    return this.#local.create(bucket);
  }
  /** A bucket of this node; throws for another node's. */
  lookup(bucket: string): unknown {
    this.#localOnly(bucket);
    return this.#local.lookup(bucket);
  }
  /** As the local store's `get`. */
  get(bucket: unknown, key: string): Awaitable<string | undefined> {
    return this.#local.get(bucket, key);
  }
  /** As the local store's `put`. */
  put(bucket: unknown, key: string, value: string): unknown {
    return this.#local.put(bucket, key, value);
  }
  /** As the local store's `delete`. */
  delete(bucket: unknown, key: string): unknown {
    return this.#local.delete(bucket, key);
  }

  /**
   * Runs `commands`, each on its bucket's node, and gives the replies in
   * order (returned when all are at hand at once, else passed to `done`).
   * `hops` counts the routers a command went through already.
   */
  executeMany(
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError?: (error: unknown) => void,
    hops = 0,
  ): Reply[] | undefined {
    const table = this.#table();
    const self = this.#self();
    if (table.length === 0 || allRouteTo(table, commands, self)) return this.#runLocal(commands, done, onError);
    return new RoutedRun(this, commands, done, onError, table, self, hops).start();
  }

  #runLocal(
    commands: readonly Command[],
    done: (replies: Reply[]) => void,
    onError?: (error: unknown) => void,
  ): Reply[] | undefined {
    const many = this.#local.executeMany;
    if (many !== undefined) return many.call(this.#local, commands, done, onError);
    return runInOrder(this.#local, commands, done, onError);
  }

  /** @ignore */
  runLocal(commands: readonly Command[], done: (replies: Reply[]) => void, onError?: (error: unknown) => void) {
    return this.#runLocal(commands, done, onError);
  }

  /** @ignore Sends `commands` to `node`'s router; exactly one callback runs, later. */
  runRemote(node: string, commands: Command[], hops: number, done: (replies: Reply[]) => void): void {
    const n = commands.length;
    GenServer.callWith(
      [this.#router, node],
      [ROUTE, new Term.List(commands.map(commandToTerm) as Term.Term[]), hops + 1],
      (reply: unknown) => {
        const items = listItems(reply);
        if (items === undefined || items.length !== n || !items.every((r) => r instanceof Uint8Array)) {
          done(new Array<Reply>(n).fill(errorReply("bad reply")));
        } else done(items as Uint8Array[]);
      },
      (error) => done(new Array<Reply>(n).fill(errorReply(error.reason))),
      this.#timeout,
    );
  }
}

/** Runs `commands` one after the other on a store without `executeMany`. */
function runInOrder(
  store: KvStore<unknown>,
  commands: readonly Command[],
  done: (replies: Reply[]) => void,
  onError?: (error: unknown) => void,
): Reply[] | undefined {
  const replies: Reply[] = new Array(commands.length);
  const step = (from: number, sync: boolean): Reply[] | undefined => {
    for (let i = from; i < commands.length; i++) {
      const r = execute(commands[i], store, onError);
      if (r instanceof Promise) {
        r.then((reply) => {
          replies[i] = reply;
          step(i + 1, false);
        });
        return undefined;
      }
      replies[i] = r;
    }
    if (!sync) done(replies);
    return replies;
  };
  return step(0, true);
}

function allRouteTo(table: RoutingTable, commands: readonly Command[], self: string): boolean {
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i];
    if (c.kind !== "unknown" && routeOf(table, c.bucket) !== self) return false;
  }
  return true;
}

/** One read split by node: the local part in the local store, one call per other node. */
class RoutedRun {
  readonly #replies: Reply[];
  #pending = 1;
  #sync = true;

  constructor(
    readonly store: RoutedStore,
    readonly commands: readonly Command[],
    readonly done: (replies: Reply[]) => void,
    readonly onError: ((error: unknown) => void) | undefined,
    readonly table: RoutingTable,
    readonly self: string,
    readonly hops: number,
  ) {
    this.#replies = new Array(commands.length);
  }

  start(): Reply[] | undefined {
    const { commands, table, self } = this;
    const localIdx: number[] = [], localCmds: Command[] = [];
    const remote = new Map<string, { idx: number[]; cmds: Command[] }>();
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i];
      const node = c.kind === "unknown" ? self : routeOf(table, c.bucket);
      if (node === undefined) this.#replies[i] = NO_ROUTE;
      else if (node === self) {
        localIdx.push(i);
        localCmds.push(c);
      } else if (this.hops >= MAX_HOPS) this.#replies[i] = LOOP;
      else {
        let group = remote.get(node);
        if (group === undefined) remote.set(node, group = { idx: [], cmds: [] });
        group.idx.push(i);
        group.cmds.push(c);
      }
    }
    if (localCmds.length > 0) {
      this.#pending++;
      const r = this.store.runLocal(localCmds, (rs) => this.#fill(localIdx, rs), this.onError);
      if (r !== undefined) this.#fill(localIdx, r);
    }
    for (const [node, group] of remote) {
      this.#pending++;
      this.store.runRemote(node, group.cmds, this.hops, (rs) => this.#fill(group.idx, rs));
    }
    this.#sync = false;
    if (--this.#pending === 0) return this.#replies;
    return undefined;
  }

  #fill(idx: number[], replies: readonly Reply[]): void {
    for (let i = 0; i < idx.length; i++) this.#replies[idx[i]] = replies[i];
    if (--this.#pending === 0 && !this.#sync) this.done(this.#replies);
  }
}

// ---------------------------------------------------------------- the router process

interface RouterState {
  store: RoutedStore;
  tasks: string;
}

/** The router's callbacks: each `{route, Commands, Hops}` runs as a task; the task replies. */
const routerCallbacks: GenServer.Callbacks<RouterState, RouterState> = {
  init: (state) => ["ok", state],
  handleCall(request: unknown, from, state) {
    const items = Array.isArray(request) && request.length === 3 && request[0] === ROUTE
      ? listItems(request[1])
      : undefined;
    const hops = Array.isArray(request) ? request[2] : undefined;
    if (items === undefined || typeof hops !== "number") return ["reply", atom("badarg"), state];
    const commands = items.map(commandFromTerm);
    const fail = (error: unknown) => GenServer.reply(from, new Term.List(commands.map(() => errorReply(error))));
    try {
      // A task adopted by the supervisor at once (no call to it): the task replies, or its failure does.
      const task = TaskSupervisor.asyncNolink(state.tasks, () =>
        new Promise<Reply[]>((resolve) => {
          const r = state.store.executeMany(commands, resolve, undefined, hops);
          if (r !== undefined) resolve(r);
        }).then((replies) => GenServer.reply(from, new Term.List(replies.map(replyBytes)))));
      void Task.yield(task, Infinity).then((outcome) => {
        if (outcome !== null && outcome[0] === "exit") fail(outcome[1]);
      });
    } catch (error) {
      fail(error);
    }
    return ["noreply", state];
  },
};

/** Options of {@linkcode startRouter}. */
export interface RouterOptions extends RoutedStoreOptions {
  /** The `"kv"` tree's name prefix (its registry). Default `""`. */
  prefix?: string;
  /** The router's task supervisor's name. Default {@linkcode ROUTER_TASKS}. */
  tasks?: string;
}

/**
 * Starts the router tree: a task supervisor ({@linkcode ROUTER_TASKS}) and
 * the router ({@linkcode ROUTER}) over this node's buckets, under one
 * supervisor; resolves with its pid.
 *
 * @example
 * ```ts
 * import { startRouter, ROUTER } from "./router.ts";
 * import { Process, Supervisor } from "../../../mod.ts";
 * const sup = await startRouter({ router: "doc.KV.Router", tasks: "doc.KV.RouterTasks" });
 * console.assert(Process.whereis("doc.KV.Router") !== undefined);
 * await Supervisor.stop(sup);
 * ```
 */
export function startRouter(options: RouterOptions = {}): Promise<Pid> {
  const tasks = options.tasks ?? ROUTER_TASKS;
  const name = options.router ?? ROUTER;
  const store = new RoutedStore(registryStore(options.prefix ?? ""), options);
  return Supervisor.startLink([
    TaskSupervisor.childSpec({ id: "RouterTasks", name: tasks }),
    { id: "Router", start: () => GenServer.startLink(routerCallbacks, { store, tasks }, { name }) },
  ], { strategy: "one_for_one" });
}

/**
 * The `"kv_router"` application: the router tree over the `"kv"`
 * application's buckets (a dependency). `kv serve --name` starts it.
 */
export const routerApp: Application.Spec = Application.define({
  name: "kv_router",
  description: "Routes KV commands to the node holding their bucket",
  dependencies: [kvApp],
  env: {},
  start: () => startRouter({ prefix: Application.getEnv<string>(kvApp.name, "prefix", "") }),
});
