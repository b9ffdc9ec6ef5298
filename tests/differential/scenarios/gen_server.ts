/** Twins of `gen_server_scenarios()` in beam/diff_erl.erl (the server is beam/diff_gs.erl's twin). */
import { GenServer, type Pid, Process } from "../../../mod.ts";
import { attempt, isDown, isExit, type Scenario } from "../scenario.ts";

// deno-lint-ignore no-explicit-any
type S = { owner: Pid; from?: GenServer.From<any> };
type Cb = GenServer.Callbacks<S, S>;

/** diff_gs: defaults report to the owner; `over` replaces callbacks. */
function gs(over: Partial<Cb> = {}): Cb {
  return {
    init: (s) => ["ok", s],
    handleCall: (req, _from, s) => ["reply", ["echo", req], s],
    handleCast: (req, s) => (Process.send(s.owner, ["cast", req]), ["noreply", s]),
    handleInfo: (m, s) => (Process.send(s.owner, ["info", m]), ["noreply", s]),
    handleContinue: (x, s) => (Process.send(s.owner, ["continue", x]), ["noreply", s]),
    terminate: (r, s) => Process.send(s.owner, ["terminate", r]),
    ...over,
  };
}

const st = (): S => ({ owner: Process.self() });

async function startResult(p: Promise<Pid>): Promise<unknown> {
  try {
    return ["ok", await p];
  } catch (e) {
    const r = (e as { reason?: unknown }).reason;
    return r === "ignore" ? "ignore" : ["error", r];
  }
}

async function parentExit(c: Parameters<Scenario["run"]>[0], trap: boolean) {
  const main = Process.self();
  const parent = Process.spawn(async ({ receive }) => {
    const p = await GenServer.startLink(
      gs({ init: (s) => (Process.trapExit(trap), ["ok", s]) }),
      { owner: main },
    );
    Process.send(main, ["server", p]);
    await receive("go");
    Process.exit("shutdown");
  });
  const [, p] = await Process.receive<[string, Pid]>((m: unknown) => Array.isArray(m) && m[0] === "server");
  Process.monitor(p);
  Process.send(parent, "go");
  await c.collect(isDown, 1000);
}

