import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Command,
  EMPTY_OK,
  ERROR,
  execute,
  type KvStore,
  NOT_FOUND,
  OK,
  parse,
  replyBytes,
  run,
  UNKNOWN_COMMAND,
} from "../../../lib/apps/kv_server/command.ts";
import { MapStore } from "../../../lib/apps/kv_server/map_store.ts";
import { docExamples } from "../../_doc_examples.ts";
import { Buffer } from "node:buffer";

const enc = new TextEncoder();
const dec = new TextDecoder();
const line = (s: string) => parse(enc.encode(s));
const ask = (store: KvStore<unknown>, s: string) => dec.decode(run(line(s), store) as Uint8Array);

test("command.ts has an example for each protocol row", () => {
  const examples = docExamples(new URL("../../../lib/apps/kv_server/command.ts", import.meta.url)).map((e) => e.code)
    .join(
      "\n",
    );
  for (const needle of ["CREATE", "PUT", "GET", "DELETE", "NOT FOUND", "UNKNOWN COMMAND", "\\r\\nOK\\r\\n", "ERROR"]) {
    assert.ok(examples.includes(needle), `Expected an example mentioning "${needle}"`);
  }
});

test("parse() splits on runs of every ASCII whitespace byte", () => {
  const expected: Command = { kind: "put", bucket: "shopping", key: "tab", value: "9" };
  assert.deepEqual(line("  PUT\tshopping   tab\t 9  \r"), expected);
  assert.deepEqual(line("PUT\vshopping\ftab\r9"), expected);
  assert.deepEqual(line("\t\t\tPUT shopping tab 9\t\t\t"), expected);
});

test("parse() gives unknown for every malformed line of PROTOCOL.md", () => {
  for (
    const s of [
      "UNKNOWN shopping",
      "GET b",
      "PUT b k",
      "PUT b k 1 2",
      "CREATE a b",
      "CREATE",
      "",
      "   ",
      "\r",
      "\t \v\f\r",
      "create shopping",
      "Get b k",
      "GETS b k",
      "GE b k",
      "CREATES b",
      "DELETE b",
      "DELETE b k v",
      "PUTT b k v",
      "GET b k v w x y",
    ]
  ) {
    assert.deepEqual(line(s), { kind: "unknown" }, `"${JSON.stringify(s)}" should be unknown`);
  }
});

test("parse() keeps tokens as bytes, whatever they are", () => {
  const bytes = new Uint8Array([0x47, 0x45, 0x54, 0x20, 0x80, 0x9f, 0x00, 0x20, 0xff, 0xc3, 0x28]);
  const command = parse(bytes);
  assert.deepEqual(command, { kind: "get", bucket: "\x80\x9f\x00", key: "\xff\xc3\x28" });
  // Multi-byte UTF-8 is not decoded either: é is two bytes, two chars.
  assert.deepEqual(line("CREATE é"), { kind: "create", bucket: "\xc3\xa9" });
});

test("parse() handles long tokens", () => {
  const value = "v".repeat(60_000);
  assert.deepEqual(line(`PUT b k ${value}`), { kind: "put", bucket: "b", key: "k", value });
  const raw = new Uint8Array(20_000).map((_, i) =>
    i % 256 === 32 ? 33 : (i % 256 >= 9 && i % 256 <= 13 ? 65 : i % 256)
  );
  const prefix = enc.encode("PUT b k ");
  const all = new Uint8Array(prefix.length + raw.length);
  all.set(prefix);
  all.set(raw, prefix.length);
  const command = parse(all);
  assert.equal(command.kind, "put");
  assert.deepEqual(replyBytes((command as { value: string }).value).subarray(0, raw.length), raw);
});

