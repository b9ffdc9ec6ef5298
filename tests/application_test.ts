import { test } from "node:test";
import assert from "node:assert/strict";
import { _, Application, GenServer, Process, Testing } from "../mod.ts";

const { assertReceive, refuteReceive, testProcess } = Testing;

/**
 * A stand-in top supervisor: a GenServer that traps exits, starts `children`
 * linked raw processes, and on shutdown stops them newest first, reporting
 * each step to `to`.
 */
function topServer(to: Process.Pid, app: string, children = 2): GenServer.Callbacks<Process.Pid[]> {
  return {
    init: () => {
      Process.trapExit(true);
      const kids: Process.Pid[] = [];
      for (let i = 1; i <= children; i++) {
        const n = i;
        kids.push(Process.spawnLink(async () => {
          await Process.receive(() => false);
        }));
        Process.send(to, [app, "child_started", n]);
      }
      return ["ok", kids];
    },
    handleCall: (req, _from, kids) => ["reply", req === "kids" ? kids : null, kids],
    terminate: (reason, kids) => {
      for (let i = kids.length - 1; i >= 0; i--) {
        Process.unlink(kids[i]);
        Process.exit(kids[i], "kill");
        Process.send(to, [app, "child_stopped", i + 1]);
      }
      Process.send(to, [app, "top_terminated", reason]);
    },
  };
}

function makeApp(to: Process.Pid, name: string, extra: Partial<Application.Spec<any>> = {}): Application.Spec<any> {
  return {
    name,
    start: () => GenServer.startLink(topServer(to, name), undefined),
    prepStop: () => Process.send(to, [name, "prep_stop"]),
    stop: () => Process.send(to, [name, "stop"]),
    ...extra,
  };
}

test("start runs the app's start; stop runs prepStop, shuts the tree down in reverse order, then stop", async () => {
  await testProcess(async ({ self }) => {
    const app = makeApp(self, "app_order");
    const top = await Application.start(app);
    await assertReceive(["app_order", "child_started", 1], 0);
    await assertReceive(["app_order", "child_started", 2], 0);
    assert.equal(Application.getSupervisor(app), top);
    assert.ok(Application.isStarted("app_order"));
    assert.deepEqual(Application.startedApplications().map((a) => a.name).filter((n) => n === "app_order"), [
      "app_order",
    ]);
    const ref = Process.monitor(top);
    await Application.stop(app);
    const steps: unknown[] = [];
    for (let i = 0; i < 5; i++) steps.push(await assertReceive((m: unknown[]) => m[0] === "app_order", 0));
    assert.deepEqual(steps, [
      ["app_order", "prep_stop"],
      ["app_order", "child_stopped", 2],
      ["app_order", "child_stopped", 1],
      ["app_order", "top_terminated", "shutdown"],
      ["app_order", "stop"],
    ]);
    await assertReceive({ ref, reason: "shutdown" }, 0);
    assert.equal(Application.isStarted(app), false);
    assert.equal(Application.getSupervisor(app), undefined);
  });
});

test("starting twice reports already_started; stopping a stopped app reports not_started", async () => {
  await testProcess(async ({ self }) => {
    const app = makeApp(self, "app_twice");
    const top = await Application.start(app);
    const err = await Application.start(app).catch((e) => e);
    assert.ok(err instanceof Application.ApplicationError);
    assert.deepEqual(err.reason, ["already_started", "app_twice"]);
    assert.match(err.message, /Application "app_twice" is already started/);
    assert.equal(Application.getSupervisor(app), top);
    await Application.stop(app);
    const notStarted = await Application.stop(app).catch((e) => e);
    assert.deepEqual(notStarted.reason, ["not_started", "app_twice"]);
    // It can start again after a stop.
    assert.ok(Process.isAlive(await Application.start(app)));
    await Application.stop(app);
  });
});

test("start fails with a clear error when a dependency is not started", async () => {
  await testProcess(async ({ self }) => {
    const base = makeApp(self, "dep_base");
    const web = makeApp(self, "dep_web", { dependencies: [base] });
    const err = await Application.start(web).catch((e) => e);
    assert.ok(err instanceof Application.ApplicationError);
    assert.deepEqual(err.reason, ["not_started", "dep_base"]);
    assert.equal(err.message, 'Cannot start application "dep_web": dependency "dep_base" is not started');
    assert.equal(Application.isStarted(web), false);
    await refuteReceive(["dep_web", "child_started", _], 0);

    await Application.start(base);
    await Application.start(web);
    await Application.stop(web);
    await Application.stop(base);
  });
});

