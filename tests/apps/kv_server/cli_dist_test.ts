// kv serve's distribution flags: --name, --cookie, --routes, $KV_COOKIE, $KV_ROUTES.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../../lib/apps/kv_server/cli.ts";

test("--name/--cookie/--routes, and the environment's KV_COOKIE and KV_ROUTES", () => {
  const inv = parseArgs(["serve", "--name", "foo@localhost", "--cookie", "c", "--routes", "a-m=foo@localhost"], {});
  assert.equal(inv.command, "serve");
  assert.deepEqual(inv.command === "serve" && inv.distribution, {
    name: "foo@localhost",
    cookie: "c",
    routes: [{ first: 97, last: 109, node: "foo@localhost" }],
  });
  const env = parseArgs(["serve", "--name=bar"], { KV_COOKIE: "e", KV_ROUTES: "n-z=bar@localhost" });
  assert.deepEqual(env.command === "serve" && env.distribution, {
    name: "bar",
    cookie: "e",
    routes: [{ first: 110, last: 122, node: "bar@localhost" }],
  });
  // Without --name: the single node, whatever the environment says.
  const single = parseArgs(["serve"], { KV_ROUTES: "a-z=x@h", KV_COOKIE: "e" });
  assert.equal(single.command === "serve" && single.distribution, undefined);
});

test("bad distribution flags are usage errors", () => {
  assert.throws(
    () => parseArgs(["serve", "--routes", "a-m=x@h"], {}),
    (e) => e instanceof UsageError && /needs --name/.test(e.message),
  );
  assert.throws(() => parseArgs(["serve", "--name", "bad name"], {}), UsageError);
  assert.throws(
    () => parseArgs(["serve", "--name", "a", "--routes", "a-m"], {}),
    (e) => e instanceof UsageError && /--routes/.test(e.message),
  );
  assert.throws(
    () => parseArgs(["serve", "--name", "a"], { KV_ROUTES: "zz" }),
    (e) => e instanceof UsageError && /KV_ROUTES/.test(e.message),
  );
});
