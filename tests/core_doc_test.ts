// Runs the @example blocks of the core modules' JSDoc, like Elixir doctests.
import { testDocExamples } from "./_doc_examples.ts";

testDocExamples(import.meta.url, [
  "../mod.ts",
  "../lib/process/process.ts",
  "../lib/process/pid.ts",
  "../lib/process/pattern.ts",
  "../lib/process/reason.ts",
  "../lib/process/messages.ts",
  "../lib/gen_server.ts",
  "../lib/agent.ts",
  "../lib/task.ts",
]);
