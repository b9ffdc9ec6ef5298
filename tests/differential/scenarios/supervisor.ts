/** Twins of `supervisor_scenarios()` in beam/diff_erl.erl. */
import { GenServer, type Pid, Process, Supervisor } from "../../../mod.ts";
import { type Ctx, isDown, isExit, type Scenario } from "../scenario.ts";
import { list } from "../trace.ts";

type Spec = Supervisor.ChildSpec;
type Restart = "permanent" | "transient" | "temporary";

/** diff_erl:child_start: reports ["started", id, pid], ["stopped", id, reason] when its supervisor stops it. */
function childStart(id: string, owner: Pid, mode: "normal" | "stubborn"): Pid {
  const parent = Process.self();
  return Process.spawnLink(async ({ self, receive }) => {
    Process.send(owner, ["started", id, self]);
    for (;;) {
      const m = await receive();
      if (m instanceof Process.ExitMessage && m.from === parent) {
        Process.send(owner, ["stopped", id, m.reason]);
        if (mode !== "stubborn") Process.exit(m.reason);
      } else if (Array.isArray(m) && m[0] === "crash") Process.exit(m[1]);
    }
  }, { trapExit: true });
}

function spec(id: string, restart: Restart = "permanent"): Spec {
  const owner = Process.self();
  return { id, start: () => childStart(id, owner, "normal"), restart, shutdown: 1000 };
}

function sup(ids: string[], strategy: Supervisor.Strategy, maxRestarts = 3): Promise<Pid> {
  return Supervisor.startLink(ids.map((id) => spec(id)), { strategy, maxRestarts, maxSeconds: 5 });
}

const isStarted = (id?: string) => (m: unknown) => Array.isArray(m) && m[0] === "started" && (!id || m[1] === id);

async function started(c: Ctx, n: number): Promise<Pid[]> {
  const pids: Pid[] = [];
  for (let i = 0; i < n; i++) {
    const m = await c.recv(1000, isStarted());
    c.ev(m);
    pids.push((m as unknown[])[2] as Pid);
  }
  return pids;
}

async function which(s: Pid) {
  return list((await Supervisor.whichChildren(s)).map((ch) => [ch.id, ch.pid]));
}

const count = (s: Pid) => Supervisor.countChildren(s);

async function res(p: Promise<unknown>, wrap = false): Promise<unknown> {
  try {
    const v = await p;
    return v === undefined && !wrap ? "ok" : ["ok", v];
  } catch (e) {
    return ["error", (e as { reason?: unknown }).reason];
  }
}

async function waitExit(c: Ctx, p: Pid, msg: unknown) {
  const ref = Process.monitor(p);
  Process.send(p, msg);
  const d = await Process.receive<Process.DownMessage>({ ref });
  c.ev(["child_down", d.reason]);
}

const stopUntil = (id: string) => (m: unknown) => Array.isArray(m) && m[1] === id;

