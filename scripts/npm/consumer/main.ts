// A Node program using the built npm package (dist/npm) as any consumer would: GenServer,
// Supervisor, Ets and DiskLog from "@otp-ts/otp". .ci/checks/node.sh type-checks it with tsc --strict
// (noUncheckedIndexedAccess on) and runs the output under Node; it prints one line and exits 0.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskLog, Ets, GenServer, Process, Supervisor } from "@otp-ts/otp";
import { KEEP_LAST } from "./keep_last.js";
import type { Pid } from "@otp-ts/otp";

type Call = "next" | { kind: "add"; n: number };

const counter = {
  init: (start: number): ["ok", number] => ["ok", start],
  handleCall: (req: Call, _from: GenServer.From<number>, n: number): ["reply", number, number] => {
    const next = req === "next" ? n + 1 : n + req.n;
    return ["reply", next, next];
  },
};

const table = Ets.new<[string, number]>("scores", { type: "set", access: "public" });
Ets.insert(table, ["ada", 3]);

const sup: Pid = await Supervisor.startLink([
  { id: "counter", start: () => GenServer.startLink(counter, 40, { name: "counter" }) },
], { strategy: "one_for_one" });

const first = await GenServer.call<Call, number>("counter", "next");
const second = await GenServer.call<Call, number>("counter", { kind: "add", n: 1 });
// A crash restarts the counter from its start value.
const before = Process.whereis("counter");
Process.exit(before!, "kill");
let after = Process.whereis("counter");
while (after === undefined || after === before) {
  await Process.sleep(1);
  after = Process.whereis("counter");
}
const restarted = await GenServer.call<Call, number>("counter", "next");
const [row] = Ets.lookup(table, "ada");
await Supervisor.stop(sup);

// A disk log on the real file system, compacted in a worker thread (keep_last.ts is the
// compactor and the worker's script).
const dir = mkdtempSync(join(tmpdir(), "otp_consumer_"));
let compacted: number;
try {
  const [, log] = await DiskLog.open({ name: "consumer_log", dir, compactor: KEEP_LAST });
  for (let i = 0; i < 3; i++) await DiskLog.log(log, new Uint8Array([i]));
  compacted = (await DiskLog.compact(log)).records;
  await DiskLog.close(log);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const result = { first, second, restarted, score: row?.[1], compacted };
const expected = { first: 41, second: 42, restarted: 41, score: 3, compacted: 1 };
if (JSON.stringify(result) !== JSON.stringify(expected)) {
  console.error(`unexpected: ${JSON.stringify(result)}, wanted ${JSON.stringify(expected)}`);
  process.exit(1);
}
console.log(`node ${process.version}: GenServer, Supervisor, Ets and DiskLog work: ${JSON.stringify(result)}`);
