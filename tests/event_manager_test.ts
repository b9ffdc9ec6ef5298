import { test } from "node:test";
import assert from "node:assert/strict";
import { _, EventManager, GenServer, Process, Testing } from "../mod.ts";

const { assertReceive, refuteReceive, testProcess } = Testing;
const { HandlerExitMessage } = EventManager;

/** A handler that forwards every event to `to` as [tag, event], and counts them. */
function forwarding(to: Process.Pid, tag: string): EventManager.Handler<unknown, number, number> {
  return {
    init: (n) => n,
    handleEvent(event, n) {
      if (event === `crash:${tag}`) throw new Error(`${tag} crashed`);
      if (event === `remove:${tag}`) return "remove_handler";
      Process.send(to, [tag, event]);
      return n + 1;
    },
    handleCall: (req, n) => req === "count" ? [n, n] : [req, n],
    handleInfo(msg, n) {
      Process.send(to, [tag, "info", msg]);
      return ["ok", n];
    },
    terminate(reason, n) {
      Process.send(to, [tag, "terminate", reason]);
      return ["count", n];
    },
  };
}

test("handlers are added, get events newest first (as gen_event), answer calls, and are removed", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>();
    const a = forwarding(self, "a");
    const b = forwarding(self, "b");
    await EventManager.addHandler(manager, a, 0);
    await EventManager.addHandler(manager, b, 10, { id: "b" });
    assert.deepEqual(await EventManager.whichHandlers(manager), ["b", a]);

    EventManager.notify(manager, "one");
    await EventManager.syncNotify(manager, "two");
    assert.deepEqual(await assertReceive(_, 0), ["b", "one"]);
    assert.deepEqual(await assertReceive(_, 0), ["a", "one"]);
    assert.deepEqual(await assertReceive(_, 0), ["b", "two"]);
    assert.deepEqual(await assertReceive(_, 0), ["a", "two"]);

    assert.equal(await EventManager.call(manager, a, "count"), 2);
    assert.equal(await EventManager.call(manager, "b", "count"), 12);

    assert.deepEqual(await EventManager.removeHandler(manager, "b", "bye"), ["count", 12]);
    await assertReceive(["b", "terminate", "bye"], 0);
    assert.deepEqual(await EventManager.whichHandlers(manager), [a]);
    await EventManager.syncNotify(manager, "three");
    await assertReceive(["a", "three"], 0);
    await refuteReceive(["b", _], 0);
    await EventManager.stop(manager);
    await assertReceive(["a", "terminate", "stop"], 0);
  });
});

test("syncNotify returns only after every handler, async ones included, has handled the event", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<number>();
    const gates: Array<() => void> = [];
    // Added last, the slow handler runs first.
    await EventManager.addHandler(manager, {
      handleEvent: (n: number) => Process.send(self, ["fast", n]),
    }, undefined);
    await EventManager.addHandler(manager, {
      handleEvent: async (n: number, _s: undefined) => {
        const gate = new Promise<void>((resolve) => gates.push(resolve));
        Process.send(self, ["slow_started", n]);
        await gate;
        Process.send(self, ["slow", n, Process.self()]);
      },
    }, undefined);
    let returned = false;
    const sync = EventManager.syncNotify(manager, 1).then(() => {
      returned = true;
    });
    await assertReceive(["slow_started", 1], 1000);
    assert.equal(returned, false);
    await refuteReceive(["fast", 1], 0);
    gates[0]();
    await sync;
    assert.deepEqual(await assertReceive(_, 0), ["slow", 1, manager]);
    assert.deepEqual(await assertReceive(_, 0), ["fast", 1]);
  });
});

test("a handler that throws is removed; the manager and the other handlers carry on", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>();
    const ref = Process.monitor(manager);
    await EventManager.addHandler(manager, forwarding(self, "a"), 0, { id: "a" });
    await EventManager.addHandler(manager, forwarding(self, "b"), 0, { id: "b" });
    await EventManager.syncNotify(manager, "crash:a");
    await assertReceive(["b", "crash:a"], 0); // b, the newest, runs first
    const [, , reason] = await assertReceive<[string, string, [string, Error]]>(["a", "terminate", ["error", _]], 0);
    assert.equal(reason[1].message, "a crashed");
    assert.deepEqual(await EventManager.whichHandlers(manager), ["b"]);
    await refuteReceive({ ref }, 0);

    // A crash in handleCall removes the handler too and fails the call.
    await EventManager.addHandler(
      manager,
      {
        handleEvent: (_e: string, s: null) => s,
        handleCall: () => {
          throw new Error("call crashed");
        },
      },
      null,
      { id: "c" },
    );
    const err = await EventManager.call(manager, "c", "x").catch((e) => e);
    assert.ok(err instanceof EventManager.EventManagerError);
    assert.equal((err.reason as [string, Error])[1].message, "call crashed");
    assert.deepEqual(await EventManager.whichHandlers(manager), ["b"]);
    assert.ok(Process.isAlive(manager));
  });
});

test('remove_handler removes the handler with terminate("remove_handler")', async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>();
    await EventManager.addHandler(manager, forwarding(self, "a"), 0, { id: "a" });
    await EventManager.syncNotify(manager, "remove:a");
    await assertReceive(["a", "terminate", "remove_handler"], 0);
    assert.deepEqual(await EventManager.whichHandlers(manager), []);
  });
});

