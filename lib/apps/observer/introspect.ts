/**
 * Introspection of the running system, as Erlang's Observer sees it: every
 * process, the supervision tree of each running application, the ETS-like
 * tables, and system figures. Everything returned is plain JSON-ready data
 * (pids as `"<0.N.0>"` strings), so it can go straight over HTTP.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Agent, Supervisor } from "../../../mod.ts";
 * const sup = await Supervisor.startLink([{ id: "counter", start: () => Agent.startLink(() => 0) }], {
 *   strategy: "one_for_one",
 * });
 * const tree = await Observer.supervisionTree(sup);
 * console.assert(tree.behaviour === "Supervisor" && tree.children![0].id === "counter");
 * console.assert(Observer.processes().some((p) => p.pid === tree.children![0].pid));
 * await Supervisor.stop(sup);
 * ```
 *
 * @module
 */
import { memoryUsage } from "node:process";
import {
  Application,
  DiskLog,
  Ets,
  GenServer,
  Node,
  Pid,
  Process,
  Ref,
  remoteNodes,
  RemotePid,
  type Supervisor,
} from "../../../mod.ts";

type ChildInfo = Supervisor.ChildInfo;

/** Behaviours whose processes answer `which_children`. */
const SUPERVISOR_KINDS: ReadonlySet<string> = new Set(["Supervisor", "DynamicSupervisor", "Task.Supervisor"]);

/** One row of the process table. */
export interface ProcessSummary {
  /** `"<0.N.0>"`. */
  pid: string;
  /** The `N` of the pid. */
  id: number;
  /** Registered name, or null. */
  name: string | null;
  /** Its label (`Process.setLabel`) as text, e.g. `bucket "shopping"`, or null. */
  label: string | null;
  /** `GenServer`, `Agent`, `Supervisor`, `DynamicSupervisor`, `Task`, `EventManager`, `raw`, ... */
  behaviour: string;
  /** `waiting`, `runnable`, `running` or `suspended`. */
  status: string;
  /** Messages waiting in the mailbox. */
  messageQueueLen: number;
  /** Messages taken from the mailbox so far. */
  messagesHandled: number;
  /** Rough bytes held by the process structure and its mailbox. */
  memory: number;
  /** Linked processes. */
  links: string[];
  /** Processes this one monitors. */
  monitors: string[];
  /** Processes monitoring this one. */
  monitoredBy: string[];
  /** The process that spawned it, or null (plain code). */
  parent: string | null;
  /** Whether it traps exits. */
  trapExit: boolean;
}

/** A link or monitor between a local process and a process of another node. */
export interface RemoteRelation {
  /** `link`, `monitor` (this process watches the other) or `monitored by`. */
  kind: "link" | "monitor" | "monitored by";
  /** The other process: `"<node.N.S>"`, or `"name"` for a monitor by registered name. */
  pid: string;
  /** The other process's node. */
  node: string;
}

function remoteRelations(pid: Pid): RemoteRelation[] {
  const i = Process.info(pid);
  if (i === undefined) return [];
  const out: RemoteRelation[] = [];
  const add = (kind: RemoteRelation["kind"], list: readonly unknown[]) => {
    for (const p of list) {
      if (p instanceof RemotePid) out.push({ kind, pid: p.toString(), node: p.node });
      // A monitor by name is held as `[name, node]`.
      else if (Array.isArray(p) && p.length === 2 && typeof p[1] === "string") {
        out.push({ kind, pid: String(p[0]), node: p[1] });
      }
    }
  };
  add("link", i.links);
  add("monitor", i.monitors);
  add("monitored by", i.monitoredBy);
  return out;
}

/** {@linkcode processInfo}'s answer: a row plus a preview of the mailbox. */
export interface ProcessDetail extends ProcessSummary {
  /** The first queued messages, rendered as short strings. */
  messages: string[];
  /** Supervisors only: their children, one level deep. */
  children?: TreeNode[];
  /** What the describer of its label's tag said ({@linkcode describeLabel}), e.g. `{ keys: 3 }`. */
  details?: Record<string, string | number>;
  /** Its links and monitors with processes of other nodes (also in `links`, `monitors`, `monitoredBy`). */
  remote: RemoteRelation[];
}

