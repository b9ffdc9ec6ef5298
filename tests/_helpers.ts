/** Small helpers shared by the core tests. */
import { Process } from "../mod.ts";
import type { Pid } from "../mod.ts";

/** Spawns a process that forwards every message it gets to `to` as ["got", msg]. */
export function forwarder(to: Pid, trapExit: boolean): Pid {
  return Process.spawn(async ({ receive }) => {
    for (;;) {
      const m = await receive();
      Process.send(to, ["got", m]);
    }
  }, { trapExit });
}

/** Spawns a process that waits forever. */
export function idle(opts?: Process.SpawnOptions): Pid {
  return Process.spawn(async ({ receive }) => {
    await receive(() => false);
  }, opts);
}

/** From inside a process: monitors `pid` and waits for its DOWN reason. */
export async function reasonOf(pid: Pid, ref = Process.monitor(pid)): Promise<unknown> {
  const down = await Process.receive<Process.DownMessage>({ ref }, 2000);
  if (down === Process.TIMEOUT) throw new Error(`no DOWN from ${pid}`);
  return down.reason;
}

/**
 * Waits until `cond()` holds, checking every few ms, for state with no message
 * or event to wait on (a connection's tick counter, a peer's socket, a restarted tree); fails
 * naming `what` after `timeoutMs`.
 */
export async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
