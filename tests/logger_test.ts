// The logger (levels, handler, throttle) and the supervisor reports written through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DynamicSupervisor, GenServer, Logger, Process, Supervisor } from "../mod.ts";

/** Captures log lines until `restore` is called; `next(re)` waits for a line matching `re`. */
function capture() {
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const previous = Logger.setHandler((level, message) => {
    lines.push(`${level}: ${message}`);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    lines,
    async next(re: RegExp): Promise<string> {
      for (;;) {
        const found = lines.find((l) => re.test(l));
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    restore: () => Logger.setHandler(previous),
  };
}

test("levels: lines below the level are dropped unformatted; none drops all; a bad level is refused", () => {
  const log = capture();
  const before = Logger.level();
  try {
    Logger.setLevel("warning");
    let formatted = 0;
    Logger.notice(() => `n${++formatted}`);
    Logger.warning("w");
    Logger.error("e");
    assert.equal(formatted, 0);
    Logger.setLevel("none");
    Logger.error("dropped");
    assert.deepEqual(log.lines, ["warning: w", "error: e"]);
    assert.throws(() => Logger.setLevel("verbose" as Logger.Level), /level must be one of error, warning/);
    assert.equal(Logger.level(), "none");
  } finally {
    Logger.setLevel(before);
    log.restore();
  }
});

test("a supervisor reports a child's crash in one line: who, why, and the restart", async () => {
  const log = capture();
  try {
    const sup = await Supervisor.startLink([{
      id: "worker",
      start: () => Promise.resolve(Process.spawnLink(async ({ receive }) => await receive())),
    }], { strategy: "one_for_one", name: "logger_test.Sup" });
    const [child] = await Supervisor.whichChildren(sup);
    Process.exit(child.pid as Process.Pid, "kill");
    const line = await log.next(/supervisor logger_test\.Sup/);
    const [after] = await Supervisor.whichChildren(sup);
    assert.equal(
      line,
      `error: supervisor logger_test.Sup: child worker ${child.pid} exited: killed; restarted as ${after.pid}`,
    );
    assert.ok(!line.includes("\n"));
    await Supervisor.stop(sup);
    // A normal stop reports nothing.
    assert.equal(log.lines.length, 1);
  } finally {
    log.restore();
  }
});

test("a supervisor that gives up says so; a dynamic child is named by its label", async () => {
  const log = capture();
  try {
    const sup = await Supervisor.startLink([{
      id: "fragile",
      start: () => Promise.resolve(Process.spawnLink(async ({ receive }) => await receive())),
    }], { strategy: "one_for_one", maxRestarts: 0, maxSeconds: 5 });
    const [child] = await Supervisor.whichChildren(sup);
    Process.exit(child.pid as Process.Pid, "boom");
    const line = await log.next(/child fragile/);
    assert.match(line, /exited: boom; more than 0 restarts in 5 s: shutting down$/);
    await new Promise<void>((resolve) => {
      const check = () => Process.isAlive(sup) ? setTimeout(check, 1) : resolve();
      check();
    });

    const dyn = await DynamicSupervisor.startLink();
    const pid = await DynamicSupervisor.startChild(dyn, {
      id: "job",
      restart: "temporary",
      start: () =>
        Promise.resolve(Process.spawnLink(async ({ receive }) => {
          Process.setLabel(["job", 42]);
          await receive();
        })),
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    Process.exit(pid!, "kill");
    const dynLine = await log.next(/child job 42/);
    assert.match(dynLine, new RegExp(`child job 42 ${pid} exited: killed; not restarted \\(temporary\\)$`));
    await DynamicSupervisor.stop(dyn);
  } finally {
    log.restore();
  }
});

test("a server's [tag, value] label reads back whole (alive, in info, after its death in the report); other labels too", async () => {
  const log = capture();
  try {
    const dyn = await DynamicSupervisor.startLink();
    const start = (label: unknown) =>
      DynamicSupervisor.startChild(dyn, {
        id: "server",
        restart: "temporary",
        start: () => GenServer.startLink({ init: () => (Process.setLabel(label), ["ok", null]) }, null),
      }) as Promise<Process.Pid>;
    const bucket = await start(["bucket", "shopping"]);
    const other = await start(["bucket", "fruit"]);
    assert.deepEqual(Process.getLabel(bucket), ["bucket", "shopping"]);
    assert.deepEqual(Process.info(other)!.label, ["bucket", "fruit"]);
    // Any other shape is kept as it is.
    for (const label of ["acceptor", ["job", 1, 2], [7, "x"], { n: 1 }]) {
      const pid = await start(label);
      assert.deepEqual(Process.getLabel(pid), label);
      await DynamicSupervisor.terminateChild(dyn, pid);
    }
    // More distinct tags than a descriptor keeps: the rest are kept whole, and read back the same.
    const many: Process.Pid[] = [];
    for (let i = 0; i < 70; i++) many.push(await start([`tag${i}`, i]));
    for (let i = 0; i < 70; i++) assert.deepEqual(Process.getLabel(many[i]), [`tag${i}`, i]);
    Process.exit(bucket, "kill");
    const line = await log.next(/bucket "shopping"/);
    assert.match(line, new RegExp(`child bucket "shopping" ${bucket} exited: killed`));
    assert.deepEqual(Process.getLabel(other), ["bucket", "fruit"], "a sibling's label is its own");
    await DynamicSupervisor.stop(dyn);
  } finally {
    log.restore();
  }
});
