// npm run build:npm — the npm package, in dist/npm/: tsc (TypeScript from the npm registry, a
// dev dependency) compiles the entry points to JavaScript and .d.ts, rewriting the relative
// `.ts` imports to `.js` (rewriteRelativeImportExtensions); then a package.json whose
// "exports" are deno.json's, plus README.md and LICENSE. The same shape JSR gives npm users.
// Plain JavaScript: it runs on Node alone, before anything is built.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "dist", "npm");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc)) {
  console.error(`build:npm: TypeScript is missing (${tsc}); run npm install first`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.npm.json")], { cwd: root, stdio: "inherit" });
} catch {
  console.error("build:npm: tsc failed (errors above)");
  process.exit(1);
}

// A module loaded by URL (a worker's script, say) named as `new URL("./x.ts", import.meta.url)`
// in the sources: tsc rewrites imports only, so point such URLs at the emitted .js too.
const emitted = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? emitted(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []
  );
for (const path of emitted(out)) {
  const code = readFileSync(path, "utf8");
  const rewritten = code.replace(/new URL\("(\.\.?\/[^"]+)\.ts", import\.meta\.url\)/g, (_whole, stem) => {
    if (!existsSync(join(dirname(path), `${stem}.js`))) {
      console.error(`build:npm: ${path} names ${stem}.ts, which the build did not emit (add it to tsconfig.npm.json)`);
      process.exit(1);
    }
    return `new URL("${stem}.js", import.meta.url)`;
  });
  if (rewritten !== code) writeFileSync(path, rewritten);
}

const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const js = (path) => path.replace(/\.ts$/, ".js");
const exportsMap = {};
for (const [subpath, source] of Object.entries(deno.exports)) {
  exportsMap[subpath] = { types: js(source).replace(/\.js$/, ".d.ts"), default: js(source) };
}
const pkg = {
  name: deno.name,
  version: deno.version,
  description: "Erlang/OTP in TypeScript: processes, GenServer, Supervisor, Application, ETS; " +
    "and the KV application and server of Elixir's Mix and OTP guide. No dependencies.",
  license: deno.license,
  type: "module",
  engines: { node: ">=20.10" },
  exports: exportsMap,
  bin: { kv: js(deno.exports["./cli"]) },
  sideEffects: false,
};
writeFileSync(join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
for (const file of ["README.md", "LICENSE"]) copyFileSync(join(root, file), join(out, file));
// The CLI is the package's `bin`: give it its interpreter line.
const cli = join(out, js(deno.exports["./cli"]));
writeFileSync(cli, "#!/usr/bin/env node\n" + readFileSync(cli, "utf8"));
console.log(`build:npm: ${pkg.name}@${pkg.version} in dist/npm (${Object.keys(exportsMap).length} entry points)`);