/** Describes a labelled process for the detail panel: see {@linkcode describeLabel}. */
export type LabelDescriber = (pid: Pid) => Record<string, string | number> | Promise<Record<string, string | number>>;

const describers = new Map<string, LabelDescriber>();

/**
 * Registers what the detail panel shows about processes whose label is
 * `[tag, ...]` (or the string `tag`): `kv serve` registers `"bucket"`, whose
 * describer answers the bucket's key count. A describer that throws or takes
 * more than the detail's timeout is left out. `undefined` removes it.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Process } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * Observer.describeLabel("doc_worker", () => ({ jobs: 3 }));
 * const pid = Process.spawn(async ({ receive }) => {
 *   Process.setLabel(["doc_worker", "w1"]);
 *   await receive();
 * });
 * await Promise.resolve();
 * const d = (await Observer.processInfo(pid))!;
 * assert.equal(d.label, 'doc_worker "w1"');
 * assert.deepEqual(d.details, { jobs: 3 });
 * Process.exit(pid, "kill");
 * Observer.describeLabel("doc_worker", undefined);
 * ```
 *
 * @param tag The label's tag.
 * @param describer What to show, or `undefined` to forget the tag.
 */
export function describeLabel(tag: string, describer: LabelDescriber | undefined): void {
  if (describer === undefined) describers.delete(tag);
  else describers.set(tag, describer);
}

function tagOf(label: unknown): string | undefined {
  if (typeof label === "string") return label;
  if (Array.isArray(label) && typeof label[0] === "string") return label[0];
  return undefined;
}

/** Keys {@linkcode processes} can sort by. */
export type ProcessSortKey =
  | "id"
  | "name"
  | "behaviour"
  | "status"
  | "messageQueueLen"
  | "messagesHandled"
  | "memory";

/** Options for {@linkcode processes}. */
export interface ProcessListOptions {
  /** Sort key; default `"id"`. */
  sortBy?: ProcessSortKey;
  /** Descending order; default false for `id`, true for the numeric figures. */
  descending?: boolean;
  /** At most this many rows (after sorting). Default: all. */
  limit?: number;
}

/** One node of a supervision tree. */
export interface TreeNode {
  /** The pid, or null when the child is not running. */
  pid: string | null;
  /** The child id as its supervisor knows it (null for the root and dynamic children). */
  id: string | null;
  /** Registered name, or null. */
  name: string | null;
  /** Its label as text, or null. */
  label?: string | null;
  /** The process's behaviour, or null when it is not running. */
  behaviour: string | null;
  /** `worker` or `supervisor` (as the child spec says; the root is `supervisor`). */
  type: string;
  /** `running`, `restarting` (a failed restart is being retried), `undefined` (not running) or `busy` (did not answer in time). */
  state: "running" | "restarting" | "undefined" | "busy";
  /** Supervisors: their children, in start order. */
  children?: TreeNode[];
  /** Children left out past {@linkcode TreeOptions.maxChildren}. */
  omitted?: number;
}

/** Options for {@linkcode supervisionTree} and {@linkcode applications}. */
export interface TreeOptions {
  /** How long to wait for each supervisor's answer, in ms. Default 1000. */
  timeout?: number;
  /** At most this many children per supervisor. Default 500. */
  maxChildren?: number;
  /** How deep to go. Default 32. */
  maxDepth?: number;
}

/** One running application and its tree. */
export interface AppTree {
  /** The application's name. */
  name: string;
  /** Its `description`. */
  description: string;
  /** Its `version`. */
  version: string;
  /** The top process. */
  pid: string;
  /** The tree under the top process. */
  tree: TreeNode;
}

