/** Twins of `application_scenarios()` and `event_scenarios()` in beam/diff_erl.erl. */
import { Application, EventManager, type Pid, Process, Supervisor } from "../../../mod.ts";
import { attempt, type Ctx, type Scenario } from "../scenario.ts";
import { list } from "../trace.ts";

/** diff_erl's child: reports started/stopped to `owner`. */
function worker(id: string, owner: Pid): Supervisor.ChildSpec {
  return {
    id,
    shutdown: 1000,
    start: () => {
      const parent = Process.self();
      return Process.spawnLink(async ({ self, receive }) => {
        Process.send(owner, ["started", id, self]);
        for (;;) {
          const m = await receive();
          if (m instanceof Process.ExitMessage && m.from === parent) {
            Process.send(owner, ["stopped", id, m.reason]);
            Process.exit(m.reason);
          }
        }
      }, { trapExit: true });
    },
  };
}

/** diff_app: reports start, prep_stop and stop; its tree is a supervisor of `children`. */
function app(name: string, deps: Application.Spec[], children: string[]): Application.Spec {
  const owner = Process.self();
  const specs = children.map((id) => worker(id, owner));
  return Application.define({
    name,
    dependencies: deps,
    start() {
      Process.send(owner, ["app_start", name]);
      return Supervisor.startLink(specs, { strategy: "one_for_one" });
    },
    prepStop: () => Process.send(owner, ["prep_stop", name]),
    stop: () => Process.send(owner, ["app_stop", name]),
  });
}

async function res(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return ["error", (e as { reason?: unknown }).reason];
  }
}

/** err_tag: "ok", or ["error", tag] of a failure's [tag, detail] (unload's false is OTP's not_loaded). */
async function errTag(fn: () => unknown): Promise<unknown> {
  try {
    const r = await fn();
    return r === false ? ["error", "not_loaded"] : "ok";
  } catch (e) {
    return ["error", ((e as { reason?: unknown[] }).reason ?? [])[0]];
  }
}

const mine = (names: string[]) => list(Application.which().map((a) => a.name).filter((n) => names.includes(n)));
const isTag = (tag: string) => (m: unknown) => Array.isArray(m) && m[0] === tag;

async function recvN(c: Ctx, n: number) {
  for (let i = 0; i < n; i++) c.ev(await c.recv(1000));
}