test("run() answers every row of the protocol table", () => {
  const store = new MapStore();
  assert.equal(ask(store, "PUT b k v"), "NOT FOUND\r\n");
  assert.equal(ask(store, "GET b k"), "NOT FOUND\r\n");
  assert.equal(ask(store, "DELETE b k"), "NOT FOUND\r\n");
  assert.equal(ask(store, "CREATE b"), "OK\r\n");
  assert.equal(ask(store, "CREATE b"), "OK\r\n");
  assert.equal(ask(store, "GET b k"), "\r\nOK\r\n");
  assert.equal(ask(store, "PUT b k v"), "OK\r\n");
  assert.equal(ask(store, "PUT b k w"), "OK\r\n");
  assert.equal(ask(store, "GET b k"), "w\r\nOK\r\n");
  assert.equal(ask(store, "DELETE b k"), "OK\r\n");
  assert.equal(ask(store, "DELETE b k"), "OK\r\n");
  assert.equal(ask(store, "GET b k"), "\r\nOK\r\n");
  assert.equal(ask(store, "HELLO"), "UNKNOWN COMMAND\r\n");
});

test("run() treats object-ish names as plain data", () => {
  const store = new MapStore();
  for (const name of ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"]) {
    assert.equal(ask(store, `GET ${name} ${name}`), "NOT FOUND\r\n");
    assert.equal(ask(store, `CREATE ${name}`), "OK\r\n");
    assert.equal(ask(store, `GET ${name} ${name}`), "\r\nOK\r\n");
    assert.equal(ask(store, `PUT ${name} ${name} ${name}`), "OK\r\n");
    assert.equal(ask(store, `GET ${name} ${name}`), `${name}\r\nOK\r\n`);
  }
  assert.equal(store.buckets.size, 5);
});

test("run() is synchronous with a synchronous store and returns the shared constants", () => {
  const store = new MapStore();
  assert.equal(run(line("CREATE b"), store), OK);
  assert.equal(run(line("GET b k"), store), EMPTY_OK);
  assert.equal(run(line("GET c k"), store), NOT_FOUND);
  assert.equal(run(line("nope"), store), UNKNOWN_COMMAND);
});

test("run() answers ERROR when the store throws or rejects, and reports it", async () => {
  const errors: unknown[] = [];
  const boom = new Error("boom");
  const store: KvStore<string> = {
    create() {
      throw boom;
    },
    lookup: (bucket) => bucket === "x" ? undefined : bucket,
    get: () => Promise.reject(boom),
    put: () => {
      throw boom;
    },
    delete: () => Promise.resolve(),
  };
  const onError = (e: unknown) => errors.push(e);
  assert.equal(run(line("CREATE b"), store, onError), ERROR);
  assert.equal(run(line("PUT b k v"), store, onError), ERROR);
  assert.deepEqual(await run(line("GET b k"), store, onError), ERROR);
  assert.deepEqual(await run(line("DELETE b k"), store, onError), OK);
  assert.equal(run(line("GET x k"), store, onError), NOT_FOUND);
  assert.deepEqual(errors, [boom, boom, boom]);
});

test("execute() gives found values as binary strings and missing ones as EMPTY_OK", async () => {
  const data = new Map([["k", "\xff\x00v"]]);
  const store: KvStore<Map<string, string>> = {
    create: () => {},
    lookup: () => data,
    get: (bucket, key) => Promise.resolve(bucket.get(key)),
    put: () => {},
    delete: () => {},
  };
  assert.equal(await execute(line("GET b k"), store), "\xff\x00v");
  assert.equal(await execute(line("GET b nope"), store), EMPTY_OK);
  assert.deepEqual(replyBytes("\xff\x00v"), new Uint8Array([0xff, 0, 0x76, 13, 10, 79, 75, 13, 10]));
});

test("parse() maps every byte value to the same char code, from Uint8Array and Buffer alike", () => {
  // Every non-whitespace byte, in tokens of every length from 1 to 40.
  const bytes = [...Array(256).keys()].filter((b) => b !== 32 && (b < 9 || b > 13));
  for (let length = 1; length <= 40; length++) {
    for (let at = 0; at < bytes.length; at += length) {
      const token = bytes.slice(at, at + length);
      const line = [...enc.encode("GET "), ...token, 32, ...token];
      const expected = String.fromCharCode(...token);
      for (const input of [Uint8Array.from(line), Buffer.from(line)]) {
        assert.deepEqual(parse(input), { kind: "get", bucket: expected, key: expected });
      }
    }
  }
});
