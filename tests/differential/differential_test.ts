/**
 * The differential suite under `bun test` and `deno test`: one test per
 * scenario, each comparing this runtime's trace with the BEAM's (Erlang/OTP
 * and Elixir run once, before the tests). A scenario marked with a row of the
 * README's table of deviations must differ, as must one marked `pending` (a
 * known difference whose fix is under way); every other one must match.
 *
 * Without `erl`/`erlc`/`elixir` the suite is skipped with one line, unless
 * `OTP_TS_REQUIRE_BEAM=1` (CI), where that is a failure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { readFileSync } from "node:fs";
import { compare, DEVIATIONS, missingTools, runBeam, SCENARIOS } from "./runner.ts";

const missing = await missingTools();
const required = process.env.OTP_TS_REQUIRE_BEAM === "1";

if (missing.length > 0) {
  if (required) {
    test("differential suite against the BEAM", () => {
      assert.fail(`OTP_TS_REQUIRE_BEAM=1 but ${missing.join(", ")} not found: the differential suite cannot run`);
    });
  } else {
    test(`differential suite against the BEAM (skipped: ${missing.join(", ")} not found)`, { skip: true }, () => {});
  }
} else {
  const beam = await runBeam();

  test("differential: every BEAM scenario has a TypeScript twin and the reverse", () => {
    const ts = new Set(SCENARIOS.map((s) => s.name));
    assert.equal(ts.size, SCENARIOS.length, "scenario names are unique");
    assert.deepEqual([...beam.keys()].filter((k) => !ts.has(k)), [], "BEAM scenarios without a twin");
    assert.deepEqual(SCENARIOS.filter((s) => !beam.has(s.name)).map((s) => s.name), [], "TS scenarios without a twin");
    for (const s of SCENARIOS) {
      if (s.deviation) assert.ok(s.deviation in DEVIATIONS, `${s.name}: unknown deviation ${s.deviation}`);
    }
  });

  test("differential: every deviation a scenario shows is a row of the README's table of deviations", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const rows = readme.split("\n").filter((l) => l.startsWith("| ")).map((l) => l.split("|")[1].trim());
    for (const title of Object.values(DEVIATIONS)) {
      assert.ok(rows.includes(title), `README has no deviation row titled ${title}`);
    }
  });

  for (const s of SCENARIOS) {
    const label = s.deviation
      ? `${s.name} (deviation: ${DEVIATIONS[s.deviation] ?? s.deviation})`
      : s.pending
      ? `${s.name} (pending: ${s.pending})`
      : s.name;
    test(`differential: ${label}`, async () => {
      const o = await compare(s, beam);
      if (s.deviation) {
        assert.ok(!o.same, `${s.name} now matches the BEAM: drop its deviation mark (and the README row if unused)`);
      } else if (s.pending) {
        assert.ok(!o.same, `${s.name} now matches the BEAM (${s.pending} is fixed): drop its pending mark`);
      } else if (!o.same) {
        assert.fail(
          `${s.name} differs from the BEAM at ${o.diff}\nBEAM:\n  ${o.beam?.join("\n  ")}\nTS:\n  ${o.ts.join("\n  ")}`,
        );
      }
    });
  }
}
