/** Twins of `ets_scenarios()` in beam/diff_erl.erl. */
import { Ets, type Pid, Process } from "../../../mod.ts";
import { attempt, forwarder, type Scenario } from "../scenario.ts";
import { list } from "../trace.ts";

const { $, _ } = Ets;

/** Erlang term order for the numbers, atoms and tuples these scenarios sort. */
function cmp(a: unknown, b: unknown): number {
  const rank = (x: unknown) => typeof x === "number" ? 0 : typeof x === "string" ? 1 : 2;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (typeof a === "number") return a - (b as number);
  if (typeof a === "string") return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  const x = a as unknown[], y = b as unknown[];
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) {
    const c = cmp(x[i], y[i]);
    if (c !== 0) return c;
  }
  return 0;
}
const sorted = (xs: readonly unknown[]) => list([...xs].sort(cmp));

/** Runs `fn` in another process; its attempt() result. */
async function inOther(fn: () => unknown): Promise<unknown> {
  const main = Process.self();
  Process.spawn(async () => Process.send(main, ["in_other", await attempt(fn)]));
  const [, r] = await Process.receive<[string, unknown]>((m: unknown) => Array.isArray(m) && m[0] === "in_other");
  return r;
}

function walk(t: Ets.Table, k: unknown): unknown[] {
  const keys: unknown[] = [];
  while (k !== Ets.END_OF_TABLE) {
    keys.push(k);
    k = Ets.next(t, k);
  }
  return keys;
}

const lookup = (t: Ets.TableRef, k: unknown) => ["lookup", list(Ets.lookup(t, k))];

async function deadPid(): Promise<Pid> {
  const [p, ref] = Process.spawnMonitor(() => {});
  await Process.receive({ ref });
  return p;
}

