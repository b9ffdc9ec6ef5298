/**
 * The applications under `lib/apps/` (kv, kv_server, observer) use the
 * library the way a third party would: a file there may import files of its
 * own application, and otherwise only public entry points — `mod.ts`,
 * `lib/net/mod.ts`, `lib/testing/mod.ts`, or another application's `mod.ts`.
 * Type-only imports count too (a private type is still a private file).
 * Prints each offending import and exits 1 if there is one.
 *
 * ```sh
 * bun scripts/check_app_imports.ts
 * ```
 *
 * @module
 */
import process from "node:process";
import { importGraph, sourceFiles } from "./import_graph.ts";

/** The library's public entry points (besides each application's own `mod.ts`). */
export const LIBRARY_ENTRY_POINTS: readonly string[] = ["mod.ts", "lib/net/mod.ts", "lib/testing/mod.ts"];

/** The application folder (`lib/apps/NAME/`) a file belongs to, or `undefined`. */
function appOf(file: string): string | undefined {
  return /^lib\/apps\/[^/]+\//.exec(file)?.[0];
}

/** Every import from an application file to a file it may not import, as `from -> to`. */
export function boundaryViolations(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [file, targets] of graph) {
    const app = appOf(file);
    if (app === undefined) continue;
    for (const target of targets) {
      const allowed = target.startsWith(app) || LIBRARY_ENTRY_POINTS.includes(target) ||
        (appOf(target) !== undefined && target === `${appOf(target)}mod.ts`);
      if (!allowed) bad.push(`${file} -> ${target}`);
    }
  }
  return bad;
}

if (import.meta.main) {
  const files = ["mod.ts", ...sourceFiles("lib")];
  const bad = boundaryViolations(importGraph(files, true));
  for (const line of bad) console.error(`application imports a private library file: ${line}`);
  if (bad.length > 0) {
    console.error(
      `${bad.length} import(s) from lib/apps/ past the public entry points (${
        LIBRARY_ENTRY_POINTS.join(", ")
      }, lib/apps/*/mod.ts)`,
    );
    process.exit(1);
  }
  console.log(`lib/apps/ imports only public entry points and its own files`);
}
