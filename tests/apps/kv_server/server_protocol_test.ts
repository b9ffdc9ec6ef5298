// Every row and example of PROTOCOL.md, byte for byte, against real servers
// on port 0: in process (this runtime, over the KV application's registry
// and buckets), and `kv serve --port 0` as a child process on Bun and on
// Deno. Plus the guide's acceptance test "server interaction", as written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cliCommand, Client, RUNTIME, type ServeProcess, spawnServe, startServer } from "../../_kv_server_helpers.ts";

/** A running server to test against. */
interface Target {
  port: number;
  stop(): Promise<void>;
}

const targets: [string, () => Promise<Target>][] = [
  ["in process", async () => {
    const server = await startServer();
    return {
      port: server.port,
      stop: async () => {
        await server.stop();
        assert.deepEqual(server.errors, []);
      },
    };
  }],
  ...[RUNTIME].map((runtime): [string, () => Promise<Target>] => [
    `kv serve on ${runtime}`,
    async () => {
      const [command, args] = cliCommand(["serve", "--port", "0"]);
      const child: ServeProcess = await spawnServe(command, args);
      assert.match(child.line, /^listening on 127\.0\.0\.1:\d+\n$/);
      return {
        port: child.port,
        stop: async () => {
          assert.equal(await child.stop("SIGTERM"), 0);
          assert.equal(child.stdout(), child.line, "exactly one line on stdout");
        },
      };
    },
  ]),
];

/** The rows of the table, the whitespace and byte rules, one request at a time. */
async function everyRow(c: Client): Promise<void> {
  // `PUT`/`GET`/`DELETE` on a bucket that does not exist.
  await c.ask("GET shopping milk\r\n", "NOT FOUND\r\n");
  await c.ask("PUT shopping milk 1\r\n", "NOT FOUND\r\n");
  await c.ask("DELETE shopping milk\r\n", "NOT FOUND\r\n");
  // `CREATE b`: OK, also when it exists.
  await c.ask("CREATE shopping\r\n", "OK\r\n");
  await c.ask("CREATE shopping\r\n", "OK\r\n");
  // `GET b k` of a missing key.
  await c.ask("GET shopping milk\r\n", "\r\nOK\r\n");
  // `PUT b k v`, overwriting.
  await c.ask("PUT shopping milk 1\r\n", "OK\r\n");
  await c.ask("GET shopping milk\r\n", "1\r\nOK\r\n");
  await c.ask("PUT shopping milk 3\r\n", "OK\r\n");
  await c.ask("GET shopping milk\r\n", "3\r\nOK\r\n");
  // `DELETE b k`, also when the key is missing.
  await c.ask("DELETE shopping milk\r\n", "OK\r\n");
  await c.ask("DELETE shopping milk\r\n", "OK\r\n");
  await c.ask("GET shopping milk\r\n", "\r\nOK\r\n");
  // `\r` before `\n` is optional.
  await c.ask("PUT shopping eggs 12\n", "OK\r\n");
  await c.ask("GET shopping eggs\n", "12\r\nOK\r\n");
  // Every example of UNKNOWN COMMAND, and wrong verb case.
  for (
    const bad of [
      "UNKNOWN shopping",
      "GET b",
      "PUT b k",
      "PUT b k 1 2",
      "CREATE a b",
      "CREATE",
      "",
      "   ",
      "create shopping",
      "Get b k",
      "get shopping eggs",
      "PUT",
      "DELETE shopping",
      "DELETE shopping eggs x",
    ]
  ) {
    await c.ask(`${bad}\r\n`, "UNKNOWN COMMAND\r\n");
  }
  await c.ask("\n", "UNKNOWN COMMAND\r\n");
  await c.ask("\t\v\f\r\r\n", "UNKNOWN COMMAND\r\n");
  // Leading, trailing and repeated whitespace of any ASCII kind.
  await c.ask("  PUT\tshopping   tab\t 9  \r\n", "OK\r\n");
  await c.ask("GET shopping tab\r\n", "9\r\nOK\r\n");
  await c.ask("\vGET\fshopping\r\rtab\r\r\n", "9\r\nOK\r\n");
  // Tokens are bytes: invalid UTF-8 is stored and echoed unchanged.
  await c.ask("CREATE \xff\xfe\r\n", "OK\r\n");
  await c.ask("PUT \xff\xfe \xc3\x28 \xfe\xff\x80\xc3(\x00\r\n", "OK\r\n");
  await c.ask("GET \xff\xfe \xc3\x28\r\n", "\xfe\xff\x80\xc3(\x00\r\nOK\r\n");
  await c.ask("GET \xff\xfe \xc3\r\n", "\r\nOK\r\n");
  await c.ask("GET \xff \xc3\x28\r\n", "NOT FOUND\r\n");
  await c.ask("PUT shopping caf\xc3\xa9 cr\xc3\xa8me\r\n", "OK\r\n");
  await c.ask("GET shopping caf\xc3\xa9\r\n", "cr\xc3\xa8me\r\nOK\r\n");
  // Names are data, never code.
  for (const name of ["__proto__", "constructor", "hasOwnProperty", "toString"]) {
    await c.ask(`GET ${name} ${name}\r\n`, "NOT FOUND\r\n");
    await c.ask(`CREATE ${name}\r\n`, "OK\r\n");
    await c.ask(`GET ${name} ${name}\r\n`, "\r\nOK\r\n");
    await c.ask(`PUT ${name} __proto__ ${name}\r\n`, "OK\r\n");
    await c.ask(`GET ${name} __proto__\r\n`, `${name}\r\nOK\r\n`);
    await c.ask(`GET ${name} constructor\r\n`, "\r\nOK\r\n");
  }
  assert.equal(c.received, "");
}

