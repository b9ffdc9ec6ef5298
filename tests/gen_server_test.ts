import { test } from "node:test";
import assert from "node:assert/strict";
import { GenServer, Process } from "../mod.ts";
import { reasonOf } from "./_helpers.ts";

type Stack = GenServer.Callbacks<unknown[], unknown[]>;
const Stack: Stack = {
  init: (items) => ["ok", items],
  handleCall: (req, _from, items) => {
    if (req === "pop") return ["reply", items[0], items.slice(1)];
    if (req === "peek") return ["reply", items, items];
    if (req === "crash") throw new Error("crash requested");
    if (req === "stop") return ["stop", "normal", "bye", items];
    return ["reply", "unknown", items];
  },
  handleCast: (req, items) => ["noreply", [req, ...items]],
};

test("call, cast and the guide's stack server", async () => {
  const pid = await GenServer.start(Stack, ["hello"]);
  assert.equal(await GenServer.call(pid, "pop"), "hello");
  GenServer.cast(pid, "world");
  assert.equal(await GenServer.call(pid, "pop"), "world");
  assert.deepEqual(await GenServer.call(pid, "peek"), []);
  await GenServer.stop(pid);
});

test("start with a name; a taken name reports already_started", async () => {
  const pid = await GenServer.start(Stack, [], { name: "gs_named" });
  assert.equal(Process.whereis("gs_named"), pid);
  assert.deepEqual(await GenServer.call("gs_named", "peek"), []);
  const err = await GenServer.start(Stack, [], { name: "gs_named" }).catch((e) => e);
  assert.ok(err instanceof GenServer.StartError);
  assert.deepEqual(err.reason, ["already_started", pid]);
  await GenServer.stop("gs_named");
  assert.equal(Process.whereis("gs_named"), undefined);
});

test("init returning stop, ignore, a bad value or throwing fails the start with a StartError", async () => {
  const stop = await GenServer.start({ init: () => ["stop", "no_config"] }, undefined).catch((e) => e);
  assert.equal(stop.reason, "no_config");
  const ignore = await GenServer.start({ init: () => "ignore" }, undefined).catch((e) => e);
  assert.equal(ignore.reason, "ignore");
  const boom = new Error("init boom");
  const thrown = await GenServer.start({
    init: () => {
      throw boom;
    },
  }, undefined).catch((e) => e);
  assert.deepEqual(thrown.reason, ["error", boom]);
  const bad = await GenServer.start({ init: () => ["okay", 1] as never }, undefined).catch((e) => e);
  assert.equal(bad.reason[0], "error");
  assert.match(String(bad.reason[1].message), /bad return value/);
});

test("a failed startLink does not send the caller an exit signal", async () => {
  await Process.run(async ({ receive }) => {
    Process.trapExit(true);
    const err = await GenServer.startLink({ init: () => ["stop", "nope"] }, undefined).catch((e) => e);
    assert.equal(err.reason, "nope");
    assert.equal(await receive(undefined, 0), Process.TIMEOUT);
  });
});

test("init timeout fails the start and kills the process", async () => {
  const err = await GenServer.start({ init: () => new Promise<never>(() => {}) }, undefined, { timeout: 5 })
    .catch((e) => e);
  assert.equal(err.reason, "timeout");
});

test("init may continue: handleContinue runs before any message", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", ["init"], { continue: "more" }],
    handleContinue: (c: string, log: string[]) => ["noreply", [...log, c]],
    handleCall: (_r, _f, log: string[]) => ["reply", log, log],
  }, undefined);
  assert.deepEqual(await GenServer.call(pid, "log"), ["init", "more"]);
  await GenServer.stop(pid);
});

test("handleCall may return noreply and answer later with reply(from, value)", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", [] as GenServer.From<string>[]],
    handleCall: (req: string, from, waiting) => {
      if (req === "wait") return ["noreply", [...waiting, from]];
      for (const f of waiting) GenServer.reply(f, "released");
      return ["reply", waiting.length, []];
    },
  }, undefined);
  const a = GenServer.call(pid, "wait"), b = GenServer.call(pid, "wait");
  assert.equal(await GenServer.call(pid, "release"), 2);
  assert.deepEqual(await Promise.all([a, b]), ["released", "released"]);
  await GenServer.stop(pid);
});

test("handleCall stop with a reply answers, runs terminate, and exits", async () => {
  const terminated: unknown[] = [];
  const pid = await GenServer.start({ ...Stack, terminate: (r: unknown) => terminated.push(r) }, []);
  await Process.run(async () => {
    const ref = Process.monitor(pid);
    assert.equal(await GenServer.call(pid, "stop"), "bye");
    assert.equal(await reasonOf(pid, ref), "normal");
  });
  assert.deepEqual(terminated, ["normal"]);
});

