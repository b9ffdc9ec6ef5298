// A KV cluster of three `kv serve --name ... --routes ...` processes on
// loopback (the runtime running the test): a protocol transcript through any
// node gives the single node's bytes; killing a node makes only its ranges
// answer ERROR; restarting it restores service (its buckets start empty).
// And a mixed cluster where one node is a small Erlang program speaking the
// router's message protocol (fixtures/kv_router.erl).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Client, ROOT, type ServeProcess, spawnServe } from "../../_kv_server_helpers.ts";
import { once, type Peer, PEER_TEST, startBeam, uniqueName } from "../../node/_helpers.ts";
import { beamSkip } from "../../node/_beam.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const CLI = `${ROOT}lib/apps/kv_server/cli.ts`;
const COOKIE = "cluster_test_cookie";

function serve(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const all = ["serve", "--port", "0", ...args];
  return spawnServe(process.execPath, isDeno ? ["run", "-A", CLI, ...all] : [CLI, ...all], env);
}

/** First bytes of bucket names, one or more per range of the routes below. */
const FIRSTS = ["a", "h", "j", "r", "s", "~", "\xff"];

/**
 * A pipelined transcript over buckets of every range (names are `first + tag`,
 * so a fresh `tag` gives fresh buckets with the same replies).
 */
function transcript(tag: string): string {
  let request = "";
  for (const f of FIRSTS) {
    const b = `${f}${tag}`;
    request += `GET ${b} k\r\nPUT ${b} k 1\r\nCREATE ${b}\r\nCREATE ${b}\r\nGET ${b} k\r\nPUT ${b} k v\xe9\r\n`;
  }
  for (let i = 0; i < 40; i++) {
    const b = `${FIRSTS[i % FIRSTS.length]}${tag}`;
    request +=
      `PUT ${b} k${i} ${i}\r\nGET ${b} k${i}\r\nbad line\r\nGET ${b} k\r\nDELETE ${b} k${i}\r\nGET ${b} k${i}\r\n`;
  }
  return request;
}

async function run(port: number, request: string): Promise<string> {
  const c = await Client.open(port);
  c.end(request);
  await c.closed;
  return c.received;
}

/** Splits a reply stream into one reply per request line (a GET hit is two lines). */
function perRequest(request: string, replies: string): string[] {
  const out: string[] = [];
  let at = 0;
  for (const line of request.split("\r\n").slice(0, -1)) {
    let end = replies.indexOf("\r\n", at) + 2;
    const first = replies.slice(at, end);
    const isGet = line.startsWith("GET ");
    if (isGet && !first.startsWith("NOT FOUND") && !first.startsWith("ERROR")) end = replies.indexOf("\r\n", end) + 2;
    out.push(replies.slice(at, end));
    at = end;
  }
  return out;
}