test("add, remove and call report typed errors", async () => {
  await testProcess(async () => {
    const manager = await EventManager.startLink<string>();
    const h = { handleEvent: (_e: string, s: number) => s };
    await EventManager.addHandler(manager, h, 0);
    const dup = await EventManager.addHandler(manager, h, 0).catch((e) => e);
    assert.ok(dup instanceof EventManager.EventManagerError);
    assert.equal(dup.reason, "already_present");
    await EventManager.addHandler(manager, h, 0, { id: "second" });

    const missing: EventManager.EventManagerError = await EventManager.removeHandler(manager, "nope").then(
      () => assert.fail("removed a missing handler"),
      (e) => e,
    );
    assert.equal(missing.reason, "module_not_found");
    assert.match(missing.message, /Event handler "nope" in event manager <0\.\d+\.0> is not installed/);
    assert.equal((await EventManager.call(manager, "nope", "x").catch((e) => e)).reason, "bad_module");

    const failing = await EventManager.addHandler(
      manager,
      {
        init: () => {
          throw new Error("bad init");
        },
        handleEvent: (_e: string, s: unknown) => s,
      },
      0,
      { id: "bad" },
    ).catch((e) => e);
    assert.equal((failing.reason as [string, Error])[1].message, "bad init");
    assert.deepEqual(await EventManager.whichHandlers(manager), ["second", h]);
  });
});

test("a monitored handler is removed when the process that added it dies", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>();
    const [adder, ref] = Process.spawnMonitor(async () => {
      await EventManager.addMonHandler(manager, forwarding(self, "m"), 0, { id: "m" });
      Process.send(self, "added");
      await Process.receive("die");
      Process.exit("bye");
    });
    await assertReceive("added", 1000);
    assert.deepEqual(await EventManager.whichHandlers(manager), ["m"]);
    Process.send(adder, "die");
    await assertReceive({ ref, reason: "bye" }, 1000);
    await assertReceive(["m", "terminate", ["stop", "bye"]], 1000);
    assert.deepEqual(await EventManager.whichHandlers(manager), []);
  });
});

test("the adder of a monitored handler is told when the handler goes for any other reason", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>();
    await EventManager.addMonHandler(manager, forwarding(self, "a"), 0, { id: "a" });
    await EventManager.addMonHandler(manager, forwarding(self, "b"), 0, { id: "b" });
    await EventManager.addMonHandler(manager, forwarding(self, "c"), 0, { id: "c" });
    await EventManager.addMonHandler(manager, forwarding(self, "d"), 0, { id: "d" });

    await EventManager.removeHandler(manager, "a");
    const removed = await assertReceive<EventManager.HandlerExitMessage>(
      (m: unknown) => m instanceof HandlerExitMessage,
      0,
    );
    assert.deepEqual([removed.manager, removed.handler, removed.reason], [manager, "a", "normal"]);

    await EventManager.syncNotify(manager, "remove:b");
    await assertReceive({ handler: "b", reason: "normal" }, 0);

    await EventManager.syncNotify(manager, "crash:c");
    const crash = await assertReceive<EventManager.HandlerExitMessage>({ handler: "c", reason: ["error", _] }, 0);
    assert.equal((crash.reason as [string, Error])[1].message, "c crashed");

    await EventManager.stop(manager);
    await assertReceive({ manager, handler: "d", reason: "shutdown" }, 0);
    await refuteReceive((m: unknown) => m instanceof HandlerExitMessage, 0);
  });
});

test("other messages sent to the manager reach the handlers' handleInfo", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>();
    await EventManager.addHandler(manager, forwarding(self, "a"), 0);
    Process.send(manager as Process.Pid, "hello");
    await assertReceive(["a", "info", "hello"], 1000);
  });
});

test("a manager started with startLink runs the handlers' terminate when its parent exits", async () => {
  await testProcess(async ({ self }) => {
    const [parent, ref] = Process.spawnMonitor(async () => {
      const manager = await EventManager.startLink<string>({ name: "em_parent_test" });
      await EventManager.addHandler(manager, forwarding(self, "a"), 0);
      Process.send(self, ["manager", manager]);
      await Process.receive(() => false);
    });
    const [, manager] = await assertReceive<[string, Process.Pid]>(["manager", _], 1000);
    const managerRef = Process.monitor(manager);
    Process.exit(parent, "shutdown");
    await assertReceive({ ref, reason: "shutdown" }, 1000);
    await assertReceive({ ref: managerRef, reason: "shutdown" }, 1000);
    await assertReceive(["a", "terminate", "stop"], 0);
    assert.equal(Process.whereis("em_parent_test"), undefined);
  });
});

test("a manager can be named, and a taken name reports already_started", async () => {
  await testProcess(async ({ self }) => {
    const manager = await EventManager.startLink<string>({ name: "em_named" });
    const err = await EventManager.start({ name: "em_named" }).catch((e) => e);
    assert.ok(err instanceof GenServer.StartError);
    assert.deepEqual(err.reason, ["already_started", manager]);
    await EventManager.addHandler("em_named", forwarding(self, "a"), 0);
    EventManager.notify("em_named", "by name");
    await assertReceive(["a", "by name"], 1000);
  });
});
