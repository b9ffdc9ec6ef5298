/** Twins of `process_scenarios()` in beam/diff_erl.erl: exit signals, links, monitors, order, names. */
import { type Pid, Process, Ref } from "../../../mod.ts";
import { list } from "../trace.ts";
import { attempt, type Ctx, forwarder, idle, isDown, isExit, type Scenario } from "../scenario.ts";

const REASONS: Record<string, unknown> = {
  normal: "normal",
  shutdown: "shutdown",
  shutdown_x: ["shutdown", "x"],
  kill: "kill",
  killed: "killed",
  boom: "boom",
};
const trapName = (t: boolean) => t ? "trap" : "notrap";
const isTag = (tag: string) => (m: unknown) => Array.isArray(m) && m[0] === tag;
const gotPingOrDown = (m: unknown) => isDown(m) || (Array.isArray(m) && m[0] === "got" && m[1] === "ping");

async function waitDown(ref: Ref): Promise<Process.DownMessage> {
  return await Process.receive<Process.DownMessage>({ ref });
}

function deadPid(): Promise<Pid> {
  const p = Process.spawn(() => {});
  const ref = Process.monitor(p);
  return waitDown(ref).then(() => p);
}

async function exit2Other(c: Ctx, r: unknown, trap: boolean) {
  const t = forwarder(Process.self(), trap);
  await Process.receive("ready");
  Process.monitor(t);
  Process.exit(t, r);
  Process.send(t, "ping");
  await c.collect(gotPingOrDown, 1000);
}

async function exit2Self(c: Ctx, r: unknown, trap: boolean) {
  const main = Process.self();
  Process.spawnMonitor(async ({ self, receive }) => {
    Process.trapExit(trap);
    Process.exit(self, r);
    const m = await receive(undefined, 200);
    Process.send(main, ["got", m === Process.TIMEOUT ? "nothing" : m]);
    Process.send(main, ["got", "ping"]);
  });
  await c.collect(gotPingOrDown, 1000);
}

async function linkDeath(c: Ctx, r: string, trap: boolean) {
  const main = Process.self();
  const o = Process.spawn(async ({ receive }) => {
    const child = Process.spawnLink(async ({ receive }) => {
      await receive("go");
      Process.exit(REASONS[r]);
    });
    Process.send(main, ["child", child]);
    for (;;) Process.send(main, ["got", await receive()]);
  }, { trapExit: trap });
  Process.monitor(o);
  const [, child] = await Process.receive<[string, Pid]>(isTag("child"));
  if (r === "killed") Process.exit(child, "kill");
  else Process.send(child, "go");
  await c.collect((m) => isDown(m) || isTag("got")(m), 300);
  c.ev(["observer_alive", Process.isAlive(o)]);
}

const tables: Scenario[] = [];
for (const r of Object.keys(REASONS)) {
  for (const t of [true, false]) {
    tables.push({ name: `exit2.${r}.${trapName(t)}.other`, run: (c) => exit2Other(c, REASONS[r], t) });
  }
}
for (const r of Object.keys(REASONS)) {
  for (const t of [true, false]) {
    tables.push({ name: `exit2.${r}.${trapName(t)}.self`, run: (c) => exit2Self(c, REASONS[r], t) });
  }
}
for (const r of Object.keys(REASONS)) {
  for (const t of [true, false]) tables.push({ name: `linkdeath.${r}.${trapName(t)}`, run: (c) => linkDeath(c, r, t) });
}

