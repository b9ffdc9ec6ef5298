/**
 * Mailbox assertions for tests, as ExUnit gives them: run test code as a
 * process with {@linkcode testProcess}, then wait for messages with
 * {@linkcode assertReceive} or make sure none came with
 * {@linkcode refuteReceive}. Patterns are what `Process.receive` takes: a
 * predicate, or a shape where `_` matches anything.
 *
 * @example In a node:test test
 * ```ts
 * import { Process, _ } from "../../mod.ts";
 * import { assertReceive, refuteReceive, testProcess } from "./assert_receive.ts";
 * await testProcess(async ({ self }) => {
 *   Process.spawn(() => Process.send(self, ["pong", 42]));
 *   const [, n] = await assertReceive<[string, number]>(["pong", _]);
 *   console.assert(n === 42);
 *   await refuteReceive(["pong", _], 10);
 * });
 * ```
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { currentProc, findMatch, linksOf, type Proc, ProcessExit } from "../process/_runtime.ts";
import { type Pattern, toMatcher } from "../process/pattern.ts";
import {
  DownMessage,
  exit,
  monitor,
  type ProcessContext,
  receive,
  run,
  type SpawnOptions,
  TIMEOUT,
  unlink,
} from "../process/process.ts";
import { formatReason } from "../process/reason.ts";
import type { Pid } from "../process/pid.ts";

/**
 * An `assertReceive` or `refuteReceive` failed. `mailbox` holds what was in
 * the caller's mailbox when it failed, oldest first.
 */
export class ReceiveAssertionError extends AssertionError {
  /** The pattern asserted or refuted. */
  readonly pattern: unknown;
  /** The caller's mailbox at the time of the failure, oldest first. */
  readonly mailbox: readonly unknown[];
  /**
   * Creates the error.
   *
   * @param message The message.
   * @param pattern The pattern.
   * @param mailbox The mailbox.
   * @param operator The assertion.
   */
  constructor(message: string, pattern: unknown, mailbox: readonly unknown[], operator: string) {
    super({ message, operator, actual: mailbox, expected: pattern });
    this.name = "AssertionError";
    this.pattern = pattern;
    this.mailbox = mailbox;
  }
}

function callerOrThrow(what: string): Proc {
  const p = currentProc();
  if (p === null) {
    throw new Error(`${what} must be called from a process (use testProcess or Process.run)`);
  }
  return p;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return v.name === "" ? "<predicate>" : `<predicate ${v.name}>`;
  if (typeof v === "symbol") return v.description === "_" ? "_" : String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (v instanceof DownMessage) return `DownMessage { ref: ${v.ref}, pid: ${v.pid}, reason: ${show(v.reason)} }`;
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(", ")} }`;
  }
  if (v !== null && typeof v === "object" && !(v instanceof Error) && v.toString === Object.prototype.toString) {
    const name = v.constructor?.name ?? "Object";
    return `${name} { ${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(", ")} }`;
  }
  return formatReason(v);
}

function showMailbox(mailbox: readonly unknown[]): string {
  if (mailbox.length === 0) return "The mailbox is empty";
  const shown = mailbox.slice(0, 20).map((m) => `  ${show(m)}`);
  if (mailbox.length > 20) shown.push(`  ... and ${mailbox.length - 20} more`);
  return `The mailbox holds ${mailbox.length} message(s):\n${shown.join("\n")}`;
}

/**
 * Waits up to `timeout` ms (default 100) for a message matching `pattern` in
 * the calling process's mailbox, takes it out and resolves to it. Rejects with
 * {@linkcode ReceiveAssertionError}, showing the mailbox, if none arrives in
 * time. With `timeout` 0 it only looks at what is already there. Messages that
 * do not match stay queued, in order. Must be called from a process.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * import { assertReceive, testProcess } from "./assert_receive.ts";
 * await testProcess(async ({ self }) => {
 *   Process.send(self, { hello: "world" });
 *   const msg = await assertReceive<{ hello: string }>({ hello: "world" });
 *   console.assert(msg.hello === "world");
 * });
 * ```
 */
export async function assertReceive<T = any>(pattern?: Pattern, timeout: number = 100): Promise<T> {
  const p = callerOrThrow("assertReceive");
  const msg = await receive<T>(pattern, timeout);
  if (msg !== TIMEOUT) return msg;
  const mailbox = p.pending();
  throw new ReceiveAssertionError(
    `Expected to receive a message matching ${show(pattern)} within ${timeout} ms. ${showMailbox(mailbox)}`,
    pattern,
    mailbox,
    "assertReceive",
  );
}

