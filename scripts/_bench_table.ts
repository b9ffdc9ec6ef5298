/**
 * Shared by the benchmark scripts: a row per figure, printed as a Markdown table.
 * @module
 */

/** One measured figure. */
export interface BenchRow {
  /** What was measured, e.g. "GenServer.call round trips (plain code)". */
  name: string;
  /** The figure. */
  value: number;
  /** Its unit, e.g. "ops/s", "bytes/process". */
  unit: string;
  /** Optional target, e.g. "≥ 3M". */
  target?: string;
}

/** The runtime running this script. */
export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${(globalThis as { process?: { version: string } }).process?.version}`;
}

/** Formats a number with thousands separators (and 2 decimals below 100). */
export function fmt(n: number): string {
  if (n < 100) return n.toFixed(2);
  return Math.round(n).toLocaleString("en-US");
}

/** Prints rows as a Markdown table headed by the runtime name. */
export function printTable(title: string, rows: BenchRow[]): void {
  const rt = runtimeName();
  const lines = [
    `### ${title} — ${rt}`,
    "",
    "| figure | value | unit | target |",
    "|---|---:|---|---|",
    ...rows.map((r) => `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.target ?? ""} |`),
  ];
  console.log(lines.join("\n"));
}

/** Runs `fn` repeatedly for about `ms` milliseconds; returns operations per second. */
export async function rate(ms: number, batch: number, fn: (n: number) => unknown): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    await fn(batch);
    ops += batch;
    t = performance.now();
  }
  return ops / ((t - t0) / 1000);
}
