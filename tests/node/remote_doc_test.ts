// Runs the @example blocks of the distribution's process layer.
import { testDocExamples } from "../_doc_examples.ts";

testDocExamples(import.meta.url, ["../../lib/node/remote_pid.ts", "../../lib/node/_remote.ts"]);
