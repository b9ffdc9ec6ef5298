/** Twins of beam/scenarios.exs (Elixir's Task, Agent and DynamicSupervisor). */
import { Agent, DynamicSupervisor, type Pid, Process, type Supervisor, Task, TaskSupervisor } from "../../../mod.ts";
import { GenServer } from "../../../mod.ts";
import { attempt, type Ctx, isDown, type Scenario } from "../scenario.ts";
import { list } from "../trace.ts";

/** diff_erl:child_start: reports ["started", id, pid], ["stopped", id, reason] when its supervisor stops it. */
function spec(id: string, restart: "permanent" | "transient" | "temporary" = "permanent"): Supervisor.ChildSpec {
  const owner = Process.self();
  return {
    id,
    restart,
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
          } else if (Array.isArray(m) && m[0] === "crash") Process.exit(m[1]);
        }
      }, { trapExit: true });
    },
  };
}

async function started(c: Ctx, n: number): Promise<Pid[]> {
  const pids: Pid[] = [];
  for (let i = 0; i < n; i++) {
    const m = await c.recv(1000, (m: unknown) => Array.isArray(m) && m[0] === "started");
    c.ev(m);
    pids.push((m as unknown[])[2] as Pid);
  }
  return pids;
}

async function res(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    return v === undefined ? "ok" : ["ok", v];
  } catch (e) {
    return ["error", (e as { reason?: unknown }).reason];
  }
}

/** DynamicSupervisor.start_child: {:ok, pid}, :ignore (undefined here) or {:error, reason}. */
async function startChild(s: Pid, child: Supervisor.ChildSpec): Promise<unknown> {
  const r = await res(DynamicSupervisor.startChild(s, child));
  return r === "ok" ? "ignore" : r;
}

const which = async (s: Pid) => list((await DynamicSupervisor.whichChildren(s)).map((ch) => [ch.id, ch.pid]));
const blocked = () => Process.receive(() => false);

