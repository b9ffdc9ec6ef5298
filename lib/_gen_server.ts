/**
 * The GenServer loop: the behaviour object a server's process runs, its
 * system messages, and how a server is spawned. Shared by `gen_server.ts`,
 * `agent.ts`, `event_manager.ts` and the supervisors, which start their
 * processes as GenServers of their own kind. Not part of the public API.
 *
 * @module
 */
import type { Pid } from "./process/pid.ts";
import { schedule, type Timer } from "./process/_timers.ts";
import {
  als,
  type Behaviour,
  currentProc,
  DEAD,
  deliver,
  die,
  linkProcs,
  lookup,
  never,
  type Proc,
  ProcessExit,
  spawnProc,
  unlinkProcs,
  wake,
} from "./process/_runtime.ts";
import { registerProc } from "./process/_spawn.ts";
import { ExitMessage } from "./process/messages.ts";
import { formatReason } from "./process/reason.ts";
import type { Callbacks, Continue, From, StartOptions } from "./gen_server.ts";

/** A GenServer start failed; `reason` says why (see the module doc). */
export class StartError extends Error {
  /** The failure reason: init's stop reason, `"ignore"`, `["already_started", pid]`, ... */
  readonly reason: unknown;
  constructor(reason: unknown) {
    super(`Start failed: ${formatReason(reason)}`);
    this.name = "StartError";
    this.reason = reason;
  }
}

/** Messages the GenServer loop itself understands (one `instanceof` for all). */
class SystemMessage {}
export class CallMessage extends SystemMessage {
  constructor(readonly from: From<any>, readonly request: unknown) {
    super();
  }
}
export class CastMessage extends SystemMessage {
  constructor(readonly request: unknown) {
    super();
  }
}
export class StopMessage extends SystemMessage {
  constructor(readonly reason: unknown) {
    super();
  }
}
export class TimeoutMessage extends SystemMessage {}

export type AnyCallbacks = Callbacks<any, any>;

/**
 * What a server shares with every other server of its callbacks and kind:
 * the callbacks, its kind, and whether any callback is `async` (computed once
 * per callbacks object). One field per server instead of three: a million
 * agents are buckets, and every field counts (JSC's object sizes step by 16
 * bytes: six fields take 64, seven or eight 80).
 */
interface Compiled {
  readonly cb: AnyCallbacks;
  readonly kind: string;
  readonly asyncAny: boolean;
  /** The first element of the servers' `[tag, value]` labels (see {@linkcode GenServerProcess.setLabelTag}). */
  readonly labelTag: string | undefined;
  /** The untagged descriptor these share, and its tagged variants (made on first use). */
  readonly base: Compiled;
  variants: Map<string, Compiled> | null;
}
const compiled = new WeakMap<object, Map<string, Compiled>>();
function compile(cb: AnyCallbacks, kind: string): Compiled {
  let byKind = compiled.get(cb);
  if (byKind === undefined) compiled.set(cb, byKind = new Map());
  let c = byKind.get(kind);
  if (c === undefined) {
    const isAsync = (f: unknown) => typeof f === "function" && f.constructor?.name === "AsyncFunction";
    const asyncAny = isAsync(cb.init) || isAsync(cb.handleCall) || isAsync(cb.handleCast) ||
      isAsync(cb.handleInfo) || isAsync(cb.handleContinue) || isAsync(cb.terminate);
    c = describe(cb, kind, asyncAny, undefined, undefined);
    byKind.set(kind, c);
  }
  return c;
}
/** A descriptor; every one has the same fields in the same order (one shape for the hot path). */
function describe(
  cb: AnyCallbacks,
  kind: string,
  asyncAny: boolean,
  labelTag: string | undefined,
  base: Compiled | undefined,
): Compiled {
  const c = { cb, kind, asyncAny, labelTag, base: undefined as unknown as Compiled, variants: null };
  (c as { base: Compiled }).base = base ?? c;
  return c;
}
/** Distinct label tags per descriptor, past which a label is kept whole on the pid instead. */
const MAX_LABEL_TAGS = 64;

/**
 * A server's state before its `init` returned: a field's value instead of a
 * `starting` flag, one field fewer per server.
 */