/**
 * Resolves if no message matching `pattern` arrives within `timeout` ms
 * (default 100); rejects with {@linkcode ReceiveAssertionError} as soon as one
 * does (the message is taken out of the mailbox). Its timer is gone when it
 * settles. Must be called from a process.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * import { refuteReceive, testProcess } from "./assert_receive.ts";
 * await testProcess(async ({ self }) => {
 *   Process.send(self, "other");
 *   await refuteReceive("unexpected", 5);
 * });
 * ```
 */
export async function refuteReceive(pattern?: Pattern, timeout: number = 100): Promise<void> {
  const p = callerOrThrow("refuteReceive");
  const msg = await receive(pattern, timeout);
  if (msg === TIMEOUT) return;
  const mailbox = [msg, ...p.pending()];
  throw new ReceiveAssertionError(
    `Expected not to receive a message matching ${show(pattern)} within ${timeout} ms, got ${show(msg)}. ${
      showMailbox(mailbox)
    }`,
    pattern,
    mailbox,
    "refuteReceive",
  );
}

/**
 * The messages in the calling process's mailbox that match `pattern` (all of
 * them when omitted), oldest first, without taking them out. Must be called
 * from a process.
 *
 * @example
 * ```ts
 * import { Process } from "../../mod.ts";
 * import { mailbox, testProcess } from "./assert_receive.ts";
 * await testProcess(async ({ self }) => {
 *   Process.send(self, 1);
 *   Process.send(self, 2);
 *   console.assert(mailbox().length === 2);
 *   await Process.receive();
 *   await Process.receive();
 * });
 * ```
 */
export function mailbox(pattern?: Pattern): unknown[] {
  const p = callerOrThrow("mailbox");
  const match = toMatcher(pattern);
  const out: unknown[] = [];
  for (let i = findMatch(p, match, p.mqHead); i >= 0; i = findMatch(p, match, i + 1)) out.push(p.mq![i]);
  return out;
}

/** Options for {@linkcode testProcess}. */
export interface TestProcessOptions extends Pick<SpawnOptions, "trapExit" | "name"> {
  /**
   * How long (ms) each process still linked to the test process gets to exit
   * on `shutdown` once the body has returned, before it is killed. Default 5000.
   */
  shutdown?: number;
}

/**
 * Runs `body` as a new process (so it has a mailbox, can link, monitor and
 * `assertReceive`) and resolves with its result, like `Process.run`, with two
 * differences that suit tests:
 *
 * - a failure rejects with what the body threw (an `AssertionError` stays an
 *   `AssertionError`), not a wrapped exit reason; an exit signal that kills
 *   the test process rejects with `Process.ProcessExitError`;
 * - when the body returns or throws, every process still linked to the test
 *   process is stopped, newest link first, as ExUnit's test process does on
 *   exit: it is unlinked, sent exit `shutdown`, and waited for (killed after
 *   `opts.shutdown` ms). So nothing a test started with `startLink` outlives it.
 *
 * @example
 * ```ts
 * import { GenServer, Process } from "../../mod.ts";
 * import { testProcess } from "./assert_receive.ts";
 * let server: Process.Pid | undefined;
 * await testProcess(async () => {
 *   server = await GenServer.startLink({ init: () => ["ok", 0] }, undefined);
 * });
 * console.assert(!Process.isAlive(server!));
 * ```
 */
export async function testProcess<T>(
  body: (ctx: ProcessContext) => T | Promise<T>,
  opts?: TestProcessOptions,
): Promise<Awaited<T>> {
  const spawnOpts: SpawnOptions = { trapExit: opts?.trapExit, name: opts?.name };
  const grace = opts?.shutdown ?? 5000;
  let failure: { error: unknown } | null = null;
  try {
    return await run(async (ctx) => {
      try {
        return await body(ctx);
      } catch (e) {
        if (!(e instanceof ProcessExit)) failure = { error: e };
        throw e;
      } finally {
        await stopLinked(callerOrThrow("testProcess"), grace);
      }
    }, spawnOpts);
  } catch (e) {
    if (failure !== null) throw (failure as { error: unknown }).error;
    throw e;
  }
}

async function stopLinked(p: Proc, grace: number): Promise<void> {
  for (;;) {
    const linked = linksOf(p);
    if (linked.length === 0) return;
    const target = linked[linked.length - 1];
    await stopOne(target.pid, grace);
  }
}

async function stopOne(pid: Pid, grace: number): Promise<void> {
  const ref = monitor(pid);
  unlink(pid);
  exit(pid, "shutdown");
  const down = await receive<DownMessage>({ ref }, grace);
  if (down === TIMEOUT) {
    exit(pid, "kill");
    await receive<DownMessage>({ ref });
  }
}
