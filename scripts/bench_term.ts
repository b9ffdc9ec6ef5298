/**
 * The external term format codec (`Term`), next to the BEAM's own `term_to_binary/1` and
 * `binary_to_term/1` on the same terms in the same run (2 shared cores: compare the rows of one
 * run, as ratios). Terms: a `gen_server` call as it crosses the wire, a KV route request, a
 * 100-entry map, and a 64 KB binary.
 *
 * ```sh
 * bun scripts/bench_term.ts [--ms 1000]
 * deno run -A scripts/bench_term.ts
 * ```
 *
 * Needs `erl` for the BEAM rows (skipped, with a line, without it).
 *
 * @module
 */
import process from "node:process";
import { spawnSync } from "node:child_process";
import { Term } from "../mod.ts";
import { fmt, runtimeName } from "./_bench_table.ts";

const i = process.argv.indexOf("--ms");
const MS = i > 0 ? Number(process.argv[i + 1]) : 1000;

const a = Symbol.for;
const pid = new Term.ErlPid("foo@localhost", 85, 0, 1700000000);
const ref = new Term.ErlRef("foo@localhost", 1700000000, [123456, 789, 42]);
const samples: [name: string, erlang: string, term: Term.Term][] = [
  [
    "gen_server call",
    '{\'$gen_call\', {Pid, [alias | Ref]}, {put, <<"shopping">>, <<"milk">>, 3}}',
    [a("$gen_call"), [pid, new Term.List([a("alias")], ref)], [a("put"), "shopping", "milk", 3]],
  ],
  [
    "KV route request",
    '{route, [{get, <<"shopping">>, <<"milk">>} || _ <- lists:seq(1, 16)], 0}',
    [a("route"), new Term.List(Array.from({ length: 16 }, () => [a("get"), "shopping", "milk"])), 0],
  ],
  [
    "map of 100 entries",
    "maps:from_list([{integer_to_binary(I), {I, 1.5}} || I <- lists:seq(1, 100)])",
    new Map(Array.from({ length: 100 }, (_, k) => [String(k + 1), [k + 1, 1.5]] as [Term.Term, Term.Term])),
  ],
  ["64 KB binary", "binary:copy(<<7>>, 65536)", new Uint8Array(65536).fill(7)],
];

function measure(fn: () => void): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MS) {
    for (let k = 0; k < 100; k++) fn();
    n += 100;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

// The BEAM on the same terms: its bytes (checked equal to ours) and its rates.
function beamRates(): Map<string, { encode: number; decode: number; hex: string }> | string {
  const exprs = samples.map(([name, erl]) => `{<<"${name}">>, ${erl}}`).join(",\n");
  const script = `
    Pid = binary_to_term(<<131,88,119,13,"foo@localhost",85:32,0:32,1700000000:32>>),
    Ref = binary_to_term(<<131,90,3:16,119,13,"foo@localhost",1700000000:32,123456:32,789:32,42:32>>),
    Rate = fun(F) ->
      T0 = erlang:monotonic_time(microsecond),
      Loop = fun L(N) ->
        [F() || _ <- lists:seq(1, 100)],
        T = erlang:monotonic_time(microsecond) - T0,
        if T < ${MS * 1000} -> L(N + 100); true -> (N + 100) / (T / 1.0e6) end
      end,
      Loop(0)
    end,
    [begin
       B = term_to_binary(T, [{minor_version, 2}]),
       E = Rate(fun() -> term_to_binary(T, [{minor_version, 2}]) end),
       D = Rate(fun() -> binary_to_term(B) end),
       io:format("~s\\t~p\\t~p\\t~s~n", [Name, E, D, binary:encode_hex(B)])
     end || {Name, T} <- [${exprs}]],
    halt().`;
  let r;
  try {
    r = spawnSync("erl", ["-noshell", "-eval", script], { encoding: "utf8", maxBuffer: 1 << 26 });
  } catch (e) {
    return String(e);
  }
  if (r.error || r.status !== 0) return `erl failed: ${r.error ?? r.stderr}`;
  const out = new Map<string, { encode: number; decode: number; hex: string }>();
  for (const line of r.stdout.trim().split("\n")) {
    const [name, e, d, hex] = line.split("\t");
    out.set(name, { encode: Number(e), decode: Number(d), hex: hex.toLowerCase() });
  }
  return out;
}

const unhex = (h: string) => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));
const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const beam = beamRates();
if (typeof beam === "string") console.log(`BEAM rows skipped: ${beam}`);

console.log(`\n#### Term codec — ${runtimeName()} (next to the BEAM's term_to_binary/binary_to_term, one run)\n`);
console.log("| term | bytes | TS encode | TS decode | BEAM encode | BEAM decode | BEAM's bytes |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | :--- |");
for (const [name, , term] of samples) {
  const bytes = Term.encode(term);
  const enc = measure(() => Term.encode(term));
  const dec = measure(() => Term.decode(bytes));
  const b = typeof beam === "string" ? undefined : beam.get(name);
  // Maps past 32 keys: the BEAM writes them in its hash order, we in insertion order; both
  // decode to the same map.
  const same = !b
    ? "-"
    : b.hex === hexOf(bytes)
    ? "identical"
    : Term.equals(Term.decode(unhex(b.hex)), term)
    ? "same term, other key order"
    : "DIFFERENT";
  const cells = b ? [fmt(b.encode), fmt(b.decode), same] : ["-", "-", "-"];
  console.log(
    `| ${name} | ${bytes.length} | ${fmt(enc)}/s | ${fmt(dec)}/s | ${cells[0]}/s | ${cells[1]}/s | ${cells[2]} |`,
  );
}
