// Operable logs: a failure answered ERROR is one line, rate-limited with a "suppressed N" summary; nothing is
// logged per request at the default level.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Logger } from "../../../mod.ts";
import * as Server from "../../../lib/apps/kv_server/server.ts";
import { MapStore } from "../../../lib/apps/kv_server/mod.ts";
import type { KvStore } from "../../../lib/apps/kv_server/command.ts";
import { Client } from "../../_kv_server_helpers.ts";

test("ERROR replies: one line each, at most 10 a second, then one 'suppressed N' line", async () => {
  const store = new MapStore();
  const failing: KvStore<Map<string, string>> = {
    create: (bucket) => store.create(bucket),
    lookup: (bucket) => store.lookup(bucket),
    get: () => {
      throw new Error("disk on fire\n    at a stack trace that must not reach the log");
    },
    put: (bucket, key, value) => store.put(bucket, key, value),
    delete: (bucket, key) => store.delete(bucket, key),
  };
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const previous = Logger.setHandler((level, message) => {
    lines.push(`${level}: ${message}`);
    wake?.();
  });
  const sup = await Server.startLink({ port: 0, store: failing });
  try {
    const c = await Client.open(Server.address(sup)!.port);
    await c.ask("CREATE b\r\nPUT b k v\r\n", "OK\r\nOK\r\n");
    // At the default level, served requests log nothing.
    assert.equal(lines.length, 0, lines.join("\n"));
    await c.ask("GET b k\r\n".repeat(100), "ERROR\r\n".repeat(100));
    while (!lines.some((l) => l.includes("suppressed"))) await new Promise<void>((resolve) => wake = resolve);
    const errors = lines.filter((l) => l.includes("answered ERROR"));
    assert.ok(errors.length <= 10, `${errors.length} lines`);
    for (const line of errors) {
      assert.equal(
        line,
        "error: KV server: answered ERROR: Error: disk on fire at a stack trace that must not reach the log",
      );
    }
    const suppressed = Number(/suppressed (\d+) ERROR replies/.exec(lines.find((l) => l.includes("suppressed"))!)![1]);
    assert.ok(errors.length + suppressed >= 100);
    await c.finish();
  } finally {
    await Server.stop(sup);
    Logger.setHandler(previous);
  }
});
