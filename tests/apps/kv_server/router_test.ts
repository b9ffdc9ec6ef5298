// The router's store and protocol, in one process (the cluster itself is
// tests/apps/kv/cluster_test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { GenServer, Term } from "../../../mod.ts";
import { RoutedStore, startRouter } from "../../../lib/apps/kv_server/router.ts";
import { MapStore } from "../../../lib/apps/kv_server/map_store.ts";
import { parse, replyBytes } from "../../../lib/apps/kv_server/command.ts";
import * as KVSupervisor from "../../../lib/apps/kv/kv_supervisor.ts";
import { Supervisor } from "../../../mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (r: unknown) => new TextDecoder().decode(r as Uint8Array);

test("a read split across nodes: unrouted and unreachable buckets answer ERROR, in request order", async () => {
  const store = new RoutedStore(new MapStore(), {
    table: [{ first: 97, last: 109, node: "me@h" }, { first: 110, last: 122, node: "off@h" }],
    self: () => "me@h",
  });
  const commands = ["CREATE a", "PUT a k 1", "GET z k", "GET a k", "GET 1 k", "junk"].map((l) => parse(enc(l)));
  const replies = await new Promise<unknown[]>((resolve) => {
    const r = store.executeMany(commands, resolve);
    if (r !== undefined) resolve(r);
  });
  // Not distributed here: the call to off@h cannot even be tried.
  assert.deepEqual(replies.map((r) => text(replyBytes(r as Uint8Array))), [
    "OK\r\n",
    "OK\r\n",
    "ERROR nodedown off@h\r\n",
    "1\r\nOK\r\n",
    "ERROR no route\r\n",
    "UNKNOWN COMMAND\r\n",
  ]);
});

test("the router answers {route, Commands, Hops} with the reply bytes, and badarg to anything else", async () => {
  const kv = await KVSupervisor.startLink({ prefix: "router_test." });
  const sup = await startRouter({
    prefix: "router_test.",
    router: "router_test.Router",
    tasks: "router_test.Tasks",
    table: [],
  });
  const A = Symbol.for;
  const cmds = new Term.List([
    [A("create"), enc("b")],
    [A("put"), enc("b"), enc("k"), enc("v")],
    [
      A("get"),
      enc("b"),
      enc("k"),
    ],
    [A("get"), enc("nope"), enc("k")],
    [A("what")],
  ]);
  const reply = await GenServer.call("router_test.Router", [A("route"), cmds, 1]) as Term.List;
  assert.deepEqual(reply.items.map(text), ["OK\r\n", "OK\r\n", "v\r\nOK\r\n", "NOT FOUND\r\n", "UNKNOWN COMMAND\r\n"]);
  assert.equal(await GenServer.call("router_test.Router", "hello"), A("badarg"));
  await Supervisor.stop(sup);
  await Supervisor.stop(kv);
});
