// deno-lint-ignore-file no-explicit-any
// The Observer's introspection functions and its JSON API over real HTTP on
// 127.0.0.1: tree shape for a known tree, kill restarts a permanent child,
// read-only mode refuses kills, and the page's assets are served (and in sync
// with lib/apps/observer/page.*).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import type { Buffer } from "node:buffer";
import * as Observer from "../../../lib/apps/observer/mod.ts";
import { Agent, Application, DynamicSupervisor, Ets, GenServer, Process, Supervisor } from "../../../mod.ts";
import type { Pid } from "../../../mod.ts";
import { assetsModule } from "../../../lib/apps/observer/build_assets.ts";

let unique = 0;

/**
 * Starts an application `obs_test_N` whose tree is:
 *
 *   Supervisor (one_for_one, named)
 *   ├── "cache"   Agent (permanent)
 *   ├── "workers" DynamicSupervisor, with two Agents
 *   └── "server"  GenServer (named)
 */
async function startKnownApp(): Promise<{ name: string; top: Pid; stop(): Promise<void> }> {
  const n = ++unique;
  const name = `obs_test_${n}`;
  const spec = Application.define({
    name,
    version: "1.2.3",
    async start() {
      const top = await Supervisor.startLink([
        { id: "cache", start: () => Agent.startLink(() => new Map()) },
        { id: "workers", type: "supervisor", start: () => DynamicSupervisor.startLink({ name: `${name}.workers` }) },
        {
          id: "server",
          start: () =>
            GenServer.startLink(
              { init: () => ["ok", 0], handleCall: (_r: unknown, _f, s: number) => ["reply", s, s] },
              undefined,
              {
                name: `${name}.server`,
              },
            ),
        },
      ], { strategy: "one_for_one", name: `${name}.sup` });
      for (let i = 0; i < 2; i++) {
        await DynamicSupervisor.startChild(`${name}.workers`, { id: "w", start: () => Agent.startLink(() => i) });
      }
      return top;
    },
  });
  await Application.start(spec);
  return {
    name,
    top: Application.getSupervisor(name)!,
    stop: async () => {
      await Application.stop(name);
      Application.unload(name);
    },
  };
}

/** Sends `raw` over a plain socket; resolves with everything read until the server closes. */
function rawRequest(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const sock = net.connect({ host: "127.0.0.1", port }, () => sock.write(raw));
    sock.on("data", (b: Buffer) => out += b.toString("latin1"));
    sock.on("error", reject);
    sock.on("close", () => resolve(out));
  });
}

async function getJson(base: string, path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(base + path);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text), headers: res.headers };
}

async function postKill(
  base: string,
  pid: string,
  headers: Record<string, string> = { "content-type": "application/json" },
) {
  const res = await fetch(`${base}api/process/${encodeURIComponent(pid)}/kill`, {
    method: "POST",
    headers,
    body: "{}",
  });
  return { status: res.status, body: await res.json() };
}

/** The tree without pids: what the shape test compares. */
function shape(n: Observer.TreeNode): unknown {
  return {
    id: n.id,
    name: n.name,
    behaviour: n.behaviour,
    type: n.type,
    state: n.state,
    ...(n.children ? { children: n.children.map(shape) } : {}),
  };
}

test("observer: supervisionTree and /api/apps give the known tree's shape", async () => {
  const app = await startKnownApp();
  const obs = await Observer.start({ port: 0 });
  try {
    const expected = {
      id: null,
      name: `${app.name}.sup`,
      behaviour: "Supervisor",
      type: "supervisor",
      state: "running",
      children: [
        { id: "cache", name: null, behaviour: "Agent", type: "worker", state: "running" },
        {
          id: "workers",
          name: `${app.name}.workers`,
          behaviour: "DynamicSupervisor",
          type: "supervisor",
          state: "running",
          children: [
            { id: null, name: null, behaviour: "Agent", type: "worker", state: "running" },
            { id: null, name: null, behaviour: "Agent", type: "worker", state: "running" },
          ],
        },
        { id: "server", name: `${app.name}.server`, behaviour: "GenServer", type: "worker", state: "running" },
      ],
    };
    const direct = await Observer.supervisionTree(app.top);
    assert.deepEqual(shape(direct), expected);
    assert.equal(direct.pid, String(app.top));

    const { status, body, headers } = await getJson(obs.url, "api/apps");
    assert.equal(status, 200);
    assert.match(headers.get("content-type")!, /^application\/json/);
    const mine = body.applications.find((a: any) => a.name === app.name);
    assert.ok(mine, "the application is listed");
    assert.equal(mine.version, "1.2.3");
    assert.equal(mine.pid, String(app.top));
    assert.deepEqual(shape(mine.tree), expected);
    // Every pid in the tree is a live process the table lists, and the tree's parents are right.
    const procs = (await getJson(obs.url, "api/processes")).body;
    const byPid = new Map<string, any>(procs.processes.map((p: any) => [p.pid, p]));
    const workers = mine.tree.children[1];
    for (const w of workers.children) {
      assert.equal(byPid.get(w.pid)?.behaviour, "Agent");
      assert.ok(byPid.get(w.pid).links.includes(workers.pid), "a dynamic child is linked to its supervisor");
    }
    assert.equal(byPid.get(mine.tree.pid)?.name, `${app.name}.sup`);
  } finally {
    await obs.close();
    await app.stop();
  }
});