export const etsScenarios: Scenario[] = [
  {
    name: "ets.set_basic",
    run(c) {
      const t = Ets.new("t", { type: "set" });
      c.ev(Ets.insert(t, ["a", 1]));
      c.ev(Ets.insert(t, ["a", 2]));
      c.ev(lookup(t, "a"));
      c.ev(["insert_new", Ets.insertNew(t, ["a", 3])]);
      c.ev(["insert_new", Ets.insertNew(t, ["b", 1])]);
      c.ev(["member", Ets.member(t, "b")]);
      c.ev(["delete", Ets.delete(t, "b")]);
      c.ev(["member", Ets.member(t, "b")]);
      c.ev(lookup(t, "zz"));
      c.ev(["size", Ets.info(t)!.size]);
    },
  },
  {
    name: "ets.bag",
    run(c) {
      const t = Ets.new("t", { type: "bag" });
      for (const o of [["k", 1], ["k", 2], ["k", 1]]) Ets.insert(t, o);
      c.ev(lookup(t, "k"));
      c.ev(["delete_object", Ets.deleteObject(t, ["k", 1])]);
      c.ev(lookup(t, "k"));
    },
  },
  {
    name: "ets.duplicate_bag",
    run(c) {
      const t = Ets.new("t", { type: "duplicate_bag" });
      for (const o of [["k", 1], ["k", 2], ["k", 1]]) Ets.insert(t, o);
      c.ev(lookup(t, "k"));
      c.ev(["size", Ets.info(t)!.size]);
      c.ev(["delete_object", Ets.deleteObject(t, ["k", 1])]);
      c.ev(lookup(t, "k"));
    },
  },
  {
    name: "ets.ordered_set_walk",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      for (const n of [3, 1, 2]) Ets.insert(t, [n, "x"]);
      c.ev(["first", Ets.first(t)]);
      c.ev(["next", Ets.next(t, 1)]);
      c.ev(["next", Ets.next(t, 2)]);
      c.ev(["next", Ets.next(t, 3)]);
      c.ev(["last", Ets.last(t)]);
      c.ev(["prev", Ets.prev(t, 3)]);
      c.ev(["prev", Ets.prev(t, 1)]);
      c.ev(["next_missing", Ets.next(t, 0)]);
      c.ev(["prev_missing", Ets.prev(t, 9)]);
    },
  },
  {
    name: "ets.ordered_set_order",
    deviation: "ets_string_order",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      for (const k of ["b", 2, "a", 1, [1, "b"], [1, "a"], [0, "z"]]) Ets.insert(t, [k]);
      c.ev(["all", list(Ets.tab2list(t))]);
    },
  },
  {
    name: "ets.set_walk",
    run(c) {
      const t = Ets.new("t", { type: "set" });
      for (const n of [5, 3, 1, 4, 2]) Ets.insert(t, [n]);
      c.ev(["keys", sorted(walk(t, Ets.first(t)))]);
      c.ev(["tab2list", sorted(Ets.tab2list(t))]);
    },
  },
  {
    name: "ets.set_next_missing_key",
    async run(c) {
      const t = Ets.new("t", { type: "set" });
      Ets.insert(t, [1]);
      c.ev(await attempt(() => Ets.next(t, 99)));
    },
  },
  {
    name: "ets.empty_walks",
    run(c) {
      const s = Ets.new("t", { type: "set" });
      const o = Ets.new("t", { type: "ordered_set" });
      c.ev([Ets.first(s), Ets.last(s), Ets.first(o), Ets.last(o)]);
    },
  },
  {
    name: "ets.update_counter",
    async run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["c", 0]);
      c.ev(Ets.updateCounter(t, "c", 5));
      c.ev(Ets.updateCounter(t, "c", [2, -10]));
      c.ev(Ets.updateCounter(t, "c", [2, 20, 12, 0]));
      c.ev(list(Ets.updateCounter(t, "c", [[2, 1], [2, 1]])));
      c.ev(Ets.updateCounter(t, "d", 1, ["d", 10]));
      c.ev(await attempt(() => Ets.updateCounter(t, "missing", 1)));
      c.ev(lookup(t, "c"));
    },
  },
  {
    name: "ets.update_counter_empty_ops",
    async run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["c", 0]);
      const r = await attempt(() => Ets.updateCounter(t, "c", []));
      c.ev(Array.isArray(r) && r[0] === "ok" && Array.isArray(r[1]) ? ["ok", list(r[1])] : r);
    },
  },
  {
    name: "ets.update_counter_badarg",
    async run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["c", 0]);
      Ets.insert(t, ["s", "x"]);
      c.ev(await attempt(() => Ets.updateCounter(t, "c", 1.5)));
      c.ev(await attempt(() => Ets.updateCounter(t, "s", 1)));
      c.ev(await attempt(() => Ets.updateCounter(t, "c", [1, 1])));
      c.ev(lookup(t, "c"));
    },
  },
  {
    name: "ets.update_element",
    async run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["k", "a", "b"]);
      c.ev(Ets.updateElement(t, "k", [2, "x"]));
      c.ev(Ets.updateElement(t, "k", [[2, "y"], [3, "z"]]));
      c.ev(lookup(t, "k"));
      c.ev(Ets.updateElement(t, "missing", [2, "x"]));
      c.ev(await attempt(() => Ets.updateElement(t, "k", [1, "j"])));
      c.ev(await attempt(() => Ets.updateElement(t, "k", [4, "j"])));
    },
  },
  {
    name: "ets.update_element_empty",
    async run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["k", "a"]);
      c.ev(await attempt(() => Ets.updateElement(t, "k", [])));
    },
  },
  {
    name: "ets.rename",
    async run(c) {
      const t = Ets.new("t");
      const r: unknown = Ets.rename(t, "diff_renamed1");
      c.ev(["unnamed_returns_tid", r === t]);
      const n = Ets.new("diff_named1", { named: true });
      c.ev(["named", Ets.rename(n, "diff_named2")]);
      Ets.insert("diff_named2", ["k"]);
      c.ev(lookup("diff_named2", "k"));
      c.ev(await attempt(() => Ets.lookup("diff_named1", "k")));
    },
  },
  {
    name: "ets.access_protected",
    async run(c) {
      const t = Ets.new("t", { access: "protected" });
      Ets.insert(t, ["k", 1]);
      c.ev(["read", await inOther(() => list(Ets.lookup(t, "k")))]);
      c.ev(["write", await inOther(() => Ets.insert(t, ["k", 2]))]);
      c.ev(lookup(t, "k"));
    },
  },
  {
    name: "ets.access_private",
    async run(c) {
      const t = Ets.new("t", { access: "private" });
      Ets.insert(t, ["k", 1]);
      c.ev(["read", await inOther(() => list(Ets.lookup(t, "k")))]);
      c.ev(["write", await inOther(() => Ets.insert(t, ["k", 2]))]);
      c.ev(["info", await inOther(() => Ets.info(t)!.size)]);
    },
  },
  {
    name: "ets.access_public",
    async run(c) {
      const t = Ets.new("t", { access: "public" });
      c.ev(["write", await inOther(() => Ets.insert(t, ["k", 2]))]);
      c.ev(lookup(t, "k"));
      c.ev(["delete_other", await inOther(() => Ets.delete(t))]);
    },
  },
  {
    name: "ets.owner_death",
    async run(c) {
      const main = Process.self();
      const [, ref] = Process.spawnMonitor(() => {
        const t = Ets.new("diff_owned", { named: true, access: "public" });
        Ets.insert(t, ["k"]);
        Process.send(main, ["table", t]);
      });
      await Process.receive((m: unknown) => Array.isArray(m) && m[0] === "table");
      await Process.receive({ ref });
      c.ev(["info", Ets.info("diff_owned")]);
      c.ev(["whereis", Ets.whereis("diff_owned")]);
      c.ev(await attempt(() => Ets.lookup("diff_owned", "k")));
    },
  },
  {
    name: "ets.heir",
    async run(c) {
      const main = Process.self();
      const [, ref] = Process.spawnMonitor(() => {
        const t = Ets.new("t", { heir: { pid: main, data: "hdata" } });
        Ets.insert(t, ["k"]);
        Process.send(main, ["table", t]);
      });
      const [, t] = await Process.receive<[string, Ets.Table]>((m: unknown) => Array.isArray(m) && m[0] === "table");
      c.ev(await Process.receive({ ref }));
      c.ev(await c.recv(1000));
      c.ev(["owner_is_self", Ets.info(t)!.owner === Process.self()]);
      c.ev(["heir", Ets.info(t)!.heir]);
      c.ev(Ets.insert(t, ["k2"]));
      c.ev(["size", Ets.info(t)!.size]);
    },
  },
  {
    name: "ets.setopts_heir",
    async run(c) {
      const main = Process.self();
      const [, ref] = Process.spawnMonitor(() => {
        const t = Ets.new("t");
        Ets.setopts(t, { heir: { pid: main, data: "later" } });
        Process.send(main, ["table", t]);
      });
      await Process.receive((m: unknown) => Array.isArray(m) && m[0] === "table");
      await Process.receive({ ref });
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "ets.give_away",
    async run(c) {
      const main = Process.self();
      const child = forwarder(main, false);
      await Process.receive("ready");
      const t = Ets.new("t", { access: "protected" });
      c.ev(["give", Ets.giveAway(t, child, "gdata")]);
      c.ev(await c.recv(1000));
      c.ev(["owner", Ets.info(t)!.owner === child]);
      c.ev(await attempt(() => Ets.insert(t, ["k"])));
      c.ev(await attempt(() => Ets.giveAway(t, main, "x")));
    },
  },
  {
    name: "ets.heir_after_give_away",
    async run(c) {
      const main = Process.self();
      const child = Process.spawn(async ({ receive }) => {
        await receive((m: unknown) => Array.isArray(m) && m[0] === "ETS-TRANSFER");
        Process.send(main, "taken");
        await receive("die");
      });
      const t = Ets.new("t", { heir: { pid: main, data: "hdata" } });
      Ets.giveAway(t, child, "gdata");
      await Process.receive("taken");
      const ref = Process.monitor(child);
      Process.send(child, "die");
      await Process.receive({ ref });
      c.ev(await c.recv(1000));
      c.ev(["owner_is_self", Ets.info(t)!.owner === Process.self()]);
    },
  },
  {
    name: "ets.heir_dead_before_owner",
    async run(c) {
      const main = Process.self();
      const h = await deadPid();
      const [, ref] = Process.spawnMonitor(() => {
        const t = Ets.new("diff_heirless", { named: true, heir: { pid: h, data: "x" } });
        Process.send(main, ["table", t]);
      });
      await Process.receive((m: unknown) => Array.isArray(m) && m[0] === "table");
      await Process.receive({ ref });
      c.ev(["info", Ets.info("diff_heirless")]);
    },
  },
  {
    name: "ets.heir_self",
    async run(c) {
      const main = Process.self();
      const [, ref] = Process.spawnMonitor(async () => {
        const t = Ets.new("diff_selfheir", { named: true });
        Process.send(main, [
          "table",
          t,
          await attempt(() => Ets.setopts(t, { heir: { pid: Process.self(), data: "x" } })),
        ]);
      });
      const [, , r] = await Process.receive<unknown[]>((m: unknown) => Array.isArray(m) && m[0] === "table");
      c.ev(["setopts", r]);
      await Process.receive({ ref });
      c.ev(["info", Ets.info("diff_selfheir")]);
    },
  },
  {
    name: "ets.give_away_errors",
    async run(c) {
      const t = Ets.new("t");
      c.ev(await attempt(() => Ets.giveAway(t, Process.self(), "x")));
      const p = await deadPid();
      c.ev(await attempt(() => Ets.giveAway(t, p, "x")));
      c.ev(["owner", Ets.info(t)!.owner === Process.self()]);
    },
  },
  {
    name: "ets.select",
    run(c) {
      const t = Ets.new("t");
      Ets.insertMany(t, [["a", 1], ["b", 2], ["c", 3]]);
      c.ev(["select", sorted(Ets.select(t, { head: [$(1), $(2)], guards: [[">", $(2), 1]], result: $(1) }))]);
      c.ev(["count", Ets.selectCount(t, { head: [_, $(1)], guards: [[">=", $(1), 2]], result: true })]);
      c.ev(["delete", Ets.selectDelete(t, { head: [_, $(1)], guards: [[">", $(1), 2]], result: true })]);
      c.ev(["all", sorted(Ets.tab2list(t))]);
    },
  },
  {
    name: "ets.select_ordered_results",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      Ets.insertMany(t, [["c", 3], ["a", 1], ["b", 2]]);
      c.ev(["swap", list(Ets.select(t, { head: [$(1), $(2)], result: [$(2), $(1)] }))]);
      c.ev(["whole", list(Ets.select(t, { head: [$(1), $(2)], guards: [["<", $(2), 3]], result: Ets.$_ }))]);
      const vars = Ets.select<unknown[]>(t, { head: [$(1), $(2)], guards: [["==", $(1), "b"]], result: Ets.$$ });
      c.ev(["vars", list(vars.map((v) => list(v)))]);
      c.ev([
        "two_clauses",
        list(Ets.select(t, [{ head: ["a", $(1)], result: ["first", $(1)] }, { head: [$(1), _], result: $(1) }])),
      ]);
    },
  },
  {
    name: "ets.match",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      Ets.insertMany(t, [["a", 1, "x"], ["b", 2, "y"], ["c", 1, "z"]]);
      c.ev(["match", list(Ets.match(t, [$(1), 1, $(2)]).map((b) => list(b)))]);
      c.ev(["match_object", list(Ets.matchObject(t, [_, 1, _]))]);
      c.ev(["match_delete", Ets.matchDelete(t, [_, 1, _])]);
      c.ev(["all", list(Ets.tab2list(t))]);
    },
  },
  {
    name: "ets.take_and_foldl",
    run(c) {
      const t = Ets.new("t");
      Ets.insertMany(t, [["a", 1], ["b", 2], ["c", 3]]);
      c.ev(["take", list(Ets.take(t, "a"))]);
      c.ev(["take", list(Ets.take(t, "a"))]);
      c.ev(["sum", Ets.foldl(t, (o, acc: number) => (o[1] as number) + acc, 0)]);
    },
  },
  {
    name: "ets.named_table",
    async run(c) {
      const n = Ets.new("diff_named3", { named: true });
      c.ev(["new", n]);
      Ets.insert("diff_named3", ["k", "v"]);
      c.ev(lookup("diff_named3", "k"));
      c.ev(await attempt(() => Ets.new("diff_named3", { named: true })));
      c.ev(["whereis_is_tid", Ets.whereis("diff_named3") instanceof Ets.Table]);
    },
  },
  {
    name: "ets.keypos",
    async run(c) {
      const t = Ets.new("t", { keyPos: 2 });
      Ets.insert(t, ["x", "k1"]);
      Ets.insert(t, ["y", "k1"]);
      c.ev(lookup(t, "k1"));
      c.ev(await attempt(() => Ets.insert(t, ["only"])));
    },
  },
  {
    name: "ets.info_fields",
    run(c) {
      const t = Ets.new("diff_info", { type: "bag", access: "public", named: true, keyPos: 2 });
      Ets.insert(t, ["a", "b"]);
      const i = Ets.info(t)!;
      c.ev(list([i.size, i.type, i.access, i.keyPos, i.named, i.name]));
    },
  },
  {
    name: "ets.delete_table",
    async run(c) {
      const t = Ets.new("t");
      c.ev(Ets.delete(t));
      c.ev(await attempt(() => Ets.lookup(t, "k")));
      c.ev(["info", Ets.info(t)]);
      c.ev(await attempt(() => Ets.delete(t)));
    },
  },
  {
    name: "ets.lookup_element",
    async run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["k", "a", "b"]);
      c.ev(Ets.lookupElement(t, "k", 2));
      c.ev(await attempt(() => Ets.lookupElement(t, "k", 4)));
      c.ev(await attempt(() => Ets.lookupElement(t, "missing", 2)));
    },
  },
  {
    name: "ets.insert_many",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      c.ev(Ets.insertMany(t, [["a", 1], ["b", 2]]));
      c.ev(Ets.insertNewMany(t, [["c", 3], ["b", 3]]));
      c.ev(Ets.insertNewMany(t, [["c", 3], ["d", 4]]));
      c.ev(["all", list(Ets.tab2list(t))]);
      c.ev(Ets.deleteAllObjects(t));
      c.ev(["all", list(Ets.tab2list(t))]);
    },
  },
  {
    name: "ets.int_float_keys",
    deviation: "int_float",
    run(c) {
      const s = Ets.new("t", { type: "set" });
      const o = Ets.new("t", { type: "ordered_set" });
      for (const t of [s, o]) Ets.insertMany(t, [[1, "int"], [1.0, "float"]]);
      c.ev(["set_size", Ets.info(s)!.size]);
      c.ev(["ordered_set_size", Ets.info(o)!.size]);
    },
  },
  {
    name: "ets.utf16_order",
    deviation: "utf16_order",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      Ets.insertMany(t, [["\uFFFD", "replacement"], ["\u{1F600}", "emoji"]]);
      c.ev(["order", list(Ets.tab2list(t).map((o) => o[1]))]);
    },
  },
  {
    name: "ets.ordered_walk_delete",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      for (const n of [1, 2, 3, 4]) Ets.insert(t, [n]);
      const visited: unknown[] = [];
      for (let k: unknown = Ets.first(t); k !== Ets.END_OF_TABLE;) {
        Ets.delete(t, k);
        visited.push(k);
        k = Ets.next(t, k);
      }
      c.ev(["visited", list(visited)]);
      c.ev(["left", list(Ets.tab2list(t))]);
    },
  },
  {
    name: "ets.foldr_and_foldl_order",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      for (const n of [2, 3, 1]) Ets.insert(t, [n]);
      c.ev(["foldl", list(Ets.foldl(t, (o, acc: unknown[]) => [o[0], ...acc], []))]);
      c.ev(["foldr", list(Ets.foldr(t, (o, acc: unknown[]) => [o[0], ...acc], []))]);
    },
  },
  {
    name: "ets.bag_delete_key_and_take",
    run(c) {
      const t = Ets.new("t", { type: "bag" });
      Ets.insertMany(t, [["k", 1], ["k", 2], ["j", 1]]);
      c.ev(["take", sorted(Ets.take(t, "k"))]);
      c.ev(["member", Ets.member(t, "k")]);
      c.ev(["delete", Ets.delete(t, "j")]);
      c.ev(["size", Ets.info(t)!.size]);
    },
  },
  {
    name: "ets.match_repeated_variable",
    run(c) {
      const t = Ets.new("t", { type: "ordered_set" });
      Ets.insertMany(t, [["a", "a", 1], ["b", "c", 2], ["d", "d", 3]]);
      c.ev(["match", list(Ets.match(t, [$(1), $(1), $(2)]).map((b) => list(b)))]);
      c.ev(["select", list(Ets.select(t, { head: [$(1), $(1), _], result: Ets.$_ }))]);
    },
  },
  {
    name: "ets.update_counter_thresholds",
    run(c) {
      const t = Ets.new("t");
      Ets.insert(t, ["c", 5, 5]);
      c.ev(Ets.updateCounter(t, "c", [2, -10, 0, 100]));
      c.ev(Ets.updateCounter(t, "c", [3, 10, 12, -1]));
      c.ev(list(Ets.updateCounter(t, "c", [[2, 1], [3, -1]])));
      c.ev(lookup(t, "c"));
    },
  },
  {
    name: "ets.update_counter_bag_badarg",
    async run(c) {
      const t = Ets.new("t", { type: "bag" });
      Ets.insert(t, ["c", 0]);
      c.ev(await attempt(() => Ets.updateCounter(t, "c", 1)));
      c.ev(await attempt(() => Ets.updateElement(t, "c", [2, 1])));
    },
  },
];