export const genServerScenarios: Scenario[] = [
  {
    name: "gs.start_call_stop",
    async run(c) {
      const p = await GenServer.startLink(gs(), st());
      c.ev(["call", await GenServer.call(p, "hello")]);
      c.ev(["stop", (await GenServer.stop(p), "ok")]);
      c.ev(await c.recv(1000));
      c.ev(["alive", Process.isAlive(p)]);
    },
  },
  {
    name: "gs.init_stop",
    async run(c) {
      c.ev(await startResult(GenServer.start(gs({ init: () => ["stop", "bad"] }), st())));
    },
  },
  {
    name: "gs.init_stop_link",
    deviation: "start_link_exit",
    async run(c) {
      Process.trapExit(true);
      c.ev(await startResult(GenServer.startLink(gs({ init: () => ["stop", "bad"] }), st())));
      c.ev(await c.recv(100));
    },
  },
  {
    name: "gs.init_ignore",
    async run(c) {
      c.ev(await startResult(GenServer.start(gs({ init: () => "ignore" }), st())));
    },
  },
  {
    name: "gs.init_exit",
    async run(c) {
      c.ev(await startResult(GenServer.start(gs({ init: () => Process.exit("boom") }), st())));
    },
  },
  {
    name: "gs.already_started",
    async run(c) {
      const p = await GenServer.start(gs(), st(), { name: "diff_gs1" });
      c.ev(["first", p]);
      c.ev(await startResult(GenServer.start(gs(), st(), { name: "diff_gs1" })));
      await GenServer.stop(p);
    },
  },
  {
    name: "gs.call_timeout_late_reply",
    async run(c) {
      const p = await GenServer.startLink(
        gs({
          handleCall(req, from, s) {
            if (req === "slow") return ["noreply", { ...s, from }];
            if (req === "release") {
              GenServer.reply(s.from!, "late");
              return ["reply", "released", s];
            }
            return ["reply", ["echo", req], s];
          },
        }),
        st(),
      );
      c.ev(await attempt(() => GenServer.call(p, "slow", 50)));
      c.ev(await attempt(() => GenServer.call(p, "fast")));
      c.ev(await attempt(() => GenServer.call(p, "release")));
      c.ev(await c.recv(100));
    },
  },
  {
    name: "gs.call_noproc_pid",
    async run(c) {
      const [p, ref] = Process.spawnMonitor(() => {});
      await Process.receive({ ref });
      c.ev(await attempt(() => GenServer.call(p, "hi")));
    },
  },
  {
    name: "gs.call_noproc_name",
    async run(c) {
      c.ev(await attempt(() => GenServer.call("diff_no_such_name", "hi")));
    },
  },
  {
    name: "gs.cast_unknown_name",
    async run(c) {
      c.ev(await attempt(() => (GenServer.cast("diff_no_such_name", "hi"), "ok")));
    },
  },
  {
    name: "gs.call_self",
    async run(c) {
      const p = await GenServer.startLink(
        gs({
          handleCall: async (_r, _f, s) => ["reply", await attempt(() => GenServer.call(Process.self(), "x")), s],
        }),
        st(),
      );
      c.ev(await GenServer.call(p, "go"));
    },
  },
  {
    name: "gs.call_stop_noreply",
    async run(c) {
      Process.trapExit(true);
      const p = await GenServer.startLink(gs({ handleCall: (_r, _f, s) => ["stop", "boom", s] }), st());
      c.ev(await attempt(() => GenServer.call(p, "go")));
      await c.collect(isExit, 1000);
    },
  },
  {
    name: "gs.call_plain_process_dies",
    async run(c) {
      const p = Process.spawn(async ({ receive }) => {
        await receive();
        Process.exit("gone");
      });
      c.ev(await attempt(() => GenServer.call(p, "hi", 2000)));
    },
  },
  {
    name: "gs.call_callback_exits",
    async run(c) {
      Process.trapExit(true);
      const p = await GenServer.startLink(gs({ handleCall: () => Process.exit("boom") }), st());
      c.ev(await attempt(() => GenServer.call(p, "go")));
      await c.collect(isExit, 1000);
    },
  },
  {
    name: "gs.stop_reply",
    async run(c) {
      const p = await GenServer.start(gs({ handleCall: (_r, _f, s) => ["stop", "normal", "bye", s] }), st());
      Process.monitor(p);
      c.ev(await attempt(() => GenServer.call(p, "go")));
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "gs.reply_deferred",
    async run(c) {
      const p = await GenServer.startLink(
        gs({
          handleCall: (_r, from, s) => (Process.send(Process.self(), "release"), ["noreply", { ...s, from }]),
          handleInfo: (_m, s) => (GenServer.reply(s.from!, "later"), ["noreply", s]),
        }),
        st(),
      );
      c.ev(await attempt(() => GenServer.call(p, "go")));
    },
  },
  {
    name: "gs.continue_chain",
    async run(c) {
      const p = await GenServer.startLink(
        gs({
          init: (s) => ["ok", s, { continue: "c1" }],
          handleContinue(x, s) {
            Process.send(s.owner, ["continue", x]);
            return x === "c1" ? ["noreply", s, { continue: "c2" }] : ["noreply", s];
          },
        }),
        st(),
      );
      c.ev(["call", await GenServer.call(p, "hi")]);
      c.ev(await c.recv(100));
      c.ev(await c.recv(100));
      c.ev(await c.recv(50));
    },
  },
  {
    name: "gs.reply_with_timeout",
    async run(c) {
      const p = await GenServer.startLink(gs({ handleCall: (_r, _f, s) => ["reply", "ok", s, 10] }), st());
      c.ev(await GenServer.call(p, "go"));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "gs.cast_info_order",
    async run(c) {
      const p = await GenServer.startLink(gs(), st());
      GenServer.cast(p, "a");
      Process.send(p, "b");
      GenServer.cast(p, "c");
      for (let i = 0; i < 3; i++) c.ev(await c.recv(1000));
    },
  },
  { name: "gs.parent_exit.trap", run: (c) => parentExit(c, true) },
  { name: "gs.parent_exit.notrap", run: (c) => parentExit(c, false) },
  {
    name: "gs.start_nolink_exit_from_starter",
    async run(c) {
      const p = await GenServer.start(gs({ init: (s) => (Process.trapExit(true), ["ok", s]) }), st());
      Process.monitor(p);
      Process.exit(p, "shutdown");
      c.ev(await attempt(() => GenServer.call(p, "hi")));
      await c.collect(() => false, 100);
    },
  },
  {
    name: "gs.stop_noproc",
    async run(c) {
      const [p, ref] = Process.spawnMonitor(() => {});
      await Process.receive({ ref });
      c.ev(await attempt(() => GenServer.stop(p)));
    },
  },
  {
    name: "gs.stop_shutdown_reason",
    async run(c) {
      const p = await GenServer.start(gs(), st());
      Process.monitor(p);
      c.ev(await attempt(async () => (await GenServer.stop(p, ["shutdown", "bye"]), "ok")));
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "gs.info_stop",
    async run(c) {
      const p = await GenServer.start(gs({ handleInfo: (_m, s) => ["stop", "boom", s] }), st());
      Process.monitor(p);
      Process.send(p, "go");
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "gs.init_timeout",
    async run(c) {
      const cb = gs({
        init: async (s) => {
          await Process.sleep(100);
          Process.send(s.owner, "init_continued");
          return ["ok", s];
        },
      });
      const r = await startResult(GenServer.start(cb, st(), { timeout: 50 }));
      c.ev(Array.isArray(r) && r[0] === "ok" ? "ok" : r);
      c.ev(await c.recv(300));
    },
  },
  {
    name: "gs.call_after_stop",
    async run(c) {
      const p = await GenServer.start(gs(), st());
      await GenServer.stop(p);
      c.ev(await attempt(() => GenServer.call(p, "hi")));
    },
  },
  {
    name: "gs.continue_stop",
    async run(c) {
      Process.trapExit(true);
      await GenServer.startLink(
        gs({ init: (s) => ["ok", s, { continue: "c1" }], handleContinue: (_x, s) => ["stop", "bye", s] }),
        st(),
      );
      await c.collect(isExit, 1000);
    },
  },
  {
    name: "gs.reply_from_other_process",
    async run(c) {
      const p = await GenServer.startLink(
        gs({
          handleCall(req, from, s) {
            Process.spawn(() => GenServer.reply(from, ["helper", req]));
            return ["noreply", s];
          },
        }),
        st(),
      );
      c.ev(await attempt(() => GenServer.call(p, "hi")));
    },
  },
  {
    name: "gs.trapping_starter_sees_normal_exit",
    async run(c) {
      Process.trapExit(true);
      const p = await GenServer.startLink(gs(), st());
      await GenServer.stop(p);
      await c.collect(isExit, 1000);
    },
  },
  {
    name: "gs.stop_timeout",
    async run(c) {
      const p = await GenServer.start(
        gs({
          init: (s) => (Process.trapExit(true), ["ok", s]),
          terminate: (r, s) => {
            Process.send(s.owner, ["terminate", r]);
            return Process.receive(() => false);
          },
        }),
        st(),
      );
      c.ev(await attempt(() => GenServer.stop(p, "normal", 50)));
      c.ev(await c.recv(100));
    },
  },
  {
    name: "gs.call_stop_normal_noreply",
    async run(c) {
      const p = await GenServer.start(gs({ handleCall: (_r, _f, s) => ["stop", "normal", s] }), st());
      c.ev(await attempt(() => GenServer.call(p, "go")));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "gs.init_timeout_info",
    async run(c) {
      await GenServer.startLink(gs({ init: (s) => ["ok", s, 10] }), st());
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "gs.stop_with_pending_call",
    async run(c) {
      const main = Process.self();
      const p = await GenServer.start(
        gs({ handleCall: (_r, from, s) => (Process.send(main, "stored"), ["noreply", { ...s, from }]) }),
        st(),
      );
      Process.spawn(async () => Process.send(main, ["caller", await attempt(() => GenServer.call(p, "wait"))]));
      await Process.receive("stored");
      c.ev(["stop", (await GenServer.stop(p), "ok")]);
      c.ev(await c.recv(1000));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "gs.cast_dead_pid",
    async run(c) {
      const p = await GenServer.start(gs(), st());
      await GenServer.stop(p);
      c.ev(await c.recv(1000));
      c.ev(await attempt(() => (GenServer.cast(p, "hi"), "ok")));
    },
  },
  {
    name: "gs.named_whereis",
    async run(c) {
      const p = await GenServer.start(gs(), st(), { name: "diff_gs2" });
      c.ev(["whereis", Process.whereis("diff_gs2"), p]);
      c.ev(await GenServer.call("diff_gs2", "hi"));
      await GenServer.stop("diff_gs2");
      c.ev(["whereis", Process.whereis("diff_gs2")]);
    },
  },
  {
    name: "gs.terminate_not_called_on_kill",
    async run(c) {
      const p = await GenServer.start(gs({ init: (s) => (Process.trapExit(true), ["ok", s]) }), st());
      Process.monitor(p);
      Process.exit(p, "kill");
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "gs.info_exit_from_linked",
    async run(c) {
      const main = Process.self();
      const p = await GenServer.start(
        gs({
          init(s) {
            Process.trapExit(true);
            const child = Process.spawnLink(async ({ receive }) => {
              await receive("go");
              Process.exit("bye");
            });
            Process.send(main, ["child", child]);
            return ["ok", s];
          },
        }),
        st(),
      );
      const [, child] = await Process.receive<[string, Pid]>((m: unknown) => Array.isArray(m) && m[0] === "child");
      Process.send(child, "go");
      c.ev(await c.recv(1000));
      c.ev(["alive", Process.isAlive(p)]);
    },
  },
];
