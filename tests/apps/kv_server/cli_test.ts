// `kv`, the command line: arguments, environment, the listening line,
// signals and exit codes, on Bun and on Deno (child processes).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { cliCommand, Client, runCommand, RUNTIME, spawnServe } from "../../_kv_server_helpers.ts";
import { parseArgs, USAGE, VERSION } from "../../../lib/apps/kv_server/cli.ts";
import { DEFAULT_IDLE_COLLECT, DEFAULT_MAX_CONNECTIONS } from "../../../lib/apps/kv_server/server.ts";

test("parseArgs: defaults, PORT, options in both spellings, and errors", () => {
  const defaults = {
    idleCollect: DEFAULT_IDLE_COLLECT,
    hostname: "127.0.0.1",
    port: 4040,
    maxLineLength: 65536,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
  };
  assert.deepEqual(parseArgs(["serve"], {}), { command: "serve", options: defaults });
  assert.deepEqual(parseArgs(["serve"], { PORT: "5050" }), { command: "serve", options: { ...defaults, port: 5050 } });
  assert.deepEqual(parseArgs(["serve"], { PORT: "" }), { command: "serve", options: defaults });
  // --port wins over PORT, even a bad one.
  assert.deepEqual(parseArgs(["serve", "--port", "0"], { PORT: "nope" }), {
    command: "serve",
    options: { ...defaults, port: 0 },
  });
  assert.deepEqual(
    parseArgs(["serve", "--host=0.0.0.0", "--port=1", "--max-line", "10", "--max-connections=3"], {}),
    { command: "serve", options: { ...defaults, hostname: "0.0.0.0", port: 1, maxLineLength: 10, maxConnections: 3 } },
  );
  assert.deepEqual(parseArgs(["--help"], {}), { command: "help" });
  assert.deepEqual(parseArgs(["serve", "--help"], {}), { command: "help" });
  assert.deepEqual(parseArgs(["-h"], {}), { command: "help" });
  assert.deepEqual(parseArgs(["--version"], {}), { command: "version" });
  for (
    const [args, message] of [
      [[], /missing command/],
      [["start"], /unknown command "start"/],
      [["serve", "--verbose"], /unknown option "--verbose"/],
      [["serve", "--port"], /--port needs a value/],
      [["serve", "--port", "65536"], /--port must be an integer in 0..65535/],
      [["serve", "--port", "-1"], /--port must be an integer/],
      [["serve", "--port", "1.5"], /--port must be an integer/],
      [["serve", "--max-line", "0"], /--max-line must be an integer/],
      [["serve", "--max-connections", "x"], /--max-connections must be an integer/],
      [["serve", "--host="], /--host must not be empty/],
    ] as [string[], RegExp][]
  ) {
    assert.throws(() => parseArgs(args, {}), message, args.join(" "));
  }
  assert.throws(() => parseArgs(["serve"], { PORT: "http" }), /PORT must be an integer/);
});

for (const runtime of [RUNTIME]) {
  const kv = (args: string[], env: Record<string, string> = {}) => {
    const [command, full] = cliCommand(args);
    return runCommand(command, full, env);
  };

  test(`[${runtime}] kv --help, kv --version, and usage errors exit 2`, async () => {
    const help = await kv(["--help"]);
    assert.equal(help.code, 0);
    assert.equal(help.stdout, USAGE + "\n");
    const version = await kv(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `kv ${VERSION}\n`);
    for (const args of [[], ["frobnicate"], ["serve", "--port", "x"]]) {
      const r = await kv(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^kv: .*\n\nkv \d/);
    }
  });

  test(`[${runtime}] kv serve prints one listening line, serves, and exits 0 on SIGTERM and on SIGINT`, async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const [command, args] = cliCommand(["serve", "--port", "0"]);
      const server = await spawnServe(command, args);
      assert.match(server.line, /^listening on 127\.0\.0\.1:[1-9]\d*\n$/);
      const c = await Client.open(server.port);
      await c.ask("CREATE a\r\nPUT a x 1\r\nGET a x\r\nGET zz x\r\n", "OK\r\nOK\r\n1\r\nOK\r\nNOT FOUND\r\n");
      const code = await server.stop(signal);
      await c.closed;
      assert.equal(code, 0, signal);
      assert.equal(server.stdout(), server.line);
      assert.equal(server.stderr(), "");
    }
  });

  test(`[${runtime}] PORT from the environment; --host; --max-line; --max-connections`, async () => {
    const [command, args] = cliCommand([
      "serve",
      "--host",
      "127.0.0.1",
      "--max-line",
      "16",
      "--max-connections",
      "1",
    ]);
    const server = await spawnServe(command, args, { PORT: "0" });
    try {
      const c = await Client.open(server.port);
      await c.ask("CREATE b\r\nPUT b k 012345678\r\nGET b k\r\n", "OK\r\nERROR LINE TOO LONG\r\n\r\nOK\r\n");
      const refused = await Client.open(server.port);
      await refused.closed;
      assert.equal(refused.received, "ERROR TOO MANY CONNECTIONS\r\n");
      await c.ask("GET b k\r\n", "\r\nOK\r\n");
      await c.finish();
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test(`[${runtime}] a port in use: kv serve says so and exits 1`, async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await kv(["serve", "--port", String(port)]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      // The same words on every runtime (Bun's own are "Failed to listen at 127.0.0.1").
      assert.equal(r.stderr, `kv: address 127.0.0.1:${port} is already in use\n`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
}

test("parseArgs: the operating flags, and their errors", () => {
  const parsed = parseArgs([
    "serve",
    "--high-water",
    "2000000",
    "--low-water=1000",
    "--output-limit",
    "5000000",
    "--idle-timeout",
    "0.5",
    "--drain-timeout",
    "2",
    "--log-level",
    "debug",
  ], {});
  assert.ok(parsed.command === "serve");
  assert.equal(parsed.options.highWaterMark, 2_000_000);
  assert.equal(parsed.options.lowWaterMark, 1000);
  assert.equal(parsed.options.outputLimit, 5_000_000);
  assert.equal(parsed.options.idleTimeout, 0.5);
  assert.deepEqual(parsed.process, { logLevel: "debug", drainTimeout: 2 });
  assert.throws(() => parseArgs(["serve", "--low-water", "2000000"], {}), /--low-water \(2000000\) must be below/);
  assert.throws(() => parseArgs(["serve", "--log-level", "loud"], {}), /--log-level must be one of/);
  assert.throws(() => parseArgs(["serve", "--idle-timeout", "soon"], {}), /--idle-timeout must be a number/);
  assert.equal(parsed.options.idleCollect, 1, "kv serve collects when idle by default");
  const noCollect = parseArgs(["serve", "--idle-gc", "0"], {});
  assert.ok(noCollect.command === "serve");
  assert.equal(noCollect.options.idleCollect, 0);
  assert.throws(() => parseArgs(["serve", "--idle-gc", "-1"], {}), /--idle-gc must be a number of seconds/);
  assert.throws(() => parseArgs(["serve", "--output-limit", "0"], {}), /--output-limit must be an integer/);
});