test("observer: a kill through the API restarts a permanent child", async () => {
  const app = await startKnownApp();
  const obs = await Observer.start({ port: 0 });
  try {
    const cache = async () => {
      const { body } = await getJson(obs.url, "api/apps");
      return body.applications.find((a: any) => a.name === app.name).tree.children[0] as Observer.TreeNode;
    };
    const before = await cache();
    assert.equal(before.state, "running");
    const oldPid = Observer.resolvePid(before.pid!)!;
    assert.ok(Process.isAlive(oldPid));

    const r = await postKill(obs.url, before.pid!);
    assert.deepEqual([r.status, r.body], [200, { killed: before.pid }]);
    assert.equal(Process.isAlive(oldPid), false, "the kill is synchronous");

    // The supervisor got the EXIT before our which_children call: the next tree shows the restart.
    const after = await cache();
    assert.equal(after.id, "cache");
    assert.equal(after.state, "running");
    assert.equal(after.behaviour, "Agent");
    assert.notEqual(after.pid, before.pid);
    assert.ok(Process.isAlive(Observer.resolvePid(after.pid!)!));

    // Killing a dead or unknown process is a 404; a name is not accepted by kill.
    assert.equal((await postKill(obs.url, before.pid!)).status, 404);
    assert.equal((await postKill(obs.url, `${app.name}.server`)).status, 404);
  } finally {
    await obs.close();
    await app.stop();
  }
});

test("observer: read-only mode refuses kills with 403", async () => {
  const app = await startKnownApp();
  const obs = await Observer.start({ port: 0, readOnly: true });
  try {
    assert.equal(obs.readOnly, true);
    const tree = await Observer.supervisionTree(app.top);
    const pid = tree.children![0].pid!;
    const r = await postKill(obs.url, pid);
    assert.equal(r.status, 403);
    assert.match(r.body.error, /read-only/);
    assert.ok(Process.isAlive(Observer.resolvePid(pid)!));
    assert.equal((await getJson(obs.url, "api/system")).body.readOnly, true);
  } finally {
    await obs.close();
    await app.stop();
  }
});