export const processScenarios: Scenario[] = [
  ...tables,
  {
    name: "monitor.dead_pid",
    async run(c) {
      const p = Process.spawn(() => {});
      c.ev(await waitDown(Process.monitor(p)));
      c.ev(await waitDown(Process.monitor(p)));
    },
  },
  {
    name: "monitor.unknown_name",
    async run(c) {
      const r = Process.monitor("diff_no_such_name");
      c.ev(await c.recv(1000));
      c.ev(["ref_is_ref", r instanceof Ref]);
    },
  },
  {
    name: "monitor.self",
    async run(c) {
      const r = Process.monitor(Process.self());
      c.ev(["demonitor_info", Process.demonitor(r)]);
      c.ev(await c.recv(100));
    },
  },
  {
    name: "monitor.demonitor_flush",
    async run(c) {
      const p = idle();
      const m1 = Process.monitor(p);
      const m2 = Process.monitor(p);
      Process.exit(p, "kill");
      c.ev(await waitDown(m2));
      c.ev(["demonitor", Process.demonitor(m1, { flush: true })]);
      Process.send(Process.self(), "marker");
      c.ev(await c.recv(100));
    },
  },
  {
    name: "monitor.two_monitors",
    async run(c) {
      const p = idle();
      Process.monitor(p);
      Process.monitor(p);
      Process.exit(p, "boom");
      await c.collect(() => false, 100);
    },
  },
  {
    name: "monitor.demonitor_active",
    async run(c) {
      const p = idle();
      const m = Process.monitor(p);
      c.ev(["demonitor", Process.demonitor(m)]);
      Process.exit(p, "kill");
      c.ev(await c.recv(100));
    },
  },
  {
    name: "monitor.by_name_live",
    async run(c) {
      const p = idle();
      Process.register("diff_n9", p);
      const r = Process.monitor("diff_n9");
      Process.exit(p, "kill");
      c.ev(await waitDown(r));
    },
  },
  {
    name: "link.link_to_self",
    async run(c) {
      Process.trapExit(true);
      c.ev(await attempt(() => (Process.link(Process.self()), true)));
      c.ev(["links", ["links", list(Process.info(Process.self())!.links)]]);
      c.ev(await c.recv(100));
    },
  },
  {
    name: "monitor.demonitor_no_flush_keeps_down",
    async run(c) {
      const p = idle();
      const m1 = Process.monitor(p);
      const m2 = Process.monitor(p);
      Process.exit(p, "kill");
      await waitDown(m2);
      c.ev(["demonitor", (Process.demonitor(m1), true)]);
      c.ev(await c.recv(100));
    },
  },
  {
    name: "order.message_then_exit2",
    async run(c) {
      const t = forwarder(Process.self(), true);
      await Process.receive("ready");
      Process.spawn(() => {
        Process.send(t, "hello");
        Process.exit(t, "boom");
      });
      await c.collect((m) => Array.isArray(m) && m[0] === "got" && isExit(m[1]), 1000);
    },
  },
  {
    name: "link.spawn_link_crash.notrap",
    async run(c) {
      Process.spawnLink(() => Process.exit("boom"));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "monitor.demonitor_foreign_ref",
    async run(c) {
      const main = Process.self();
      const p = idle();
      Process.spawn(async ({ receive }) => {
        Process.send(main, ["ref", Process.monitor(p)]);
        await receive(() => false);
      });
      const [, r] = await Process.receive<[string, Ref]>((m: unknown) => Array.isArray(m) && m[0] === "ref");
      c.ev(["demonitor", Process.demonitor(r)]);
    },
  },
  {
    name: "trap.toggle",
    async run(c) {
      const main = Process.self();
      const t = Process.spawn(async ({ receive }) => {
        Process.trapExit(true);
        Process.send(main, "ready");
        Process.send(main, ["got", await receive(isExit)]);
        Process.trapExit(false);
        Process.send(main, "untrapped");
        await receive(() => false);
      });
      await Process.receive("ready");
      Process.monitor(t);
      Process.exit(t, "first");
      await Process.receive("untrapped");
      Process.exit(t, "second");
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "monitor.normal_exit_reason",
    async run(c) {
      const [, ref] = Process.spawnMonitor(() => {});
      c.ev(await waitDown(ref));
    },
  },
  {
    name: "link.dead_pid.notrap",
    async run(c) {
      const p = await deadPid();
      c.ev(await attempt(() => Process.link(p)));
      c.ev(["alive", true]);
      c.ev(await c.recv(100));
    },
  },
  {
    name: "link.dead_pid.trap",
    async run(c) {
      Process.trapExit(true);
      const p = await deadPid();
      c.ev(await attempt(() => (Process.link(p), true)));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "link.unlink_then_crash",
    async run(c) {
      Process.trapExit(true);
      const p = Process.spawnLink(async ({ receive }) => {
        await receive("go");
        Process.exit("boom");
      });
      Process.unlink(p);
      const m = Process.monitor(p);
      Process.send(p, "go");
      c.ev(await waitDown(m));
      c.ev(await c.recv(100));
    },
  },
  {
    name: "link.exit_then_down_order",
    async run(c) {
      Process.trapExit(true);
      const p = Process.spawnLink(async ({ receive }) => {
        await receive("go");
        Process.exit("boom");
      });
      Process.monitor(p);
      Process.send(p, "go");
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "link.spawn_link_crash.trap",
    async run(c) {
      Process.trapExit(true);
      Process.spawnLink(() => Process.exit("boom"));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "link.chain",
    async run(c) {
      const main = Process.self();
      const b = idle();
      const a = Process.spawn(async ({ receive }) => {
        Process.link(b);
        Process.send(main, "linked");
        await receive(() => false);
      });
      await Process.receive("linked");
      const m = Process.monitor(a);
      Process.exit(b, "boom");
      c.ev(await waitDown(m));
    },
  },
  {
    name: "link.double_link_one_signal",
    async run(c) {
      Process.trapExit(true);
      const p = idle();
      Process.link(p);
      Process.link(p);
      Process.exit(p, "boom");
      await c.collect(() => false, 100);
    },
  },
  {
    name: "exit2.to_dead_pid",
    async run(c) {
      const p = await deadPid();
      c.ev(await attempt(() => (Process.exit(p, "boom"), true)));
      c.ev(["alive", Process.isAlive(p)]);
    },
  },
  {
    name: "exit2.is_alive_after_kill",
    run(c) {
      const p = idle();
      Process.exit(p, "kill");
      c.ev(["alive", Process.isAlive(p)]);
    },
  },
  {
    name: "exit1.reason_to_monitor",
    async run(c) {
      const [, ref] = Process.spawnMonitor(() => Process.exit(["shutdown", "bye"]));
      c.ev(await waitDown(ref));
    },
  },
  {
    name: "order.fifo_between_pair",
    async run(c) {
      const main = Process.self();
      Process.spawn(() => {
        for (const n of [1, 2, 3, 4, 5]) Process.send(main, n);
      });
      for (let i = 0; i < 5; i++) c.ev(await c.recv(1000));
    },
  },
  {
    name: "order.selective_receive",
    async run(c) {
      for (const m of ["a", "b", "c"]) Process.send(Process.self(), m);
      c.ev(await Process.receive("b"));
      c.ev(await c.recv(0));
      c.ev(await c.recv(0));
      c.ev(await c.recv(0));
    },
  },
  {
    name: "order.message_then_down",
    async run(c) {
      const main = Process.self();
      Process.spawnMonitor(() => {
        Process.send(main, "m1");
        Process.send(main, "m2");
        Process.exit("boom");
      });
      await c.collect(isDown, 1000);
    },
  },
  {
    name: "order.messages_then_exit",
    async run(c) {
      Process.trapExit(true);
      const main = Process.self();
      Process.spawnLink(() => {
        Process.send(main, "m1");
        Process.send(main, "m2");
        Process.exit("bye");
      });
      await c.collect(isExit, 1000);
    },
  },
  { name: "receive.after_zero_empty", run: async (c) => c.ev(await c.recv(0)) },
  {
    name: "timer.send_after_order",
    async run(c) {
      Process.sendAfter(Process.self(), "late", 40);
      Process.sendAfter(Process.self(), "early", 10);
      c.ev(await c.recv(1000));
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "timer.cancel",
    async run(c) {
      const t = Process.sendAfter(Process.self(), "x", 50);
      c.ev(["cancelled", Process.cancelTimer(t)]);
      c.ev(await c.recv(150));
    },
  },
  {
    name: "timer.cancel_after_fire",
    async run(c) {
      const t = Process.sendAfter(Process.self(), "fired", 1);
      c.ev(await c.recv(1000));
      c.ev(["cancel", Process.cancelTimer(t)]);
    },
  },
  {
    name: "timer.send_after_to_name",
    async run(c) {
      Process.register("diff_t1", Process.self());
      Process.sendAfter("diff_t1", "by_name", 5);
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "dead.sleep_then_send",
    async run(c) {
      const main = Process.self();
      const p = Process.spawn(async () => {
        Process.send(main, "started");
        await Process.sleep(50);
        Process.send(main, "sent_after_death");
      });
      await Process.receive("started");
      Process.exit(p, "kill");
      c.ev(await c.recv(200));
    },
  },
  {
    name: "dead.exit_self_then_send",
    async run(c) {
      const main = Process.self();
      const [, ref] = Process.spawnMonitor(async ({ self }) => {
        Process.exit(self, "boom");
        await Process.sleep(50);
        Process.send(main, "sent_after_death");
      });
      c.ev(await waitDown(ref));
      c.ev(await c.recv(200));
    },
  },
  {
    name: "names.register_whereis_send",
    async run(c) {
      const p = forwarder(Process.self(), false);
      await Process.receive("ready");
      c.ev((Process.register("diff_n1", p), true));
      c.ev(["whereis", Process.whereis("diff_n1"), p]);
      Process.send("diff_n1", "hi");
      c.ev(await c.recv(1000));
    },
  },
  {
    name: "names.register_taken",
    async run(c) {
      Process.register("diff_n2", idle());
      c.ev(await attempt(() => Process.register("diff_n2", idle())));
    },
  },
  {
    name: "names.one_name_per_pid",
    async run(c) {
      const p = idle();
      Process.register("diff_n3", p);
      c.ev(await attempt(() => Process.register("diff_n3b", p)));
    },
  },
  {
    name: "names.register_dead",
    async run(c) {
      const p = await deadPid();
      c.ev(await attempt(() => Process.register("diff_n4", p)));
      c.ev(["whereis", Process.whereis("diff_n4")]);
    },
  },
  {
    name: "names.freed_on_death",
    async run(c) {
      const p = idle();
      Process.register("diff_n5", p);
      const m = Process.monitor(p);
      Process.exit(p, "kill");
      await waitDown(m);
      c.ev(["whereis", Process.whereis("diff_n5")]);
      c.ev(await attempt(() => (Process.register("diff_n5", Process.self()), true)));
    },
  },
  {
    name: "names.unregister",
    async run(c) {
      Process.register("diff_n6", idle());
      c.ev((Process.unregister("diff_n6"), true));
      c.ev(["whereis", Process.whereis("diff_n6")]);
      c.ev(await attempt(() => Process.unregister("diff_n6")));
    },
  },
  {
    name: "names.send_unknown",
    async run(c) {
      c.ev(await attempt(() => Process.send("diff_no_such_name", "hi")));
    },
  },
  {
    name: "names.registered_includes",
    run(c) {
      Process.register("diff_n7", idle());
      c.ev(["member", Process.registered().includes("diff_n7")]);
    },
  },
  {
    name: "names.exit_by_name",
    deviation: "names",
    async run(c) {
      const p = idle();
      Process.register("diff_n8", p);
      c.ev(await attempt(() => Process.exit("diff_n8", "kill")));
      c.ev(["alive", Process.isAlive(p)]);
    },
  },
];
