import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_MAX_LINE_LENGTH, LineReader, type LineSink } from "../../../lib/apps/kv_server/line_reader.ts";

const TOO_LONG = "<too long>";

/** A sink that records lines as binary strings. */
function recorder(): LineSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    line(bytes, start, end) {
      let s = "";
      for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
      lines.push(s);
    },
    tooLong() {
      lines.push(TOO_LONG);
    },
  };
}

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function feed(chunks: string[], maxLineLength?: number): string[] {
  const reader = new LineReader({ maxLineLength });
  const sink = recorder();
  for (const chunk of chunks) reader.push(bytesOf(chunk), sink);
  reader.end();
  return sink.lines;
}

test("LineReader yields lines without \\n or \\r\\n", () => {
  assert.deepEqual(feed(["a\nb\r\nc\r\n\n\r\n"]), ["a", "b", "c", "", ""]);
});

test("LineReader keeps a \\r that is not right before \\n", () => {
  assert.deepEqual(feed(["a\rb\r\r\n"]), ["a\rb\r"]);
});

test("LineReader discards an unterminated last line", () => {
  const reader = new LineReader();
  const sink = recorder();
  reader.push(bytesOf("GET a b\nPUT a b"), sink);
  assert.equal(reader.buffered, 7);
  assert.equal(reader.end(), 7);
  assert.deepEqual(sink.lines, ["GET a b"]);
  assert.equal(reader.buffered, 0);
});

test("LineReader joins a line split across every byte", () => {
  const text = "PUT shopping milk 1\r\nGET shopping milk\r\n";
  assert.deepEqual(feed([...text]), ["PUT shopping milk 1", "GET shopping milk"]);
});

test("LineReader splits \\r\\n across chunks", () => {
  assert.deepEqual(feed(["abc\r", "\ndef\r", "\n"]), ["abc", "def"]);
});

test("LineReader gives every split of a pipelined stream the same lines", () => {
  const text = "CREATE a\r\nPUT a x 1\r\nGET a x\r\n\r\nGET zz x\nlast";
  const expected = ["CREATE a", "PUT a x 1", "GET a x", "", "GET zz x"];
  for (let i = 0; i <= text.length; i++) {
    for (let j = i; j <= text.length; j += 3) {
      assert.deepEqual(feed([text.slice(0, i), text.slice(i, j), text.slice(j)]), expected, `split at ${i}, ${j}`);
    }
  }
});

test("LineReader accepts lines of exactly the limit, with or without \\r", () => {
  const max = 10;
  const exact = "x".repeat(max);
  assert.deepEqual(feed([exact + "\n", exact + "\r\n"], max), [exact, exact]);
  assert.deepEqual(feed([...(exact + "\r\n" + exact + "\n")], max), [exact, exact]);
  assert.deepEqual(feed([exact + "\r", "\n"], max), [exact]);
});

test("LineReader reports a too-long line once, in order, and goes on", () => {
  const max = 10;
  const long = "y".repeat(max + 1);
  assert.deepEqual(feed([`a\n${long}\nb\n`], max), ["a", TOO_LONG, "b"]);
  assert.deepEqual(feed([`a\n${long}\r\nb\n`], max), ["a", TOO_LONG, "b"]);
  assert.deepEqual(feed(["a\n", ...long, "\nb\n"], max), ["a", TOO_LONG, "b"]);
  assert.deepEqual(feed(["a\n" + "y".repeat(100), "y".repeat(100), "y\nb\n"], max), ["a", TOO_LONG, "b"]);
  // Unterminated at the end: still reported once, as soon as known.
  assert.deepEqual(feed(["a\n" + "y".repeat(100)], max), ["a", TOO_LONG]);
});

test("LineReader does not buffer a too-long line", () => {
  const reader = new LineReader({ maxLineLength: 1024 });
  const sink = recorder();
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  // 10 MB with no newline: reported once, nothing held.
  for (let i = 0; i < 160; i++) {
    reader.push(chunk, sink);
    assert.ok(reader.buffered <= 1025, `buffered ${reader.buffered} bytes`);
  }
  reader.push(bytesOf("AAAA\nGET b k\n"), sink);
  assert.deepEqual(sink.lines, [TOO_LONG, "GET b k"]);
});

test("LineReader hands lines inside one chunk out in place", () => {
  const reader = new LineReader();
  const chunk = bytesOf("one\ntwo\n");
  const seen: Uint8Array[] = [];
  reader.push(chunk, { line: (bytes) => seen.push(bytes), tooLong: () => {} });
  assert.equal(seen[0], chunk);
  assert.equal(seen[1], chunk);
});

test("LineReader handles many lines per chunk and a line spread over many chunks, in linear time", () => {
  const reader = new LineReader();
  let count = 0;
  let total = 0;
  const sink: LineSink = {
    line(_bytes, start, end) {
      count++;
      total += end - start;
    },
    tooLong() {
      throw new Error("Unexpected too-long line");
    },
  };
  const many = bytesOf("GET b k\r\n".repeat(100_000));
  reader.push(many, sink);
  assert.equal(count, 100_000);
  // A 60 KB line in 1-byte chunks: each byte is appended once, not recopied.
  const one = new Uint8Array(1).fill(0x76);
  for (let i = 0; i < 60_000; i++) reader.push(one, sink);
  reader.push(bytesOf("\n"), sink);
  assert.equal(count, 100_001);
  assert.equal(total, 100_000 * 7 + 60_000);
});

test("LineReader defaults to a 64 KiB limit and rejects bad limits", () => {
  assert.equal(DEFAULT_MAX_LINE_LENGTH, 65536);
  const ok = "z".repeat(65536);
  assert.deepEqual(feed([ok + "\n", ok + "z\n"]), [ok, TOO_LONG]);
  assert.throws(() => new LineReader({ maxLineLength: 0 }), RangeError);
  assert.throws(() => new LineReader({ maxLineLength: 1.5 }), RangeError);
});