test("a crashing callback runs terminate with the error and fails the pending call with it", async () => {
  const terminated: unknown[] = [];
  const pid = await GenServer.start({ ...Stack, terminate: (r: unknown) => terminated.push(r) }, []);
  const err: any = await GenServer.call(pid, "crash").catch((e) => e);
  assert.ok(err instanceof GenServer.CallError);
  const reason = err.reason as [string, Error];
  assert.equal(reason[0], "error");
  assert.equal(reason[1].message, "crash requested");
  assert.deepEqual(terminated, [err.reason]);
  assert.ok(!Process.isAlive(pid));
});

test("call to a dead process or unknown name fails with noproc", async () => {
  const pid = await GenServer.start(Stack, []);
  await GenServer.stop(pid);
  const e1 = await GenServer.call(pid, "peek").catch((e) => e);
  assert.equal(e1.reason, "noproc");
  assert.match(e1.message, /no process/);
  const e2 = await GenServer.call("nobody_by_that_name", "peek").catch((e) => e);
  assert.equal(e2.reason, "noproc");
  await assert.rejects(GenServer.stop(pid), /no process/);
});

test("call timeout fails with timeout and the late reply never reaches a later call", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", null as GenServer.From<string> | null],
    handleCall: (req: string, from, held) => {
      if (req === "slow") return ["noreply", from];
      if (req === "release" && held) GenServer.reply(held, "late reply");
      return ["reply", `answer to ${req}`, null];
    },
  }, undefined);
  const err: any = await GenServer.call(pid, "slow", 5).catch((e) => e);
  assert.equal(err.reason, "timeout");
  // The server answers the timed-out call now; the next call must get its own answer.
  assert.equal(await GenServer.call(pid, "release"), "answer to release");
  assert.equal(await GenServer.call(pid, "again", Infinity), "answer to again");
  await GenServer.stop(pid);
});

test("a process calling itself fails at once with calling_self", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", null],
    handleCall: async (req: string, _from, s) => {
      if (req === "self") {
        const e = await GenServer.call(Process.self(), "x").catch((e) => e);
        return ["reply", e.reason, s];
      }
      return ["reply", "x", s];
    },
  }, undefined);
  assert.equal(await GenServer.call(pid, "self"), "calling_self");
  await GenServer.stop(pid);
});

test("unknown messages go to handleInfo, and are dropped when it is missing", async () => {
  const seen: unknown[] = [];
  const withInfo = await GenServer.start({
    init: () => ["ok", null],
    handleInfo: (m, s) => {
      seen.push(m);
      return ["noreply", s];
    },
    handleCall: (_r, _f, s) => ["reply", seen.length, s],
  }, undefined);
  Process.send(withInfo, "hello");
  assert.equal(await GenServer.call(withInfo, "n"), 1);
  assert.deepEqual(seen, ["hello"]);
  const without = await GenServer.start(Stack, []);
  Process.send(without, "stray");
  assert.deepEqual(await GenServer.call(without, "peek"), []);
  await GenServer.stop(withInfo);
  await GenServer.stop(without);
});

test("a timeout returned from a callback sends timeout to handleInfo; a message first cancels it", async () => {
  await Process.run(async ({ self, receive }) => {
    const pid = await GenServer.start({
      init: () => ["ok", 0, 1],
      handleInfo: (m: unknown, n: number) => {
        Process.send(self, [m, n]);
        return ["noreply", n + 1];
      },
      handleCall: (_r, _f, n: number) => ["reply", n, n, 60_000],
    }, undefined);
    assert.deepEqual(await receive(), ["timeout", 0]);
    assert.equal(await GenServer.call(pid, "n"), 1); // arms a 60 s timeout...
    Process.send(pid, "msg"); // ...which this message cancels
    assert.deepEqual(await receive(), ["msg", 1]);
    await GenServer.stop(pid);
  });
});

test("async callbacks: the server takes no new message until the promise settles", async () => {
  const order: string[] = [];
  let release!: () => void, started!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slowStarted = new Promise<void>((r) => (started = r));
  const pid = await GenServer.start({
    init: () => ["ok", null],
    handleCall: async (req: string, _f, s) => {
      order.push(`start ${req}`);
      if (req === "slow") {
        started();
        await gate;
      }
      order.push(`end ${req}`);
      return ["reply", req, s];
    },
  }, undefined);
  const slow = GenServer.call(pid, "slow");
  const fast = GenServer.call(pid, "fast");
  await slowStarted;
  assert.deepEqual(order, ["start slow"]);
  assert.equal(Process.info(pid)!.messageQueueLen, 1); // "fast" waits in the mailbox
  assert.equal(Process.info(pid)!.status, "suspended");
  release();
  assert.deepEqual(await Promise.all([slow, fast]), ["slow", "fast"]);
  assert.deepEqual(order, ["start slow", "end slow", "start fast", "end fast"]);
  await GenServer.stop(pid);
});

test("self() inside an async callback is the server, even after await", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", null],
    handleCall: async (_r, _f, s) => {
      await new Promise((r) => setTimeout(r, 0));
      return ["reply", Process.self(), s];
    },
  }, undefined);
  assert.equal(await GenServer.call(pid, "who"), pid);
  await GenServer.stop(pid);
});