test("ensureAllStarted starts dependencies first, in order, and returns which it started", async () => {
  await testProcess(async ({ self }) => {
    const a = makeApp(self, "ens_a");
    const b = makeApp(self, "ens_b", { dependencies: [a] });
    const c = makeApp(self, "ens_c");
    const top = makeApp(self, "ens_top", { dependencies: [b, c, "ens_a"] });
    await Application.start(c);
    assert.deepEqual(await Application.ensureAllStarted(top), ["ens_a", "ens_b", "ens_top"]);
    const order = Application.startedApplications().map((x) => x.name).filter((n) => n.startsWith("ens_"));
    assert.deepEqual(order, ["ens_top", "ens_b", "ens_a", "ens_c"]); // newest first, as which_applications
    await assertReceive(["ens_c", "child_started", 1], 0);
    const starts: string[] = [];
    for (let i = 0; i < 3; i++) starts.push((await assertReceive<[string]>([_, "child_started", 1], 0))[0]);
    assert.deepEqual(starts, ["ens_a", "ens_b", "ens_top"]);
    assert.deepEqual(await Application.ensureAllStarted(top), []);
    for (const name of ["ens_top", "ens_b", "ens_a", "ens_c"]) await Application.stop(name);
  });
});

test("ensureAllStarted stops what it started when a later start fails", async () => {
  await testProcess(async ({ self }) => {
    const a = makeApp(self, "fail_a");
    const bad = makeApp(self, "fail_bad", {
      dependencies: [a],
      start: () => GenServer.startLink({ init: () => ["stop", "no_config"] }, undefined),
    });
    const err = await Application.ensureAllStarted(bad).catch((e) => e);
    assert.ok(err instanceof Application.ApplicationError);
    assert.deepEqual(err.reason, ["start_failed", "no_config"]);
    assert.match(err.message, /Cannot start application "fail_bad": no_config/);
    await assertReceive(["fail_a", "top_terminated", "shutdown"], 1000);
    assert.equal(Application.isStarted(a), false);
    assert.equal(Application.isStarted(bad), false);
  });
});

test("dependency errors: circular dependencies and unknown names", async () => {
  const idle = () => Process.spawn(async () => await Process.receive(() => false));
  const x: { name: string; start: typeof idle; dependencies: Application.Spec<any>[] } = {
    name: "cyc_x",
    start: idle,
    dependencies: [],
  };
  const y = { name: "cyc_y", start: idle, dependencies: [x] };
  x.dependencies.push(y);
  const cyc = await Application.ensureAllStarted(x).catch((e) => e);
  assert.deepEqual(cyc.reason, ["circular_dependencies", ["cyc_x", "cyc_y", "cyc_x"]]);
  const unknown = await Application.ensureAllStarted({ name: "unk", start: idle, dependencies: ["nobody"] })
    .catch((e) => e);
  assert.deepEqual(unknown.reason, ["not_loaded", "nobody"]);
  assert.equal(Application.isStarted("unk"), false);
});

test("env: defaults, overrides at start, getEnv/putEnv/deleteEnv, and start sees the merged values", async () => {
  await testProcess(async ({ self }) => {
    const app = Application.define({
      name: "env_app2",
      env: { port: 4040, host: "localhost" },
      start: (type, env) => {
        Process.send(self, ["env_seen", type, { ...env }]);
        return GenServer.startLink({ init: () => ["ok", null] }, undefined);
      },
    });
    assert.equal(Application.getEnv(app, "port"), undefined);
    assert.equal(Application.getEnv("env_app2", "port", 1), 1);
    await Application.start(app, { env: { port: 5050 } });
    await assertReceive(["env_seen", "normal", { port: 5050, host: "localhost" }], 0);
    assert.equal(Application.getEnv(app, "port"), 5050);
    assert.equal(Application.getEnv(app, "host"), "localhost");
    assert.equal(Application.getEnv("env_app2", "missing", "fallback"), "fallback");
    Application.putEnv(app, "host", "example.org");
    assert.equal(Application.getEnv("env_app2", "host"), "example.org");
    assert.deepEqual(Application.getAllEnv(app), { port: 5050, host: "example.org" });
    Application.deleteEnv(app, "host");
    assert.equal(Application.getEnv(app, "host", "gone"), "gone");
    await Application.stop(app);
    // The environment stays loaded after a stop, and is forgotten by unload.
    assert.equal(Application.getEnv(app, "port"), 5050);
    assert.equal(Application.unload(app), true);
    assert.equal(Application.getEnv(app, "port"), undefined);
    // Started again: defaults again; a running application cannot be unloaded (OTP: {error, {running, Name}}).
    await Application.start(app);
    assert.deepEqual(
      (() => {
        try {
          Application.unload(app);
        } catch (e) {
          return (e as Application.ApplicationError).reason;
        }
        return "unloaded";
      })(),
      ["running", app.name],
    );
    await assertReceive(["env_seen", "normal", { port: 4040, host: "localhost" }], 0);
    await Application.stop(app);
    Application.unload(app);
  });
});

