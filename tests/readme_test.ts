// The README's TypeScript examples run as tests, so the front door stays true.
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { runDocExample } from "./_doc_examples.ts";

const url = new URL("../README.md", import.meta.url);
const blocks = [...readFileSync(url, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
let n = 0;
for (const code of blocks) {
  n++;
  // A block that declares node:test tests is shown for reading; it would nest tests here.
  if (code.includes('from "node:test"')) continue;
  test(`README example ${n}`, () => runDocExample(url, { title: `README block ${n}`, code }));
}
