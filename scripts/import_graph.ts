/**
 * The project's import graph, and its cycles. Every relative import, re-export
 * and dynamic `import()` of every `.ts` file under `mod.ts`, `lib/`,
 * `scripts/` and `tests/` is an edge, except `import type` / `export type`:
 * those are erased before any module loads, so they cannot cause a
 * load-order error (an adapter may name the interface its loader declares).
 * An `import { type A }` counts: under `verbatimModuleSyntax` it still loads
 * the module. Comments and JSDoc examples are skipped (an example's imports
 * run in their own module).
 *
 * ```sh
 * bun scripts/import_graph.ts          # prints each cycle; exit status 1 if there is one
 * bun scripts/import_graph.ts --list   # also prints every edge
 * ```
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `.ts` files under `dir` (relative to the root), skipping dependencies and build output. */
export function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(path);
  }
  return found.sort();
}

/** Removes comments (so JSDoc examples are not read as imports), keeping strings. */
function stripComments(source: string): string {
  return source.replace(
    /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (_match, str) => str ?? " ",
  );
}

/**
 * The relative module specifiers a source file imports or re-exports (static
 * and dynamic); with `types`, `import type` / `export type` ones as well.
 */
export function importsOf(source: string, types = false): string[] {
  const code = stripComments(source);
  const specs: string[] = [];
  const patterns = [
    types
      ? /(?:^|[;\n}])\s*(?:import|export)\s+(?:[\w$*\s{},]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g
      : /(?:^|[;\n}])\s*(?:import|export)\s+(?!type[\s{*])(?:[\w$*\s{},]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/g,
    /\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]);
  return specs;
}

/** Edges from each project file to the project files it imports (`.ts` only; with `types`, type-only ones too). */
export function importGraph(files: readonly string[], types = false): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importsOf(readFileSync(join(ROOT, file), "utf8"), types)
      .map((spec) => normalize(join(dirname(file), spec)))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The strongly connected components with more than one file (or a file importing itself): each holds a cycle. */
export function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm: each strongly connected component of size > 1 holds a cycle.
  let index = 0;
  const indexes = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexes.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexes.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexes.get(w)!));
      }
    }
    if (low.get(v) === indexes.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexes.has(v)) visit(v);
  return found;
}

/** One shortest path of imports from `from` back to itself within `component`. */
function loopThrough(graph: Map<string, string[]>, component: readonly string[]): string[] {
  const inside = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = previous.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

if (import.meta.main) {
  const files = ["mod.ts", ...sourceFiles("lib"), ...sourceFiles("scripts"), ...sourceFiles("tests")];
  const graph = importGraph(files);
  if (process.argv.includes("--list")) {
    for (const [file, targets] of graph) for (const target of targets) console.log(`${file} -> ${target}`);
  }
  const found = cycles(graph);
  for (const component of found) {
    console.error(
      `import cycle: ${loopThrough(graph, component).join(" -> ")} (files in the cycle: ${component.join(", ")})`,
    );
  }
  const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
  if (found.length > 0) {
    console.error(`${found.length} import cycle(s) among ${files.length} files`);
    process.exit(1);
  }
  console.log(`no import cycle among ${files.length} files (${edges} imports)`);
}
