// Every module of the library and the applications loads as the first module of a fresh
// process (under the runtime running this test), so no import cycle or load-order
// dependency can throw "Cannot access 'x' before initialization" for some entry point.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import process from "node:process";

const ROOT = new URL("../", import.meta.url);

function walk(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(new URL(dir, ROOT), { withFileTypes: true })) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory()) found.push(...walk(`${path}/`));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(path);
  }
  return found.sort();
}

const modules = ["mod.ts", ...walk("lib/")];
const isDeno = "Deno" in globalThis;

/** Imports `file` first thing in a new process; resolves with its exit code and output. */
function loadFirst(file: string): Promise<{ code: number | null; output: string }> {
  const url = new URL(file, ROOT).href;
  const script = `await import(${JSON.stringify(url)});`;
  // `deno eval` has every permission; `bun -e` runs the script as the entry point.
  const args = isDeno ? ["eval", "--ext=ts", script] : ["-e", script];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    let output = "";
    child.stdout.on("data", (chunk) => output += chunk);
    child.stderr.on("data", (chunk) => output += chunk);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

test(`every module (${modules.length}) loads as the first module of a fresh ${isDeno ? "Deno" : "Bun"} process`, {
  timeout: 120_000,
}, async () => {
  const failures: string[] = [];
  // A few at a time: each is a whole runtime starting up.
  const queue = [...modules];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const { code, output } = await loadFirst(file);
      if (code !== 0) failures.push(`${file}: exit ${code}\n${output.trim().split("\n").slice(0, 6).join("\n")}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  assert.deepEqual(failures, [], `modules that fail when loaded first:\n${failures.join("\n\n")}`);
});