const NOT_STARTED: unique symbol = Symbol("not started");

/**
 * The call being handled right now, until it is answered or held, and its
 * server: one pair for all servers rather than a field on each, since only
 * one server's callback runs synchronously at a time (a dispatch never runs
 * inside another). The field it frees counts the server's messages.
 */
let inflightServer: GenServerProcess | null = null;
let inflightFrom: From<any> | null = null;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === "object" && typeof (v as PromiseLike<unknown>).then === "function";
}

/** The behaviour object plugged into a GenServer's process. */
export class GenServerProcess implements Behaviour {
  /** What it shares with the servers of its callbacks, kind and label tag. */
  compiled: Compiled;
  /** The callbacks' state; {@linkcode NOT_STARTED} until `init` has returned. */
  state: unknown = NOT_STARTED;
  proc!: Proc;
  timer: Timer | null = null;
  /** Messages handled (see `Behaviour.handled`). */
  handled = 0;
  /**
   * The parent, whose exit signal stops a trapping server: the starter of
   * `startLink`. A server from `start` is its own parent, as in OTP, so an
   * exit signal from its starter is an ordinary `handleInfo` message.
   */
  parent: Proc | null = null;
  constructor(cb: AnyCallbacks, kind: string) {
    this.compiled = compile(cb, kind);
  }

  /** The callbacks. */
  get cb(): AnyCallbacks {
    return this.compiled.cb;
  }

  /** The tag of its `[tag, value]` label, if it has one (see {@linkcode setLabelTag}). */
  get labelTag(): string | undefined {
    return this.compiled.labelTag;
  }

  /**
   * Keeps the tag of a `[tag, value]` label in the descriptor this server
   * shares with the servers of its callbacks and tag, so that the pid keeps
   * only the value: a million buckets labelled `["bucket", name]` pay for
   * no label array (the name is their registry's key already). Returns false
   * (keep the label whole) past {@linkcode MAX_LABEL_TAGS} tags.
   */
  setLabelTag(tag: string | undefined): boolean {
    const base = this.compiled.base;
    if (tag === undefined) {
      this.compiled = base;
      return true;
    }
    let variant = base.variants?.get(tag);
    if (variant === undefined) {
      const variants = base.variants ??= new Map();
      if (variants.size >= MAX_LABEL_TAGS) {
        this.compiled = base;
        return false;
      }
      variant = describe(base.cb, base.kind, base.asyncAny, tag, base);
      variants.set(tag, variant);
    }
    this.compiled = variant;
    return true;
  }

  /** True until `init` has returned: a failure then is reported to the starter. */
  get starting(): boolean {
    return this.state === NOT_STARTED;
  }

  /** Kind shown by introspection ("GenServer", "Agent", ...). */
  get kind(): string {
    return this.compiled.kind;
  }

  /** Calls a callback; async ones run in the process's async context so `self()` holds after `await`. */
  invoke(fn: (...args: any[]) => unknown, a: unknown, b?: unknown, c?: unknown): unknown {
    const compiled = this.compiled;
    if (compiled.asyncAny) return als.run(this.proc, () => fn.call(compiled.cb, a, b, c));
    return fn.call(compiled.cb, a, b, c);
  }

