// The process layer across nodes against a scripted peer: the test plays node
// "b@h", reads the control messages this node sends and injects its own.
// (The real wire is exercised by remote_test.ts, between OS processes.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { GenServer, Process, RemotePid } from "../../mod.ts";
import { _scriptedPeer } from "../../lib/node/_remote.ts";
import { ErlPid, ErlRef } from "../../lib/node/term.ts";

const A = (s: string) => Symbol.for(s);
const sent: Array<{ node: string; control: unknown[]; payload: unknown }> = [];
let reachable = true;
const peer = _scriptedPeer({
  send(node, control, payload) {
    if (!reachable) return false;
    sent.push({ node, control: control as unknown[], payload });
    return true;
  },
  self: () => "a@h",
  creation: () => 1,
});
after(() => peer.restore());

function take(tag: number): { node: string; control: unknown[]; payload: unknown } {
  const i = sent.findIndex((s) => s.control[0] === tag);
  assert.ok(i >= 0, `no control message ${tag} sent (sent: ${sent.map((s) => s.control[0])})`);
  return sent.splice(i, 1)[0];
}
const bPid = (id: number) => new ErlPid("b@h", id, 0, 9);
const bRef = (n: number) => new ErlRef("b@h", 9, [n, 0, 0]);

test("a send to a remote pid goes out as SEND with the pids on the wire", async () => {
  sent.length = 0;
  const remote = RemotePid.of("b@h", 5, 0, 9);
  await Process.run(({ self }) => Process.send(remote, ["hi", self]));
  const s = take(2);
  assert.equal(s.node, "b@h");
  assert.ok(s.control[2] instanceof ErlPid && s.control[2].id === 5);
  const [text, from] = s.payload as [string, ErlPid];
  assert.equal(text, "hi");
  assert.equal(from.node, "a@h");
});

test("an incoming SEND reaches the local process, with remote pids interned", async () => {
  const got = await Process.run(async ({ self, receive }) => {
    // The pid goes out once, so an incoming pid finds it.
    Process.send(RemotePid.of("b@h", 5, 0, 9), self);
    const me = take(2).payload as ErlPid;
    peer.control("b@h", [2, A(""), me], [A("hello"), bPid(7)]);
    return await receive();
  });
  assert.equal(got[0], A("hello"));
  assert.equal(got[1], RemotePid.of("b@h", 7, 0, 9));
});

test("GenServer.call to a remote pid: monitor, $gen_call, reply matched by tag, demonitor", async () => {
  sent.length = 0;
  const target = RemotePid.of("b@h", 8, 0, 9);
  const reply = GenServer.call(target, "ping");
  const mon = take(19);
  const call = take(2);
  const [label, [from, tag], req] = call.payload as [symbol, [ErlPid, ErlRef], unknown];
  assert.equal(label, A("$gen_call"));
  assert.equal(req, "ping");
  assert.equal(mon.control[3], tag);
  // A reply with another tag is not ours; then the right one.
  peer.control("b@h", [2, A(""), from], [tag, A("pong")]);
  assert.equal(await reply, A("pong"));
  take(20);
  // A late duplicate is dropped.
  peer.control("b@h", [2, A(""), from], [tag, A("pong")]);
});

test("GenServer.call to an unregistered remote name fails with noproc", async () => {
  sent.length = 0;
  const p = GenServer.call(["nobody", "b@h"], "x");
  const mon = take(19);
  assert.equal(mon.control[2], A("nobody"));
  peer.control("b@h", [21, A("nobody"), mon.control[1], mon.control[3], A("noproc")]);
  await assert.rejects(p, (e: GenServer.CallError) => e.reason === "noproc");
});

test("an incoming $gen_call reaches handleCall and the reply goes back with the tag", async () => {
  sent.length = 0;
  const pid = await GenServer.start(
    {
      init: () => ["ok", 0],
      handleCall: (req: unknown, _from, n: number) => ["reply", [req, n + 1], n + 1],
    },
    undefined,
    { name: "fake_counter" },
  );
  const tag = bRef(77);
  peer.control("b@h", [6, bPid(3), A(""), A("fake_counter")], [A("$gen_call"), [bPid(3), tag], A("next")]);
  await Process.run(() => GenServer.call(pid, "sync"));
  const r = take(2);
  assert.equal((r.control[2] as ErlPid).id, 3);
  const [t, value] = r.payload as [ErlRef, unknown[]];
  assert.equal(t, tag);
  assert.deepEqual(value, [A("next"), 1]);
  await GenServer.stop(pid);
});

test("net_adm:ping: a monitor on net_kernel is accepted and is_auth answers yes", () => {
  sent.length = 0;
  peer.control("b@h", [19, bPid(4), A("net_kernel"), bRef(1)]);
  assert.equal(sent.length, 0);
  peer.control("b@h", [6, bPid(4), A(""), A("net_kernel")], [A("$gen_call"), [bPid(4), bRef(1)], [
    A("is_auth"),
    A("b@h"),
  ]]);
  const r = take(2);
  assert.deepEqual((r.payload as unknown[])[1], A("yes"));
});

