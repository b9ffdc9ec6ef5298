// A Node program using the built npm package (dist/npm) as any consumer would: GenServer,
// Supervisor and Ets from "@otp-ts/otp". .ci/checks/node.sh type-checks it with tsc --strict
// (noUncheckedIndexedAccess on) and runs the output under Node; it prints one line and exits 0.
import { Ets, GenServer, Process, Supervisor } from "@otp-ts/otp";
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

const result = { first, second, restarted, score: row?.[1], children: 1 };
const expected = { first: 41, second: 42, restarted: 41, score: 3, children: 1 };
if (JSON.stringify(result) !== JSON.stringify(expected)) {
  console.error(`unexpected: ${JSON.stringify(result)}, wanted ${JSON.stringify(expected)}`);
  process.exit(1);
}
console.log(`node ${process.version}: GenServer, Supervisor and Ets work: ${JSON.stringify(result)}`);
