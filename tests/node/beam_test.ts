// TypeScript <-> BEAM (erl of OTP 25+) on loopback, each test with a private EPMD. Every
// expectation on a TypeScript node is also asserted on a BEAM <-> BEAM pair, so the tests encode
// Erlang's behaviour rather than our guess. Without erl these tests skip with one line, unless
// OTP_TS_REQUIRE_BEAM=1 (CI), where they fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Node, Process, Term } from "../../mod.ts";
import * as Wire from "../../lib/node/_wire.ts";
import { beamSkip } from "./_beam.ts";
import { PrivateEpmd, startBeamPeer, startWirePeer, uniqueName, until, withHandler } from "./_helpers.ts";

const skip = beamSkip("beam_test");
const COOKIE = "distcodec-beam-cookie";
/** An atom as erl's ~w prints it. */
const w = (name: string) => Term.format(Symbol.for(name));
type Peer = Awaited<ReturnType<typeof startBeamPeer>>;

/** Runs `body` with a private EPMD, this runtime as a node, and peers it starts; stops all after. */
async function withCluster(
  body: (ctx: { epmd: PrivateEpmd; self: string; started: Peer[] }) => Promise<void>,
  opts: Node.StartOptions = {},
): Promise<void> {
  const epmd = await PrivateEpmd.start();
  const started: Peer[] = [];
  try {
    const self = await Node.start(uniqueName("ts"), { cookie: COOKIE, epmdPort: epmd.port, ...opts });
    try {
      await body({ epmd, self, started });
    } finally {
      await Node.stop();
    }
  } finally {
    for (const p of started) await p.kill();
    await epmd.stop();
  }
}

function nextDown(node: string, timeoutMs = 20000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no nodedown for ${node} in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = Wire.onNodeDown((n, reason) => {
      if (n !== node) return;
      clearTimeout(timer);
      off();
      resolve(reason);
    });
  });
}

test("BEAM -> TS: net_adm:ping gets pong from normal and hidden erl; we are listed as hidden", {
  skip,
  timeout: 60_000,
}, async () => {
  await withCluster(async ({ epmd, self, started }) => {
    const normal = await startBeamPeer(uniqueName("normal"), COOKIE, epmd.port);
    started.push(normal);
    const hidden = await startBeamPeer(uniqueName("hidden"), COOKIE, epmd.port, { hidden: true });
    started.push(hidden);
    assert.equal((await normal.ask(`ping ${self}`, /^ping \S+ (\w+)$/))[1], "pong");
    assert.equal((await hidden.ask(`ping ${self}`, /^ping \S+ (\w+)$/))[1], "pong");
    // A hidden node is in nodes(hidden), not in nodes(): ours, and (BEAM <-> BEAM) erl -hidden.
    assert.equal((await normal.ask("nodes", /^nodes (.*)$/))[1], `[] [${w(self)}]`);
    assert.equal((await normal.ask(`ping ${hidden.node}`, /^ping \S+ (\w+)$/))[1], "pong");
    assert.equal((await normal.ask("nodes", /^nodes (.*)$/))[1], `[] [${w(self)},${w(hidden.node)}]`);
    assert.deepEqual(Node.list().sort(), [normal.node, hidden.node].sort());
  });
});

test(
  "TS -> BEAM: connect, REG_SEND to a registered process, its reply to our pid",
  { skip, timeout: 60_000 },
  async () => {
    await withCluster(async ({ epmd, self, started }) => {
      const beam = await startBeamPeer(uniqueName("beam"), COOKIE, epmd.port);
      started.push(beam);
      assert.equal(await Node.connect(beam.node), true);
      assert.deepEqual(Node.list(), [beam.node]);
      const me = new Term.ErlPid(self, 1, 0, Wire.creation());
      const got: Term.Term[][] = [];
      await withHandler((from, control, payload) => got.push([from, control, payload!]), async () => {
        const big = new Map<Term.Term, Term.Term>([[
          Symbol.for("k"),
          new Term.List([1, new Term.Float(2), 2n ** 80n]),
        ]]);
        Wire.sendControl(beam.node, [6, me, Symbol.for(""), Symbol.for("echo")], [me, big]);
        await until(() => got.length > 0, "the echo", 20000);
      });
      assert.equal(got[0][0], beam.node);
      assert.ok(Term.equals(got[0][1], [2, Symbol.for(""), me]), Term.format(got[0][1]));
      assert.equal(Term.format(got[0][2]), `{echo,#{k=>[1,2.0,1208925819614629174706176]}}`);
      assert.equal((await beam.ask("nodes", /^nodes (.*)$/))[1], `[] [${w(self)}]`);
    });
  },
);