/** One ETS-like table. */
export interface EtsSummary {
  /** The table's unique number. */
  id: number;
  /** Its name. */
  name: string;
  /** Whether it is found by name (`named_table`). */
  named: boolean;
  /** Owner pid, or null when plain code owns it. */
  owner: string | null;
  /** The owner's registered name, if any. */
  ownerName: string | null;
  /** `set`, `ordered_set`, `bag` or `duplicate_bag`. */
  type: string;
  /** `public`, `protected` or `private`. */
  access: string;
  /** Number of objects. */
  size: number;
  /** Estimated bytes. */
  memory: number;
  /** Heir pid, or null. */
  heir: string | null;
}

/** System figures at one instant. */
export interface SystemInfo {
  /** Milliseconds since the epoch. */
  time: number;
  /** Live processes. */
  processes: number;
  /** Processes waiting to run. */
  runQueue: number;
  /** Processes spawned since start. */
  spawned: number;
  /** Processes exited since start. */
  exited: number;
  /** Messages dispatched since start. */
  dispatched: number;
  /** Messages dispatched per second over the last sampling interval (0 before the first). */
  messagesPerSecond: number;
  /** How late the last sampling timer fired, in ms (0 without a sampler). */
  eventLoopLag: number;
  /** JavaScript heap in use, in bytes. */
  heapUsed: number;
  /** Total heap, in bytes. */
  heapTotal: number;
  /** Resident set size, in bytes (0 if the runtime does not say). */
  rss: number;
  /** Registered names. */
  registered: number;
  /** ETS-like tables. */
  etsTables: number;
}

// ---------------------------------------------------------------- processes

function pidStr(p: Pid | undefined | null): string | null {
  return p == null ? null : p.toString();
}

function summarize(pid: Pid): ProcessSummary | undefined {
  const i = Process.info(pid);
  if (i === undefined) return undefined;
  return {
    pid: i.pid.toString(),
    id: i.pid.id,
    name: i.registeredName ?? null,
    label: i.label === undefined ? null : Process.formatLabel(i.label),
    behaviour: i.behaviour,
    status: i.status,
    messageQueueLen: i.messageQueueLen,
    messagesHandled: i.messagesHandled,
    memory: i.memory,
    links: i.links.map(String),
    monitors: i.monitors.map(String),
    monitoredBy: i.monitoredBy.map(String),
    parent: pidStr(i.parent),
    trapExit: i.trapExit,
  };
}

const NUMERIC: ReadonlySet<string> = new Set(["messageQueueLen", "messagesHandled", "memory"]);

/**
 * Every live process, as table rows, sorted and possibly cut to `limit`.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Process } from "../../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * const row = Observer.processes().find((p) => p.pid === String(pid))!;
 * console.assert(row.behaviour === "raw");
 * Process.exit(pid, "kill");
 * ```
 */
export function processes(opts?: ProcessListOptions): ProcessSummary[] {
  const rows: ProcessSummary[] = [];
  for (const pid of Process.list()) {
    const s = summarize(pid);
    if (s !== undefined) rows.push(s);
  }
  const key = opts?.sortBy ?? "id";
  const desc = opts?.descending ?? NUMERIC.has(key);
  const sign = desc ? -1 : 1;
  rows.sort((a, b) => {
    const x = a[key] ?? "";
    const y = b[key] ?? "";
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * sign : a.id - b.id;
  });
  const limit = opts?.limit;
  if (limit !== undefined && limit >= 0 && rows.length > limit) rows.length = limit;
  return rows;
}

/** The live process with this pid id (a scan, as `table.get` was: introspection only). */
function byId(id: number): Pid | undefined {
  return Process.list().find((pid) => pid.id === id);
}

/** Finds a live process by pid, `"<0.N.0>"`, `"N"`, N, or registered name. */
function findPid(ref: Pid | string | number): Pid | undefined {
  if (ref instanceof Pid) return Process.isAlive(ref) ? ref : undefined;
  if (typeof ref === "number") return Number.isSafeInteger(ref) ? byId(ref) : undefined;
  const m = /^(?:<0\.(\d{1,15})\.0>|(\d{1,15}))$/.exec(ref);
  if (m !== null) return byId(Number(m[1] ?? m[2]));
  return Process.whereis(ref);
}