/** The pipelined example, then a half-close whose unterminated last line is discarded. */
async function pipelined(c: Client): Promise<void> {
  c.end("CREATE a\r\nPUT a x 1\r\nGET a x\r\nGET zz x\r\nPUT a x 2");
  await c.closed;
  assert.equal(c.received, "OK\r\nOK\r\n1\r\nOK\r\nNOT FOUND\r\n");
}

/** A long pipeline mixing buckets, creates and errors: replies in request order. */
async function longPipeline(c: Client): Promise<void> {
  let request = "";
  let reply = "";
  for (let i = 0; i < 500; i++) {
    const bucket = `p${i % 7}`;
    if (i % 50 === 0) {
      request += `GET x${i} k\r\nCREATE x${i}\r\nPUT x${i} k ${i}\r\nGET x${i} k\r\n`;
      reply += `NOT FOUND\r\nOK\r\nOK\r\n${i}\r\nOK\r\n`;
    }
    request +=
      `CREATE ${bucket}\r\nPUT ${bucket} k${i} v${i}\r\nGET ${bucket} k${i}\r\nbad\r\nGET ${bucket} none\r\nDELETE ${bucket} k${i}\r\nGET ${bucket} k${i}\r\n`;
    reply += `OK\r\nOK\r\nv${i}\r\nOK\r\nUNKNOWN COMMAND\r\n\r\nOK\r\nOK\r\n\r\nOK\r\n`;
  }
  await c.ask(request, reply);
}

/** The guide's acceptance test "server interaction", line by line as `packet: :line` reads it. */
async function serverInteraction(c: Client): Promise<void> {
  const sendAndRecv = async (command: string) => {
    c.send(command);
    return await c.recvLine();
  };
  assert.equal(await sendAndRecv("UNKNOWN shopping\r\n"), "UNKNOWN COMMAND\r\n");
  assert.equal(await sendAndRecv("GET shopping eggs\r\n"), "NOT FOUND\r\n");
  assert.equal(await sendAndRecv("CREATE shopping\r\n"), "OK\r\n");
  assert.equal(await sendAndRecv("PUT shopping eggs 3\r\n"), "OK\r\n");
  // GET returns two lines
  assert.equal(await sendAndRecv("GET shopping eggs\r\n"), "3\r\n");
  assert.equal(await c.recvLine(), "OK\r\n");
  assert.equal(await sendAndRecv("DELETE shopping eggs\r\n"), "OK\r\n");
  // GET returns two lines
  assert.equal(await sendAndRecv("GET shopping eggs\r\n"), "\r\n");
  assert.equal(await c.recvLine(), "OK\r\n");
}

for (const [name, start] of targets) {
  test(`[${name}] every row of the protocol table, byte for byte`, async () => {
    const server = await start();
    try {
      const c = await Client.open(server.port);
      await everyRow(c);
      await c.finish();
      assert.equal(c.received, "");
      // A second connection sees the first one's data.
      const d = await Client.open(server.port);
      await d.ask("GET shopping eggs\r\nGET __proto__ __proto__\r\n", "12\r\nOK\r\n__proto__\r\nOK\r\n");
      await d.finish();
    } finally {
      await server.stop();
    }
  });

  test(`[${name}] pipelining: the example of PROTOCOL.md, a long mixed pipeline, and the guide's server interaction`, async () => {
    const server = await start();
    try {
      await pipelined(await Client.open(server.port));
      const c = await Client.open(server.port);
      await longPipeline(c);
      await c.finish();
      const g = await Client.open(server.port);
      await serverInteraction(g);
      await g.finish();
    } finally {
      await server.stop();
    }
  });
}

test("[in process] server interaction, the guide's acceptance test, on a fresh server", async () => {
  const server = await startServer();
  const c = await Client.open(server.port);
  await serverInteraction(c);
  await c.finish();
  await server.stop();
  assert.deepEqual(server.errors, []);
});
