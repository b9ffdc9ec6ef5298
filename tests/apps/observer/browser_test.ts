// deno-lint-ignore-file no-explicit-any
// The Observer page in a real browser: headless Chromium (Debian's
// `chromium` package), driven through the DevTools protocol over a WebSocket
// with no npm dependency, against a running `kv serve --observer`.
//
// The flow: load the page, see the bucket supervisor; CREATE a bucket over
// TCP and see it appear under it; kill it from the page (right-click, menu,
// confirm) and see it disappear; kill the registry and see the supervisor
// restart it (new pid, restart badge). Screenshots go to test-output/.
//
// Skipped, with a message, when Chromium is not installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as net from "node:net";
import process from "node:process";
import { Buffer } from "node:buffer";
import { uniqueName } from "../../node/_helpers.ts";
import { beamSkip } from "../../node/_beam.ts";

const ROOT = new URL("../../..", import.meta.url).pathname;
const OUT = join(ROOT, "test-output");

function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM;
  const candidates = [fromEnv, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((c): c is string => c !== undefined && c !== "" && existsSync(c));
}

const CHROMIUM = findChromium();
const SKIP = CHROMIUM === undefined
  ? "Chromium is not installed (apt-get install -y chromium, or set CHROMIUM=/path/to/chrome)"
  : undefined;
if (SKIP !== undefined) console.warn(`observer_browser_test: skipped: ${SKIP}`);

/** How long any one wait may take. */
const WAIT_MS = 15_000;

// ---------------------------------------------------------------- child processes

/** A child process whose stdout and stderr are read line by line. */
class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  #lines: string[] = [];
  #waiters: Array<() => void> = [];
  #buf = { out: "", err: "" };
  constructor(cmd: string, args: string[], cwd: string) {
    this.proc = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    const feed = (key: "out" | "err") => (chunk: Buffer) => {
      this.#buf[key] += chunk.toString("utf8");
      let nl;
      while ((nl = this.#buf[key].indexOf("\n")) >= 0) {
        this.#lines.push(this.#buf[key].slice(0, nl).replace(/\r$/, ""));
        this.#buf[key] = this.#buf[key].slice(nl + 1);
      }
      for (const w of this.#waiters.splice(0)) w();
    };
    this.proc.stdout!.on("data", feed("out"));
    this.proc.stderr!.on("data", feed("err"));
    this.exited = new Promise((resolve) =>
      this.proc.on("exit", (code) => {
        resolve(code);
        for (const w of this.#waiters.splice(0)) w();
      })
    );
  }
  /** The first line (stdout or stderr) matching `re`; rejects if the child exits or time runs out. */
  async line(re: RegExp, what: string): Promise<RegExpExecArray> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      for (const l of this.#lines) {
        const m = re.exec(l);
        if (m !== null) return m;
      }
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`${what}: the process exited; it printed:\n${this.#lines.join("\n")}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: not printed in time; got:\n${this.#lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  /** Stops the child (SIGTERM, then SIGKILL) and waits for it. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 3000);
      await this.exited;
      clearTimeout(t);
    }
    this.proc.stdout?.destroy();
    this.proc.stderr?.destroy();
  }
}

/** `kv serve` on the runtime running this test. */
function kvServe(args: string[]): Child {
  const exe = process.execPath;
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const argv = isDeno
    ? ["run", "-A", "lib/apps/kv_server/cli.ts", "serve", ...args]
    : ["lib/apps/kv_server/cli.ts", "serve", ...args];
  return new Child(exe, argv, ROOT);
}

// ---------------------------------------------------------------- DevTools protocol

/** A minimal DevTools protocol client over the runtime's global WebSocket. */
class Cdp {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  #listeners = new Map<string, Array<(params: any) => void>>();
  readonly closed: Promise<void>;
  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p?.resolve(msg.result);
      } else {
        for (const l of this.#listeners.get(msg.method) ?? []) l(msg.params);
      }
    };
    this.closed = new Promise((resolve) => {
      ws.onclose = () => {
        for (const p of this.#pending.values()) p.reject(new Error("DevTools connection closed"));
        this.#pending.clear();
        resolve();
      };
    });
  }
  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
  }
  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }
  on(method: string, fn: (params: any) => void): void {
    const l = this.#listeners.get(method) ?? [];
    l.push(fn);
    this.#listeners.set(method, l);
  }
  /** Evaluates `expr` in the page; returns its value (JSON-able). */
  async eval<T = any>(expr: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) {
      throw new Error(`page threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value as T;
  }
  /** Polls `expr` in the page until it is truthy (bounded); returns its value. */
  async waitFor<T = any>(expr: string, what: string): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const v = await this.eval<T>(expr);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close();
    await this.closed;
  }
}

