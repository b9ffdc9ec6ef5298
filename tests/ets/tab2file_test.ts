// Ets.tab2file / Ets.file2tab: round trips, verify, what cannot survive a restart.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import { Ets, Process } from "../../mod.ts";

function tmp(): { file: string; done: () => void } {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/ets-file-`);
  return { file: `${dir}/t.ets`, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const ALL_BYTES = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));

describe("Ets.tab2file / file2tab", () => {
  it("round-trips objects, options and odd values", () => {
    const { file, done } = tmp();
    try {
      const t = Ets.new("file_round_trip", { type: "bag", keyPos: 2, access: "public", readConcurrency: true });
      const proto = JSON.parse('{"__proto__": 1, "constructor": "x"}');
      const objects = [
        ["a", "__proto__", proto],
        ["b", ALL_BYTES, "", NaN, -0, Infinity, -Infinity, undefined, null, true, 10n],
        ["c", ["nested", [1, 2]], new Map<unknown, unknown>([["k", [1]], [2, "v"]]), new Set([1, "x"])],
        ["d", "\u20ac\ud83d\ude00", new Uint8Array([0, 255, 128]), new Date(0)],
        ["e", "__proto__", 2],
      ];
      for (const o of objects) Ets.insert(t, o);
      Ets.tab2file(t, file, { sync: true });
      Ets.delete(t);
      const back = Ets.file2tab(file, { verify: true });
      const info = Ets.info(back)!;
      assert.deepEqual([info.name, info.type, info.keyPos, info.access, info.readConcurrency, info.size], [
        "file_round_trip",
        "bag",
        2,
        "public",
        true,
        5,
      ]);
      const sort = (xs: readonly unknown[][]) => [...xs].sort((x, y) => String(x[0]) < String(y[0]) ? -1 : 1);
      assert.deepEqual(sort(Ets.tab2list(back) as unknown[][]), sort(objects));
      const [[, , p]] = Ets.lookup(back, "__proto__").filter((o) => o[0] === "a") as unknown[][];
      assert.equal(Object.getPrototypeOf(p), Object.prototype, "__proto__ stays a key");
      assert.equal(Object.keys(p as object).includes("__proto__"), true);
    } finally {
      done();
    }
  });

  it("a named table comes back named; a taken name is refused", () => {
    const { file, done } = tmp();
    try {
      const t = Ets.new("file_named", { named: true, type: "ordered_set" });
      Ets.insert(t, [1, "one"]);
      Ets.tab2file("file_named", file);
      assert.throws(() => Ets.file2tab(file), (e: unknown) => (e as Ets.EtsError).code === "name_taken");
      Ets.delete(t);
      const back = Ets.file2tab(file);
      assert.equal(Ets.whereis("file_named"), back);
      Ets.delete(back);
    } finally {
      done();
    }
  });

  it("rejects pids, refs, functions, symbols and class instances, writing nothing", async () => {
    const { file, done } = tmp();
    try {
      const [self, ref] = await Process.run(() => {
        const other = Process.spawn(() => Process.receive());
        const ref = Process.monitor(other);
        Process.exit(other, "kill");
        return [Process.self(), ref] as const;
      });
      class Point {
        constructor(readonly x: number) {}
      }
      for (
        const [value, what] of [
          [self, /a pid/],
          [ref, /a reference/],
          [() => 1, /a function/],
          [Symbol("s"), /a symbol/],
          [new Point(1), /an instance of Point/],
          [{ deep: [1, { f: () => 1 }] }, /a function at object 1\[1\]\.deep\[1\]\.f/],
        ] as [unknown, RegExp][]
      ) {
        const t = Ets.new("file_reject");
        Ets.insert(t, ["k", value]);
        assert.throws(
          () => Ets.tab2file(t, file),
          (e: unknown) => e instanceof Ets.EtsError && e.code === "badarg" && what.test(e.message),
          String(what),
        );
        assert.equal(fs.existsSync(file), false, "nothing written");
        Ets.delete(t);
      }
    } finally {
      done();
    }
  });

  it("verify refuses a truncated or changed file; without verify a torn end is dropped", () => {
    const { file, done } = tmp();
    try {
      const t = Ets.new("file_verify");
      for (let i = 0; i < 10; i++) Ets.insert(t, [i, `v${i}`]);
      Ets.tab2file(t, file);
      Ets.delete(t);
      const text = fs.readFileSync(file, "utf8");
      fs.writeFileSync(file, text.slice(0, text.length - 60));
      assert.throws(() => Ets.file2tab(file, { verify: true }), /truncated|damaged/);
      const partial = Ets.file2tab(file);
      assert.ok(Ets.info(partial)!.size >= 8 && Ets.info(partial)!.size < 10);
      Ets.delete(partial);
      fs.writeFileSync(file, text.replace('"v3"', '"v4"'));
      assert.throws(() => Ets.file2tab(file, { verify: true }), /checksum mismatch/);
      fs.writeFileSync(file, text.replace('"version":1', '"version":7'));
      assert.throws(() => Ets.file2tab(file), /unknown table file version 7/);
      assert.throws(() => Ets.file2tab(`${file}.missing`), /cannot read/);
    } finally {
      done();
    }
  });
});
