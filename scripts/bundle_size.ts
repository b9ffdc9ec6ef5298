/**
 * Bundle size of a program that imports only `GenServer` and `Supervisor` from
 * the library's entry point (`mod.ts`): `bun build`, minified and not, with
 * the modules that made it into the bundle. Run with Bun:
 *
 * ```sh
 * bun scripts/bundle_size.ts
 * ```
 *
 * Unused namespaces of `mod.ts` drop out because `package.json` says
 * `"sideEffects": false` (no library module is imported for its side effects).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

if (!("Bun" in globalThis)) {
  console.error("bundle_size: run it with Bun (bun scripts/bundle_size.ts): it measures `bun build`");
  process.exit(1);
}

const modTs = fileURLToPath(new URL("../mod.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "otp_bundle_"));
try {
  const app = join(dir, "app.ts");
  writeFileSync(
    app,
    `import { GenServer, Supervisor } from ${JSON.stringify(modTs)};
const sup = await Supervisor.startLink([
  { id: "counter", start: () => GenServer.startLink({ init: () => ["ok", 0] }, undefined) },
], { strategy: "one_for_one" });
console.log(await Supervisor.countChildren(sup));
await Supervisor.stop(sup);
`,
  );
  const rows: string[] = [];
  let modules: string[] = [];
  for (const minify of [false, true]) {
    const out = join(dir, minify ? "app.min.js" : "app.js");
    const args = ["build", app, "--outfile", out, "--target", "bun", ...(minify ? ["--minify"] : [])];
    const r = spawnSync(process.execPath, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bun build failed: ${r.stderr}`);
    const code = readFileSync(out);
    rows.push(
      `| ${minify ? "minified" : "not minified"} | ${code.length.toLocaleString("en-US")} | ${
        (code.length / 1024).toFixed(1)
      } | ${gzipSync(code).length.toLocaleString("en-US")} |`,
    );
    if (!minify) modules = [...new Set(code.toString().match(/\/\/ lib\/[\w/]+\.ts/g) ?? [])].map((m) => m.slice(3));
  }
  console.log(`bun ${process.versions.bun}: a program importing only GenServer and Supervisor from mod.ts\n`);
  console.log("| bundle | bytes | KiB | gzipped bytes |\n|---|---:|---:|---:|");
  for (const row of rows) console.log(row);
  console.log(`\n${modules.length} library modules bundled: ${modules.join(", ")}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