// ---------------------------------------------------------------- KV client

/** Sends one KV command over TCP and resolves with the first reply line. */
function kvCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const sock = net.connect({ host: "127.0.0.1", port }, () => sock.write(`${line}\r\n`));
    sock.on("data", (b: Buffer) => {
      buf += b.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        sock.end();
        resolve(buf.slice(0, nl).replace(/\r$/, ""));
      }
    });
    sock.on("error", reject);
  });
}

// ---------------------------------------------------------------- page helpers

/** Selector of the tree node of `pid`. */
const nodeSel = (pid: string) => `g.node[data-pid=${JSON.stringify(pid)}]`;

/** Clicks (left or right) the centre of the element matched by `selector`. */
async function click(cdp: Cdp, selector: string, button: "left" | "right" = "left"): Promise<void> {
  const box = await cdp.waitFor<{ x: number; y: number }>(
    `(() => {
      const e = document.querySelector(${JSON.stringify(selector)});
      if (!e) return null;
      e.scrollIntoView({ block: "center", inline: "center" });
      const r = e.getBoundingClientRect();
      return r.width > 0 ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : null;
    })()`,
    `${selector} to be visible`,
  );
  const base = { x: box.x, y: box.y, button, clickCount: 1 };
  await cdp.send("Input.dispatchMouseEvent", { type: "mouseMoved", x: box.x, y: box.y });
  await cdp.send("Input.dispatchMouseEvent", { type: "mousePressed", ...base });
  await cdp.send("Input.dispatchMouseEvent", { type: "mouseReleased", ...base });
}

/** Kills `pid` the way a user does: right-click its tree node, "Kill process…", confirm. */
async function killFromPage(cdp: Cdp, pid: string): Promise<void> {
  await click(cdp, nodeSel(pid), "right");
  await cdp.waitFor(`!document.getElementById("menu").hidden`, "the context menu");
  await click(cdp, "#menu-kill");
  await cdp.waitFor(
    `!document.getElementById("kill-dialog").hidden && document.getElementById("kill-pid").textContent === ${
      JSON.stringify(pid)
    }`,
    "the kill dialog",
  );
  await click(cdp, "#kill-confirm");
}

async function screenshot(cdp: Cdp, name: string): Promise<string> {
  const { data } = await cdp.send<{ data: string }>("Page.captureScreenshot", {
    format: "png",
    captureBeyondViewport: false,
  });
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, name);
  writeFileSync(file, Buffer.from(data, "base64"));
  return file;
}

// ---------------------------------------------------------------- the test

/** What {@linkcode openPage} started, filled in as it goes so that a failure still stops it. */
interface Opened {
  chrome?: Child;
  cdp?: Cdp;
  errors?: string[];
}

/** Starts headless Chromium and opens `url` in its page; exceptions and native dialogs go to `opened.errors`. */
async function openPage(url: string, profile: string, opened: Opened): Promise<void> {
  const chrome = opened.chrome = new Child(CHROMIUM!, [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
    `--user-data-dir=${profile}`,
    "about:blank",
  ], ROOT);
  const wsUrl = (await chrome.line(/DevTools listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/, "DevTools line"))[1];
  const debugPort = new URL(wsUrl).port;
  const targets = await (await fetch(`http://127.0.0.1:${debugPort}/json/list`)).json() as Array<
    { type: string; webSocketDebuggerUrl: string }
  >;
  const page = targets.find((t) => t.type === "page");
  assert.ok(page, "Chromium opened a page");
  const cdp = opened.cdp = await Cdp.connect(page.webSocketDebuggerUrl);
  const errors: string[] = opened.errors = [];
  cdp.on("Runtime.exceptionThrown", (p) => errors.push(p.exceptionDetails?.exception?.description ?? "exception"));
  // The page uses an in-page dialog; a native one would fail the test rather than hang it.
  cdp.on("Page.javascriptDialogOpening", (p) => errors.push(`native dialog: ${p.message}`));
  await cdp.send("Runtime.enable");
  await cdp.send("Page.enable");
  await cdp.send("Emulation.setDeviceMetricsOverride", {
    width: 1400,
    height: 1000,
    deviceScaleFactor: 1,
    mobile: false,
  });
  await cdp.send("Page.navigate", { url });
}

