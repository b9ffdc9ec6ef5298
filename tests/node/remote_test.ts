// Remote pids across nodes on loopback: this test process is one node; the
// peers are TypeScript children (`_peer.ts`) or BEAM children
// (`fixtures/otp_ts_peer.erl`) serving the same `peer` protocol, so one suite
// runs against both. The BEAM <-> BEAM oracle at the end runs the same
// expectations between two `erl` nodes: they are Erlang's behaviour.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, GenServer, Node, Process, RemotePid, Task } from "../../mod.ts";
import { beamPeerCode, once, type Peer, PEER_TEST, startBeam, startTsPeer, uniqueName } from "./_helpers.ts";
import { beamSkip } from "./_beam.ts";
import * as Observer from "../../lib/apps/observer/mod.ts";

const A = (s: string) => Symbol.for(s);
const COOKIE = "remote_test_cookie";
const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

/** Receives a message matching `match` within 10 s, or fails. */
async function expect<T>(match: (m: unknown) => boolean, what: string): Promise<T> {
  const m = await Process.receive(match, 10_000);
  if (m === Process.TIMEOUT) throw new Error(`no ${what} in time`);
  return m as T;
}

/** A reason as a peer reports it: a TypeScript peer's strings arrive as binaries, a BEAM's atoms as atoms. */
const norm = (r: unknown) => typeof r === "symbol" ? Symbol.keyFor(r) : r instanceof Uint8Array ? text(r) : r;

type StartPeer = (name: string) => Promise<Peer>;
const startBeamPeer: StartPeer = async (name) =>
  startBeam(name, COOKIE, `code:add_patha("${await beamPeerCode()}"), otp_ts_peer:start().`, `ready ${name}@`);
const startTs: StartPeer = (name) => startTsPeer(name, COOKIE);

// Started by the first test that needs it (Bun gives a `before` hook 5 s, whatever it asks).
const startMain = once(() => Node.start(uniqueName("main"), { cookie: COOKIE }));
after(async () => {
  await Node.stop();
});

