/**
 * Runs the `@example` blocks of a source file's JSDoc as tests, like Elixir
 * doctests: each block is written to a temporary module (its relative
 * imports rewritten to absolute URLs) and imported.
 *
 * @module
 */

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** One runnable example. */
export interface DocExample {
  /** The example's title, after `@example`. */
  title: string;
  /** The code of its first fenced `ts` block. */
  code: string;
}

/**
 * The examples in a source file's JSDoc comments.
 *
 * @param file The source file's URL.
 * @returns Its examples, in file order.
 */
export function docExamples(file: URL): DocExample[] {
  const lines = readFileSync(file, "utf8").split("\n").map((line) => line.replace(/^\s*\* ?/, ""));
  const examples: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^@example\s*(.*)$/.exec(lines[i]);
    if (!match) continue;
    let j = i + 1;
    while (j < lines.length && !/^```(ts|typescript)\s*$/.test(lines[j])) j++;
    const code: string[] = [];
    for (j++; j < lines.length && !/^```\s*$/.test(lines[j]); j++) code.push(lines[j]);
    examples.push({ title: match[1] || `line ${i + 1}`, code: code.join("\n") });
    i = j;
  }
  return examples;
}

let counter = 0;

/**
 * Runs one example of `file`.
 *
 * @param file The source file's URL (relative imports resolve against it).
 * @param example The example.
 */
export async function runDocExample(file: URL, example: DocExample): Promise<void> {
  const code = example.code.replace(
    /(from\s+|import\s*\(\s*)(["'])(\.\.?\/[^"']+)\2/g,
    (_, prefix: string, quote: string, path: string) => `${prefix}${quote}${new URL(path, file).href}${quote}`,
  );
  const dir = join(tmpdir(), `doc_examples_${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `example_${Date.now()}_${counter++}.ts`);
  writeFileSync(path, code + "\nexport {};\n");
  // Examples state their expectations with console.assert; make a false one fail the test.
  const assert = console.assert;
  console.assert = (condition?: unknown, ...data: unknown[]) => {
    if (!condition) throw new Error(`Example assertion failed in "${example.title}": ${data.join(" ")}`);
  };
  try {
    await import(path);
  } finally {
    console.assert = assert;
    rmSync(path, { force: true });
  }
}
