// The README and docs/ link only to files inside the repository that exist (a published
// package carries them; a link out of the repository would be dead there).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);
const documents = [
  "README.md",
  ...readdirSync(new URL("docs/", ROOT)).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`),
];

test("README.md and docs/*.md link only to existing files inside the repository", () => {
  const bad: string[] = [];
  for (const doc of documents) {
    const text = readFileSync(new URL(doc, ROOT), "utf8");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target!)) continue;
      const url = new URL(target!.split("#")[0]!, new URL(doc, ROOT));
      const inside = url.href.startsWith(ROOT.href);
      if (!inside || !existsSync(fileURLToPath(url))) {
        bad.push(`${doc}: ${target}${inside ? " (missing)" : " (outside the repository)"}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});
