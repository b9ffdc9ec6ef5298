// `kv serve --dir`: flags, a torn tail reported and cut, damage refused
// (naming file and offset) unless --repair truncate, an unknown version refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import process from "node:process";
import { parseArgs } from "../../../lib/apps/kv_server/cli.ts";
import { serveCommand, startServe } from "../../../scripts/_kill9.ts";
import * as net from "node:net";
import { until } from "../../_helpers.ts";

test("parseArgs: --dir, --appendfsync, --repair", () => {
  const r = parseArgs(["serve", "--dir", "/tmp/x", "--appendfsync=always", "--repair", "truncate"], {});
  assert.equal(r.command, "serve");
  if (r.command === "serve") assert.deepEqual(r.kv, { dir: "/tmp/x", appendfsync: "always", repair: "truncate" });
  const d = parseArgs(["serve", "--dir=/d"], {});
  if (d.command === "serve") assert.deepEqual(d.kv, { dir: "/d", appendfsync: "everysec", repair: true });
  assert.equal((parseArgs(["serve"], {}) as { kv?: unknown }).kv, undefined);
  assert.throws(() => parseArgs(["serve", "--appendfsync", "always"], {}), /--appendfsync needs --dir/);
  assert.throws(() => parseArgs(["serve", "--dir", "/d", "--appendfsync", "sometimes"], {}), /must be always/);
  assert.throws(() => parseArgs(["serve", "--dir", "/d", "--repair", "yes"], {}), /takes only "truncate"/);
  assert.throws(() => parseArgs(["serve", "--dir", ""], {}), /must not be empty/);
});

test("parseArgs: --fsync inline|thread, only with --appendfsync always", () => {
  for (const where of ["inline", "thread"]) {
    const r = parseArgs(["serve", "--dir", "/d", "--appendfsync", "always", "--fsync", where], {});
    if (r.command === "serve") assert.deepEqual(r.kv, { dir: "/d", appendfsync: "always", fsync: where, repair: true });
  }
  assert.throws(
    () => parseArgs(["serve", "--dir", "/d", "--fsync", "inline"], {}),
    /--fsync needs --appendfsync always/,
  );
  assert.throws(
    () => parseArgs(["serve", "--dir", "/d", "--appendfsync", "always", "--fsync", "later"], {}),
    /--fsync must be inline or thread/,
  );
});

function run(args: string[]): Promise<{ code: number | string; stderr: string }> {
  const [command, full] = serveCommand(["serve", "--port", "0", ...args]);
  return new Promise((resolve) => {
    const child = spawn(command, full, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (t: string) => stderr += t);
    child.once("exit", (code, signal) => resolve({ code: code ?? signal ?? "unknown", stderr }));
  });
}

function put(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let out = "";
    s.on("data", (c) => out += c.toString("latin1"));
    s.on("close", () => resolve(out));
    s.end(lines.map((l) => l + "\r\n").join(""));
  });
}

test("kv serve --dir: torn tail cut and reported; damage refused unless --repair truncate; unknown version refused", {
  timeout: 120_000,
}, async () => {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/kv-cli-durable-`);
  try {
    const first = await startServe(["--dir", dir]);
    // One line tells the operator where the data is and how safe it is.
    await until(() => first.stderr().includes(`kv: data in ${dir} (appendfsync everysec)\n`), "the data line", 5000);
    assert.equal(await put(first.port, ["CREATE s", "PUT s a 1", "PUT s b 2", "PUT s c 3"]), "OK\r\n".repeat(4));
    process.kill(first.pid, "SIGTERM");
    assert.equal(await first.exited, 0);
    const file = `${dir}/${fs.readdirSync(dir).find((f) => f.endsWith(".log"))!}`;
    const size = fs.statSync(file).size;

    // Torn tail: the last record loses its last 2 bytes.
    fs.truncateSync(file, size - 2);
    const torn = await startServe(["--dir", dir]);
    assert.match(torn.stderr(), /log cut at offset \d+ .*: 3 records recovered, \d+ bytes dropped/);
    assert.equal(await put(torn.port, ["GET s b", "GET s c"]), "2\r\nOK\r\n\r\nOK\r\n");
    process.kill(torn.pid, "SIGTERM");
    assert.equal(await torn.exited, 0);

    // Damage mid-file: a flipped byte in the first PUT, valid records after.
    const bytes = fs.readFileSync(file);
    bytes[20 + 5] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const refused = await run(["--dir", dir]);
    assert.notEqual(refused.code, 0);
    assert.ok(refused.stderr.includes(file), refused.stderr);
    assert.match(refused.stderr, /damaged record at offset \d+/);
    const repaired = await startServe(["--dir", dir, "--repair", "truncate"]);
    assert.equal(
      await put(repaired.port, ["GET s a"]),
      "NOT FOUND\r\n",
      "cut at the damage: the damaged record was the bucket's creation",
    );
    process.kill(repaired.pid, "SIGTERM");
    await repaired.exited;

    // Unknown version.
    const header = fs.readFileSync(file);
    header[8] = 99;
    fs.writeFileSync(file, header);
    const version = await run(["--dir", dir]);
    assert.notEqual(version.code, 0);
    assert.ok(
      version.stderr.includes(file) && /unknown disk log format version 99/.test(version.stderr),
      version.stderr,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
