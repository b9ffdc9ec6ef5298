import { test } from "node:test";
import { docExamples, runDocExample } from "./_doc_examples.ts";

// Runs every @example in the ETS sources, like Elixir doctests.
for (const file of ["../lib/ets/ets.ts", "../lib/ets/error.ts"]) {
  const url = new URL(file, import.meta.url);
  for (const example of docExamples(url)) {
    test(`doc example: ${file.split("/").pop()} ${example.title}`, () => runDocExample(url, example));
  }
}