test("a monitor from a peer on an unregistered name answers noproc at once; on a process, its exit reason", async () => {
  sent.length = 0;
  peer.control("b@h", [19, bPid(4), A("ghost"), bRef(2)]);
  const e = take(21);
  assert.equal(e.control[1], A("ghost"));
  assert.equal(e.control[4], A("noproc"));
  const pid = Process.spawn(async ({ receive }) => {
    await receive("stop");
    Process.exit(Process.self(), "bye");
  }, { name: "fake_target" });
  peer.control("b@h", [19, bPid(4), A("fake_target"), bRef(3)]);
  assert.equal(sent.length, 0);
  await Process.run(async () => {
    const ref = Process.monitor(pid);
    Process.send(pid, "stop");
    await Process.receive({ ref });
  });
  const d = take(21);
  assert.equal(d.control[4], A("bye"));
});

test("a local monitor of a remote pid gets DOWN with the remote reason, and noconnection on nodedown", async () => {
  sent.length = 0;
  await Process.run(async ({ receive }) => {
    const target = RemotePid.of("b@h", 10, 0, 9);
    const ref = Process.monitor(target);
    const m = take(19);
    peer.control("b@h", [21, m.control[2], m.control[1], m.control[3], [A("shutdown"), 3]]);
    const down = await receive<Process.DownMessage>({ ref });
    assert.deepEqual(down.reason, ["shutdown", 3]);
    assert.equal(down.pid, target);
    const ref2 = Process.monitor(target);
    peer.down("b@h", "connection_closed");
    const down2 = await receive<Process.DownMessage>({ ref: ref2 });
    assert.equal(down2.reason, "noconnection");
  });
});

test("links: a remote EXIT kills the local side; nodedown gives noconnection; a local death tells the peer", async () => {
  sent.length = 0;
  const target = RemotePid.of("b@h", 11, 0, 9);
  const msg = await Process.run(async ({ receive }) => {
    Process.trapExit(true);
    Process.link(target);
    const l = take(1);
    peer.control("b@h", [3, l.control[2], l.control[1], A("boom")]);
    const e1 = await receive<Process.ExitMessage>((m) => m instanceof Process.ExitMessage);
    Process.link(target);
    take(1);
    peer.down("b@h", "closed");
    const e2 = await receive<Process.ExitMessage>((m) => m instanceof Process.ExitMessage);
    return [e1, e2];
  });
  assert.equal(msg[0].from, target);
  assert.equal(msg[0].reason, "boom");
  assert.equal(msg[1].reason, "noconnection");
  const victim = Process.spawn(async ({ receive }) => {
    Process.link(target);
    await receive("die");
    throw new Error("crash");
  });
  await Process.run(async () => {
    const ref = Process.monitor(victim);
    Process.send(victim, "die");
    await Process.receive({ ref });
  });
  take(1);
  const exit = take(3);
  assert.equal((exit.control[3] as unknown[])[0], A("error"));
});

test("unlink: an EXIT in flight after our UNLINK_ID is dropped", async () => {
  sent.length = 0;
  const target = RemotePid.of("b@h", 12, 0, 9);
  const r = await Process.run(async ({ receive }) => {
    Process.trapExit(true);
    Process.link(target);
    take(1);
    Process.unlink(target);
    const u = take(35);
    peer.control("b@h", [3, u.control[3], u.control[2], A("late")]);
    peer.control("b@h", [36, u.control[1], u.control[3], u.control[2]]);
    return await receive(undefined, 20);
  });
  assert.equal(r, Process.TIMEOUT);
});

test("an unreachable node: call fails with noconnection, monitor gives DOWN noconnection", async () => {
  reachable = false;
  try {
    await assert.rejects(GenServer.call(["x", "c@h"], 1), (e: GenServer.CallError) => {
      assert.deepEqual(e.reason, ["nodedown", "c@h"]);
      return true;
    });
    await Process.run(async ({ receive }) => {
      const ref = Process.monitor(["x", "c@h"]);
      const d = await receive<Process.DownMessage>({ ref });
      assert.equal(d.reason, "noconnection");
    });
  } finally {
    reachable = true;
  }
});

test("a function cannot cross nodes", async () => {
  await assert.rejects(GenServer.call(RemotePid.of("b@h", 1, 0, 9), () => 1), (e: GenServer.CallError) => {
    return Array.isArray(e.reason) && e.reason[0] === "badarg";
  });
  assert.throws(() => Process.send(RemotePid.of("b@h", 1, 0, 9), () => 1), TypeError);
});

test("unlink then link again: the first unlink's late ack does not drop the new link", async () => {
  sent.length = 0;
  const target = RemotePid.of("b@h", 13, 0, 9);
  const exit = await Process.run(async ({ receive }) => {
    Process.trapExit(true);
    Process.link(target);
    take(1);
    Process.unlink(target);
    const u = take(35);
    Process.link(target);
    take(1);
    peer.control("b@h", [36, u.control[1], u.control[3], u.control[2]]);
    peer.control("b@h", [3, u.control[3], u.control[2], A("after_relink")]);
    return await receive<Process.ExitMessage>((m) => m instanceof Process.ExitMessage, 1000);
  });
  assert.ok(exit instanceof Process.ExitMessage);
  assert.equal(exit.reason, "after_relink");
});
