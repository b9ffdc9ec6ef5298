// Memory bounded by bytes: clients that pipeline GETs of a large value and never read are stopped at the
// high-water mark (the server stops executing and reading), and a client past the output limit is closed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, rssOf, watchServe } from "../../_kv_server_helpers.ts";

const VALUE = "v".repeat(60 * 1024);

test("five clients pipelining GETs of a 60 KB value without reading add at most 64 MB; others are served", async () => {
  const server = watchServe(["serve", "--port", "0", "--log-level", "debug"]);
  try {
    const port = Number((await server.waitStdout(/^listening on \S+:(\d+)\n/m))[1]);
    const good = await Client.open(port);
    await good.ask(`CREATE b\r\nPUT b big ${VALUE}\r\nPUT b small 1\r\n`, "OK\r\nOK\r\nOK\r\n");
    // Warm up, so the baseline holds what serving large replies costs anyway.
    for (let i = 0; i < 50; i++) await good.ask("GET b big\r\n", `${VALUE}\r\nOK\r\n`);
    const before = rssOf(server.child.pid!);
    const slow: Client[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await Client.open(port);
      c.keepText = false;
      c.socket.pause();
      // 6 GB of replies to 1.1 MB of requests.
      c.send("GET b big\r\n".repeat(100_000));
      slow.push(c);
    }
    // Each slow connection stops reading once its unsent replies pass the high-water mark (a debug line).
    const stopped = () => (server.stderr().match(/ stopped reading: \d+ reply bytes unsent/g) ?? []).length;
    for (let n = 1; n <= 5; n++) await server.waitStderr(new RegExp(`( stopped reading: [^\\n]*\\n[^]*){${n}}`));
    assert.ok(stopped() >= 5);
    const during = rssOf(server.child.pid!);
    if (before !== undefined && during !== undefined) {
      assert.ok(during - before <= 64 * 2 ** 20, `RSS grew by ${((during - before) / 2 ** 20).toFixed(1)} MB`);
    }
    // A well-behaved client is served meanwhile.
    for (let i = 0; i < 100; i++) await good.ask("GET b small\r\n", "1\r\nOK\r\n");
    for (const c of slow) c.socket.destroy();
    await Promise.all(slow.map((c) => c.closed));
    await good.ask("GET b small\r\n", "1\r\nOK\r\n");
    await good.finish();
  } finally {
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0);
  }
});

test("a slow reader that reaches the output limit is closed, with one log line", async () => {
  // A high-water mark above the limit: the limit then bounds the output instead.
  const server = watchServe([
    "serve",
    "--port",
    "0",
    "--high-water",
    "16000000",
    "--low-water",
    "1000",
    "--output-limit",
    "500000",
  ]);
  try {
    const port = Number((await server.waitStdout(/^listening on \S+:(\d+)\n/m))[1]);
    const setup = await Client.open(port);
    await setup.ask(`CREATE b\r\nPUT b big ${VALUE}\r\n`, "OK\r\nOK\r\n");
    const slow = await Client.open(port);
    slow.keepText = false;
    slow.socket.pause();
    slow.send("GET b big\r\n".repeat(2_000));
    const [line] = await server.waitStderr(/^.*over the output limit.*\n/m);
    assert.match(
      line,
      /^\[warning\] KV server: closed 127\.0\.0\.1:\d+: \d+ reply bytes unsent, over the output limit \(500000\)\n$/,
    );
    slow.socket.resume();
    await slow.closed;
    // The others go on.
    await setup.ask("GET b nope\r\n", "\r\nOK\r\n");
    await setup.finish();
    assert.equal(server.stderr().match(/output limit/g)?.length, 1, server.stderr());
  } finally {
    server.signal("SIGTERM");
    assert.equal(await server.exited, 0);
  }
});
