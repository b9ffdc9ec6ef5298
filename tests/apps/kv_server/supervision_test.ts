// Supervision fit for the job: under load, the registry and the acceptor each survive 100 kills in a row
// (each sent as soon as the server serves again), and no acknowledged write is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Application, Logger, type Pid, Process, Supervisor } from "../../../mod.ts";
import * as Server from "../../../lib/apps/kv_server/server.ts";
import { app as kvApp } from "../../../lib/apps/kv/kv.ts";
import { Client } from "../../_kv_server_helpers.ts";

/** A client that keeps writing distinct keys, 20 in flight, and remembers which were acknowledged. */
class Writer {
  acked: number[] = [];
  failed = 0;
  #next = 0;
  #stop = false;
  readonly done: Promise<void>;
  #wake: (() => void) | undefined;
  constructor(readonly client: Client) {
    this.done = this.#run();
  }
  /** Resolves once `n` writes were acknowledged. */
  async acknowledged(n: number): Promise<void> {
    while (this.acked.length < n) await new Promise<void>((resolve) => this.#wake = resolve);
  }
  async #run(): Promise<void> {
    while (!this.#stop) {
      const first = this.#next;
      this.#next += 20;
      let request = "";
      for (let k = first; k < this.#next; k++) request += `PUT load k${k} ${k}\r\n`;
      this.client.send(request);
      for (let k = first; k < this.#next; k++) {
        const line = await this.client.recvLine();
        if (line === "OK\r\n") this.acked.push(k);
        else this.failed++;
      }
      this.#wake?.();
    }
  }
  stop(): Promise<void> {
    this.#stop = true;
    return this.done;
  }
}

async function withServer(body: (port: number) => Promise<void>): Promise<void> {
  const lines: string[] = [];
  const previous = Logger.setHandler((_level, message) => lines.push(message));
  await Application.ensureAllStarted(Server.app, { env: { port: 0 } });
  try {
    await body(Server.address()!.port);
  } finally {
    await Application.stop(Server.app);
    await Application.stop(kvApp);
    Logger.setHandler(previous);
  }
}

/** The figures, one line. */
function report(what: string, started: number, writer: Writer): void {
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${what}: 100 kills in ${
      seconds.toFixed(2)
    } s; ${writer.acked.length} writes acknowledged, 0 lost; ${writer.failed} refused`,
  );
}

/** Every acknowledged write reads back. */
async function checkAcked(port: number, acked: number[]): Promise<void> {
  const reader = await Client.open(port);
  for (let i = 0; i < acked.length; i += 500) {
    const keys = acked.slice(i, i + 500);
    await reader.ask(keys.map((k) => `GET load k${k}\r\n`).join(""), keys.map((k) => `${k}\r\nOK\r\n`).join(""));
  }
  await reader.finish();
}

test("the registry survives 100 kills in a row under load; no acknowledged write is lost", async () => {
  await withServer(async (port) => {
    const started = performance.now();
    const setup = await Client.open(port);
    await setup.ask("CREATE load\r\n", "OK\r\n");
    const kvTop = Process.whereis("KV.Supervisor")!;
    const writer = new Writer(await Client.open(port));
    for (let i = 0; i < 100; i++) {
      const registry = Process.whereis("KV.Registry")!;
      const before = writer.acked.length;
      Process.exit(registry, "kill");
      // As soon as it serves again: a CREATE needs the registry.
      for (let attempt = 0;; attempt++) {
        assert.ok(attempt < 10_000, "the registry comes back");
        setup.send(`CREATE kill${i}\r\n`);
        if ((await setup.recvLine()) === "OK\r\n") break;
      }
      assert.notEqual(Process.whereis("KV.Registry"), registry);
      await writer.acknowledged(before + 20);
    }
    await writer.stop();
    assert.equal(writer.failed, 0, "writes need no registry: none failed");
    assert.equal(Process.whereis("KV.Supervisor"), kvTop, "the KV tree was not restarted");
    assert.ok(writer.acked.length > 0);
    await checkAcked(port, writer.acked);
    report("registry", started, writer);
    await setup.ask("GET kill0 x\r\n", "\r\nOK\r\n");
    await writer.client.finish();
    await setup.finish();
  });
});

test("the acceptor survives 100 kills in a row under load; open connections and acknowledged writes survive", async () => {
  await withServer(async (port) => {
    const setup = await Client.open(port);
    await setup.ask("CREATE load\r\n", "OK\r\n");
    const started = performance.now();
    const top = Process.whereis(Server.NAME)!;
    const writer = new Writer(await Client.open(port));
    await writer.acknowledged(1);
    const acceptor = async (): Promise<Pid> =>
      (await Supervisor.whichChildren(Server.NAME)).find((c) => c.id === "KVServer.Acceptor")!.pid as Pid;
    for (let i = 0; i < 100; i++) {
      const old = await acceptor();
      const before = writer.acked.length;
      Process.exit(old, "kill");
      // As soon as it serves again: a new connection is accepted and answered.
      for (let attempt = 0;; attempt++) {
        assert.ok(attempt < 10_000, "the acceptor comes back");
        const c = await Client.open(port).catch(() => undefined);
        if (c === undefined) continue;
        await c.ask("GET load k0\r\n", "0\r\nOK\r\n");
        await c.finish();
        break;
      }
      // Under load: the open connection keeps writing through every kill.
      await writer.acknowledged(before + 20);
    }
    await writer.stop();
    assert.equal(writer.failed, 0);
    assert.equal(Process.whereis(Server.NAME), top, "the server's supervisor was not restarted");
    assert.equal(Server.address()!.port, port);
    await checkAcked(port, writer.acked);
    report("acceptor", started, writer);
    await writer.client.finish();
    await setup.finish();
  });
});

test("a crash loop still runs out of restarts: the KV tree stops and the node-stop hook runs", async () => {
  const lines: string[] = [];
  const previousLog = Logger.setHandler((_level, message) => lines.push(message));
  const stopped = Promise.withResolvers<[string, unknown]>();
  const previousHook = Application.setNodeStopHandler((app, reason) => stopped.resolve([app, reason]));
  try {
    await Application.ensureAllStarted(Server.app, { env: { port: 0 }, type: "permanent" });
    const top = Process.whereis("KV.Supervisor")!;
    // Kill each new registry as soon as it is there: far faster than any operator.
    let kills = 0;
    while (Process.isAlive(top)) {
      const registry = Process.whereis("KV.Registry");
      if (registry !== undefined && Process.isAlive(registry)) {
        Process.exit(registry, "kill");
        kills++;
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.deepEqual(await stopped.promise, ["kv", "shutdown"]);
    assert.equal(kills, 201, "200 restarts allowed, the 201st kill ends the tree");
    assert.ok(!Application.isStarted(Server.app), "the server stopped with it");
    assert.match(
      lines.at(-1)!,
      /^supervisor KV\.Supervisor: child KV\.Registry .* more than 200 restarts in 10 s: shutting down$/,
    );
  } finally {
    Application.setNodeStopHandler(previousHook);
    Logger.setHandler(previousLog);
  }
});