test("observer: kill needs application/json and a same-origin, loopback request", async () => {
  const victim = Process.spawn(async ({ receive }) => {
    await receive(() => false);
  });
  const obs = await Observer.start({ port: 0 });
  try {
    const pid = String(victim);
    assert.equal((await postKill(obs.url, pid, { "content-type": "text/plain" })).status, 415);
    assert.equal(
      (await postKill(obs.url, pid, { "content-type": "application/json", origin: "http://evil.example" })).status,
      403,
    );
    // fetch may not let a Host header through: send this one raw.
    const rebound = await rawRequest(
      obs.port,
      `GET /api/system HTTP/1.1\r\nHost: evil.example:${obs.port}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(rebound, /^HTTP\/1\.1 421 /);
    const local = await rawRequest(
      obs.port,
      `GET /api/system HTTP/1.1\r\nHost: localhost:${obs.port}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(local, /^HTTP\/1\.1 200 /);
    assert.ok(Process.isAlive(victim));
    const get = await fetch(`${obs.url}api/process/${pid}/kill`);
    await get.body?.cancel();
    assert.equal(get.status, 405);
    assert.equal((await postKill(obs.url, String(victim.id))).status, 200);
    assert.equal(Process.isAlive(victim), false);
  } finally {
    Process.exit(victim, "kill");
    await obs.close();
  }
});

test("observer: /api/processes, /api/process/:pid, /api/ets and /api/system", async () => {
  const holder = Process.spawn(async ({ receive }) => {
    await receive("never");
  }, { name: "obs_test_holder" });
  Process.send(holder, ["hello", { n: 1 }]);
  const table = Ets.new("obs_test_table", { access: "public" });
  Ets.insert(table, ["k", 1]);
  const obs = await Observer.start({ port: 0, sampleInterval: 20 });
  try {
    const list = (await getJson(obs.url, "api/processes?sort=messageQueueLen&desc=1&limit=5")).body;
    assert.ok(list.total >= 1 && list.processes.length <= 5);
    const qlens = list.processes.map((p: any) => p.messageQueueLen);
    assert.deepEqual(qlens, [...qlens].sort((a: number, b: number) => b - a));
    assert.equal((await getJson(obs.url, "api/processes?sort=nope")).status, 400);
    assert.equal((await getJson(obs.url, "api/processes?limit=-1")).status, 400);

    for (const ref of [String(holder), String(holder.id), "obs_test_holder"]) {
      const d = await getJson(obs.url, `api/process/${encodeURIComponent(ref)}`);
      assert.equal(d.status, 200, ref);
      assert.equal(d.body.pid, String(holder));
      assert.equal(d.body.name, "obs_test_holder");
      assert.equal(d.body.behaviour, "raw");
      assert.equal(d.body.messageQueueLen, 1);
      assert.deepEqual(d.body.messages, ['["hello", {n: 1}]']);
    }
    assert.equal((await getJson(obs.url, "api/process/999999999")).status, 404);
    assert.equal((await getJson(obs.url, "api/process/%3Cnot-a-pid%3E")).status, 404);

    const ets = (await getJson(obs.url, "api/ets")).body.tables.find((t: any) => t.name === "obs_test_table");
    assert.deepEqual(
      { owner: ets.owner, type: ets.type, access: ets.access, size: ets.size },
      { owner: null, type: "set", access: "public", size: 1 },
    );
    assert.ok(ets.memory > 0);

    const sys = (await getJson(obs.url, "api/system")).body;
    for (
      const k of ["processes", "runQueue", "messagesPerSecond", "eventLoopLag", "heapUsed", "spawned", "dispatched"]
    ) {
      assert.equal(typeof sys.now[k], "number", k);
    }
    assert.ok(sys.now.processes >= 1 && sys.now.heapUsed > 0);
    assert.ok(Array.isArray(sys.history) && sys.history.length >= 1);
    assert.equal(sys.readOnly, false);
    assert.equal((await getJson(obs.url, "api/nothing")).status, 404);
  } finally {
    Process.exit(holder, "kill");
    Ets.delete(table);
    await obs.close();
  }
});

test("observer: serves the page, its style and script, with a strict CSP", async () => {
  const obs = await Observer.start({ port: 0 });
  try {
    for (
      const [path, type, marker] of [
        ["", "text/html", "<title>Observer</title>"],
        ["page.css", "text/css", "prefers-color-scheme"],
        ["page.js", "text/javascript", "/api/apps"],
      ]
    ) {
      const res = await fetch(obs.url + path);
      const body = await res.text();
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get("content-type")!.startsWith(type), path);
      assert.ok(body.includes(marker), path);
      assert.match(res.headers.get("content-security-policy")!, /default-src 'none'/);
    }
    const html = await (await fetch(obs.url)).text();
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, "no external resource");
  } finally {
    await obs.close();
  }
});

test("observer: _assets.ts is up to date with page.html, page.css and page.js", () => {
  const current = readFileSync(new URL("../../../lib/apps/observer/_assets.ts", import.meta.url), "utf8");
  assert.equal(current, assetsModule(), "run: node_modules/.bin/bun lib/apps/observer/build_assets.ts");
});

test("observer: introspection functions agree with Process and tolerate odd values", () => {
  const rows = Observer.processes({ sortBy: "id" });
  const ids = rows.map((r) => r.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(rows.length, Process.list().length);
  const cyclic: any = { a: 1 };
  cyclic.self = cyclic;
  assert.equal(Observer.preview(cyclic), "{a: 1, self: …}");
  assert.equal(Observer.preview("x".repeat(500), 20).length, 20);
  assert.equal(
    Observer.preview([1n, Symbol("s"), undefined, null, () => 0]),
    "[1n, Symbol(s), undefined, null, [Function anonymous]]",
  );
  assert.equal(Observer.resolvePid("<0.abc.0>"), undefined);
  assert.equal(Observer.kill("no_such_name_here"), false);
});
