// The small HTTP/1.1 server of lib/net/http.ts over real sockets on 127.0.0.1,
// with a plain node:net client so raw (and broken) requests can be sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import { type HttpServeOptions, type HttpServer, json, serve, text } from "../../lib/net/http.ts";

/** Sends `raw`, half-closes unless `keepOpen`, resolves with everything read until the server closes. */
function exchange(port: number, raw: string | Uint8Array, opts?: { endAfterWrite?: boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: "127.0.0.1", port }, () => {
      sock.write(raw);
      if (opts?.endAfterWrite) sock.end();
    });
    sock.on("data", (b: Buffer) => chunks.push(b));
    sock.on("error", reject);
    sock.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

async function withServer(
  fn: (server: HttpServer) => Promise<void>,
  opts?: HttpServeOptions,
): Promise<void> {
  const server = await serve({ port: 0, ...opts }, (req) => {
    if (req.path === "/boom") throw new Error("boom");
    if (req.path === "/async") return Promise.resolve(text("later"));
    return json({
      method: req.method,
      path: req.path,
      q: req.query.get("q"),
      host: req.headers.get("host") ?? null,
      body: new TextDecoder().decode(req.body),
    });
  });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function statusLines(reply: string): string[] {
  return reply.match(/HTTP\/1\.[01] \d{3} [^\r]*/g) ?? [];
}

test("http: GET with a query, then the connection closes on request", async () => {
  await withServer(async (s) => {
    const r = await exchange(s.port, "GET /api/x?q=a%20b HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n");
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r, /\r\ncontent-type: application\/json; charset=utf-8\r\n/);
    assert.match(r, /\r\nconnection: close\r\n/);
    const body = JSON.parse(r.slice(r.indexOf("\r\n\r\n") + 4));
    assert.deepEqual(body, { method: "GET", path: "/api/x", q: "a b", host: "h:1", body: "" });
  });
});

test("http: pipelined keep-alive requests are answered in order, with bodies", async () => {
  await withServer(async (s) => {
    const r = await exchange(
      s.port,
      "GET /one HTTP/1.1\r\nHost: h\r\n\r\n" +
        "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" +
        "GET /async HTTP/1.1\r\nHost: h\r\n\r\n" +
        "GET /three HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    assert.deepEqual(statusLines(r), Array(4).fill("HTTP/1.1 200 OK"));
    const one = r.indexOf('"/one"'),
      two = r.indexOf('"body":"hello"'),
      later = r.indexOf("later"),
      three = r.indexOf('"/three"');
    assert.ok(one > 0 && one < two && two < later && later < three, r);
    assert.equal((r.match(/connection: keep-alive/g) ?? []).length, 3);
  });
});

test("http: a body split across many writes is reassembled", async () => {
  await withServer(async (s) => {
    const reply = new Promise<string>((resolve, reject) => {
      let out = "";
      const sock = net.connect({ host: "127.0.0.1", port: s.port }, async () => {
        const req = "POST /b HTTP/1.1\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789";
        for (const ch of req) {
          await new Promise<void>((r) => sock.write(ch, () => r()));
        }
      });
      sock.on("data", (b: Buffer) => out += b.toString());
      sock.on("error", reject);
      sock.on("close", () => resolve(out));
    });
    assert.match(await reply, /"body":"0123456789"/);
  });
});

test("http: HTTP/1.0 closes by default; HEAD sends no body", async () => {
  await withServer(async (s) => {
    const r = await exchange(s.port, "GET /old HTTP/1.0\r\n\r\n");
    assert.match(r, /^HTTP\/1\.0 200 OK\r\n/);
    assert.match(r, /connection: close/);
    const h = await exchange(s.port, "HEAD /x HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert.match(h, /content-length: \d+/);
    assert.ok(h.endsWith("\r\n\r\n"));
  });
});

test("http: a throwing handler gets 500 and the server goes on", async () => {
  const errors: unknown[] = [];
  await withServer(async (s) => {
    const r = await exchange(s.port, "GET /boom HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert.match(r, /^HTTP\/1\.1 500 Internal Server Error/);
    assert.equal(errors.length, 1);
    const ok = await exchange(s.port, "GET /fine HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert.match(ok, /^HTTP\/1\.1 200/);
  }, { onError: (e) => errors.push(e) });
});

test("http: bad input gets the right status and a closed connection", async () => {
  await withServer(async (s) => {
    const cases: Array<[string | Uint8Array, number]> = [
      ["NONSENSE\r\n\r\n", 400],
      ["GET / HTTP/2.0\r\n\r\n", 505],
      ["GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nna me: v\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400],
      ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501],
      ["POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", 413],
      ["GET nohost HTTP/1.1\r\n\r\n", 400],
      ["GET /%E0%A4%A HTTP/1.1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n" + "X: y\r\n".repeat(200) + "\r\n", 431],
      ["GET /" + "a".repeat(20_000) + " HTTP/1.1\r\n\r\n", 431],
      [new Uint8Array([0x47, 0x45, 0x54, 0x20, 0x2f, 0x00, 0xff, 0x20, 0x48, 0x0d, 0x0a, 0x0d, 0x0a]), 400],
    ];
    for (const [raw, status] of cases) {
      const r = await exchange(s.port, raw);
      assert.match(r, new RegExp(`^HTTP/1\\.1 ${status} `), `${String(raw).slice(0, 60)} -> ${r.slice(0, 40)}`);
      assert.match(r, /connection: close/);
    }
  });
});

test("http: an idle or stalled connection is closed after idleTimeout", async () => {
  await withServer(async (s) => {
    const idle = await exchange(s.port, "");
    assert.equal(idle, "");
    const stalled = await exchange(s.port, "GET / HTTP/1.1\r\nHost:");
    assert.match(stalled, /^HTTP\/1\.1 408 /);
  }, { idleTimeout: 50 });
});

test("http: a peer that half-closes after its request still gets the answer", async () => {
  await withServer(async (s) => {
    const r = await exchange(s.port, "GET /async HTTP/1.1\r\nHost: h\r\n\r\n", { endAfterWrite: true });
    assert.match(r, /^HTTP\/1\.1 200 OK[\s\S]*later$/);
  });
});

test("http: close() ends open keep-alive connections", async () => {
  const s = await serve({ port: 0 }, () => text("x"));
  const closed = new Promise<string>((resolve) => {
    let out = "";
    const sock = net.connect({ host: "127.0.0.1", port: s.port }, () => sock.write("GET / HTTP/1.1\r\n\r\n"));
    sock.on("data", async (b: Buffer) => {
      out += b.toString();
      if (out.endsWith("x")) await s.close();
    });
    sock.on("error", () => {});
    sock.on("close", () => resolve(out));
  });
  assert.match(await closed, /keep-alive[\s\S]*x$/);
});