describe("a three-node KV cluster", () => {
  const names = [uniqueName("kva"), uniqueName("kvb"), uniqueName("kvc")];
  const routes = `!-h=${names[0]}@localhost,i-r=${names[1]}@localhost,s-~=${names[2]}@localhost,\x80-\xff=${
    names[0]
  }@localhost`;
  const nodes: ServeProcess[] = [];
  const started: ServeProcess[] = [];
  let single: ServeProcess;

  const startNode = async (i: number) => {
    const n = await serve(["--name", `${names[i]}@localhost`, "--routes", routes], { KV_COOKIE: COOKIE });
    started.push(n);
    nodes[i] = n;
  };

  // Started by the first test (Bun gives a `before` hook 5 s, whatever it asks).
  const ready = once(async () => {
    single = await serve([]);
    started.push(single);
    for (let i = 0; i < 3; i++) await startNode(i);
  });
  after(async () => {
    for (const s of started) await s.stop("SIGKILL");
  });

  test("the transcript through each node gives the single node's bytes", PEER_TEST, async () => {
    await ready();
    const expected = await run(single.port, transcript("t0"));
    assert.ok(expected.includes("v\xe9\r\nOK\r\n") && expected.includes("UNKNOWN COMMAND"));
    for (let i = 0; i < 3; i++) {
      const got = await run(nodes[i].port, transcript(`t${i + 1}`));
      assert.equal(got, expected, `through node ${i}`);
    }
    // The data of one node's clients is the data of every node's.
    assert.equal(await run(nodes[2].port, `GET a${"t1"} k\r\nGET s${"t1"} k\r\n`), "v\xe9\r\nOK\r\nv\xe9\r\nOK\r\n");
  });

  test("a bucket with no route answers ERROR at once; the rest of the read is served", PEER_TEST, async () => {
    await ready();
    assert.equal(
      await run(nodes[0].port, "CREATE x\r\nCREATE \x01x\r\nCREATE ax\r\n"),
      "OK\r\nERROR no route\r\nOK\r\n",
    );
  });

  test("a killed node: only its ranges answer ERROR; restarted, it serves again (empty)", PEER_TEST, async () => {
    await ready();
    const request = transcript("k");
    const before = await run(nodes[0].port, request);
    await nodes[2].stop("SIGKILL");
    const lines = request.split("\r\n").slice(0, -1);
    const down = perRequest(request, await run(nodes[0].port, request));
    const up = perRequest(request, before);
    for (let i = 0; i < lines.length; i++) {
      const bucket = lines[i].split(" ")[1] ?? "";
      const onDeadNode = bucket !== "" && "s~".includes(bucket[0]) && !lines[i].startsWith("bad");
      if (onDeadNode) assert.match(down[i], /^ERROR \S+/, `line ${i}: ${lines[i]}`);
      else if (lines[i].startsWith("CREATE") || lines[i].startsWith("bad")) assert.equal(down[i], up[i]);
      else assert.doesNotMatch(down[i], /^ERROR/, `line ${i}: ${lines[i]}`);
    }
    await startNode(2);
    assert.equal(
      await run(nodes[0].port, "GET sk k\r\nCREATE sk\r\nPUT sk k back\r\nGET sk k\r\nGET ak k0\r\n"),
      "NOT FOUND\r\nOK\r\nOK\r\nback\r\nOK\r\n\r\nOK\r\n",
    );
  });
});

describe("a mixed cluster: two kv serve nodes and an Erlang node", { skip: beamSkip("cluster_test.ts") }, () => {
  const names = [uniqueName("kvx"), uniqueName("kvy"), uniqueName("erlkv")];
  const routes = `!-h=${names[0]}@localhost,i-r=${names[1]}@localhost,s-~=${names[2]}@localhost,\x80-\xff=${
    names[0]
  }@localhost`;
  const started: ServeProcess[] = [];
  let erl: Peer | undefined;
  let dir = "";

  const ready = once(async () => {
    dir = mkdtempSync(join(tmpdir(), "kv_router_"));
    execFileSync("erlc", ["-o", dir, `${ROOT}tests/apps/kv/fixtures/kv_router.erl`]);
    erl = await startBeam(names[2], COOKIE, `code:add_patha("${dir}"), kv_router:start().`, "ready ");
    started.push(await serve([]));
    for (let i = 0; i < 2; i++) {
      started.push(await serve(["--name", `${names[i]}@localhost`, "--routes", routes], { KV_COOKIE: COOKIE }));
    }
  });
  after(async () => {
    for (const s of started) await s.stop("SIGKILL");
    await erl?.kill();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("the transcript through either TypeScript node gives the single node's bytes", PEER_TEST, async () => {
    await ready();
    const [single, x, y] = started;
    const expected = await run(single.port, transcript("m0"));
    assert.equal(await run(x.port, transcript("m1")), expected);
    assert.equal(await run(y.port, transcript("m2")), expected);
    assert.equal(await run(y.port, "GET sm1 k\r\n"), "v\xe9\r\nOK\r\n");
  });
});