test("a failing or bad start callback fails start with start_failed or bad_return", async () => {
  const thrown = await Application.start({
    name: "bad_throw",
    start: () => {
      throw new Error("nope");
    },
  }).catch((e) => e);
  assert.equal(thrown.reason[0], "start_failed");
  assert.equal(thrown.reason[1].message, "nope");
  assert.match(thrown.message, /Cannot start application "bad_throw": Error: nope/);
  const bad = await Application.start({ name: "bad_return", start: () => "pid?" as never }).catch((e) => e);
  assert.deepEqual(bad.reason, ["bad_return", "pid?"]);
  assert.equal(Application.isStarted("bad_throw") || Application.isStarted("bad_return"), false);
});

test("the application outlives the process that started it", async () => {
  await testProcess(async ({ self }) => {
    const app = makeApp(self, "outlive");
    const [starter, ref] = Process.spawnMonitor(async () => {
      const top = await Application.start(app);
      Process.send(self, ["top", top]);
      await Process.receive(() => false);
    });
    const [, top] = await assertReceive<[string, Process.Pid]>(["top", _], 1000);
    assert.ok(!Process.info(top)!.links.includes(starter));
    Process.exit(starter, "kill");
    await assertReceive({ ref, reason: "killed" }, 1000);
    assert.ok(Process.isAlive(top));
    assert.ok(Application.isStarted(app));
    assert.equal((await GenServer.call<string, Process.Pid[]>(top, "kids")).length, 2);
    await Application.stop(app);
    assert.ok(!Process.isAlive(top));
  });
});

test("when the top process dies on its own the application stops and its callbacks run", async () => {
  await testProcess(async ({ self }) => {
    const app = makeApp(self, "self_death");
    const top = await Application.start(app);
    const ref = Process.monitor(top);
    Process.exit(top, "kill");
    await assertReceive({ ref, reason: "killed" }, 1000);
    await assertReceive(["self_death", "prep_stop"], 1000);
    await assertReceive(["self_death", "stop"], 1000);
    // A stop racing the master's own cleanup waits for it, or reports not_started.
    await Application.stop(app).catch((e) => assert.deepEqual(e.reason, ["not_started", "self_death"]));
    assert.equal(Application.isStarted(app), false);
  });
});

test("a permanent application that dies takes the other applications down, newest first", async () => {
  await testProcess(async ({ self }) => {
    const other = makeApp(self, "perm_other");
    const perm = makeApp(self, "perm_main");
    await Application.start(other);
    const top = await Application.start(perm, { type: "permanent" });
    assert.equal(Application.startedApplications().find((a) => a.name === "perm_main")?.type, "permanent");
    Process.exit(top, "kill");
    await assertReceive(["perm_main", "stop"], 1000);
    await assertReceive(["perm_other", "top_terminated", "shutdown"], 1000);
    await assertReceive(["perm_other", "stop"], 1000);
    assert.equal(Application.isStarted(other), false);
  });
});

test("a temporary application that dies leaves the others running", async () => {
  await testProcess(async ({ self }) => {
    const other = makeApp(self, "temp_other");
    const temp = makeApp(self, "temp_main");
    await Application.start(other);
    const top = await Application.start(temp);
    Process.exit(top, "kill");
    await assertReceive(["temp_main", "stop"], 1000);
    await refuteReceive(["temp_other", "prep_stop"], 0);
    assert.ok(Application.isStarted(other));
    await Application.stop(other);
  });
});

test("stop kills a top process that ignores shutdown after the timeout", async () => {
  await testProcess(async ({ self }) => {
    const app = {
      name: "stubborn",
      start: () =>
        Process.spawn(async () => {
          for (;;) await Process.receive();
        }, { trapExit: true }),
      stop: () => Process.send(self, "stopped"),
    };
    const top = await Application.start(app);
    const ref = Process.monitor(top);
    await Application.stop(app, { timeout: 5 });
    await assertReceive({ ref, reason: "killed" }, 0);
    await assertReceive("stopped", 0);
  });
});

test("stop right after the top process died on its own resolves, as in OTP; a second stop is not_started", async () => {
  const app = Application.define({
    name: "died_alone",
    start: () => GenServer.start({ init: () => ["ok", null] }, undefined),
  });
  const top = await Application.start(app);
  await Process.run(async ({ receive }) => {
    const ref = Process.monitor(top);
    Process.exit(top, "boom");
    await receive({ ref });
  });
  await Process.run(() => {}); // the application master has had its turn
  await Application.stop(app);
  const again = await Application.stop(app).catch((e) => e);
  assert.deepEqual(again.reason, ["not_started", "died_alone"]);
});