test(
  "observer in Chromium: buckets appear under the bucket supervisor, a kill from the page removes one, a killed registry restarts",
  {
    skip: SKIP,
    timeout: 60_000,
  },
  async () => {
    const server = kvServe(["--port", "0", "--observer", "127.0.0.1:0"]);
    const opened: Opened = {};
    const profile = mkdtempSync(join(tmpdir(), "observer-chromium-"));
    try {
      const kvPort = Number((await server.line(/^listening on 127\.0\.0\.1:(\d+)$/, "kv listening line"))[1]);
      const url = (await server.line(/^observer on (http:\/\/127\.0\.0\.1:\d+)$/, "observer line"))[1] + "/";

      await openPage(url, profile, opened);
      const cdp = opened.cdp!;
      const errors = opened.errors!;

      // The bucket supervisor is drawn, with no bucket under it yet.
      const bucketSup = await cdp.waitFor<string>(
        `document.querySelector('g.node[data-name="KV.BucketSupervisor"]')?.dataset.pid`,
        "the bucket supervisor in the tree",
      );
      const children = `document.querySelectorAll('g.node[data-parent=${JSON.stringify(bucketSup)}]')`;
      assert.equal(await cdp.eval(`${children}.length`), 0);
      assert.ok(
        await cdp.eval(`document.querySelectorAll("#procs tbody tr").length > 0`),
        "the process table is filled",
      );
      assert.ok(await cdp.eval(`document.querySelectorAll("#charts polyline").length === 5`), "five charts");
      assert.match(
        await cdp.eval<string>(`document.querySelector("#nodes tbody").textContent`),
        /Not distributed/,
        "a runtime without a node name says so in the nodes panel",
      );

      // CREATE over TCP: the bucket appears under the bucket supervisor.
      assert.equal(await kvCommand(kvPort, "CREATE shopping"), "OK");
      const bucket = await cdp.waitFor<string>(
        `${children}.length === 1 && ${children}[0].dataset.pid`,
        "the new bucket",
      );
      assert.equal(
        await cdp.eval(`document.querySelector(${JSON.stringify(nodeSel(bucket))}).dataset.behaviour`),
        "Agent",
      );

      // Kill it from the page: it disappears (buckets are temporary: no restart).
      await killFromPage(cdp, bucket);
      await cdp.waitFor(
        `!document.querySelector(${JSON.stringify(nodeSel(bucket))}) && ${children}.length === 0`,
        "the bucket to disappear",
      );
      assert.ok(await cdp.eval(`document.getElementById("kill-dialog").hidden`));

      // Two more buckets, then kill the registry (permanent): the tree shows it restarted.
      assert.equal(await kvCommand(kvPort, "CREATE groceries"), "OK");
      assert.equal(await kvCommand(kvPort, "CREATE work"), "OK");
      await cdp.waitFor(`${children}.length === 2`, "two buckets");
      const registry = await cdp.eval<string>(`document.querySelector('g.node[data-name="KV.Registry"]').dataset.pid`);
      await killFromPage(cdp, registry);
      const restarted = await cdp.waitFor<string>(
        `(() => {
        const n = document.querySelector('g.node[data-name="KV.Registry"]');
        return n && n.dataset.pid !== ${JSON.stringify(registry)} && n.dataset.restarts === "1" && n.dataset.pid;
      })()`,
        "the registry to come back with a new pid",
      );
      assert.notEqual(restarted, registry);
      assert.equal(await cdp.eval(`${children}.length`), 2, "the buckets survive a registry restart");
      await click(cdp, nodeSel(restarted));
      await cdp.waitFor(
        `document.querySelector("#detail h3")?.textContent === ${JSON.stringify(restarted)}`,
        "the detail panel",
      );
      await cdp.eval(`document.getElementById("apps").scrollTo(0, 0)`);
      const shot = await screenshot(cdp, "observer.png");
      assert.ok(existsSync(shot));
      assert.deepEqual(errors, []);
    } finally {
      await opened.cdp?.close().catch(() => {});
      await opened.chrome?.stop();
      await server.stop();
      rmSync(profile, { recursive: true, force: true });
    }
  },
);