export const supervisorScenarios: Scenario[] = [
  {
    name: "sup.start_stop_order",
    async run(c) {
      const s = await sup(["a", "b", "c"], "one_for_one");
      await started(c, 3);
      c.ev(["which", await which(s)]);
      c.ev(["stop", await res(Supervisor.stop(s))]);
      await c.collect(stopUntil("a"), 1000);
    },
  },
  {
    name: "sup.count_children",
    async run(c) {
      const s = await sup(["a", "b"], "one_for_one");
      await started(c, 2);
      c.ev(["count", await count(s)]);
    },
  },
  {
    name: "sup.one_for_one",
    async run(c) {
      const s = await sup(["a", "b", "c"], "one_for_one");
      const [, b] = await started(c, 3);
      Process.send(b, ["crash", "boom"]);
      await started(c, 1);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "sup.one_for_all",
    async run(c) {
      const s = await sup(["a", "b", "c"], "one_for_all");
      const [, b] = await started(c, 3);
      Process.send(b, ["crash", "boom"]);
      await c.collect(isStarted("c"), 1000);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "sup.rest_for_one",
    async run(c) {
      const s = await sup(["a", "b", "c"], "rest_for_one");
      const [a] = await started(c, 3);
      Process.send(a, ["crash", "boom"]);
      await c.collect(isStarted("c"), 1000);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "sup.rest_for_one_middle",
    async run(c) {
      const s = await sup(["a", "b", "c"], "rest_for_one");
      const [, b] = await started(c, 3);
      Process.send(b, ["crash", "boom"]);
      await c.collect(isStarted("c"), 1000);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "sup.intensity_exceeded",
    async run(c) {
      const s = await sup(["a", "b"], "one_for_one", 1);
      Process.unlink(s);
      Process.monitor(s);
      const [a] = await started(c, 2);
      Process.send(a, ["crash", "boom"]);
      const [a2] = await started(c, 1);
      Process.send(a2, ["crash", "boom"]);
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "sup.intensity_zero",
    async run(c) {
      const s = await sup(["a", "b"], "one_for_one", 0);
      Process.unlink(s);
      Process.monitor(s);
      const [a] = await started(c, 2);
      Process.send(a, ["crash", "boom"]);
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "sup.transient",
    async run(c) {
      const s = await Supervisor.startLink([spec("a", "transient"), spec("b", "transient")], {
        strategy: "one_for_one",
        maxRestarts: 3,
        maxSeconds: 5,
      });
      const [a, b] = await started(c, 2);
      await waitExit(c, a, ["crash", "normal"]);
      c.ev(["which", await which(s)]);
      await waitExit(c, b, ["crash", ["shutdown", "x"]]);
      c.ev(["which", await which(s)]);
      await Supervisor.restartChild(s, "a");
      await started(c, 1);
      const a3 = (await Supervisor.whichChildren(s)).find((ch) => ch.id === "a")!.pid as Pid;
      Process.send(a3, ["crash", "boom"]);
      await started(c, 1);
      c.ev(["count", await count(s)]);
    },
  },
  {
    name: "sup.temporary",
    async run(c) {
      const s = await Supervisor.startLink([spec("a", "temporary"), spec("b")], {
        strategy: "one_for_one",
        maxRestarts: 3,
        maxSeconds: 5,
      });
      const [a] = await started(c, 2);
      await waitExit(c, a, ["crash", "boom"]);
      c.ev(["which", await which(s)]);
      c.ev(["count", await count(s)]);
      c.ev(["restart", await res(Supervisor.restartChild(s, "a"), true)]);
    },
  },
  {
    name: "sup.permanent_normal_exit_restarts",
    async run(c) {
      const s = await sup(["a"], "one_for_one");
      const [a] = await started(c, 1);
      Process.send(a, ["crash", "normal"]);
      await started(c, 1);
      c.ev(["count", await count(s)]);
    },
  },
  {
    name: "sup.terminate_restart_delete",
    async run(c) {
      const s = await sup(["a", "b"], "one_for_one");
      await started(c, 2);
      c.ev(["terminate", await res(Supervisor.terminateChild(s, "b"))]);
      c.ev(await c.recv(1000));
      c.ev(["which", await which(s)]);
      c.ev(["restart", await res(Supervisor.restartChild(s, "b"), true)]);
      await started(c, 1);
      c.ev(["delete", await res(Supervisor.deleteChild(s, "b"))]);
      await Supervisor.terminateChild(s, "b");
      c.ev(await c.recv(1000));
      c.ev(["delete", await res(Supervisor.deleteChild(s, "b"))]);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "sup.terminate_temporary_removes",
    async run(c) {
      const s = await Supervisor.startLink([spec("a", "temporary"), spec("b")], {
        strategy: "one_for_one",
        maxRestarts: 3,
        maxSeconds: 5,
      });
      await started(c, 2);
      c.ev(["terminate", await res(Supervisor.terminateChild(s, "a"))]);
      c.ev(await c.recv(1000));
      c.ev(["which", await which(s)]);
      c.ev(["restart", await res(Supervisor.restartChild(s, "a"), true)]);
    },
  },
  {
    name: "sup.child_op_errors",
    async run(c) {
      const s = await sup(["a"], "one_for_one");
      await started(c, 1);
      c.ev(["restart_running", await res(Supervisor.restartChild(s, "a"), true)]);
      c.ev(["restart_unknown", await res(Supervisor.restartChild(s, "zz"), true)]);
      c.ev(["terminate_unknown", await res(Supervisor.terminateChild(s, "zz"))]);
      c.ev(["delete_unknown", await res(Supervisor.deleteChild(s, "zz"))]);
    },
  },
  {
    name: "sup.start_child_dup",
    async run(c) {
      const s = await sup(["a"], "one_for_one");
      await started(c, 1);
      c.ev(["dup_running", await res(Supervisor.startChild(s, spec("a")), true)]);
      await Supervisor.terminateChild(s, "a");
      c.ev(await c.recv(1000));
      c.ev(["dup_stopped", await res(Supervisor.startChild(s, spec("a")), true)]);
      c.ev(["new", await res(Supervisor.startChild(s, spec("d")), true)]);
      await started(c, 1);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "sup.brutal_kill",
    async run(c) {
      const s = await Supervisor.startLink([{ ...spec("a"), shutdown: "brutal_kill" }], {
        strategy: "one_for_one",
        maxRestarts: 3,
        maxSeconds: 5,
      });
      const [a] = await started(c, 1);
      Process.monitor(a);
      await Supervisor.stop(s);
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "sup.shutdown_timeout_kills",
    async run(c) {
      const owner = Process.self();
      const s = await Supervisor.startLink(
        [{ id: "a", start: () => childStart("a", owner, "stubborn"), shutdown: 50 }],
        {
          strategy: "one_for_one",
          maxRestarts: 3,
          maxSeconds: 5,
        },
      );
      const [a] = await started(c, 1);
      Process.monitor(a);
      await Supervisor.stop(s);
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "sup.child_start_error",
    async run(c) {
      Process.trapExit(true);
      const bad: Spec = {
        id: "b",
        start: () => {
          throw new GenServer.StartError("bad");
        },
      };
      const r = await res(
        Supervisor.startLink([spec("a"), bad, spec("c")], { strategy: "one_for_one", maxRestarts: 3, maxSeconds: 5 }),
        true,
      );
      c.ev(r);
      const notExit = (m: unknown) => !isExit(m);
      c.ev(await c.recv(200, notExit));
      c.ev(await c.recv(200, notExit));
      c.ev(await c.recv(100, notExit));
    },
  },
  {
    name: "sup.start_child_ignore",
    async run(c) {
      const s = await sup([], "one_for_one");
      const ignore: Spec = {
        id: "d",
        start: () => {
          throw new GenServer.StartError("ignore");
        },
      };
      c.ev(["start", await res(Supervisor.startChild(s, ignore), true)]);
      c.ev(["which", await which(s)]);
      c.ev(["count", await count(s)]);
    },
  },
  {
    name: "sup.nested_stop_order",
    async run(c) {
      const xy = [spec("x"), spec("y")];
      const inner: Spec = {
        id: "inner",
        type: "supervisor",
        start: () => Supervisor.startLink(xy, { strategy: "one_for_one", maxRestarts: 3, maxSeconds: 5 }),
      };
      const s = await Supervisor.startLink([spec("a"), inner, spec("c")], {
        strategy: "one_for_one",
        maxRestarts: 3,
        maxSeconds: 5,
      });
      await started(c, 4);
      c.ev(["count", await count(s)]);
      await Supervisor.stop(s);
      await c.collect(stopUntil("a"), 1000);
    },
  },
  {
    name: "sup.one_for_all_intensity",
    async run(c) {
      const s = await sup(["a", "b"], "one_for_all", 1);
      Process.unlink(s);
      Process.monitor(s);
      const [, b] = await started(c, 2);
      Process.send(b, ["crash", "boom"]);
      await c.collect(isStarted("b"), 1000);
      const b2 = (await Supervisor.whichChildren(s)).find((ch) => ch.id === "b")!.pid as Pid;
      Process.send(b2, ["crash", "boom"]);
      await c.collect(isDown, 1000);
    },
  },
];