test("terminate runs on the parent's exit when the server traps exits", async () => {
  await Process.run(async ({ self, receive }) => {
    const parent = Process.spawn(async ({ receive }) => {
      const server = await GenServer.startLink({
        init: () => {
          Process.trapExit(true);
          return ["ok", null];
        },
        terminate: (reason) => Process.send(self, ["terminated", reason]),
      }, undefined);
      Process.send(self, ["server", server]);
      await receive(() => false);
    });
    const [, server] = await receive<[string, Process.Pid]>(["server", Process._]);
    const ref = Process.monitor(server);
    Process.exit(parent, "shutdown");
    assert.deepEqual(await receive(["terminated", Process._]), ["terminated", "shutdown"]);
    assert.equal(await reasonOf(server, ref), "shutdown");
  });
});

test("stop with a reason and a timeout", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", null],
    terminate: (reason) => (reason === "hang" ? new Promise(() => {}) : undefined),
  }, undefined);
  const err = await GenServer.stop(pid, "hang", 5).catch((e) => e);
  assert.equal(err.reason, "timeout");
  Process.exit(pid, "kill");
  const pid2 = await GenServer.start({ init: () => ["ok", null] }, undefined);
  await GenServer.stop(pid2, ["shutdown", "bye"]);
  assert.ok(!Process.isAlive(pid2));
});

test("startLink links the server to the calling process", async () => {
  await Process.run(async () => {
    const pid = await GenServer.startLink(Stack, []);
    assert.deepEqual(Process.info(pid)!.links, [Process.self()]);
    assert.equal(Process.info(pid)!.behaviour, "GenServer");
    await GenServer.stop(pid);
  });
});

test("callWith answers through callbacks, outside the server's stack", async () => {
  const pid = await GenServer.start({
    init: () => ["ok", null],
    handleCall: (req: string, _f, s) => {
      if (req === "crash") throw new Error("crashed in call");
      return ["reply", req.toUpperCase(), s];
    },
  }, undefined);
  const reply = await new Promise<{ value: unknown; inProcess: unknown }>((resolve, reject) =>
    GenServer.callWith(pid, "hi", (value) => resolve({ value, inProcess: Process.current() }), reject)
  );
  assert.deepEqual(reply, { value: "HI", inProcess: undefined });
  const crash = await new Promise<GenServer.CallError>((resolve) =>
    GenServer.callWith(pid, "crash", () => resolve(undefined as never), resolve)
  );
  assert.equal((crash.reason as [string, Error])[1].message, "crashed in call");
  const noproc = await new Promise<GenServer.CallError>((resolve) =>
    GenServer.callWith(pid, "again", () => resolve(undefined as never), resolve)
  );
  assert.equal(noproc.reason, "noproc");
});

// ---- checked against Erlang/OTP 25 (issue 12, items 2 and 5)

test("GenServer.start: the server is its own parent, so its starter's exit signal is a handleInfo message", async () => {
  await Process.run(async ({ self, receive }) => {
    const server = await GenServer.start({
      init: () => {
        Process.trapExit(true);
        return ["ok", null];
      },
      handleInfo: (msg: unknown, s: null) => {
        Process.send(self, ["info", msg]);
        return ["noreply", s];
      },
      terminate: (reason: unknown) => Process.send(self, ["terminate", reason]),
    }, undefined);
    Process.exit(server, "shutdown");
    const [tag, msg] = await receive<[string, unknown]>();
    assert.equal(tag, "info");
    assert.ok(msg instanceof Process.ExitMessage && msg.from === self && msg.reason === "shutdown");
    assert.ok(Process.isAlive(server));
    await GenServer.stop(server);
  });
});

test("a call to a process that dies without replying fails at once with its exit reason", async () => {
  const raw = Process.spawn(async ({ receive }) => {
    await receive();
    Process.exit("boom");
  });
  const err = await GenServer.call(raw, "hello", 2000).catch((e) => e);
  assert.ok(err instanceof GenServer.CallError);
  assert.equal(err.reason, "boom");
  const noHandleCall = await GenServer.start({ init: () => ["ok", null] }, undefined);
  const err2 = await GenServer.call(noHandleCall, "hello", 2000).catch((e) => e) as GenServer.CallError;
  const reason = err2.reason as [string, Error];
  assert.equal(reason[0], "error");
  assert.match(reason[1].message, /no handleCall/);
});

test("a call whose handleCall throws fails with the crash reason, even while an async terminate lets other servers answer calls", async () => {
  const other = await GenServer.start(Stack, ["x"]);
  const crashing = await GenServer.start({
    init: () => ["ok", null],
    handleCall: () => {
      throw new Error("boom");
    },
    // While this runs, another server handles a call: the crash must still reach the caller.
    terminate: async () => {
      await GenServer.call(other, "peek");
    },
  }, null);
  const err = await GenServer.call(crashing, "go", Infinity).catch((e) => e);
  assert.ok(err instanceof GenServer.CallError);
  const reason = err.reason as [string, Error];
  assert.equal(reason[0], "error");
  assert.match(String(reason[1]), /boom/);
  await GenServer.stop(other);
});
