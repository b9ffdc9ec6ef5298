/**
 * `kill -9` the durable kv server at random moments under load, restart it,
 * and check that no acknowledged write is lost, no acknowledged delete
 * undone, nothing invented (see `_kill9.ts`).
 *
 * ```sh
 * node_modules/.bin/bun scripts/kill9.ts [RUNS=100] [POLICIES=always,always-thread,everysec,no]
 * ```
 *
 * `always-thread` is `always` with `--fsync thread`.
 *
 * Runs alternate pipeline depths 1 and 16, 50 connections, kill after 50–500 ms of load.
 *
 * @module
 */
import process from "node:process";
import { kill9Run } from "./_kill9.ts";

const runs = Number(process.argv[2] ?? 100);
const policies = (process.argv[3] ?? "always,always-thread,everysec,no").split(",");
console.log(`| policy | runs | acknowledged requests | unanswered at kill | violations | restart ms (median) |`);
console.log(`|---|---|---|---|---|---|`);
let failed = false;
for (const policy of policies) {
  let acknowledged = 0, unanswered = 0, violations = 0;
  const restarts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await kill9Run({
      policy: policy === "always-thread" ? "always" : policy as "always" | "everysec" | "no",
      ...(policy === "always-thread" ? { fsync: "thread" as const } : {}),
      connections: 50,
      pipeline: i % 2 === 0 ? 1 : 16,
      minMs: 50,
      maxMs: 500,
    });
    acknowledged += r.acknowledged;
    unanswered += r.unanswered;
    violations += r.violations.length;
    restarts.push(r.restartMs);
    for (const v of r.violations.slice(0, 5)) console.error(`${policy} run ${i}: ${v}`);
  }
  restarts.sort((a, b) => a - b);
  const median = restarts[restarts.length >> 1];
  console.log(`| ${policy} | ${runs} | ${acknowledged} | ${unanswered} | ${violations} | ${median.toFixed(0)} |`);
  if (violations > 0) failed = true;
}
process.exit(failed ? 1 : 0);
