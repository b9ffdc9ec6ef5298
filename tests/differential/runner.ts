/**
 * The differential runner: runs every scenario on the BEAM (all Erlang ones in
 * one `erl`, all Elixir ones in one `elixir`, side by side) and on this
 * runtime (in-process, one after another), and compares the traces line by
 * line.
 *
 * As a script it prints one line per scenario and a summary:
 * `bun tests/differential/runner.ts` or `deno run -A tests/differential/runner.ts`
 * (a name filter may follow: `... runner.ts ets.`). It exits non-zero if a
 * scenario differs unexpectedly or a marked one matches.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Logger, Process } from "../../mod.ts";
import { runScenario, type Scenario } from "./scenario.ts";
import { processScenarios } from "./scenarios/process.ts";
import { genServerScenarios } from "./scenarios/gen_server.ts";
import { supervisorScenarios } from "./scenarios/supervisor.ts";
import { applicationScenarios } from "./scenarios/application.ts";
import { eventScenarios } from "./scenarios/event.ts";
import { etsScenarios } from "./scenarios/ets.ts";
import { elixirScenarios } from "./scenarios/elixir.ts";

const BEAM_DIR = join(dirname(fileURLToPath(import.meta.url)), "beam");

/**
 * The README's table of deviations, by the key a scenario's `deviation`
 * names: a scenario so marked is expected to differ from the BEAM.
 */
export const DEVIATIONS: Record<string, string> = {
  names: "Names accepted by `exit` and `link`",
  start_link_exit: "A failed `startLink` sends no exit signal",
  duplicate_handler: "An event handler id is unique",
  ets_string_order: "ETS orders strings as binaries",
  int_float: "No integer/float distinction",
  utf16_order: "Strings compare by UTF-16 code units",
  load_twice: "Loading a loaded application is not an error",
};

/** Every TypeScript scenario, in the BEAM's order (Erlang ones, then Elixir ones). */
export const SCENARIOS: Scenario[] = [
  ...processScenarios,
  ...genServerScenarios,
  ...supervisorScenarios,
  ...applicationScenarios,
  ...eventScenarios,
  ...etsScenarios,
  ...elixirScenarios,
];

function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Which BEAM tools are missing (empty: the suite can run). */
export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const cmd of ["erl", "erlc", "elixir"]) {
    if (!(await new Promise<boolean>((r) => execFile("which", [cmd], (e) => r(!e))))) missing.push(cmd);
  }
  return missing;
}

/** Splits `== scenario NAME` separated output into traces; throws if the run did not finish. */
export function parseTraces(out: string, what: string): Map<string, string[]> {
  const traces = new Map<string, string[]>();
  let cur: string[] | null = null;
  let done = false;
  for (const line of out.split("\n")) {
    if (line.startsWith("== scenario ")) {
      cur = [];
      traces.set(line.slice(12), cur);
    } else if (line === "== done") done = true;
    else if (cur !== null && line !== "") cur.push(line);
  }
  if (!done) throw new Error(`The ${what} run did not finish; its output ends with: ${out.slice(-500)}`);
  return traces;
}

/** Runs every BEAM scenario; returns each one's trace. */
export async function runBeam(): Promise<Map<string, string[]>> {
  const out = mkdtempSync(join(tmpdir(), "otp-ts-diff-"));
  try {
    const erls = readdirSync(BEAM_DIR).filter((f) => f.endsWith(".erl")).map((f) => join(BEAM_DIR, f));
    await run("erlc", ["-o", out, ...erls]);
    const [erl, ex] = await Promise.all([
      run("erl", ["-noshell", "-pa", out, "-run", "diff_erl", "main"]),
      run("elixir", ["-pa", out, join(BEAM_DIR, "scenarios.exs")]),
    ]);
    const traces = parseTraces(erl, "Erlang");
    for (const [k, v] of parseTraces(ex, "Elixir")) traces.set(k, v);
    return traces;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** How one scenario compared. */
export interface Outcome {
  name: string;
  deviation?: string;
  pending?: string;
  /** Both traces equal. */
  same: boolean;
  /** The first differing line, described. */
  diff?: string;
  beam?: string[];
  ts: string[];
}

/** Compares two traces; the first differing line, or undefined if equal. */
export function firstDifference(beam: string[], ts: string[]): string | undefined {
  const n = Math.max(beam.length, ts.length);
  for (let i = 0; i < n; i++) {
    if (beam[i] !== ts[i]) return `line ${i + 1}: BEAM ${beam[i] ?? "(end)"} | TS ${ts[i] ?? "(end)"}`;
  }
  return undefined;
}

/** Runs one TypeScript scenario (crash logs and reports off, as on the BEAM side) and compares it with its BEAM trace. */
export async function compare(s: Scenario, beam: Map<string, string[]>): Promise<Outcome> {
  Process.setCrashLogger(null);
  const level = Logger.level();
  Logger.setLevel("none");
  let ts: string[];
  try {
    ts = await runScenario(s);
  } finally {
    Logger.setLevel(level);
    Process.setCrashLogger(Process.defaultCrashLogger);
  }
  const b = beam.get(s.name);
  const { name, deviation, pending } = s;
  if (b === undefined) return { name, deviation, pending, same: false, diff: "no BEAM twin", ts };
  const diff = firstDifference(b, ts);
  return { name, deviation, pending, same: diff === undefined, diff, beam: b, ts };
}

if (import.meta.main) {
  const filter = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ?? process.argv[2] ?? "";
  const beam = await runBeam();
  const names = new Set(SCENARIOS.map((s) => s.name));
  for (const k of beam.keys()) if (!names.has(k)) console.log(`BEAM scenario without a TS twin: ${k}`);
  let same = 0, deviating = 0, pending = 0, differ = 0, markedButSame = 0;
  for (const s of SCENARIOS.filter((s) => s.name.includes(filter))) {
    const o = await compare(s, beam);
    const expected = o.deviation ?? o.pending;
    if (o.same && expected) markedButSame++;
    if (o.same) same++;
    else if (o.deviation) deviating++;
    else if (o.pending) pending++;
    else differ++;
    const mark = o.same
      ? (expected ? "MATCHES (marked)" : "ok")
      : (o.deviation ? "deviation" : o.pending ? "pending" : "DIFF");
    console.log(`${mark.padEnd(9)} ${o.name}${o.same ? "" : `  ${o.diff}`}${expected ? ` [${expected}]` : ""}`);
  }
  console.log(
    `${same + deviating + pending + differ} scenarios: ${same} match, ${deviating} expected deviations, ` +
      `${pending} pending fixes, ${differ} differ`,
  );
  // Exit status for CI: an unexpected difference, or a marked one that now matches, fails.
  if (differ > 0 || markedButSame > 0) process.exitCode = 1;
}