/**
 * Resolves a pid, `"<0.N.0>"`, `"N"`, a number or a registered name to a live
 * pid, or `undefined`.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Process } from "../../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * console.assert(Observer.resolvePid(String(pid)) === pid);
 * console.assert(Observer.resolvePid(pid.id) === pid);
 * Process.exit(pid, "kill");
 * console.assert(Observer.resolvePid(pid.id) === undefined);
 * ```
 */
export function resolvePid(ref: Pid | string | number): Pid | undefined {
  return findPid(ref);
}

/**
 * Everything about one live process (see {@linkcode ProcessDetail}), or
 * `undefined` if there is none. A supervisor also lists its children.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Process } from "../../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive("never"); });
 * Process.send(pid, { hello: "world" });
 * const d = (await Observer.processInfo(pid))!;
 * console.assert(d.messageQueueLen === 1 && d.messages[0].includes("hello"));
 * Process.exit(pid, "kill");
 * ```
 */
export async function processInfo(
  ref: Pid | string | number,
  opts?: { maxMessages?: number; timeout?: number },
): Promise<ProcessDetail | undefined> {
  const pid = findPid(ref);
  if (pid === undefined) return undefined;
  const s = summarize(pid);
  const queued = Process.messages(pid, opts?.maxMessages ?? 20);
  if (s === undefined || queued === undefined) return undefined;
  const messages = queued.map((m) => preview(m, 200));
  const detail: ProcessDetail = { ...s, messages, remote: remoteRelations(pid) };
  const tag = tagOf(Process.getLabel(pid));
  const describer = tag === undefined ? undefined : describers.get(tag);
  if (describer !== undefined) {
    try {
      const timeout = opts?.timeout ?? 1000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), timeout));
      const details = await Promise.race([Promise.resolve(describer(pid)), late]);
      clearTimeout(timer);
      if (details !== undefined) detail.details = details;
    } catch {
      // A failing describer only leaves the details out.
    }
  }
  if (SUPERVISOR_KINDS.has(s.behaviour)) {
    const node = await supervisionTree(pid, { timeout: opts?.timeout, maxDepth: 1 });
    detail.children = node.children;
  }
  return detail;
}

// ---------------------------------------------------------------- trees

async function childrenOf(sup: Pid, timeout: number): Promise<ChildInfo[] | undefined> {
  try {
    const r = await GenServer.call<readonly ["which_children"], readonly [string, unknown]>(
      sup,
      ["which_children"],
      timeout,
    );
    return r[0] === "ok" ? r[1] as ChildInfo[] : undefined;
  } catch {
    return undefined;
  }
}

function leaf(pid: Pid | undefined, id: string | null, type: string): TreeNode {
  const i = pid === undefined ? undefined : Process.info(pid);
  const alive = i !== undefined;
  return {
    pid: alive ? i.pid.toString() : null,
    id,
    name: alive ? i.registeredName ?? null : null,
    label: alive && i.label !== undefined ? Process.formatLabel(i.label) : null,
    behaviour: alive ? i.behaviour : null,
    type,
    state: alive ? "running" : "undefined",
  };
}

async function grow(node: TreeNode, pid: Pid, depth: number, o: Required<TreeOptions>): Promise<void> {
  if (node.behaviour === null || !SUPERVISOR_KINDS.has(node.behaviour) || depth >= o.maxDepth) return;
  const listed = await childrenOf(pid, o.timeout);
  if (listed === undefined) {
    if (Process.isAlive(pid)) node.state = "busy";
    return;
  }
  // A Supervisor lists its children newest first, as OTP does; the tree shows them in start order.
  const kids = node.behaviour === "Supervisor" ? listed.slice().reverse() : listed;
  const shown = kids.length > o.maxChildren ? kids.slice(0, o.maxChildren) : kids;
  if (shown.length < kids.length) node.omitted = kids.length - shown.length;
  node.children = [];
  const pending: Promise<void>[] = [];
  for (const k of shown) {
    const id = k.id === undefined ? null : typeof k.id === "symbol" ? k.id.toString() : String(k.id);
    if (k.pid === "restarting") {
      node.children.push({ pid: null, id, name: null, behaviour: null, type: k.type, state: "restarting" });
      continue;
    }
    const child = leaf(k.pid, id, k.type);
    node.children.push(child);
    if (k.pid !== undefined && child.pid !== null) pending.push(grow(child, k.pid, depth + 1, o));
  }
  await Promise.all(pending);
}

