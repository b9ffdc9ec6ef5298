// Runs the @example blocks of the core modules' JSDoc, like Elixir doctests.
import { test } from "node:test";
import { docExamples, runDocExample } from "./_doc_examples.ts";

for (
  const file of [
    "../mod.ts",
    "../lib/process/process.ts",
    "../lib/process/pid.ts",
    "../lib/process/pattern.ts",
    "../lib/process/reason.ts",
    "../lib/process/messages.ts",
    "../lib/gen_server.ts",
    "../lib/agent.ts",
    "../lib/task.ts",
  ]
) {
  const url = new URL(file, import.meta.url);
  for (const example of docExamples(url)) {
    test(`${file.slice(file.lastIndexOf("/") + 1)} example: ${example.title}`, () => runDocExample(url, example));
  }
}