  handle(msg: unknown): unknown {
    if (this.timer !== null) {
      this.timer.cancel();
      this.timer = null;
    }
    // A synchronous callback is called here, not through `invoke`: 6-10% of the
    // 1,000-pair ping-pong figure (`scripts/bench_ab.ts --only=ping-pong`, and one
    // process per run alternating trees, per CPU second).
    const compiled = this.compiled;
    const cb = compiled.cb;
    try {
      if (msg instanceof SystemMessage) {
        if (msg instanceof CallMessage) {
          const from = msg.from;
          // A crash from here on fails this call with the reason.
          inflightServer = this;
          inflightFrom = from;
          const handleCall = cb.handleCall;
          if (handleCall === undefined) {
            throw new Error(`attempted to call GenServer ${this.proc.pid} but no handleCall callback was provided`);
          }
          const r = this.then(
            compiled.asyncAny
              ? this.invoke(handleCall, msg.request, from, this.state)
              : handleCall.call(cb, msg.request, from, this.state),
            from,
          );
          // Not answered yet (noreply, or async): the caller must hear if the server dies.
          if (from.resolve !== null) from.hold();
          inflightServer = inflightFrom = null;
          return r;
        }
        if (msg instanceof CastMessage) {
          const handleCast = cb.handleCast;
          if (handleCast === undefined) {
            throw new Error(`attempted to cast GenServer ${this.proc.pid} but no handleCast callback was provided`);
          }
          return this.then(
            compiled.asyncAny
              ? this.invoke(handleCast, msg.request, this.state)
              : handleCast.call(cb, msg.request, this.state),
            null,
          );
        }
        if (msg instanceof StopMessage) return this.stop(msg.reason);
        msg = "timeout";
      } else if (msg instanceof ExitMessage && this.parent !== null && msg.from === this.parent.pid) {
        return this.stop(msg.reason);
      }
      const handleInfo = cb.handleInfo;
      if (handleInfo === undefined) return undefined; // unknown messages are dropped, as the guide explains
      return this.then(
        compiled.asyncAny ? this.invoke(handleInfo, msg, this.state) : handleInfo.call(cb, msg, this.state),
        null,
      );
    } catch (e) {
      if (inflightServer === this) {
        // The call in flight must hear the crash even if an async `terminate`
        // lets other servers run (and take the shared pair) before this one dies.
        inflightFrom!.hold();
        inflightServer = inflightFrom = null;
      }
      return this.crash(e);
    }
  }

  /** Calls still queued when the server dies fail with its reason (they hold no monitor). */
  dying(queued: unknown[] | null, from: number, reason: unknown): boolean {
    let told = this.starting;
    if (inflightServer === this) {
      const inflight = inflightFrom!;
      inflightServer = inflightFrom = null;
      told = inflight.resolve !== null;
      inflight.fail(reason);
    }
    if (queued === null) return told;
    for (let i = from; i < queued.length; i++) {
      const m = queued[i];
      if (m instanceof CallMessage) {
        told ||= m.from.resolve !== null;
        m.from.fail(reason);
      }
    }
    return told;
  }

  private then(r: unknown, from: From<any> | null): unknown {
    if (isThenable(r)) {
      return (r as Promise<unknown>).then((v) => this.apply(v, from), (e) => this.crash(e));
    }
    return this.apply(r, from);
  }

  private apply(r: unknown, from: From<any> | null): unknown {
    if (this.proc.state === DEAD) return undefined;
    if (Array.isArray(r)) {
      const tag = r[0];
      if (tag === "noreply" && (r.length === 2 || r.length === 3)) {
        this.state = r[1];
        return r.length === 3 ? this.extra(r[2]) : undefined;
      }
      if (tag === "reply" && from !== null && (r.length === 3 || r.length === 4)) {
        this.state = r[2];
        from.answer(r[1]);
        return r.length === 4 ? this.extra(r[3]) : undefined;
      }
      if (tag === "stop" && r.length === 4 && from !== null) {
        this.state = r[3];
        from.answer(r[2]);
        return this.stop(r[1]);
      }
      if (tag === "stop" && r.length === 3) {
        this.state = r[2];
        return this.stop(r[1]);
      }
    }
    return this.crash(new Error(`bad return value from a GenServer callback: ${formatReason(r)}`));
  }

  private extra(x: unknown): unknown {
    if (typeof x === "number") {
      if (x !== Infinity) {
        const proc = this.proc;
        this.timer = schedule(x, () => {
          this.timer = null;
          deliver(proc, new TimeoutMessage());
        });
      }
      return undefined;
    }
    if (x !== null && typeof x === "object" && "continue" in x) {
      const cb = this.compiled.cb;
      if (cb.handleContinue === undefined) {
        return this.crash(new Error(`GenServer ${this.proc.pid} returned a continue but has no handleContinue`));
      }
      try {
        return this.then(this.invoke(cb.handleContinue, (x as Continue).continue, this.state), null);
      } catch (e) {
        return this.crash(e);
      }
    }
    return this.crash(new Error(`bad timeout or continue value: ${formatReason(x)}`));
  }

