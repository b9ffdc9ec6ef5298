// A full disk, for real: a small tmpfs (skipped, with one line, where it cannot be mounted).
// Under everysec, writes answer ERROR while reads go on, and writes resume when space returns;
// under always, the server stops with a non-zero exit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import process from "node:process";
import { startServe } from "../../../scripts/_kill9.ts";
import { until } from "../../_helpers.ts";

function mountTmpfs(): string | undefined {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/kv-full-disk-`);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) return dir;
  fs.rmdirSync(dir);
  return undefined;
}

function unmount(dir: string): void {
  spawnSync("umount", [dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}

const probe = mountTmpfs();
if (probe !== undefined) unmount(probe);
const skip = probe === undefined ? "cannot mount a tmpfs here (needs root)" : false;
if (skip) console.log(`full_disk_test: skipped: ${skip}`);

/** One connection; `ask` sends a line and resolves with the next reply line. */
class Conn {
  readonly socket: net.Socket;
  #buffer = "";
  #waiting: ((line: string) => void)[] = [];
  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.on("data", (c) => {
      this.#buffer += c.toString("latin1");
      let i;
      while ((i = this.#buffer.indexOf("\r\n")) >= 0) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 2);
        this.#waiting.shift()?.(line);
      }
    });
    this.socket.on("error", () => {});
  }
  /** The next reply line, without sending anything. */
  next(): Promise<string> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  ask(line: string): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.socket.write(line + "\r\n");
    });
  }
}

/** Fills the file system at `dir` but for `leave` bytes; returns the filler's path. */
function fill(dir: string, leave: number): string {
  const filler = `${dir}/filler`;
  const free = Number(spawnSync("df", ["-B1", "--output=avail", dir], { encoding: "utf8" }).stdout.split("\n")[1]);
  fs.writeFileSync(filler, new Uint8Array(Math.max(0, free - leave)));
  return filler;
}

test(
  "a full disk under everysec: writes answer ERROR, reads go on, writes resume",
  { skip, timeout: 120_000 },
  async () => {
    const dir = mountTmpfs()!;
    try {
      const server = await startServe(["--dir", dir, "--appendfsync", "everysec"]);
      const c = new Conn(server.port);
      assert.equal(await c.ask("CREATE s"), "OK");
      assert.equal(await c.ask("PUT s milk 1"), "OK");
      const filler = fill(dir, 0);
      // Writes until the log notices (the first ones may still fit in the file's last page).
      let reply = "OK";
      const big = "x".repeat(2000);
      for (let i = 0; reply === "OK"; i++) {
        reply = await c.ask(`PUT s k${i} ${big}`);
        assert.ok(i < 1000, "the disk fills up");
      }
      assert.equal(reply, "ERROR");
      const value = c.ask("GET s milk");
      const ok = c.next();
      assert.equal(await value, "1");
      assert.equal(await ok, "OK");
      assert.equal(await c.ask("PUT s milk 2"), "ERROR");
      fs.rmSync(filler);
      // Space is back: the log retries, and writes are taken again.
      for (let i = 0; (reply = await c.ask("PUT s milk 3")) !== "OK"; i++) {
        assert.equal(reply, "ERROR");
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.ok(i < 1000, "writes resume");
      }
      c.socket.destroy();
      process.kill(server.pid, "SIGTERM");
      assert.equal(await server.exited, 0);
      assert.match(server.stderr(), /disk full/);
    } finally {
      unmount(dir);
    }
  },
);

test("a full disk under always stops the server with a non-zero exit", { skip, timeout: 120_000 }, async () => {
  const dir = mountTmpfs()!;
  try {
    const server = await startServe(["--dir", dir, "--appendfsync", "always"]);
    await until(() => server.stderr().includes("(appendfsync always, fsync inline)\n"), "the data line", 5000);
    const c = new Conn(server.port);
    assert.equal(await c.ask("CREATE s"), "OK");
    fill(dir, 0);
    let exited = false;
    void server.exited.then(() => exited = true);
    const big = "x".repeat(2000);
    for (let i = 0; i < 200 && !exited; i++) {
      void c.ask(`PUT s k${i} ${big}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const code = await server.exited;
    assert.notEqual(code, 0);
    c.socket.destroy();
  } finally {
    unmount(dir);
  }
});