/**
 * The supervision tree under `root`, built from `which_children`
 * recursively. A process that is not a supervisor is a leaf; a supervisor
 * that does not answer within the timeout is marked `busy`.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Agent, DynamicSupervisor, Supervisor } from "../../../mod.ts";
 * const sup = await Supervisor.startLink([
 *   { id: "dyn", type: "supervisor", start: () => DynamicSupervisor.startLink() },
 * ], { strategy: "one_for_one" });
 * const [dyn] = await Supervisor.whichChildren(sup);
 * await DynamicSupervisor.startChild(dyn.pid as any, { id: "a", start: () => Agent.startLink(() => 1) });
 * const tree = await Observer.supervisionTree(sup);
 * console.assert(tree.children![0].children![0].behaviour === "Agent");
 * await Supervisor.stop(sup);
 * ```
 */
export async function supervisionTree(root: Pid | string, opts?: TreeOptions): Promise<TreeNode> {
  const o: Required<TreeOptions> = {
    timeout: opts?.timeout ?? 1000,
    maxChildren: opts?.maxChildren ?? 500,
    maxDepth: opts?.maxDepth ?? 32,
  };
  const pid = typeof root === "string" ? Process.whereis(root) : root;
  const node = leaf(pid, null, "supervisor");
  if (pid !== undefined && node.pid !== null) await grow(node, pid, 0, o);
  return node;
}

/**
 * Every running application with its supervision tree.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * console.assert(Array.isArray(await Observer.applications()));
 * ```
 */
export async function applications(opts?: TreeOptions): Promise<AppTree[]> {
  return await Promise.all(
    Application.which().map(async (a) => ({
      name: a.name,
      description: a.description,
      version: a.version,
      pid: a.pid.toString(),
      tree: await supervisionTree(a.pid, opts),
    })),
  );
}

// ---------------------------------------------------------------- ETS

/**
 * Every live ETS-like table with its owner, type, access, size and memory.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Ets } from "../../../mod.ts";
 * const t = Ets.new("doc_observer_ets", { access: "public" });
 * const row = Observer.etsTables().find((r) => r.name === "doc_observer_ets")!;
 * console.assert(row.access === "public" && row.size === 0);
 * Ets.delete(t);
 * ```
 */
export function etsTables(): EtsSummary[] {
  const out: EtsSummary[] = [];
  for (const t of Ets.all()) {
    const i = Ets.info(t);
    if (i === undefined) continue;
    out.push({
      id: i.id,
      name: i.name,
      named: i.named,
      owner: pidStr(i.owner),
      ownerName: i.owner === undefined ? null : Process.info(i.owner)?.registeredName ?? null,
      type: i.type,
      access: i.access,
      size: i.size,
      memory: i.memory,
      heir: pidStr(i.heir),
    });
  }
  return out;
}

// ---------------------------------------------------------------- disk logs

/** One open disk log, as the page shows it. */
export interface DiskLogSummary {
  /** The log's name. */
  name: string;
  /** The directory of its files. */
  dir: string;
  /** `"always"`, `"everysec"` or `"no"`. */
  policy: string;
  /** Where an `"always"` log's fdatasync runs: `"inline"` or `"thread"`. */
  fsync: string;
  /** The owner process. */
  owner: string | null;
  /** Every file, oldest first (the last is appended to). */
  files: { path: string; kind: "incremental" | "base"; bytes: number }[];
  /** Sum of the files' sizes. */
  bytes: number;
  /** Bytes appended and not yet durable under the policy. */
  pendingBytes: number;
  /** Bytes written and not yet synced. */
  unsyncedBytes: number;
  /** When the last fdatasync completed (ms since the epoch), or null. */
  lastSync: number | null;
  /** Records appended since it opened. */
  records: number;
  /** fdatasync calls since it opened. */
  fsyncs: number;
  /** Compactions since it opened. */
  compactions: number;
  /** A full disk stopped writing. */
  full: boolean;
}

