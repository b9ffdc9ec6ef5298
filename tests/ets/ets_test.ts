import { test } from "node:test";
import assert from "node:assert/strict";
import * as Ets from "../../lib/ets/ets.ts";
import * as Process from "../../lib/process/process.ts";
import { makeRef } from "../../lib/process/pid.ts";

const { $, $$, $_, _ } = Ets;
type Pid = Process.Pid;

/** Asserts that `fn` throws an EtsError with `code`. */
function throwsEts(fn: () => unknown, code: Ets.EtsErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Ets.EtsError, `expected an EtsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A process that runs functions sent to it, inside itself, until told to stop. */
interface Actor {
  pid: Pid;
  /** Runs `fn` inside the actor; resolves to its result or rejects with what it threw. */
  run<T>(fn: () => T): Promise<T>;
}

function spawnActor(): Actor {
  const pid = Process.spawn(async () => {
    for (;;) {
      const msg = await Process.receive<["run", Pid, () => unknown] | "stop">();
      if (msg === "stop") return;
      const [, from, fn] = msg;
      try {
        Process.send(from, ["ok", fn()]);
      } catch (e) {
        Process.send(from, ["error", e]);
      }
    }
  });
  return {
    pid,
    run: async <T>(fn: () => T): Promise<T> => {
      // Process.run wraps a throw in an exit error; carry the thrown value out instead.
      const [tag, value] = await Process.run(async () => {
        Process.send(pid, ["run", Process.self(), fn]);
        return await Process.receive<["ok" | "error", unknown]>();
      });
      if (tag === "error") throw value;
      return value as T;
    },
  };
}

/** Resolves once `pid` is dead (at once if it already is). */
function awaitDeath(pid: Pid): Promise<unknown> {
  return Process.run(async () => {
    const ref = Process.monitor(pid);
    return await Process.receive({ ref });
  });
}

let seq = 0;
function uniq(prefix: string): string {
  return `${prefix}_${++seq}`;
}

// ---------------------------------------------------------------- types

test("set: inserting an existing key overwrites its object", () => {
  const t = Ets.new<[string, number]>("t");
  Ets.insert(t, ["k", 1]);
  Ets.insert(t, ["k", 2]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 2]]);
  assert.equal(Ets.info(t)!.size, 1);
});

test("ordered_set: inserting an existing key overwrites its object", () => {
  const t = Ets.new<[string, number]>("t", { type: "ordered_set" });
  Ets.insert(t, ["k", 1]);
  Ets.insert(t, ["k", 2]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 2]]);
  assert.equal(Ets.info(t)!.size, 1);
});

test("bag: keeps distinct objects per key, drops an equal one", () => {
  const t = Ets.new("t", { type: "bag" });
  Ets.insert(t, ["k", 1]);
  Ets.insert(t, ["k", 2]);
  Ets.insert(t, ["k", 1]);
  Ets.insert(t, ["k", [1, 2]]);
  Ets.insert(t, ["k", [1, 2]]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 1], ["k", 2], ["k", [1, 2]]]);
  assert.equal(Ets.info(t)!.size, 3);
});

test("duplicate_bag: keeps duplicates, and deleteObject removes every copy", () => {
  const t = Ets.new("t", { type: "duplicate_bag" });
  Ets.insertMany(t, [["k", 1], ["k", 1], ["k", 2]]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 1], ["k", 1], ["k", 2]]);
  assert.equal(Ets.info(t)!.size, 3);
  Ets.deleteObject(t, ["k", 1]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 2]]);
  assert.equal(Ets.info(t)!.size, 1);
});

test("keyPos selects the key element (1-based)", () => {
  const t = Ets.new("t", { keyPos: 2 });
  Ets.insert(t, ["a", "key", 1]);
  Ets.insert(t, ["b", "key", 2]);
  assert.deepEqual(Ets.lookup(t, "key"), [["b", "key", 2]]);
  throwsEts(() => Ets.insert(t, ["short"]), "badarg", /key position 2/);
});

// ---------------------------------------------------------------- keys

for (const type of ["set", "ordered_set", "bag"] as const) {
  test(`${type}: keys compare as terms ("1" vs 1, equal arrays, -0, __proto__)`, () => {
    const t = Ets.new("t", { type });
    Ets.insert(t, ["1", "string"]);
    Ets.insert(t, [1, "number"]);
    Ets.insert(t, [["a", [1, 2]], "tuple"]);
    Ets.insert(t, ["__proto__", "proto"]);
    Ets.insert(t, ["constructor", "ctor"]);
    Ets.insert(t, [0, "zero"]);
    Ets.insert(t, [true, "true"]);
    Ets.insert(t, [null, "null"]);
    Ets.insert(t, [undefined, "undefined"]);
    assert.equal(Ets.lookup(t, "1")[0][1], "string");
    assert.equal(Ets.lookup(t, 1)[0][1], "number");
    assert.equal(Ets.lookup(t, ["a", [1, 2]])[0][1], "tuple");
    assert.deepEqual(Ets.lookup(t, ["a", [1, 3]]), []);
    assert.deepEqual(Ets.lookup(t, ["a", [1, "2"]]), []);
    assert.equal(Ets.lookup(t, "__proto__")[0][1], "proto");
    assert.equal(Ets.lookup(t, "constructor")[0][1], "ctor");
    assert.equal(Ets.lookup(t, "toString").length, 0);
    assert.equal(Ets.lookup(t, -0)[0][1], "zero");
    assert.equal(Ets.lookup(t, true)[0][1], "true");
    assert.equal(Ets.lookup(t, null)[0][1], "null");
    assert.equal(Ets.lookup(t, undefined)[0][1], "undefined");
    assert.equal(Ets.lookup(t, "true").length, 0);
    assert.equal(Ets.lookup(t, "null").length, 0);
    assert.equal(Ets.info(t)!.size, 9);
  });

  test(`${type}: pids and refs are keys, by identity of the process or ref`, () => {
    const t = Ets.new("t", { type });
    const pid = Process.spawn(() => {});
    const ref = makeRef();
    Ets.insert(t, [pid, "pid"]);
    Ets.insert(t, [ref, "ref"]);
    Ets.insert(t, [[pid, ref], "both"]);
    assert.equal(Ets.lookup(t, pid)[0][1], "pid");
    assert.equal(Ets.lookup(t, ref)[0][1], "ref");
    assert.equal(Ets.lookup(t, [pid, ref])[0][1], "both");
    assert.equal(Ets.lookup(t, makeRef()).length, 0);
  });

  test(`${type}: unsupported keys are rejected and change nothing`, () => {
    const t = Ets.new("t", { type });
    for (const bad of [NaN, { a: 1 }, [1, { a: 1 }], Symbol("s"), 1n, () => 1, new Map(), ["x", NaN]]) {
      throwsEts(() => Ets.insert(t, [bad, 1]), "badarg", /Unsupported key/);
    }
    throwsEts(() => Ets.insertMany(t, [["ok", 1], [{}, 2]]), "badarg");
    assert.equal(Ets.info(t)!.size, 0);
  });
}

test("objects are copied on insert: mutating the caller's object changes nothing", () => {
  const t = Ets.new<[string, number[], { n: number }]>("t");
  const obj: [string, number[], { n: number }] = ["k", [1, 2], { n: 1 }];
  Ets.insert(t, obj);
  obj[1].push(3);
  obj[2].n = 99;
  obj[0] = "changed";
  assert.deepEqual(Ets.lookup(t, "k"), [["k", [1, 2], { n: 1 }]]);
  assert.deepEqual(Ets.lookup(t, "changed"), []);
});

test("a plain object value with a __proto__ key is stored as a plain key", () => {
  const t = Ets.new("t");
  const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  Ets.insert(t, ["k", value]);
  const stored = Ets.lookup(t, "k")[0][1] as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(stored), Object.prototype);
  assert.deepEqual(Object.keys(stored).sort(), ["__proto__", "a"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("ordered_set keeps the documented term order across types", () => {
  const t = Ets.new("t", { type: "ordered_set" });
  const p1 = Process.spawn(() => {});
  const p2 = Process.spawn(() => {});
  const r1 = makeRef();
  const expected = [
    -Infinity,
    -5,
    0,
    1.5,
    2,
    Infinity,
    false,
    null,
    true,
    undefined,
    r1,
    p1,
    p2,
    [9],
    ["a"],
    [1, 2],
    [1, "a"],
    [2, 1],
    [[1], 1],
    "",
    "A",
    "B",
    "a",
    "aa",
    "b",
  ];
  const shuffled = [...expected].sort(() => 0).reverse();
  for (const k of shuffled) Ets.insert(t, [k]);
  assert.deepEqual(Ets.tab2list(t).map((o) => o[0]), expected);
  assert.deepEqual(Ets.foldr(t, (o, acc: unknown[]) => [...acc, o[0]], []), [...expected].reverse());
  // Walking with first/next and last/prev.
  const fwd: unknown[] = [];
  for (let k = Ets.first(t); k !== Ets.END_OF_TABLE; k = Ets.next(t, k)) fwd.push(k);
  assert.deepEqual(fwd, expected);
  const back: unknown[] = [];
  for (let k = Ets.last(t); k !== Ets.END_OF_TABLE; k = Ets.prev(t, k)) back.push(k);
  assert.deepEqual(back, [...expected].reverse());
  // next/prev of absent keys give the neighbours.
  assert.equal(Ets.next(t, 1.7), 2);
  assert.equal(Ets.prev(t, 1.7), 1.5);
  assert.equal(Ets.next(t, "ab"), "b");
  assert.equal(Ets.next(t, "b"), Ets.END_OF_TABLE);
  assert.equal(Ets.prev(t, -Infinity), Ets.END_OF_TABLE);
});

test("ordered_set stays sorted under many random inserts and deletes", () => {
  const t = Ets.new<[number, number]>("t", { type: "ordered_set" });
  const model = new Map<number, number>();
  let s = 42;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % 5000;
  for (let i = 0; i < 40_000; i++) {
    const k = rnd();
    if (i % 3 === 2) {
      Ets.delete(t, k);
      model.delete(k);
    } else {
      Ets.insert(t, [k, i]);
      model.set(k, i);
    }
  }
  const want = [...model.entries()].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(Ets.tab2list(t), want);
  assert.equal(Ets.info(t)!.size, model.size);
  assert.equal(Ets.first(t), want[0][0]);
  assert.equal(Ets.last(t), want[want.length - 1][0]);
});

test("set: first/next walk every key once, even when deleting as it goes", () => {
  const t = Ets.new("t");
  for (let i = 0; i < 100; i++) Ets.insert(t, [i % 2 ? i : [i], i]);
  const seen: unknown[] = [];
  for (let k = Ets.first(t); k !== Ets.END_OF_TABLE;) {
    seen.push(k);
    const n = Ets.next(t, k);
    Ets.delete(t, k);
    k = n;
  }
  assert.equal(seen.length, 100);
  assert.equal(Ets.info(t)!.size, 0);
  assert.equal(Ets.first(t), Ets.END_OF_TABLE);
  throwsEts(() => Ets.next(t, "absent"), "badarg");
});

test("set: next works from any present key, not just the last one returned", () => {
  const t = Ets.new("t");
  Ets.insertMany(t, [["a"], ["b"], ["c"]]);
  assert.equal(Ets.next(t, "b"), "c");
  assert.equal(Ets.next(t, "a"), "b");
  assert.equal(Ets.next(t, "c"), Ets.END_OF_TABLE);
  assert.equal(Ets.last(t), "a");
});

// ---------------------------------------------------------------- operations

test("insertNew and insertNewMany insert only when no key exists", () => {
  const t = Ets.new("t");
  assert.equal(Ets.insertNew(t, ["a", 1]), true);
  assert.equal(Ets.insertNew(t, ["a", 2]), false);
  assert.equal(Ets.insertNewMany(t, [["b", 1], ["a", 3]]), false);
  assert.equal(Ets.member(t, "b"), false);
  assert.equal(Ets.insertNewMany(t, [["b", 1], ["c", 1]]), true);
  assert.deepEqual(Ets.tab2list(t).map((o) => o[0]).sort(), ["a", "b", "c"]);
  assert.equal(Ets.lookup(t, "a")[0][1], 1);
});

test("insert rejects non-array objects; insertMany is all or nothing", () => {
  const t = Ets.new("t");
  throwsEts(() => Ets.insert(t, "x" as unknown as [string]), "badarg", /must be an array/);
  throwsEts(() => Ets.insertMany(t, [["a", 1], [] as unknown as [string, number]]), "badarg");
  assert.equal(Ets.info(t)!.size, 0);
});

test("lookupElement, member, take", () => {
  const t = Ets.new("t");
  Ets.insert(t, ["k", "v", 3]);
  assert.equal(Ets.lookupElement(t, "k", 2), "v");
  assert.equal(Ets.lookupElement(t, "k", 3), 3);
  assert.equal(Ets.lookupElement(t, "nope", 2, "dflt"), "dflt");
  assert.equal(Ets.lookupElement(t, "nope", 2, undefined), undefined);
  throwsEts(() => Ets.lookupElement(t, "nope", 2), "badarg", /not in table/);
  throwsEts(() => Ets.lookupElement(t, "k", 4), "badarg", /position 4/);
  assert.equal(Ets.member(t, "k"), true);
  assert.deepEqual(Ets.take(t, "k"), [["k", "v", 3]]);
  assert.equal(Ets.member(t, "k"), false);
  assert.deepEqual(Ets.take(t, "k"), []);
  const b = Ets.new("b", { type: "bag" });
  Ets.insertMany(b, [["k", 1], ["k", 2]]);
  assert.deepEqual(Ets.lookupElement(b, "k", 2), [1, 2]);
  assert.deepEqual(Ets.take(b, "k"), [["k", 1], ["k", 2]]);
  assert.equal(Ets.info(b)!.size, 0);
});

test("delete by key, deleteObject, deleteAllObjects", () => {
  const t = Ets.new("t", { type: "ordered_set" });
  Ets.insertMany(t, [["a", 1], ["b", 2], ["c", 3]]);
  Ets.delete(t, "a");
  Ets.delete(t, "zzz");
  Ets.deleteObject(t, ["b", 99]); // not equal: stays
  Ets.deleteObject(t, ["c", 3]);
  assert.deepEqual(Ets.tab2list(t), [["b", 2]]);
  Ets.deleteAllObjects(t);
  assert.equal(Ets.info(t)!.size, 0);
  Ets.insert(t, ["again", 1]);
  assert.equal(Ets.info(t)!.size, 1);
});

test("updateCounter: increments, positions, thresholds, lists, defaults", () => {
  const t = Ets.new("t");
  Ets.insert(t, ["c", 10, 100]);
  assert.equal(Ets.updateCounter(t, "c", 1), 11);
  assert.equal(Ets.updateCounter(t, "c", -2), 9);
  assert.equal(Ets.updateCounter(t, "c", [3, 5]), 105);
  assert.equal(Ets.updateCounter(t, "c", [2, 5, 12, 0]), 0); // 14 > 12: reset
  assert.equal(Ets.updateCounter(t, "c", [2, -1, 0, 50]), 50); // -1 < 0: set
  assert.deepEqual(Ets.updateCounter(t, "c", [[2, 1], [3, -5], [2, 1]]), [51, 100, 52]);
  assert.deepEqual(Ets.lookup(t, "c"), [["c", 52, 100]]);
  // Default: inserted with its key replaced, then updated.
  assert.equal(Ets.updateCounter(t, "new", 5, ["ignored", 1]), 6);
  assert.deepEqual(Ets.lookup(t, "new"), [["new", 6]]);
  throwsEts(() => Ets.updateCounter(t, "missing", 1), "badarg", /not in table/);
  throwsEts(() => Ets.updateCounter(t, "c", [1, 1]), "badarg", /position 1/);
  throwsEts(() => Ets.updateCounter(t, "c", [4, 1]), "badarg");
  Ets.insert(t, ["s", "text"]);
  throwsEts(() => Ets.updateCounter(t, "s", 1), "badarg", /not an integer/);
  // A failing op in a list changes nothing.
  throwsEts(() => Ets.updateCounter(t, "c", [[2, 1], [9, 1]]), "badarg");
  assert.deepEqual(Ets.lookup(t, "c"), [["c", 52, 100]]);
  throwsEts(() => Ets.updateCounter(Ets.new("b", { type: "bag" }), "k", 1, ["k", 0]), "badarg", /set or ordered_set/);
});

test("updateCounter on an ordered_set, and the counter object stays a copy", () => {
  const t = Ets.new<[string, number]>("t", { type: "ordered_set" });
  const dflt: [string, number] = ["x", 0];
  Ets.updateCounter(t, "k", 1, dflt);
  Ets.updateCounter(t, "k", 1, dflt);
  assert.deepEqual(dflt, ["x", 0]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 2]]);
});

test("updateElement replaces elements; false when the key is absent", () => {
  const t = Ets.new("t");
  Ets.insert(t, ["k", 1, 2]);
  assert.equal(Ets.updateElement(t, "k", [2, ["nested"]]), true);
  assert.equal(Ets.updateElement(t, "k", [[2, "a"], [3, "b"]]), true);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", "a", "b"]]);
  assert.equal(Ets.updateElement(t, "nope", [2, 1]), false);
  throwsEts(() => Ets.updateElement(t, "k", [1, "x"]), "badarg", /key/);
  throwsEts(() => Ets.updateElement(t, "k", [4, "x"]), "badarg");
  assert.deepEqual(Ets.lookup(t, "k"), [["k", "a", "b"]]);
});

test("foldl/foldr and tab2list", () => {
  const t = Ets.new<[number, string]>("t", { type: "ordered_set" });
  Ets.insertMany(t, [[3, "c"], [1, "a"], [2, "b"]]);
  assert.equal(Ets.foldl(t, (o, acc) => acc + o[1], ""), "abc");
  assert.equal(Ets.foldr(t, (o, acc) => acc + o[1], ""), "cba");
  // A fold may change the table it walks.
  Ets.foldl(t, (o, acc) => {
    Ets.delete(t, o[0]);
    return acc;
  }, 0);
  assert.equal(Ets.info(t)!.size, 0);
  const s = Ets.new<[string, number]>("s");
  Ets.insertMany(s, [["x", 1], ["y", 2]]);
  assert.equal(Ets.foldl(s, (o, n) => n + o[1], 0), 3);
  assert.equal(Ets.tab2list(s).length, 2);
});

// ---------------------------------------------------------------- match / select

function people(type: Ets.TableType = "set"): Ets.Table {
  const t = Ets.new("people", { type });
  Ets.insertMany(t, [
    ["ann", 42, "oslo"],
    ["bob", 35, "rome"],
    ["cy", 51, "oslo"],
    ["dee", 35, "paris"],
  ]);
  return t;
}

test("match: variables in order, wildcards, constants", () => {
  const t = people("ordered_set");
  assert.deepEqual(Ets.match(t, [$(1), _, "oslo"]), [["ann"], ["cy"]]);
  assert.deepEqual(Ets.match(t, [$(2), $(1), "oslo"]), [[42, "ann"], [51, "cy"]]);
  assert.deepEqual(Ets.match(t, [_, 35, _]), [[], []]);
  assert.deepEqual(Ets.match(t, [_, _]), []); // wrong arity
  assert.deepEqual(Ets.matchObject(t, [_, 35, _]), [["bob", 35, "rome"], ["dee", 35, "paris"]]);
});

test("match: a repeated variable must bind equal terms", () => {
  const t = Ets.new("t");
  Ets.insertMany(t, [["a", 1, 1], ["b", 1, 2], ["c", [1, 2], [1, 2]]]);
  assert.deepEqual(Ets.match(t, [$(0), $(1), $(1)]).map((r) => r[0]).sort(), ["a", "c"]);
});

test("match: nested tuple and map patterns", () => {
  const t = Ets.new("t");
  Ets.insertMany(t, [["a", ["pt", 1, 2], { role: "admin", age: 3 }], ["b", ["pt", 5, 6], { role: "user" }]]);
  assert.deepEqual(Ets.match(t, [$(1), ["pt", $(2), _], { role: "admin" }]), [["a", 1]]);
  assert.deepEqual(Ets.match(t, [$(1), _, { role: $(2) }]).sort(), [["a", "admin"], ["b", "user"]]);
});

test("select: guards on comparisons, boolean logic, results", () => {
  const t = people("ordered_set");
  assert.deepEqual(Ets.select(t, { head: [$(1), $(2), _], guards: [[">", $(2), 40]], result: $(1) }), ["ann", "cy"]);
  assert.deepEqual(
    Ets.select(t, {
      head: [$(1), $(2), $(3)],
      guards: [["andalso", [">=", $(2), 35], ["/=", $(3), "oslo"]]],
      result: [$(3), $(1)],
    }),
    [["rome", "bob"], ["paris", "dee"]],
  );
  assert.deepEqual(
    Ets.select(t, { head: [_, $(1), _], guards: [["or", ["==", $(1), 42], ["==", $(1), 51]]], result: $$ }),
    [[42], [51]],
  );
  assert.deepEqual(Ets.select(t, { head: [$(1), _, _], guards: [["not", ["<", $(1), "c"]]] }), [["cy", 51, "oslo"], [
    "dee",
    35,
    "paris",
  ]]);
  assert.deepEqual(Ets.select(t, { head: [$(1), $(2), _], guards: [["==", ["rem", $(2), 2], 0]], result: $_ }), [[
    "ann",
    42,
    "oslo",
  ]]);
  assert.deepEqual(Ets.select(t, { head: [$(1), _, _], guards: [[">", ["size", $(1)], 2]], result: "long" }), [
    "long",
    "long",
    "long",
  ]);
  // Clauses are tried in order; the first match gives the result.
  assert.deepEqual(
    Ets.select(t, [
      { head: [$(1), 35, _], result: ["young", $(1)] },
      { head: [$(1), _, _], result: ["other", $(1)] },
    ]),
    [["other", "ann"], ["young", "bob"], ["other", "cy"], ["young", "dee"]],
  );
  // Functions as guards and results.
  assert.deepEqual(
    Ets.select(t, {
      head: [$(1), $(2), _],
      guards: [(v: unknown[]) => v[1] === 35],
      result: (v: unknown[]) => `${v[0]}!`,
    }),
    ["bob!", "dee!"],
  );
});

test("select: a guard that cannot evaluate is false, as in Erlang", () => {
  const t = Ets.new("t");
  Ets.insertMany(t, [["a", 1], ["b", "x"]]);
  assert.deepEqual(Ets.select(t, { head: [$(1), $(2)], guards: [[">", ["+", $(2), 1], 0]], result: $(1) }), ["a"]);
  assert.deepEqual(Ets.select(t, { head: [$(1), $(2)], guards: [["is_string", $(2)]], result: $(1) }), ["b"]);
  assert.deepEqual(Ets.select(t, { head: [$(1), $(2)], guards: [["==", $(2), ["const", [1]]]] }), []);
});

test("select: a fixed key in the head is looked up, with the same answers", () => {
  for (const type of ["set", "ordered_set", "bag"] as const) {
    const t = people(type);
    assert.deepEqual(Ets.select(t, { head: ["bob", $(1), _], result: $(1) }), [35]);
    assert.deepEqual(Ets.select(t, { head: ["zed", $(1), _], result: $(1) }), []);
    assert.deepEqual(Ets.select(t, { head: [{ not: "a key" }, $(1), _], result: $(1) }), []);
  }
});

test("select: bad specifications fail with badarg", () => {
  const t = people();
  throwsEts(() => Ets.select(t, { head: [$(1), _, _], guards: [[">", $(2), 1]] }), "badarg", /\$2 is not bound/);
  throwsEts(
    () => Ets.select(t, { head: [$(1), _, _], guards: [["frobnicate", $(1)]] }),
    "badarg",
    /Unknown guard function/,
  );
  throwsEts(() => Ets.select(t, { head: [$(1), _, _], guards: [[">", $(1)]] }), "badarg", /takes 2/);
  throwsEts(() => Ets.select(t, []), "badarg");
  throwsEts(() => Ets.select(t, [{ nohead: 1 } as unknown as Ets.MatchClause]), "badarg");
  throwsEts(() => $(-1), "badarg");
});

test("selectCount, selectDelete, matchDelete", () => {
  const t = people("bag");
  assert.equal(Ets.selectCount(t, { head: [_, $(1), _], guards: [["<", $(1), 40]], result: true }), 2);
  assert.equal(Ets.selectCount(t, { head: [_, $(1), _], guards: [["<", $(1), 40]], result: false }), 0);
  assert.equal(Ets.selectDelete(t, { head: [_, $(1), _], guards: [["<", $(1), 40]], result: true }), 2);
  assert.deepEqual(Ets.tab2list(t).map((o) => o[0]).sort(), ["ann", "cy"]);
  Ets.matchDelete(t, [_, _, "oslo"]);
  assert.equal(Ets.info(t)!.size, 0);
  const d = Ets.new("d", { type: "duplicate_bag" });
  Ets.insertMany(d, [["k", 1], ["k", 1], ["k", 2]]);
  assert.equal(Ets.selectDelete(d, { head: ["k", 1] }), 2);
  assert.deepEqual(Ets.tab2list(d), [["k", 2]]);
});

// ---------------------------------------------------------------- names, info, errors

test("named tables: lookup by name, name_taken, rename, whereis", () => {
  const name = uniq("named");
  const t = Ets.new(name, { named: true });
  throwsEts(() => Ets.new(name, { named: true }), "name_taken", new RegExp(name));
  const unnamed = Ets.new(name); // unnamed tables may share a name
  assert.notEqual(unnamed, t);
  assert.equal(Ets.whereis(name), t);
  Ets.insert(name, ["k", 1]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 1]]);
  const other = uniq("named");
  Ets.new(other, { named: true });
  throwsEts(() => Ets.rename(name, other), "name_taken");
  const renamed = uniq("renamed");
  assert.equal(Ets.rename(name, renamed), renamed);
  assert.equal(Ets.whereis(name), undefined);
  assert.equal(Ets.whereis(renamed), t);
  assert.equal(Ets.info(t)!.name, renamed);
  throwsEts(() => Ets.lookup(name, "k"), "no_table", /No table is named/);
  Ets.delete(renamed);
  assert.equal(Ets.whereis(renamed), undefined);
  Ets.new(renamed, { named: true }); // the name is free again
});

test("table names are plain strings, __proto__ included", () => {
  const t = Ets.new("__proto__", { named: true });
  assert.equal(Ets.whereis("__proto__"), t);
  assert.equal(Ets.whereis("constructor"), undefined);
  Ets.delete(t);
});

test("a deleted table fails every operation with no_table; info is undefined", () => {
  const t = Ets.new("gone");
  Ets.insert(t, ["k", 1]);
  Ets.delete(t);
  assert.equal(Ets.info(t), undefined);
  assert.ok(!Ets.all().includes(t));
  for (
    const op of [
      () => Ets.lookup(t, "k"),
      () => Ets.lookupOne(t, "k"),
      () => Ets.member(t, "k"),
      () => Ets.insert(t, ["k", 2]),
      () => Ets.delete(t, "k"),
      () => Ets.delete(t),
      () => Ets.tab2list(t),
      () => Ets.first(t),
      () => Ets.select(t, { head: _ }),
      () => Ets.updateCounter(t, "k", 1),
    ]
  ) {
    throwsEts(op, "no_table", /does not exist/);
  }
});

test("bad options fail with badarg", () => {
  throwsEts(() => Ets.new("t", { type: "hash" as Ets.TableType }), "badarg", /Unknown table type/);
  throwsEts(() => Ets.new("t", { access: "open" as Ets.Access }), "badarg", /Unknown access/);
  throwsEts(() => Ets.new("t", { keyPos: 0 }), "badarg");
  throwsEts(() => Ets.new("t", { heir: { pid: "nope" as unknown as Pid } }), "badarg");
  throwsEts(() => Ets.lookup({} as Ets.Table, "k"), "badarg", /Not a table/);
});

test("info reports size, type, owner, access, memory and hints", () => {
  const t = Ets.new("info", {
    type: "ordered_set",
    access: "public",
    keyPos: 2,
    readConcurrency: true,
    writeConcurrency: "auto",
  });
  Ets.insertMany(t, [["a", 1], ["b", 2]]);
  const i = Ets.info(t)!;
  assert.equal(i.size, 2);
  assert.equal(i.type, "ordered_set");
  assert.equal(i.access, "public");
  assert.equal(i.keyPos, 2);
  assert.equal(i.owner, undefined);
  assert.equal(i.readConcurrency, true);
  assert.equal(i.writeConcurrency, true);
  assert.ok(i.memory > 0);
  Ets.insert(t, ["c", 3, "x".repeat(10_000)]);
  assert.ok(Ets.info(t)!.memory > i.memory);
});

// ---------------------------------------------------------------- access rights

test("access: public tables take reads and writes from any process", async () => {
  const owner = spawnActor();
  const t = await owner.run(() => Ets.new("pub", { access: "public" }));
  Ets.insert(t, ["outside", 1]);
  await Process.run(() => {
    Ets.insert(t, ["other", 2]);
    assert.equal(Ets.lookup(t, "outside").length, 1);
  });
  assert.equal(await owner.run(() => Ets.info(t)!.size), 2);
  Process.send(owner.pid, "stop");
});

test("access: protected tables take writes from the owner only", async () => {
  const owner = spawnActor();
  const t = await owner.run(() => {
    const t = Ets.new<[string, number]>("prot");
    Ets.insert(t, ["k", 1]);
    return t;
  });
  // Plain code reads but cannot write.
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 1]]);
  throwsEts(() => Ets.insert(t, ["k", 2]), "access", /Cannot write to protected table "prot" from plain code/);
  throwsEts(() => Ets.delete(t, "k"), "access");
  throwsEts(() => Ets.delete(t), "access");
  throwsEts(() => Ets.updateCounter(t, "k", 1), "access");
  throwsEts(() => Ets.deleteAllObjects(t), "access");
  throwsEts(() => Ets.selectDelete(t, { head: _ }), "access");
  throwsEts(() => Ets.take(t, "k"), "access");
  throwsEts(() => Ets.rename(t, "x"), "access");
  // Another process likewise.
  await Process.run(() => {
    assert.equal(Ets.lookupElement(t, "k", 2), 1);
    throwsEts(() => Ets.insert(t, ["k", 3]), "access", /from process </);
  });
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 1]]);
  // The owner can.
  await owner.run(() => Ets.insert(t, ["k", 4]));
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 4]]);
  Process.send(owner.pid, "stop");
});

test("access: private tables answer their owner only", async () => {
  const owner = spawnActor();
  const t = await owner.run(() => {
    const t = Ets.new("priv", { access: "private" });
    Ets.insert(t, ["k", 1]);
    return t;
  });
  throwsEts(() => Ets.lookup(t, "k"), "access", /Cannot read private table/);
  throwsEts(() => Ets.lookupOne(t, "k"), "access");
  throwsEts(() => Ets.member(t, "k"), "access");
  throwsEts(() => Ets.tab2list(t), "access");
  throwsEts(() => Ets.first(t), "access");
  throwsEts(() => Ets.match(t, _), "access");
  throwsEts(() => Ets.insert(t, ["k", 2]), "access");
  await Process.run(() => {
    throwsEts(() => Ets.lookup(t, "k"), "access");
  });
  assert.deepEqual(await owner.run(() => Ets.lookup(t, "k")), [["k", 1]]);
  assert.equal(Ets.info(t)!.size, 1); // info is allowed, as in Erlang
  Process.send(owner.pid, "stop");
});

test("access: plain code owns the tables it creates; processes are non-owners", async () => {
  const t = Ets.new("outside");
  Ets.insert(t, ["k", 1]);
  await Process.run(() => {
    assert.equal(Ets.lookup(t, "k").length, 1);
    throwsEts(() => Ets.insert(t, ["k", 2]), "access", /owned by plain code/);
    throwsEts(() => Ets.giveAway(t, Process.self()), "access");
  });
  Ets.insert(t, ["k", 3]);
  assert.deepEqual(Ets.lookup(t, "k"), [["k", 3]]);
});

// ---------------------------------------------------------------- ownership

test("the table is deleted when its owner is killed", async () => {
  const name = uniq("owned");
  const owner = spawnActor();
  const t = await owner.run(() => Ets.new(name, { named: true }));
  assert.equal(Ets.info(t)!.owner, owner.pid);
  Process.exit(owner.pid, "kill");
  assert.equal(Ets.info(t), undefined);
  assert.equal(Ets.whereis(name), undefined);
  throwsEts(() => Ets.lookup(t, "k"), "no_table");
  Ets.delete(Ets.new(name, { named: true })); // the name is free
});

test("the table is deleted when its owner returns normally", async () => {
  const t = await Process.run(async () => {
    const self = Process.self();
    const child = Process.spawn(() => {
      Process.send(self, Ets.new("short-lived"));
    });
    const ref = Process.monitor(child);
    const t = await Process.receive<Ets.Table>((m: unknown) => m instanceof Ets.Table);
    await Process.receive({ ref });
    return t;
  });
  assert.equal(Ets.info(t), undefined);
});

test("heir: the heir inherits the table and gets ETS-TRANSFER", async () => {
  await Process.run(async () => {
    const self = Process.self();
    const owner = spawnActor();
    const t = await owner.run(() => {
      const t = Ets.new("inherited", { heir: { pid: self, data: "for you" } });
      Ets.insert(t, ["k", 1]);
      return t;
    });
    assert.equal(Ets.info(t)!.heir, self);
    Process.exit(owner.pid, "kill");
    const [tag, tab, from, data] = await Process.receive<Ets.TransferMessage>(["ETS-TRANSFER", _, _, _]);
    assert.equal(tag, "ETS-TRANSFER");
    assert.equal(tab, t);
    assert.equal(from, owner.pid);
    assert.equal(data, "for you");
    assert.equal(Ets.info(t)!.owner, self);
    Ets.insert(t, ["k", 2]); // now the owner: writes are allowed
    assert.deepEqual(Ets.lookup(t, "k"), [["k", 2]]);
  });
});

test("heir: a dead heir means the table is deleted", async () => {
  const heir = spawnActor();
  const owner = spawnActor();
  const t = await owner.run(() => Ets.new("orphan", { heir: { pid: heir.pid } }));
  Process.exit(heir.pid, "kill");
  Process.exit(owner.pid, "kill");
  assert.equal(Ets.info(t), undefined);
});

test("heir: setopts changes or removes the heir (owner only)", async () => {
  const heir = spawnActor();
  const owner = spawnActor();
  const t = await owner.run(() => Ets.new("opts", { heir: { pid: heir.pid } }));
  throwsEts(() => Ets.setopts(t, { heir: "none" }), "access");
  await owner.run(() => Ets.setopts(t, { heir: "none" }));
  assert.equal(Ets.info(t)!.heir, undefined);
  Process.exit(owner.pid, "kill");
  assert.equal(Ets.info(t), undefined);
  Process.send(heir.pid, "stop");
});

test("giveAway: the new owner gets ETS-TRANSFER; the old owner becomes a non-owner", async () => {
  const owner = spawnActor();
  const t = await owner.run(() => Ets.new("gift"));
  const receiver = await Process.run(async () => {
    const self = Process.self();
    await owner.run(() => Ets.giveAway(t, self, { note: 1 }));
    const msg = await Process.receive<Ets.TransferMessage>(["ETS-TRANSFER", _, _, _]);
    assert.deepEqual(msg, ["ETS-TRANSFER", t, owner.pid, { note: 1 }]);
    assert.equal(Ets.info(t)!.owner, self);
    Ets.insert(t, ["mine", 1]);
    await assert.rejects(
      owner.run(() => Ets.insert(t, ["theirs", 1])),
      (e: unknown) => e instanceof Ets.EtsError && e.code === "access",
    );
    // The old owner's death no longer deletes it.
    Process.exit(owner.pid, "kill");
    assert.equal(Ets.info(t)!.size, 1);
    throwsEts(() => Ets.giveAway(t, self), "badarg", /already owns/);
    throwsEts(() => Ets.giveAway(t, owner.pid), "badarg", /not alive/);
    return self;
  });
  // The receiving process ends: the table goes with it.
  await awaitDeath(receiver);
  assert.equal(Ets.info(t), undefined);
});

test("giveAway from plain code: the message comes from <0.0.0>, the pid of plain code", async () => {
  const t = Ets.new("from-outside");
  let started!: (pid: Pid) => void;
  const receiverPid = new Promise<Pid>((resolve) => started = resolve);
  const done = Process.run(async () => {
    started(Process.self());
    const msg = await Process.receive<Ets.TransferMessage>(["ETS-TRANSFER", _, _, _]);
    return [msg[2], msg[3], Ets.info(t)!.owner === Process.self()];
  });
  const pid = await receiverPid;
  assert.equal(Process.current(), undefined); // this is plain code
  Ets.giveAway(t, pid, 7);
  const [from, data, owned] = await done;
  assert.deepEqual([String(from), data, owned], ["<0.0.0>", 7, true]);
  await awaitDeath(pid);
  assert.equal(Ets.info(t), undefined);
});

test("all lists live tables", () => {
  const t = Ets.new("listed");
  assert.ok(Ets.all().includes(t));
  Ets.delete(t);
  assert.ok(!Ets.all().includes(t));
});
