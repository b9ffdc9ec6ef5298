/**
 * Networking for servers built on the library: a callback-based TCP contract
 * with one adapter per runtime (`Bun.listen`, `Deno.listen`, `node:net`), a
 * small HTTP/1.1 server on top of it, and the runtime detection they share.
 * The KV server and the Observer use only this entry point; a third-party
 * server can do the same.
 *
 * Hot-path seams that go with it live in the main entry point:
 * `Process.runAfter` (run the processes an I/O callback woke before the
 * callback returns), `GenServer.callWith` and `Agent.updateWith` (replies
 * through callbacks, no promise), `Agent.prepareUpdate` (an update request
 * built once, sent many times).
 *
 * @example Echo server
 * ```ts
 * import { connect, listen } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const server = await listen({ hostname: "127.0.0.1", port: 0 }, (conn) => ({
 *   data(bytes) { conn.write(bytes); },
 * }));
 * const received = Promise.withResolvers<string>();
 * const client = await connect({ hostname: "127.0.0.1", port: server.port }, () => ({
 *   data(bytes) { received.resolve(new TextDecoder().decode(bytes)); },
 * }));
 * client.write(new TextEncoder().encode("hi"));
 * assert.equal(await received.promise, "hi");
 * client.close();
 * await server.close();
 * ```
 *
 * @module
 */
export {
  AddressInUseError,
  connect,
  type ConnectOptions,
  DEFAULT_HIGH_WATER_MARK,
  listen,
  type ListenOptions,
  type TcpAcceptor,
  type TcpAdapter,
  type TcpConnection,
  type TcpConnectionHandler,
  type TcpListener,
} from "./tcp.ts";
export {
  type HttpHandler,
  type HttpRequest,
  type HttpResponse,
  type HttpServeOptions,
  type HttpServer,
  json,
  serve,
  STATUS_TEXT,
  text,
} from "./http.ts";
export { detectRuntime, type Runtime, runtime } from "./runtime.ts";
export { canCollectGarbage, collectGarbage } from "./memory.ts";