test("a wrong cookie fails both ways, as between two BEAMs", { skip, timeout: 60_000 }, async () => {
  await withCluster(async ({ epmd, self, started }) => {
    const other = await startBeamPeer(uniqueName("other"), "another-cookie", epmd.port);
    started.push(other);
    const same = await startBeamPeer(uniqueName("same"), COOKIE, epmd.port);
    started.push(same);
    assert.equal(await Node.connect(other.node), false);
    assert.equal((await other.ask(`ping ${self}`, /^ping \S+ (\w+)$/))[1], "pang");
    assert.equal((await other.ask(`ping ${same.node}`, /^ping \S+ (\w+)$/))[1], "pang"); // BEAM <-> BEAM
    assert.deepEqual(Node.list(), []);
  });
});

test("nodedown: a TS process monitoring a BEAM, a BEAM monitoring a killed TS node, and BEAM <-> BEAM", {
  skip,
  timeout: 60_000,
}, async () => {
  await withCluster(async ({ epmd, started }) => {
    const a = await startBeamPeer(uniqueName("a"), COOKIE, epmd.port);
    started.push(a);
    const b = await startBeamPeer(uniqueName("b"), COOKIE, epmd.port);
    started.push(b);
    const tsPeer = await startWirePeer(uniqueName("tspeer"), COOKIE, epmd.port);
    try {
      // TS monitors BEAM a; a halts.
      const msg = await Process.run(async () => {
        Node.monitor(a.node);
        await until(() => Node.list().includes(a.node), "the connection to a", 20000);
        a.child.stdin!.write("halt\n");
        return await Process.receive();
      });
      assert.deepEqual(msg, ["nodedown", a.node]);
      // BEAM b monitors the TS peer, which is killed with SIGKILL.
      await b.ask(`monitor ${tsPeer.node}`, /^monitoring/);
      await tsPeer.kill();
      assert.equal((await b.waitLine(/^nodedown (\S+)$/))[1], tsPeer.node);
      // BEAM <-> BEAM: b monitors a fresh BEAM c, killed with SIGKILL.
      const c = await startBeamPeer(uniqueName("c"), COOKIE, epmd.port);
      started.push(c);
      const from = b.lines.length;
      await b.ask(`monitor ${c.node}`, /^monitoring/);
      await c.kill();
      assert.equal((await b.waitLine(/^nodedown (\S+)$/, 20000, from))[1], c.node);
    } finally {
      await tsPeer.kill();
    }
  });
});

test("ticks with net_ticktime 1: idle connections stay up; a frozen peer is dropped, as between BEAMs", {
  skip,
  timeout: 60_000,
}, async () => {
  await withCluster(async ({ epmd, started }) => {
    const beam = await startBeamPeer(uniqueName("beam"), COOKIE, epmd.port, { netTickTime: 1 });
    started.push(beam);
    assert.equal(await Node.connect(beam.node), true);
    const conn = () => Wire.localNode()!.peers.get(beam.node)?.conn;
    await until(() => (conn()?.ticksReceived ?? 0) >= 8, "8 ticks from the BEAM", 20000);
    assert.deepEqual(Node.list(), [beam.node]);
    assert.deepEqual(beam.lines.filter((l) => l.startsWith("nodedown")), []);
    // The BEAM drops a frozen TS node ...
    const tsPeer = await startWirePeer(uniqueName("tspeer"), COOKIE, epmd.port, 1);
    try {
      await beam.ask(`monitor ${tsPeer.node}`, /^monitoring/);
      tsPeer.freeze();
      assert.equal((await beam.waitLine(/^nodedown (\S+)$/))[1], tsPeer.node);
    } finally {
      await tsPeer.kill();
    }
    // ... as it drops a frozen BEAM ...
    const other = await startBeamPeer(uniqueName("other"), COOKIE, epmd.port, { netTickTime: 1 });
    started.push(other);
    const from = beam.lines.length;
    await beam.ask(`monitor ${other.node}`, /^monitoring/);
    other.freeze();
    assert.equal((await beam.waitLine(/^nodedown (\S+)$/, 20000, from))[1], other.node);
    // ... and we drop a frozen BEAM.
    const down = nextDown(beam.node);
    beam.freeze();
    assert.equal(await down, "net_tick_timeout");
  }, { netTickTime: 1 });
});

test("simultaneous connect TS <-> BEAM, raced: both succeed, one connection", { skip, timeout: 60_000 }, async () => {
  await withCluster(async ({ epmd, self, started }) => {
    const beam = await startBeamPeer(uniqueName("beam"), COOKIE, epmd.port);
    started.push(beam);
    for (let round = 0; round < 3; round++) {
      const [ours, theirs] = await Promise.all([
        Node.connect(beam.node),
        beam.ask(`connect ${self}`, /^connect \S+ (\w+)$/),
      ]);
      assert.equal(ours, true, `round ${round}`);
      assert.equal(theirs[1], "true", `round ${round}`);
      assert.deepEqual(Node.list(), [beam.node]);
      assert.equal((await beam.ask("nodes", /^nodes (.*)$/))[1], `[] [${w(self)}]`);
      const down = nextDown(beam.node);
      assert.equal((await beam.ask(`disconnect ${self}`, /^disconnect \S+ (\w+)$/))[1], "true");
      await down;
    }
  });
});
