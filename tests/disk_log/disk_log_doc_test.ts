// Runs the @example blocks of lib/disk_log's JSDoc.
import { testDocExamples } from "../_doc_examples.ts";

testDocExamples(import.meta.url, [
  "../../lib/disk_log/disk_log.ts",
  "../../lib/disk_log/fs.ts",
]);