for (
  const [kind, startPeer, skip] of [
    ["TypeScript", startTs, false],
    ["BEAM", startBeamPeer, beamSkip("remote_test.ts")],
  ] as const
) {
  describe(`TypeScript <-> ${kind} nodes`, { skip }, () => {
    let peer: Peer;
    const peers: Peer[] = [];
    const call = (node: string, req: unknown[]) => GenServer.call(["peer", node], req, 10_000);
    /** This node and the suite's peer, started once by the first test that runs. */
    const ready = once(async () => {
      await startMain();
      peer = await startPeer(uniqueName("peer"));
      peers.push(peer);
    });

    after(async () => {
      for (const p of peers) await p.kill();
    });

    test("GenServer.call both ways; data crosses as terms (strings arrive as binaries)", PEER_TEST, async () => {
      await ready();
      assert.equal(await call(peer.node, [A("echo"), 42]), 42);
      assert.equal(text(await call(peer.node, [A("echo"), "hé"])), "hé");
      const local = await GenServer.start({
        init: () => ["ok", 0],
        handleCall: (req: unknown, _from, n: number) => ["reply", [req, n + 1], n + 1],
      }, undefined);
      const r = await call(peer.node, [A("call"), local, A("bump")]) as unknown[];
      assert.deepEqual(r, [A("ok"), [A("bump"), 1]]);
      // A call from the peer to a name not registered here fails there with noproc.
      const r2 = await call(peer.node, [A("call"), [A("nobody"), A(Node.self())], 1]) as unknown[];
      assert.equal(r2[0], A("error"));
      await GenServer.stop(local);
    });

    test(
      "net_adm:ping from the peer answers pong",
      { ...PEER_TEST, skip: kind !== "BEAM" && "the TypeScript peer has no net_adm" },
      async () => {
        await ready();
        assert.equal(await call(peer.node, [A("ping"), A(Node.self())]), A("pong"));
      },
    );

    test("Task.await on a task that calls another node; Agent functions do not cross nodes", PEER_TEST, async () => {
      await ready();
      const t = Task.async(() => call(peer.node, [A("echo"), 7]));

      assert.equal(await Task.await(t), 7);

      const remotePeer = await call(peer.node, [A("spawn")]) as RemotePid;

      const err = await Agent.get(remotePeer, (s: unknown) => s).catch((e) => e);

      assert.ok(err instanceof GenServer.CallError && Array.isArray(err.reason) && err.reason[0] === "badarg");

      Process.exit(remotePeer, "kill");
    });

    test("send to a remote pid, and the peer sends back to ours", PEER_TEST, async () => {
      await ready();
      await Process.run(async ({ self }) => {
        GenServer.cast(["peer", peer.node], [A("send"), self, [A("hello"), self]]);
        const [tag, pid] = await expect<[symbol, Process.Pid]>((m) => Array.isArray(m) && m[0] === A("hello"), "hello");
        assert.equal(tag, A("hello"));
        assert.equal(pid, self);
      });
    });

    for (const reason of ["normal", "shutdown", "boom"]) {
      test(`monitor and link of a remote process: DOWN and EXIT carry ${reason}`, PEER_TEST, async () => {
        await ready();
        const pid = await call(peer.node, [A("spawn")]) as RemotePid;
        assert.ok(pid instanceof RemotePid);
        await Process.run(async () => {
          Process.trapExit(true);
          const ref = Process.monitor(pid);
          Process.link(pid);
          Process.send(pid, [A("stop"), A(reason)]);
          const down = await expect<Process.DownMessage>(
            (m) => m instanceof Process.DownMessage && m.ref === ref,
            "DOWN",
          );
          assert.equal(down.pid, pid);
          assert.equal(down.reason, reason);
          const exit = await expect<Process.ExitMessage>((m) => m instanceof Process.ExitMessage, "EXIT");
          assert.equal(exit.from, pid);
          assert.equal(exit.reason, reason);
        });
      });
    }

    test("Process.info and the Observer show links and monitors across nodes", PEER_TEST, async () => {
      await ready();
      const pid = await call(peer.node, [A("spawn")]) as RemotePid;
      await Process.run(async ({ self }) => {
        Process.trapExit(true);
        Process.link(pid);
        Process.monitor(pid);
        const info = Process.info(self)!;
        assert.ok(info.links.includes(pid) && info.monitors.includes(pid));
        const row = Observer.nodes().nodes.find((n) => n.node === peer.node)!;
        assert.equal(row.state, "connected");
        assert.ok(row.links >= 1 && row.monitors >= 1);
        assert.equal(Observer.nodes().self, Node.self());
        // The peer's watcher monitors this process: it shows in monitoredBy.
        const watcher = await call(peer.node, [A("watch"), self, self]) as RemotePid;
        await expect((m) => Array.isArray(m) && m[0] === A("watching") && m[1] === watcher, "watching");
        assert.ok(Process.info(self)!.monitoredBy.includes(watcher));
        assert.ok(Process.info(self)!.links.includes(watcher));
        // The Observer's process detail (GET /api/process/:pid) names each remote relation and its node.
        const remote = (await Observer.processInfo(self))!.remote;
        const has = (kind: string, p: RemotePid) =>
          remote.some((r) => r.kind === kind && r.pid === String(p) && r.node === peer.node);
        assert.ok(has("link", pid) && has("monitor", pid), JSON.stringify(remote));
        assert.ok(has("link", watcher) && has("monitored by", watcher), JSON.stringify(remote));
        assert.ok(String(pid).includes(peer.node));
        Process.exit(pid, "kill");
        await expect((m) => m instanceof Process.DownMessage, "DOWN");
        Process.exit(watcher, "kill");
        await expect((m) => m instanceof Process.ExitMessage && m.from === watcher, "EXIT of the watcher");
      });
    });

    test("exit(remotePid, kill) kills it with killed", PEER_TEST, async () => {
      await ready();
      const pid = await call(peer.node, [A("spawn")]) as RemotePid;
      await Process.run(async () => {
        const ref = Process.monitor(pid);
        Process.exit(pid, "kill");
        const down = await expect<Process.DownMessage>(
          (m) => m instanceof Process.DownMessage && m.ref === ref,
          "DOWN",
        );
        assert.equal(down.reason, "killed");
      });
    });

    for (const reason of ["normal", "shutdown", "bad_thing", "kill"]) {
      test(`a remote watcher sees a local process's link EXIT and DOWN: ${reason} (exit/1)`, PEER_TEST, async () => {
        await ready();
        await Process.run(async ({ self }) => {
          const local = Process.spawn(async ({ receive, exit }) => {
            await receive("go");
            exit(reason);
          });
          const watcher = await call(peer.node, [A("watch"), local, self]);
          await expect((m) => Array.isArray(m) && m[0] === A("watching") && m[1] === watcher, "watching");
          Process.send(local, "go");
          const seen = new Set<string>();
          while (seen.size < 2) {
            const [kind, from, got] = await expect<[symbol, Process.Pid, unknown]>(
              (m) => Array.isArray(m) && (m[0] === A("exit") || m[0] === A("down")),
              "report",
            );
            assert.equal(from, local);
            assert.equal(norm(got), reason);
            seen.add(Symbol.keyFor(kind)!);
          }
        });
      });
    }

    test(
      "noproc: monitoring an unregistered remote name, calling it, linking to a dead remote pid",
      PEER_TEST,
      async () => {
        await ready();
        await Process.run(async () => {
          Process.trapExit(true);
          const ref = Process.monitor(["nobody", peer.node]);
          const down = await expect<Process.DownMessage>(
            (m) => m instanceof Process.DownMessage && m.ref === ref,
            "DOWN",
          );
          assert.equal(down.reason, "noproc");
          await assert.rejects(
            GenServer.call(["nobody", peer.node], 1),
            (e: GenServer.CallError) => e.reason === "noproc",
          );
          const pid = await call(peer.node, [A("spawn")]) as RemotePid;
          const ref2 = Process.monitor(pid);
          Process.exit(pid, "kill");
          await expect((m) => m instanceof Process.DownMessage && m.ref === ref2, "DOWN");
          Process.link(pid);
          const exit = await expect<Process.ExitMessage>((m) => m instanceof Process.ExitMessage, "EXIT");
          assert.equal(exit.reason, "noproc");
        });
      },
    );

    test("kill -9 of a peer: monitors, links and pending calls get noconnection", PEER_TEST, async () => {
      await ready();
      const victim = await startPeer(uniqueName("victim"));
      peers.push(victim);
      const pid = await call(victim.node, [A("spawn")]) as RemotePid;
      await Process.run(async () => {
        Process.trapExit(true);
        const ref = Process.monitor(pid);
        Process.link(pid);
        Node.monitor(victim.node);
        const pending = call(victim.node, [A("hang")]).then(() => "replied", (e: GenServer.CallError) => e.reason);
        await victim.kill();
        const down = await expect<Process.DownMessage>(
          (m) => m instanceof Process.DownMessage && m.ref === ref,
          "DOWN",
        );
        assert.equal(down.reason, "noconnection");
        const exit = await expect<Process.ExitMessage>((m) => m instanceof Process.ExitMessage, "EXIT");
        assert.equal(exit.reason, "noconnection");
        assert.deepEqual(await pending, ["nodedown", victim.node]);
        const nodedown = await expect<unknown[]>((m) => Array.isArray(m) && m[0] === "nodedown", "nodedown");
        assert.equal(nodedown[1], victim.node);
      });
    });

    test("a restarted peer has a new creation: old pids get nothing, monitors of them noproc", PEER_TEST, async () => {
      await ready();
      const name = uniqueName("phoenix");
      const first = await startPeer(name);
      peers.push(first);
      const old = await call(first.node, [A("spawn")]) as RemotePid;
      await first.kill();
      const second = await startPeer(name);
      peers.push(second);
      const fresh = await call(second.node, [A("spawn")]) as RemotePid;
      assert.notEqual(fresh.creation, old.creation);
      await Process.run(async () => {
        Process.send(old, [A("stop"), A("normal")]);
        const ref = Process.monitor(old);
        const down = await expect<Process.DownMessage>(
          (m) => m instanceof Process.DownMessage && m.ref === ref,
          "DOWN",
        );
        assert.equal(down.reason, "noproc");
      });
      assert.equal(await call(second.node, [A("echo"), 1]), 1);
    });
  });
}

