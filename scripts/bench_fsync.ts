/**
 * What one `fdatasync` costs on this machine's disk, appending to a file
 * against writing into zeros written ahead (`DiskLog`'s `preallocate`):
 * wall time and the whole machine's CPU per fdatasync (from `/proc/stat`, so
 * the kernel's journal thread is counted too), in interleaved rounds.
 *
 * ```sh
 * node_modules/.bin/bun scripts/bench_fsync.ts [--syncs 3000] [--bytes 2000] [--rounds 3] [--dir DIR]
 * ```
 *
 * Linux only (`/proc/stat`). `--bytes` is what each fdatasync covers: 2,000 is
 * about 50 kv PUT records.
 *
 * @module
 */
import process from "node:process";
import * as fs from "node:fs";
import * as os from "node:os";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const SYNCS = Number(arg("--syncs", "3000"));
const BYTES = Number(arg("--bytes", "2000"));
const ROUNDS = Number(arg("--rounds", "3"));
const DIR = arg("--dir", os.tmpdir());
const TICK_US = 10_000; // /proc/stat counts in USER_HZ (100 per second)

/** Busy ticks of the whole machine: user, nice, system, irq, softirq. */
function busyTicks(): number {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6];
}

function run(preallocate: boolean): { wallUs: number; cpuUs: number } {
  const path = `${DIR}/bench_fsync_${process.pid}.log`;
  const fd = fs.openSync(path, "w+");
  try {
    if (preallocate) {
      const zeros = new Uint8Array(SYNCS * BYTES + 4096);
      fs.writeSync(fd, zeros, 0, zeros.length, 0);
      fs.fsyncSync(fd);
    }
    const record = new Uint8Array(BYTES).fill(7);
    const ticks = busyTicks();
    const t0 = performance.now();
    for (let i = 0; i < SYNCS; i++) {
      fs.writeSync(fd, record, 0, BYTES, i * BYTES);
      fs.fdatasyncSync(fd);
    }
    const wallUs = (performance.now() - t0) * 1000 / SYNCS;
    return { wallUs, cpuUs: (busyTicks() - ticks) * TICK_US / SYNCS };
  } finally {
    fs.closeSync(fd);
    fs.unlinkSync(path);
  }
}

const rows: Record<string, { wall: number[]; cpu: number[] }> = {
  "appending (the file grows)": { wall: [], cpu: [] },
  "into zeros written ahead": { wall: [], cpu: [] },
};
for (let r = 0; r < ROUNDS; r++) {
  for (const [label, pre] of [["appending (the file grows)", false], ["into zeros written ahead", true]] as const) {
    const m = run(pre);
    rows[label].wall.push(m.wallUs);
    rows[label].cpu.push(m.cpuUs);
  }
}
const runtime = (process.versions as Record<string, string | undefined>).deno !== undefined
  ? `Deno ${process.versions.deno}`
  : `Bun ${process.versions.bun}`;
console.log(
  `\n### fdatasync of ${BYTES} B each, ${SYNCS} in a row, ${ROUNDS} interleaved rounds, ${runtime}, ${DIR}\n`,
);
console.log("| writes | µs per fdatasync (each round) | machine CPU µs per fdatasync |");
console.log("|---|---|---|");
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
for (const [label, m] of Object.entries(rows)) console.log(`| ${label} | ${fmt(m.wall)} | ${fmt(m.cpu)} |`);
