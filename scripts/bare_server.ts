/**
 * The bare KV server: the same TCP adapters, line reader and protocol loop
 * as the real server, over a plain `Map` store, with no processes. It is the
 * baseline `scripts/bench_server.ts` measures the actor-based server against.
 *
 * ```sh
 * bun scripts/bare_server.ts --port 0
 * deno run -A scripts/bare_server.ts --port 0
 * ```
 *
 * Prints `listening on HOST:PORT` once bound; SIGINT/SIGTERM close it.
 *
 * @module
 */

import process from "node:process";
import { listen, type TcpListener } from "../lib/net/tcp.ts";
import { MapStore } from "../lib/apps/kv_server/map_store.ts";
import { serveConnection } from "../lib/apps/kv_server/serve_connection.ts";

/** Where the bare server listens. */
export interface BareServerOptions {
  /** Defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** Defaults to 4040; `0` picks a free port. */
  port?: number;
}

/**
 * Starts the bare server.
 *
 * @param options Where to listen.
 * @returns The listener.
 */
export function startBareServer(options: BareServerOptions = {}): Promise<TcpListener> {
  const store = new MapStore();
  return listen(
    { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 4040 },
    (conn) => serveConnection(conn, store),
  );
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const port = Number(option(args, "--port") ?? process.env.PORT ?? 4040);
  const hostname = option(args, "--host") ?? "127.0.0.1";
  const listener = await startBareServer({ hostname, port });
  console.log(`listening on ${listener.hostname}:${listener.port}`);
  const stop = async () => {
    await listener.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