/**
 * Every open {@linkcode DiskLog}: policy, files and sizes, last sync,
 * pending bytes.
 *
 * @example
 * ```ts
 * import { diskLogs } from "./introspect.ts";
 * console.assert(Array.isArray(diskLogs()));
 * ```
 */
export function diskLogs(): DiskLogSummary[] {
  const out: DiskLogSummary[] = [];
  for (const name of DiskLog.accessibleLogs()) {
    let i: DiskLog.LogInfo;
    try {
      i = DiskLog.info(name);
    } catch {
      continue; // closed meanwhile
    }
    out.push({
      name: i.name,
      dir: i.dir,
      policy: i.policy,
      fsync: i.fsync,
      owner: pidStr(i.owner),
      files: i.files,
      bytes: i.files.reduce((n, f) => n + f.bytes, 0),
      pendingBytes: i.pendingBytes,
      unsyncedBytes: i.appended - i.synced,
      lastSync: i.lastSync,
      records: i.records,
      fsyncs: i.fsyncs,
      compactions: i.compactions,
      full: i.full,
    });
  }
  return out;
}

// ---------------------------------------------------------------- system

let lastRate = 0;
let lastLag = 0;

function heap(): { heapUsed: number; heapTotal: number; rss: number } {
  try {
    const m = memoryUsage();
    return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss ?? 0 };
  } catch {
    return { heapUsed: 0, heapTotal: 0, rss: 0 };
  }
}

/**
 * System figures now. `messagesPerSecond` and `eventLoopLag` come from the
 * running {@linkcode Sampler} (0 when none runs).
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * const s = Observer.system();
 * console.assert(s.processes >= 0 && s.heapUsed > 0);
 * ```
 */
export function system(): SystemInfo {
  const totals = Process.statistics();
  return {
    time: Date.now(),
    processes: totals.processes,
    runQueue: totals.runQueue,
    spawned: totals.spawned,
    exited: totals.exited,
    dispatched: totals.dispatched,
    messagesPerSecond: lastRate,
    eventLoopLag: lastLag,
    ...heap(),
    registered: Process.registered().length,
    etsTables: Ets.all().length,
  };
}

/** Options for {@linkcode startSampler}. */
export interface SamplerOptions {
  /** Sampling period in ms. Default 1000. */
  interval?: number;
  /** Samples kept. Default 120. */
  history?: number;
}

/** A running sampler of {@linkcode system} figures. */
export interface Sampler {
  /** The samples kept, oldest first. */
  samples(): SystemInfo[];
  /** Stops sampling. Idempotent. */
  stop(): void;
}

/**
 * Samples the system figures every `interval` ms, measuring messages per
 * second and event-loop lag (how late each timer fires), and keeps the last
 * `history` samples for charts. Call `stop()` when done.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * const s = Observer.startSampler({ interval: 1000 });
 * console.assert(s.samples().length === 1);
 * s.stop();
 * ```
 */
