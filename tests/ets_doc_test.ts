import { testDocExamples } from "./_doc_examples.ts";

// Runs every @example in the ETS sources, like Elixir doctests.
testDocExamples(import.meta.url, ["../lib/ets/ets.ts", "../lib/ets/error.ts"]);
