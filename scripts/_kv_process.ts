/**
 * Starts `kv serve --port 0` as a child process of the given runtime (from
 * `node_modules/.bin`) for the scripts that measure a whole server process
 * (`slow_readers.ts`, `bucket_memory.ts`), and resolves once it prints
 * `listening on`.
 *
 * @module
 */
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A running `kv serve`: its OS pid, its port, and a SIGTERM that resolves with the exit code. */
export interface KvProcess {
  pid: number;
  port: number;
  /** The Observer's port, when started with `--observer`. */
  observerPort?: number;
  stop: () => Promise<number | null>;
}

/**
 * Starts `kv serve` under `runtime` (`"bun"` or `"deno"`).
 *
 * @param runtime The runtime's name in `node_modules/.bin`.
 * @param extraArgs Further `serve` flags.
 * @returns Once the server listens (and, with `--observer`, the Observer too); rejects if it exits first.
 */
export async function startKvServer(runtime: string, extraArgs: readonly string[] = []): Promise<KvProcess> {
  const binary = `${ROOT}node_modules/.bin/${runtime}`;
  const cli = `${ROOT}lib/apps/kv_server/cli.ts`;
  const args = [...(runtime === "deno" ? ["run", "-A"] : []), cli, "serve", "--port", "0", ...extraArgs];
  const child = spawn(binary, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, DENO_NO_PACKAGE_JSON: "1" },
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const withObserver = extraArgs.includes("--observer");
  const [port, observerPort] = await new Promise<[number, number | undefined]>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      const o = /observer on http:\/\/[^\s]+:(\d+)/.exec(out);
      if (m !== null && (!withObserver || o !== null)) resolve([Number(m[1]), o === null ? undefined : Number(o[1])]);
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening`)));
  });
  return {
    pid: child.pid!,
    port,
    ...(observerPort === undefined ? {} : { observerPort }),
    stop: () => (child.kill("SIGTERM"), exited),
  };
}
