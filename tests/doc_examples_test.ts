// Every `@example` in the library's and applications' JSDoc, and every ```ts block of the
// repository's Markdown, runs as a test (like Elixir doctests). The files are found by walking
// the tree, so a new module or document is covered without being listed anywhere.
import { test } from "node:test";
import { readdirSync, readFileSync } from "node:fs";
import { docExamples, runDocExample } from "./_doc_examples.ts";

const ROOT = new URL("../", import.meta.url);

/** Files under `dir` (relative to the root) whose names end with `suffix`, in sorted order. */
function walk(dir: string, suffix: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(new URL(dir, ROOT), { withFileTypes: true })) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory()) found.push(...walk(`${path}/`, suffix));
    else if (entry.name.endsWith(suffix)) found.push(path);
  }
  return found.sort();
}

/** A block that declares node:test tests is shown for reading: it cannot run inside a test. */
const declaresTests = (code: string) => code.includes('from "node:test"');

const sources = ["mod.ts", ...walk("lib/", ".ts")];
for (const file of sources) {
  const url = new URL(file, ROOT);
  for (const example of docExamples(url)) {
    if (declaresTests(example.code)) continue;
    test(`${file} example: ${example.title}`, () => runDocExample(url, example));
  }
}

const documents = ["README.md", ...walk("docs/", ".md"), ...walk("lib/", ".md")];
for (const file of documents) {
  const url = new URL(file, ROOT);
  const blocks = [...readFileSync(url, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  blocks.forEach((code, i) => {
    if (declaresTests(code)) return;
    test(`${file} block ${i + 1}`, () => runDocExample(url, { title: `${file} block ${i + 1}`, code }));
  });
}
