/**
 * The KV server of Elixir's "Mix and OTP" guide: the text protocol
 * (`CREATE`, `PUT`, `GET`, `DELETE`) over TCP, served on top of the KV
 * application. {@linkcode Server} is the `kv_server` application (acceptor and
 * a supervised process per connection); {@linkcode Command} parses and runs
 * one protocol line; {@linkcode LineReader} splits a byte stream into lines;
 * {@linkcode serveConnection} is the connection loop over any store;
 * {@linkcode MapStore} and {@linkcode RegistryStore} are the stores (a plain
 * map for tests and benchmarks, and the KV application's registry).
 *
 * @example
 * ```ts
 * import * as KVServer from "./mod.ts";
 * import assert from "node:assert/strict";
 * const store = new KVServer.MapStore();
 * const ask = (line: string) =>
 *   new TextDecoder().decode(
 *     KVServer.Command.run(KVServer.Command.parse(new TextEncoder().encode(line)), store) as Uint8Array,
 *   );
 * assert.equal(ask("CREATE shopping"), "OK\r\n");
 * assert.equal(ask("PUT shopping milk 1"), "OK\r\n");
 * assert.equal(ask("GET shopping milk"), "1\r\nOK\r\n");
 * ```
 *
 * @module
 */
export * as Server from "./server.ts";
export * as Command from "./command.ts";
export { DEFAULT_MAX_LINE_LENGTH, LineReader, type LineReaderOptions, type LineSink } from "./line_reader.ts";
export { serveConnection, type ServeConnectionOptions, type ServedConnection } from "./serve_connection.ts";
export { MapStore } from "./map_store.ts";
export { RegistryStore, registryStore } from "./kv_store.ts";
// The store contract, flat as well as in `Command`: the stores and `serveConnection` name it.
export type { Awaitable, KvStore, Reply } from "./command.ts";
export type { Command as ParsedCommand } from "./command.ts";
export type { ServerEnv, ServerOptions } from "./server.ts";