describe("BEAM <-> BEAM: the same expectations, as Erlang has them", { skip: beamSkip("remote_test.ts") }, () => {
  test("two erl nodes give what the suites above assert", PEER_TEST, async () => {
    const dir = await beamPeerCode();
    const peer = await startBeam(
      uniqueName("bpeer"),
      COOKIE,
      `code:add_patha("${dir}"), otp_ts_peer:start().`,
      "ready ",
    );
    let driver: Peer | undefined;
    try {
      driver = await startBeam(
        uniqueName("bdriver"),
        COOKIE,
        `code:add_patha("${dir}"), otp_ts_peer:scenario('${peer.node}').`,
        "scenario done",
      );
      const checks = new Map(
        [...driver.output().matchAll(/^check (\S+) (.*)$/gm)].map((m) => [m[1], m[2]]),
      );
      const expected: Record<string, string> = {
        echo: "42",
        down_normal: "normal",
        exit_normal: "normal",
        down_shutdown: "shutdown",
        exit_shutdown: "shutdown",
        down_boom: "boom",
        exit_boom: "boom",
        down_kill: "killed",
        monitor_unregistered: "noproc",
        call_unregistered: "noproc",
        link_dead: "noproc",
        remote_call_unregistered: "{error,noproc}",
        kill9_down: "noconnection",
        kill9_exit: "noconnection",
        kill9_call: `{nodedown,${peer.node}}`,
        kill9_nodedown: "nodedown",
      };
      for (const r of ["normal", "shutdown", "bad_thing", "kill"]) {
        expected[`watch_exit_${r}`] = r;
        expected[`watch_down_${r}`] = r;
      }
      assert.deepEqual(Object.fromEntries(checks), expected, driver.output());
    } finally {
      await driver?.kill();
      await peer.kill();
    }
  });
});