export const applicationScenarios: Scenario[] = [
  {
    name: "app.start_stop_callbacks",
    async run(c) {
      const a = app("diff_app1", [], ["w"]);
      Application.load(a);
      c.ev(["start", await res(Application.start(a))]);
      await recvN(c, 2);
      c.ev(["stop", await res(Application.stop(a))]);
      await c.collect(isTag("app_stop"), 1000);
      Application.unload(a);
    },
  },
  {
    name: "app.ensure_all_started",
    async run(c) {
      const a = app("diff_app2a", [], ["wa"]);
      const b = app("diff_app2b", [a], ["wb"]);
      Application.load(a);
      Application.load(b);
      c.ev(["ensure", ["ok", list(await Application.ensureAllStarted(b))]]);
      await recvN(c, 4);
      c.ev(["which", mine(["diff_app2a", "diff_app2b"])]);
      c.ev(["stop", await res(Application.stop(b))]);
      await c.collect(isTag("app_stop"), 1000);
      c.ev(["stop", await res(Application.stop(a))]);
      await c.collect(isTag("app_stop"), 1000);
      Application.unload(b);
      Application.unload(a);
    },
  },
  {
    name: "app.start_missing_dep",
    async run(c) {
      const a = app("diff_app3a", [], []);
      const b = app("diff_app3b", [a], []);
      Application.load(a);
      Application.load(b);
      c.ev(["start", await res(Application.start(b))]);
      c.ev(await c.recv(100));
      Application.unload(b);
      Application.unload(a);
    },
  },
  {
    name: "app.already_started",
    async run(c) {
      const a = app("diff_app4", [], []);
      Application.load(a);
      c.ev(["start", await res(Application.start(a))]);
      c.ev(["start", await res(Application.start(a))]);
      await Application.stop(a);
      Application.unload(a);
    },
  },
  {
    name: "app.which_order",
    async run(c) {
      const a = app("diff_app5a", [], []);
      const b = app("diff_app5b", [], []);
      Application.load(a);
      Application.load(b);
      await Application.start(a);
      await Application.start(b);
      c.ev(["which", mine(["diff_app5a", "diff_app5b"])]);
      await Application.stop(b);
      await Application.stop(a);
      Application.unload(b);
      Application.unload(a);
    },
  },
  {
    name: "app.stop_not_started",
    async run(c) {
      const a = app("diff_app6", [], []);
      Application.load(a);
      c.ev(["stop", await res(Application.stop(a))]);
      Application.unload(a);
    },
  },
  {
    name: "app.env",
    run(c) {
      const a = Application.define({
        name: "diff_app7",
        env: { k: 1 } as Record<string, unknown>,
        start: () => Supervisor.startLink([], { strategy: "one_for_one" }),
      });
      Application.load(a);
      const get = (k: string) => {
        const v = Application.getEnv(a, k);
        return v === undefined ? "undefined" : ["ok", v];
      };
      c.ev(["k", get("k")]);
      c.ev(["missing", get("missing")]);
      Application.putEnv(a, "k", 2);
      c.ev(["k", get("k")]);
      Application.deleteEnv(a, "k");
      c.ev(["k", get("k")]);
      Application.unload(a);
    },
  },
  {
    name: "app.load_twice",
    deviation: "load_twice",
    async run(c) {
      const a = app("diff_app10", [], []);
      Application.load(a);
      c.ev(["load_again", await errTag(() => Application.load(app("diff_app10", [], [])))]);
      Application.unload(a);
    },
  },
  {
    name: "app.unload",
    async run(c) {
      const a = app("diff_app11", [], []);
      Application.load(a);
      await Application.start(a);
      c.ev(["unload_running", await errTag(() => Application.unload(a))]);
      await Application.stop(a);
      c.ev(["unload", await errTag(() => Application.unload(a))]);
      c.ev(["unload_again", await errTag(() => Application.unload(a))]);
      const env = Application.getEnv("diff_app11", "k");
      c.ev(["env_unloaded", env === undefined ? "undefined" : ["ok", env]]);
    },
  },
  {
    name: "app.start_callback_fails",
    async run(c) {
      const owner = Process.self();
      const a = Application.define({
        name: "diff_app8",
        start() {
          Process.send(owner, ["app_start", "diff_app8"]);
          throw new Error("bad");
        },
      });
      Application.load(a);
      const r = await res(Application.start(a));
      c.ev(Array.isArray(r) && r[0] === "error" ? "error" : r);
      c.ev(await c.recv(1000));
      c.ev(["which", mine(["diff_app8"])]);
      Application.unload(a);
    },
  },
  {
    name: "app.stop_dependency_first",
    async run(c) {
      const a = app("diff_app9a", [], []);
      const b = app("diff_app9b", [a], []);
      Application.load(a);
      Application.load(b);
      await Application.ensureAllStarted(b);
      await recvN(c, 2);
      c.ev(["stop", await res(Application.stop(a))]);
      await c.collect(isTag("app_stop"), 1000);
      c.ev(["which", mine(["diff_app9a", "diff_app9b"])]);
      await Application.stop(b);
      Application.unload(b);
      Application.unload(a);
    },
  },
];

// ---------------------------------------------------------------- gen_event

/** diff_evh: reports events, info and terminate to `owner`; `id` in its state. */
function evh(owner: Pid): EventManager.Handler<unknown, string, string> {
  return {
    init: (id) => id,
    handleEvent(e, id) {
      if (e === "remove_me") return "remove_handler";
      if (e === "crash") Process.exit("boom");
      Process.send(owner, ["event", id, e]);
      return id;
    },
    handleCall: (_req, id) => [["state_of", id], id],
    handleInfo: (m, id) => (Process.send(owner, ["info", id, m]), id),
    terminate(reason, id) {
      const kind = Array.isArray(reason) && reason[0] === "error" ? "crash" : reason;
      Process.send(owner, ["terminate", id, kind]);
      return ["terminated", id];
    },
  };
}

async function manager(ids: string[]): Promise<Pid> {
  const m = await EventManager.startLink();
  const h = evh(Process.self());
  for (const id of ids) await EventManager.addHandler(m, h, id, { id });
  return m;
}

const handlers = async (m: Pid) => list(await EventManager.whichHandlers(m));

