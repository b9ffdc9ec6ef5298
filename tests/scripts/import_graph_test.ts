import { test } from "node:test";
import assert from "node:assert/strict";
import { cycles, importsOf } from "../../scripts/import_graph.ts";
import { boundaryViolations } from "../../scripts/check_app_imports.ts";

test("importsOf reads static, re-exported and dynamic imports; skips type-only ones and comments", () => {
  const source = [
    `import { a } from "./a.ts";`,
    `import * as B from "../b.ts";`,
    `import type { C } from "./c.ts";`,
    `import {\n  type D,\n  e,\n} from "./d.ts";`,
    `export { f } from "./f.ts";`,
    `export type { G } from "./g.ts";`,
    `import "./side_effect.ts";`,
    `const h = await import("./h.ts");`,
    `/**\n * import { x } from "./in_a_comment.ts";\n */`,
    `// import { y } from "./in_a_line_comment.ts";`,
    `import process from "node:process";`,
    `const text = "import { z } from './in_a_string.ts'";`,
  ].join("\n");
  assert.deepEqual(importsOf(source), ["./a.ts", "../b.ts", "./d.ts", "./f.ts", "./side_effect.ts", "./h.ts"]);
  assert.deepEqual(importsOf(source, true), [
    "./a.ts",
    "../b.ts",
    "./c.ts",
    "./d.ts",
    "./f.ts",
    "./g.ts",
    "./side_effect.ts",
    "./h.ts",
  ]);
});

test("cycles finds every strongly connected group, and self-imports; none in a DAG", () => {
  const dag = new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]);
  assert.deepEqual(cycles(dag), []);
  const cyclic = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["d"]], ["e", ["a"]]]);
  assert.deepEqual(cycles(cyclic).map((c) => c.join()).sort(), ["a,b,c", "d"]);
});

test("boundaryViolations: an application may import its own files and public entry points only", () => {
  const graph = new Map([
    ["lib/apps/kv/bucket.ts", ["mod.ts", "lib/apps/kv/registry.ts"]],
    ["lib/apps/kv_server/server.ts", ["lib/apps/kv/mod.ts", "lib/net/mod.ts", "lib/net/tcp.ts"]],
    ["lib/apps/observer/introspect.ts", ["lib/process/_runtime.ts", "lib/apps/kv/bucket.ts"]],
    ["lib/agent.ts", ["lib/_agent_request.ts"]],
  ]);
  assert.deepEqual(boundaryViolations(graph), [
    "lib/apps/kv_server/server.ts -> lib/net/tcp.ts",
    "lib/apps/observer/introspect.ts -> lib/process/_runtime.ts",
    "lib/apps/observer/introspect.ts -> lib/apps/kv/bucket.ts",
  ]);
});
