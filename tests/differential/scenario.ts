/**
 * What a TypeScript scenario is, and how one runs: as a fresh process (the
 * scenario's main process) whose events go to a {@linkcode Trace}, ending with
 * `{end,Reason}`; processes it leaves behind are killed. The BEAM side
 * (`beam/difftrace.erl`) does the same.
 */
import { type Pid, Process } from "../../mod.ts";
import { Trace } from "./trace.ts";

/** Given to a scenario body. */
export interface Ctx {
  /** Records one event. */
  ev(term: unknown): void;
  /** Receives one message, or "timeout" after `ms`. */
  recv(ms: number, pattern?: Process.Pattern): Promise<unknown>;
  /** Records ["recv", m] for each message until `stop(m)` (included) or `ms` of silence (["recv","timeout"]). */
  collect(stop: (m: unknown) => boolean, ms: number): Promise<unknown>;
}

/** One scenario: the same name as its BEAM twin. */
export interface Scenario {
  name: string;
  /** The row of the README's table of deviations this scenario shows (an expected difference). */
  deviation?: string;
  /**
   * A known difference with a fix under way (e.g. "issue 12 item 8"): expected
   * to differ until the fix lands, when the mark must go.
   */
  pending?: string;
  run(ctx: Ctx): unknown;
}

const SCENARIO_TIMEOUT = 4000;

/** Runs one scenario; returns its trace lines. */
export async function runScenario(s: Scenario): Promise<string[]> {
  const trace = new Trace();
  const ctx: Ctx = {
    ev: (t) => trace.ev(t),
    async recv(ms, pattern) {
      const m = await Process.receive(pattern, ms);
      return m === Process.TIMEOUT ? "timeout" : m;
    },
    async collect(stop, ms) {
      for (;;) {
        const m = await Process.receive(undefined, ms);
        if (m === Process.TIMEOUT) {
          trace.ev(["recv", "timeout"]);
          return "timeout";
        }
        trace.ev(["recv", m]);
        if (stop(m)) return m;
      }
    },
  };
  const before = new Set(Process.list().map((p) => p.id));
  let main: Pid | undefined;
  const end = await Process.run(async ({ receive }) => {
    const [pid, ref] = Process.spawnMonitor(() => s.run(ctx));
    main = pid;
    const down = await receive<Process.DownMessage>({ ref }, SCENARIO_TIMEOUT);
    if (down === Process.TIMEOUT) {
      Process.exit(pid, "kill");
      return "hang";
    }
    return down.reason;
  });
  trace.ev(["end", end]);
  for (const p of Process.list()) {
    if (!before.has(p.id) && p !== main) Process.exit(p, "kill");
  }
  return trace.lines;
}

/** True for a DOWN message. */
export function isDown(m: unknown): boolean {
  return m instanceof Process.DownMessage;
}

/** True for an EXIT message. */
export function isExit(m: unknown): boolean {
  return m instanceof Process.ExitMessage;
}

/** Spawns a process that traps exits (or not), tells `to` "ready", and forwards every message as ["got", m]. */
export function forwarder(to: Pid, trap: boolean, opts?: { link?: boolean }): Pid {
  return Process.spawn(async ({ receive }) => {
    Process.send(to, "ready");
    for (;;) Process.send(to, ["got", await receive()]);
  }, { trapExit: trap, link: opts?.link });
}

/** Spawns a process that waits forever. */
export function idle(opts?: Process.SpawnOptions): Pid {
  return Process.spawn(async ({ receive }) => {
    await receive(() => false);
  }, opts);
}

/**
 * The reason of a failure, as the BEAM side prints it: `reason`, or `badarg`
 * for any other error the library throws (its "bad input gets a clear error"
 * is Erlang's `badarg`; an ETS error's finer code, `no_table`, `access`,
 * `name_taken`, is what OTP's extended error info says of the same `badarg`).
 */
export function reasonOf(e: unknown): unknown {
  if (e !== null && typeof e === "object") {
    if ((e as { name?: string }).name === "EtsError") return "badarg";
    if ("reason" in e) return (e as { reason: unknown }).reason;
  }
  return e instanceof Error ? "badarg" : e;
}

/** Runs `fn`; ["ok", value] or ["caught", reason]. */
export async function attempt(fn: () => unknown): Promise<unknown> {
  try {
    return ["ok", await fn()];
  } catch (e) {
    return ["caught", reasonOf(e)];
  }
}
