/**
 * Whether the BEAM (`erl`) can be used by the node tests. Without it the BEAM-facing tests skip
 * with one line, unless `OTP_TS_REQUIRE_BEAM=1` (CI), where they fail.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";

function findErl(): boolean {
  try {
    const r = spawnSync("erl", ["-noshell", "-eval", "halt()."], { timeout: 20000 });
    return r.status === 0;
  } catch {
    return false;
  }
}

/** True when `erl` runs here. */
export const HAVE_ERL: boolean = findErl();

/** True when CI demands the BEAM tests run. */
export const REQUIRE_BEAM: boolean = process.env.OTP_TS_REQUIRE_BEAM === "1";

/**
 * The `skip` option for a BEAM-facing test: a reason when it must skip, `false` when it runs
 * (also when erl is missing but required, so the test fails loudly).
 */
export function beamSkip(file: string): string | false {
  if (HAVE_ERL || REQUIRE_BEAM) return false;
  const reason = "erl not found (install erlang-base; OTP_TS_REQUIRE_BEAM=1 makes this a failure)";
  console.warn(`${file}: BEAM tests skipped: ${reason}`);
  return reason;
}