export function startSampler(opts?: SamplerOptions): Sampler {
  const interval = Math.max(10, opts?.interval ?? 1000);
  const keep = Math.max(1, opts?.history ?? 120);
  const kept: SystemInfo[] = [system()];
  let lastAt = performance.now();
  let lastDispatched = Process.statistics().dispatched;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const now = performance.now();
    const elapsed = now - lastAt;
    lastLag = Math.max(0, elapsed - interval);
    const dispatched = Process.statistics().dispatched;
    lastRate = elapsed > 0 ? Math.round((dispatched - lastDispatched) * 1000 / elapsed) : 0;
    lastAt = now;
    lastDispatched = dispatched;
    kept.push(system());
    if (kept.length > keep) kept.splice(0, kept.length - keep);
    timer = setTimeout(tick, interval);
  };
  timer = setTimeout(tick, interval);
  return {
    samples: () => kept.slice(),
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

// ---------------------------------------------------------------- kill

/**
 * Sends `pid` an exit signal (default reason `kill`, which cannot be trapped),
 * as Observer's "kill process". Returns false if no such process is alive.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * import { Process } from "../../../mod.ts";
 * const pid = Process.spawn(async ({ receive }) => { await receive(); });
 * console.assert(Observer.kill(String(pid)) === true);
 * console.assert(!Process.isAlive(pid));
 * ```
 */
export function kill(ref: Pid | string | number, reason: unknown = "kill"): boolean {
  const pid = resolvePid(ref);
  if (pid === undefined) return false;
  Process.exit(pid, reason);
  return true;
}

// ---------------------------------------------------------------- preview

/**
 * A short, safe rendering of any value (a queued message, a reason): pids and
 * refs in Erlang form, cycles and depth cut, at most `max` characters.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * console.assert(Observer.preview(["ok", { n: 1 }]) === '["ok", {n: 1}]');
 * ```
 */
export function preview(value: unknown, max = 200): string {
  const out: string[] = [];
  let len = 0;
  const seen = new Set<object>();
  const put = (s: string) => {
    out.push(s);
    len += s.length;
  };
  const walk = (v: unknown, depth: number): void => {
    if (len > max) return;
    switch (typeof v) {
      case "string":
        put(JSON.stringify(v.length > max ? v.slice(0, max) : v));
        return;
      case "number":
      case "boolean":
        put(String(v));
        return;
      case "bigint":
        put(`${v}n`);
        return;
      case "undefined":
        put("undefined");
        return;
      case "symbol":
        put(v.toString());
        return;
      case "function":
        put(`[Function ${v.name || "anonymous"}]`);
        return;
    }
    if (v === null) return put("null");
    const o = v as object;
    if (o instanceof Pid || o instanceof Ref) return put(o.toString());
    if (o instanceof Error) return put(`${o.name}: ${o.message}`);
    if (seen.has(o) || depth > 4) return put("…");
    seen.add(o);
    if (Array.isArray(o)) {
      put("[");
      o.forEach((x, i) => {
        if (i > 0) put(", ");
        if (len <= max) walk(x, depth + 1);
      });
      put("]");
    } else if (o instanceof Map) {
      put(`Map(${o.size})`);
    } else if (o instanceof Set) {
      put(`Set(${o.size})`);
    } else if (o instanceof Uint8Array) {
      put(`<<${o.length} bytes>>`);
    } else {
      const ctor = (o as { constructor?: { name?: string } }).constructor?.name;
      put(ctor && ctor !== "Object" ? `${ctor} {` : "{");
      let first = true;
      for (const k of Object.keys(o)) {
        if (len > max) break;
        put(first ? `${k}: ` : `, ${k}: `);
        first = false;
        walk((o as Record<string, unknown>)[k], depth + 1);
      }
      put("}");
    }
    seen.delete(o);
  };
  try {
    walk(value, 0);
  } catch {
    return "[unprintable]";
  }
  const s = out.join("");
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

// ---------------------------------------------------------------- nodes

/** {@linkcode nodes}'s answer. */
export interface NodesInfo {
  /** This node's name (`nonode@nohost` when not distributed). */
  self: string;
  /** Whether this runtime is a distributed node. */
  alive: boolean;
  /** Each other node: connected or not, and the links, monitors and calls held with it. */
  nodes: Array<{
    node: string;
    state: "connected" | "not connected";
    links: number;
    monitors: number;
    monitoredBy: number;
    pendingCalls: number;
  }>;
}

/**
 * This node and the nodes it knows: connected ones, and any it still holds
 * a link, monitor or call with.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * const n = Observer.nodes();
 * console.assert(n.self === "nonode@nohost" && !n.alive && n.nodes.length === 0);
 * ```
 */
export function nodes(): NodesInfo {
  return {
    self: Node.self(),
    alive: Node.isAlive(),
    nodes: remoteNodes().map((n) => ({
      node: n.node,
      state: n.connected ? "connected" : "not connected",
      links: n.links,
      monitors: n.monitors,
      monitoredBy: n.monitoredBy,
      pendingCalls: n.pendingCalls,
    })),
  };
}