test("observer in Chromium: the disk logs panel shows a durable server's log, its policy and fsync mode", {
  skip: SKIP,
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "observer-log-"));
  const server = kvServe(["--port", "0", "--observer", "127.0.0.1:0", "--dir", dir, "--appendfsync", "always"]);
  const opened: Opened = {};
  const profile = mkdtempSync(join(tmpdir(), "observer-chromium-"));
  try {
    await server.line(/^listening on 127\.0\.0\.1:(\d+)$/, "kv listening line");
    const url = (await server.line(/^observer on (http:\/\/127\.0\.0\.1:\d+)$/, "observer line"))[1] + "/";
    await openPage(url, profile, opened);
    const cdp = opened.cdp!;
    const row = `document.querySelector("#logs tbody tr[data-log]")`;
    await cdp.waitFor(`${row}?.dataset.log === "KV.Log"`, "the KV log's row");
    assert.equal(await cdp.eval(`${row}.children[1].textContent`), "always (fsync inline)");
    assert.deepEqual(opened.errors, []);
  } finally {
    await opened.cdp?.close().catch(() => {});
    await opened.chrome?.stop();
    await server.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "observer in Chromium: the nodes panel shows this node, a node it connects to, and that node going away",
  { skip: SKIP ?? beamSkip("browser_test.ts (epmd)"), timeout: 60_000 },
  async () => {
    const self = `${uniqueName("obsa")}@localhost`;
    const other = `${uniqueName("obsb")}@localhost`;
    // Buckets starting with "z" live on the other node: the first command on one connects the nodes.
    const routes = `!-y=${self},z=${other}`;
    const cookie = ["--cookie", "observer_browser_cookie", "--routes", routes];
    const peer = kvServe(["--port", "0", "--name", other, ...cookie]);
    const server = kvServe(["--port", "0", "--name", self, ...cookie, "--observer", "127.0.0.1:0"]);
    const opened: Opened = {};
    const profile = mkdtempSync(join(tmpdir(), "observer-chromium-"));
    try {
      await peer.line(/^listening on 127\.0\.0\.1:\d+$/, "peer's listening line");
      const kvPort = Number((await server.line(/^listening on 127\.0\.0\.1:(\d+)$/, "kv listening line"))[1]);
      const url = (await server.line(/^observer on (http:\/\/127\.0\.0\.1:\d+)$/, "observer line"))[1] + "/";
      await openPage(url, profile, opened);
      const cdp = opened.cdp!;
      const row = `document.querySelector('#nodes tr[data-node=${JSON.stringify(other)}]')`;
      await cdp.waitFor(
        `document.getElementById("nodes-self")?.textContent.includes(${JSON.stringify(self)}) &&
          document.querySelector("#nodes tbody")?.textContent.includes("No other node.")`,
        "this node's name and no other node",
      );
      assert.equal(await kvCommand(kvPort, "CREATE zebra"), "OK");
      await cdp.waitFor(`${row}?.dataset.state === "connected"`, "the other node, connected");
      assert.equal(await cdp.eval(`${row}.cells[1].textContent`), "connected");
      await screenshot(cdp, "observer-nodes.png");
      // The other node stops: it leaves the panel (nothing is held with it any more).
      await peer.stop();
      await cdp.waitFor(`!${row}`, "the other node to leave the panel");
      assert.deepEqual(opened.errors, []);
    } finally {
      await opened.cdp?.close().catch(() => {});
      await opened.chrome?.stop();
      await server.stop();
      await peer.stop();
      rmSync(profile, { recursive: true, force: true });
    }
  },
);