  /** Runs `terminate` (if any), then ends the process with `reason`. */
  stop(reason: unknown): unknown {
    const proc = this.proc;
    if (proc.state === DEAD) return undefined; // killed while a callback was pending
    const t = this.cb.terminate;
    if (t !== undefined) {
      let r: unknown;
      try {
        r = this.invoke(t, reason, this.state);
      } catch (e) {
        die(proc, ["error", e]);
        return undefined;
      }
      if (isThenable(r)) {
        return (r as Promise<unknown>).then(() => die(proc, reason), (e) => die(proc, ["error", e]));
      }
    }
    die(proc, reason);
    return undefined;
  }

  private crash(e: unknown): unknown {
    return this.stop(e instanceof ProcessExit ? e.reason : ["error", e]);
  }

  /** Runs `init` in the new process and settles the start promise. */
  init(arg: unknown, resolve: (pid: Pid) => void, reject: (e: unknown) => void, linked: Proc | null): unknown {
    const proc = this.proc;
    const fail = (reason: unknown, exitReason: unknown) => {
      if (linked !== null) unlinkProcs(proc, linked);
      reject(new StartError(reason));
      die(proc, exitReason);
    };
    const settle = (r: unknown): unknown => {
      if (proc.state === DEAD) return undefined;
      if (r === "ignore") return fail("ignore", "normal");
      if (Array.isArray(r)) {
        if (r[0] === "ok" && (r.length === 2 || r.length === 3)) {
          this.state = r[1];
          resolve(proc.pid);
          return r.length === 3 ? this.extra(r[2]) : undefined;
        }
        if (r[0] === "stop" && r.length === 2) return fail(r[1], r[1]);
      }
      const e = ["error", new Error(`bad return value from init: ${formatReason(r)}`)];
      return fail(e, e);
    };
    let r: unknown;
    try {
      r = this.invoke(this.cb.init, arg);
    } catch (e) {
      const reason = e instanceof ProcessExit ? e.reason : ["error", e];
      return fail(reason, reason);
    }
    if (isThenable(r)) {
      return (r as Promise<unknown>).then(settle, (e) => {
        const reason = e instanceof ProcessExit ? e.reason : ["error", e];
        fail(reason, reason);
      });
    }
    return settle(r);
  }
}

/** Spawns a server process with the given behaviour (a GenServer, an Agent, a supervisor, ...). */
export function startBehaviour(
  server: GenServerProcess,
  arg: unknown,
  opts: StartOptions | undefined,
  link: boolean,
): Promise<Pid> {
  const parent = currentProc();
  if (parent !== null && parent.state === DEAD) return never();
  return new Promise<Pid>((resolve, reject) => {
    const proc = spawnProc(parent, server.kind, null, server);
    server.proc = proc;
    if (opts?.name !== undefined) {
      try {
        registerProc(opts.name, proc);
      } catch (e) {
        die(proc, "normal");
        const holder = lookup(opts.name);
        reject(holder !== null ? new StartError(["already_started", holder.pid]) : e);
        return;
      }
    }
    const linked = link && parent !== null ? parent : null;
    if (linked !== null) linkProcs(linked, proc);
    server.parent = linked;
    let timer: Timer | null = null;
    let settled = false;
    // A starter that died meanwhile is told nothing.
    const starterGone = () => parent !== null && parent.state === DEAD;
    const done = (pid: Pid) => {
      settled = true;
      if (timer !== null) timer.cancel();
      if (!starterGone()) resolve(pid);
    };
    const failed = (e: unknown) => {
      settled = true;
      if (timer !== null) timer.cancel();
      if (!starterGone()) reject(e);
    };
    if (opts?.timeout !== undefined && opts.timeout !== Infinity) {
      timer = schedule(opts.timeout, () => {
        if (settled) return;
        settled = true;
        if (linked !== null) unlinkProcs(proc, linked);
        die(proc, "killed");
        if (!starterGone()) reject(new StartError("timeout"));
      });
    }
    proc.init = () => server.init(arg, done, failed, linked);
    wake(proc);
  });
}
