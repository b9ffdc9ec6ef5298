/**
 * How well `always` groups its commits: a `kv serve --dir --appendfsync
 * always` under C connections of PUTs, for each `--fsync` mode and pipeline
 * depth, with the log's own counters read from the Observer's `/api/logs`
 * around each phase: records per fdatasync (the group size k) and
 * fdatasyncs per second. With k near C at P=1, what is left of a cycle beyond
 * k requests' work is the fdatasync itself.
 *
 * ```sh
 * node_modules/.bin/bun scripts/bench_group_commit.ts [--ops 200000] [--connections 50]
 * ```
 *
 * @module
 */
import process from "node:process";
import * as fs from "node:fs";
import * as os from "node:os";
import { LineConnection, linesPer, phase, requests } from "./_line_load.ts";
import { startKvServer } from "./_kv_process.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const OPS = Number(arg("--ops", "200000"));
const CONNECTIONS = Number(arg("--connections", "50"));
const deno = (process.versions as Record<string, string | undefined>).deno !== undefined;

interface LogCounters {
  records: number;
  fsyncs: number;
}

async function measure(fsync: "inline" | "thread"): Promise<string[]> {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/bench-group-commit-`);
  const args = ["--dir", dir, "--appendfsync", "always", "--fsync", fsync, "--observer", "127.0.0.1:0"];
  const server = await startKvServer(deno ? "deno" : "bun", args);
  try {
    const { port, observerPort: observer } = server;
    const counters = async (): Promise<LogCounters> => {
      const body = await (await fetch(`http://127.0.0.1:${observer}/api/logs`)).json() as { logs: LogCounters[] };
      return body.logs[0];
    };
    const conns = Array.from({ length: CONNECTIONS }, () => new LineConnection(port));
    await Promise.all(conns.map((c) => c.ready()));
    await conns[0].send(Buffer.from("CREATE b\r\n"), 1);
    const rows: string[] = [];
    for (const p of [1, 16]) {
      await phase(conns, requests("kv", "PUT"), linesPer("PUT"), p, OPS / 4); // warm-up
      const before = await counters();
      const t0 = performance.now();
      const rate = await phase(conns, requests("kv", "PUT"), linesPer("PUT"), p, OPS);
      const seconds = (performance.now() - t0) / 1000;
      const after = await counters();
      const fsyncs = after.fsyncs - before.fsyncs;
      const k = (after.records - before.records) / fsyncs;
      rows.push(
        `| ${fsync} | ${p} | ${Math.round(rate)} | ${k.toFixed(1)} | ${Math.round(fsyncs / seconds)} | ${
          Math.round(1e6 * seconds / fsyncs)
        } |`,
      );
    }
    for (const c of conns) c.socket.destroy();
    return rows;
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const runtime = deno ? `Deno ${process.versions.deno}` : `Bun ${process.versions.bun}`;
console.log(`\n### Group commit under always: ${runtime}, C=${CONNECTIONS}, ${OPS} PUTs per phase\n`);
console.log("| --fsync | P | PUT/s | records per fdatasync | fdatasyncs/s | µs per cycle |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const mode of ["inline", "thread"] as const) for (const row of await measure(mode)) console.log(row);
process.exit(0);