async function value(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    return v === undefined ? "ok" : v;
  } catch (e) {
    return ["error", (e as { reason?: unknown }).reason];
  }
}

export const eventScenarios: Scenario[] = [
  {
    name: "event.notify_order",
    async run(c) {
      const m = await manager(["h1", "h2", "h3"]);
      c.ev(["sync", await value(EventManager.syncNotify(m, "e1"))]);
      await recvN(c, 3);
    },
  },
  {
    name: "event.which_handlers",
    async run(c) {
      const m = await manager(["h1", "h2", "h3"]);
      c.ev(["which", await handlers(m)]);
    },
  },
  {
    name: "event.delete_handler",
    async run(c) {
      const m = await manager(["h1", "h2"]);
      c.ev(["delete", await value(EventManager.removeHandler(m, "h1", "bye"))]);
      c.ev(await c.recv(1000));
      c.ev(["which", await handlers(m)]);
    },
  },
  {
    name: "event.delete_unknown",
    async run(c) {
      const m = await manager([]);
      c.ev(["delete", await value(EventManager.removeHandler(m, "zz", "bye"))]);
    },
  },
  {
    name: "event.remove_handler_return",
    async run(c) {
      const m = await manager(["h1", "h2"]);
      await EventManager.syncNotify(m, "remove_me");
      await recvN(c, 2);
      c.ev(["which", await handlers(m)]);
    },
  },
  {
    name: "event.handler_crash",
    async run(c) {
      const m = await manager(["h1"]);
      await EventManager.syncNotify(m, "crash");
      c.ev(await c.recv(1000));
      c.ev(["which", await handlers(m)]);
      await EventManager.syncNotify(m, "e2");
      c.ev(await c.recv(100));
    },
  },
  {
    name: "event.sup_handler_exit",
    async run(c) {
      const m = await EventManager.startLink();
      await EventManager.addMonHandler(m, evh(Process.self()), "h1", { id: "h1" });
      await EventManager.syncNotify(m, "remove_me");
      c.ev(await c.recv(1000));
      const x = await c.recv(1000);
      c.ev(x instanceof EventManager.HandlerExitMessage ? ["gen_event_EXIT", x.handler, x.reason] : x);
    },
  },
  {
    name: "event.call",
    async run(c) {
      const m = await manager(["h1"]);
      c.ev(["call", await value(EventManager.call(m, "h1", "get"))]);
      c.ev(["call_unknown", await value(EventManager.call(m, "zz", "get"))]);
    },
  },
  {
    name: "event.add_duplicate",
    deviation: "duplicate_handler",
    async run(c) {
      const m = await manager([]);
      const h = evh(Process.self());
      c.ev(["add", await value(EventManager.addHandler(m, h, "h1", { id: "h1" }))]);
      c.ev(["add", await value(EventManager.addHandler(m, h, "h1", { id: "h1" }))]);
      c.ev(["which", await handlers(m)]);
    },
  },
  {
    name: "event.stop_terminates_all",
    async run(c) {
      const m = await manager(["h1", "h2"]);
      c.ev(["stop", await value(EventManager.stop(m))]);
      await recvN(c, 2);
    },
  },
  {
    name: "event.notify_then_call_order",
    async run(c) {
      const m = await manager(["h1"]);
      EventManager.notify(m, "e1");
      c.ev(["which", await handlers(m)]);
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "event.sup_handler_owner_dies",
    async run(c) {
      const main = Process.self();
      const m = await manager(["h1"]);
      const [o, ref] = Process.spawnMonitor(async () => {
        await EventManager.addMonHandler(m, evh(main), "h2", { id: "h2" });
        Process.send(main, "added");
      });
      await Process.receive("added");
      await Process.receive((d: unknown) => d instanceof Process.DownMessage && d.ref === ref && d.pid === o);
      c.ev(["which", await handlers(m)]);
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "event.notify_dead_manager",
    async run(c) {
      const m = await EventManager.start();
      await EventManager.stop(m);
      c.ev(await attempt(() => (EventManager.notify(m, "e"), "ok")));
    },
  },
  {
    name: "event.info_to_handlers",
    async run(c) {
      const m = await manager(["h1", "h2"]);
      Process.send(m, "hello");
      await recvN(c, 2);
    },
  },
];