export const elixirScenarios: Scenario[] = [
  {
    name: "task.async_await",
    async run(c) {
      c.ev(await Task.await(Task.async(() => 42)));
    },
  },
  {
    name: "task.await_crash",
    async run(c) {
      Process.trapExit(true);
      const t = Task.async(() => Process.exit("boom"));
      c.ev(await attempt(() => Task.await(t)));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "task.async_crash_kills_caller",
    async run(c) {
      Task.async(() => Process.exit("boom"));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "task.yield_exit",
    async run(c) {
      Process.trapExit(true);
      const t = Task.async(() => Process.exit("boom"));
      c.ev(await Task.yield(t, 1000));
    },
  },
  {
    name: "task.yield_timeout_then_shutdown",
    async run(c) {
      const t = Task.async(blocked);
      c.ev(await Task.yield(t, 10));
      c.ev(await Task.shutdown(t));
      c.ev(["alive", Process.isAlive(t.pid)]);
    },
  },
  {
    name: "task.shutdown_brutal_kill",
    async run(c) {
      c.ev(await Task.shutdown(Task.async(blocked), "brutal_kill"));
    },
  },
  {
    name: "task.shutdown_timeout_kills",
    async run(c) {
      const main = Process.self();
      const t = Task.async(() => {
        Process.trapExit(true);
        Process.send(main, "trapping");
        return blocked();
      });
      await Process.receive("trapping");
      c.ev(await Task.shutdown(t, 50));
    },
  },
  {
    name: "task.shutdown_finished",
    async run(c) {
      const t = Task.async(() => "done");
      const ref = Process.monitor(t.pid);
      await Process.receive({ ref });
      c.ev(await Task.shutdown(t));
    },
  },
  {
    name: "task.yield_twice",
    async run(c) {
      const t = Task.async(() => 1);
      c.ev(await Task.yield(t, 1000));
      c.ev(await Task.yield(t, 50));
    },
  },
  {
    name: "task.await_not_owner",
    async run(c) {
      const main = Process.self();
      const t = Task.async(blocked);
      Process.spawn(async () => Process.send(main, ["other", await attempt(() => Task.await(t, 100))]));
      const [, r] = await Process.receive<[string, unknown]>((m: unknown) => Array.isArray(m) && m[0] === "other");
      c.ev(r);
    },
  },
  {
    name: "task.await_timeout",
    async run(c) {
      const t = Task.async(blocked);
      c.ev(await attempt(() => Task.await(t, 20)));
      c.ev(["alive", Process.isAlive(t.pid)]);
    },
  },
  {
    name: "task.trapping_owner_sees_normal_exit",
    async run(c) {
      Process.trapExit(true);
      c.ev(await Task.await(Task.async(() => 1)));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "task.start_no_link",
    async run(c) {
      const main = Process.self();
      Task.start(() => Process.send(main, "hi"));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "task.await_many_order",
    async run(c) {
      const ts = [3, 1, 2].map((n) => Task.async(() => n * 10));
      const rs: unknown[] = [];
      for (const t of ts) rs.push(await Task.await(t));
      c.ev(list(rs));
    },
  },
  {
    name: "genserver.no_handle_call",
    async run(c) {
      Process.trapExit(true);
      const p = await GenServer.startLink({ init: (s: unknown) => ["ok", s] }, "ok");
      const r = await attempt(() => GenServer.call(p, "hi", 2000));
      const crashed = Array.isArray(r) && Array.isArray(r[1]) && r[1][0] === "error";
      c.ev(crashed ? ["caught", "crash"] : r);
    },
  },
  {
    name: "tasksup.async_nolink_crash",
    async run(c) {
      const s = await TaskSupervisor.startLink();
      const t = TaskSupervisor.asyncNolink(s, () => Process.exit("boom"));
      c.ev(await Task.yield(t, 1000));
      c.ev(["children", (await TaskSupervisor.children(s)).length]);
    },
  },
  {
    name: "tasksup.start_child",
    async run(c) {
      const main = Process.self();
      const s = await TaskSupervisor.startLink();
      const p = await TaskSupervisor.startChild(s, async () => {
        Process.send(main, "ran");
        await blocked();
      });
      c.ev(await c.recv(1000));
      const kids = await TaskSupervisor.children(s);
      c.ev(["children", kids.length === 1 && kids[0] === p]);
      c.ev(await res(TaskSupervisor.terminateChild(s, p)));
      c.ev(["children", list(await TaskSupervisor.children(s))]);
    },
  },
  {
    name: "agent.get_update",
    async run(c) {
      const a = await Agent.startLink(() => 0);
      c.ev(await res(Agent.update(a, (s: number) => s + 1)));
      c.ev(await Agent.get(a, (s: number) => s));
      c.ev(await Agent.getAndUpdate(a, (s: number) => [s, s + 10]));
      c.ev(await Agent.get(a, (s: number) => s));
    },
  },
  {
    name: "agent.cast_then_get",
    async run(c) {
      const a = await Agent.startLink(() => 3);
      c.ev((Agent.cast(a, (s: number) => s * 2), "ok"));
      c.ev(await Agent.get(a, (s: number) => s));
    },
  },
  {
    name: "agent.stop",
    async run(c) {
      const a = await Agent.startLink(() => 0);
      c.ev(await res(Agent.stop(a)));
      c.ev(["alive", Process.isAlive(a)]);
      c.ev(await attempt(() => Agent.get(a, (s) => s)));
    },
  },
  {
    name: "agent.stop_reason",
    async run(c) {
      const a = await Agent.start(() => 0);
      Process.monitor(a);
      c.ev(await res(Agent.stop(a, ["shutdown", "bye"])));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "agent.named",
    async run(c) {
      const a = await Agent.start(() => 1, { name: "diff_ag1" });
      c.ev(await Agent.get("diff_ag1", (s: number) => s));
      c.ev(await res(Agent.start(() => 2, { name: "diff_ag1" })));
      c.ev(["same", Process.whereis("diff_ag1") === a]);
    },
  },
  {
    name: "agent.fun_exits",
    async run(c) {
      Process.trapExit(true);
      const a = await Agent.startLink(() => 0);
      c.ev(await attempt(() => Agent.get(a, () => Process.exit("boom"))));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "agent.noproc",
    async run(c) {
      c.ev(await attempt(() => Agent.update("diff_no_such_agent", (s) => s)));
      c.ev(await attempt(() => Agent.get("diff_no_such_agent", (s) => s)));
    },
  },
  {
    name: "agent.init_exit",
    async run(c) {
      c.ev(await res(Agent.start(() => Process.exit("bad"))));
    },
  },
  {
    name: "agent.update_order",
    async run(c) {
      const a = await Agent.startLink((): unknown[] => []);
      for (const x of [1, 2, 3]) Agent.cast(a, (s: unknown[]) => [x, ...s]);
      c.ev(list(await Agent.get(a, (s: unknown[]) => s)));
    },
  },
  {
    name: "dynsup.start_children",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      c.ev(await startChild(s, spec("a")));
      c.ev(await startChild(s, spec("b")));
      await started(c, 2);
      c.ev(["which", await which(s)]);
      c.ev(["count", await DynamicSupervisor.countChildren(s)]);
    },
  },
  {
    name: "dynsup.terminate_child",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      const p = (await DynamicSupervisor.startChild(s, spec("a")))!;
      await started(c, 1);
      c.ev(await res(DynamicSupervisor.terminateChild(s, p)));
      c.ev(await c.recv(1000));
      c.ev(await res(DynamicSupervisor.terminateChild(s, p)));
      c.ev(["count", await DynamicSupervisor.countChildren(s)]);
    },
  },
  {
    name: "dynsup.restart_permanent",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      const p = (await DynamicSupervisor.startChild(s, spec("a")))!;
      await started(c, 1);
      Process.send(p, ["crash", "boom"]);
      await started(c, 1);
      c.ev(["count", await DynamicSupervisor.countChildren(s)]);
    },
  },
  {
    name: "dynsup.temporary_not_restarted",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      const p = (await DynamicSupervisor.startChild(s, spec("a", "temporary")))!;
      await started(c, 1);
      const ref = Process.monitor(p);
      Process.send(p, ["crash", "boom"]);
      c.ev(["child_down", (await Process.receive<Process.DownMessage>({ ref })).reason]);
      c.ev(["count", await DynamicSupervisor.countChildren(s)]);
      c.ev(["which", await which(s)]);
    },
  },
  {
    name: "dynsup.transient_normal",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      const p = (await DynamicSupervisor.startChild(s, spec("a", "transient")))!;
      await started(c, 1);
      const ref = Process.monitor(p);
      Process.send(p, ["crash", "normal"]);
      c.ev(["child_down", (await Process.receive<Process.DownMessage>({ ref })).reason]);
      c.ev(["count", await DynamicSupervisor.countChildren(s)]);
    },
  },
  {
    name: "dynsup.max_children",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one", maxChildren: 1 });
      c.ev(await startChild(s, spec("a")));
      c.ev(await startChild(s, spec("b")));
      await started(c, 1);
    },
  },
  {
    name: "dynsup.intensity",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one", maxRestarts: 0 });
      Process.unlink(s);
      Process.monitor(s);
      const p = (await DynamicSupervisor.startChild(s, spec("a")))!;
      await started(c, 1);
      Process.send(p, ["crash", "boom"]);
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "dynsup.start_child_error",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      const fail = (reason: string) => () => {
        throw new GenServer.StartError(reason);
      };
      c.ev(await startChild(s, { id: "b", start: fail("bad") }));
      c.ev(await startChild(s, { id: "c", start: fail("ignore") }));
      c.ev(["count", await DynamicSupervisor.countChildren(s)]);
    },
  },
  {
    name: "dynsup.stop",
    async run(c) {
      const s = await DynamicSupervisor.startLink({ strategy: "one_for_one" });
      await DynamicSupervisor.startChild(s, spec("a"));
      await started(c, 1);
      c.ev(await res(DynamicSupervisor.stop(s)));
      c.ev(await c.recv(1000));
      c.ev(["alive", Process.isAlive(s)]);
    },
  },
];
