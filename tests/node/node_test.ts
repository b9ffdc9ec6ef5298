// Distribution between TypeScript nodes on loopback, each test with its own EPMD: the handshake
// both ways, messages, wrong cookie, EPMD registration, ticks and the tick timeout, simultaneous
// connects (scripted, then raced), node monitors.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { Node, Process, Term } from "../../mod.ts";
import * as Wire from "../../lib/node/_wire.ts";
import { portPlease, register } from "../../lib/node/_epmd.ts";
import { OUR_FLAGS } from "../../lib/node/_dist.ts";
import { freePort, PrivateEpmd, startWirePeer, uniqueName, until, withHandler } from "./_helpers.ts";

const COOKIE = "distcodec-test-cookie";
type Received = [from: string, control: Term.Term, payload: Term.Term | undefined];

/** Resolves with the reason of the next nodedown of `node`. */
export function nextDown(node: string, timeoutMs = 15000): Promise<string> {
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

/** Resolves with the next node that comes up. */
function nextUp(): Promise<string> {
  return new Promise((resolve) => {
    const off = Wire.onNodeUp((n) => {
      off();
      resolve(n);
    });
  });
}

/** Runs `body` with a private EPMD and this runtime started as a node; stops both after. */
async function withNode<T>(
  prefix: string,
  body: (epmd: PrivateEpmd, self: string) => T | Promise<T>,
  opts: Node.StartOptions = {},
): Promise<T> {
  const epmd = await PrivateEpmd.start();
  try {
    const self = await Node.start(uniqueName(prefix), { cookie: COOKIE, epmdPort: epmd.port, ...opts });
    try {
      return await body(epmd, self);
    } finally {
      await Node.stop();
    }
  } finally {
    await epmd.stop();
  }
}

const echoTo = (me: Term.ErlPid): Term.Term => [6, me, Symbol.for(""), Symbol.for("echo")];

test("TS -> TS: connect, messages both ways, nodedown when the peer stops", { timeout: 60_000 }, async () => {
  await withNode("parent", async (epmd, self) => {
    const peer = await startWirePeer(uniqueName("peer"), COOKIE, epmd.port);
    try {
      assert.equal(await Node.connect(peer.node), true);
      assert.deepEqual(Node.list(), [peer.node]);
      await peer.waitLine(new RegExp(`^up ${self}$`));
      // Our REG_SEND to its echo comes back as a SEND to our pid, payload intact.
      const me = new Term.ErlPid(self, 1, 0, Wire.creation());
      const got: Received[] = [];
      await withHandler((...m) => got.push(m), async () => {
        Wire.sendControl(peer.node, echoTo(me), [me, "payload", 1.5, 2n ** 70n]);
        await until(() => got.length > 0, "the echo", 15000);
      });
      assert.equal(got[0][0], peer.node);
      assert.ok(Term.equals(got[0][1], [2, Symbol.for(""), me]), Term.format(got[0][1]));
      assert.ok(Term.equals(got[0][2]!, [me, "payload", 1.5, 2n ** 70n]));
      // The other way: its REG_SEND reaches our handler, which answers its pid.
      await withHandler((from, control, payload) => {
        if (Array.isArray(control) && control[0] === 6 && Array.isArray(payload)) {
          Wire.sendControl(from, [2, Symbol.for(""), payload[0]], [Symbol.for("back"), payload[1]]);
        }
      }, async () => {
        const m = await peer.ask(`echo ${self}`, /^got (\S+) \{2,'',<\S+>\} \{back,hi\}$/);
        assert.equal(m[1], self);
      });
      const down = nextDown(peer.node);
      await peer.ask("stop", /^stopped$/);
      assert.equal(await down, "connection_closed");
      assert.deepEqual(Node.list(), []);
    } finally {
      await peer.kill();
    }
  });
});

test(
  "TS <- TS: the peer connects to us; sends queued while connecting arrive in order",
  { timeout: 60_000 },
  async () => {
    await withNode("parent", async (epmd, self) => {
      const peer = await startWirePeer(uniqueName("peer"), COOKIE, epmd.port);
      try {
        const up = nextUp();
        const m = await peer.ask(`connect ${self}`, /^connect \S+ (true|false)$/);
        assert.equal(m[1], "true");
        assert.equal(await up, peer.node);
        assert.deepEqual(Node.list(), [peer.node]);
        // A lazy connect from our side: 200 sends before the connection is up keep their order.
        assert.equal(Node.disconnect(peer.node), true);
        await peer.waitLine(new RegExp(`^down ${self} `));
        const seen: number[] = [];
        await withHandler((_from, _control, payload) => {
          if (Array.isArray(payload)) seen.push(payload[1] as number);
        }, async () => {
          const me = new Term.ErlPid(self, 1, 0, Wire.creation());
          for (let i = 0; i < 200; i++) assert.equal(Wire.sendControl(peer.node, echoTo(me), [me, i]), true);
          await until(() => seen.length === 200, "200 echoes", 15000);
        });
        assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
      } finally {
        await peer.kill();
      }
    });
  },
);

test("a wrong cookie is refused both ways, and the attempt reports why", { timeout: 60_000 }, async () => {
  await withNode("parent", async (epmd, self) => {
    const peer = await startWirePeer(uniqueName("peer"), "another-cookie", epmd.port);
    try {
      const down = nextDown(peer.node);
      assert.equal(await Node.connect(peer.node), false);
      assert.match(await down, /cookie|closed/);
      await peer.waitLine(/./, 100).catch(() => {}); // (nothing to wait for: it logs on stderr)
      assert.deepEqual(Node.list(), []);
      const m = await peer.ask(`connect ${self}`, /^connect \S+ (true|false)$/);
      assert.equal(m[1], "false");
      assert.deepEqual(Node.list(), []);
      assert.match(peer.stderr, /rejected: invalid challenge reply/);
      assert.doesNotMatch(peer.stderr, /another-cookie|distcodec-test-cookie/);
    } finally {
      await peer.kill();
    }
  });
});

test("sendControl to a node that is not registered fails the attempt with nodedown", { timeout: 60_000 }, async () => {
  await withNode("parent", async (_epmd, self) => {
    const ghost = uniqueName("ghost") + "@localhost";
    const down = nextDown(ghost);
    const me = new Term.ErlPid(self, 1, 0, Wire.creation());
    assert.equal(Wire.sendControl(ghost, echoTo(me), [me, 1]), true);
    assert.match(await down, /not registered/);
    assert.equal(Wire.sendControl("no-at-sign", echoTo(me), [me, 1]), false);
    assert.equal(Wire.sendControl(self, echoTo(me), [me, 1]), false);
    assert.equal(await Node.connect(uniqueName("ghost") + "@localhost"), false);
  });
});

test("EPMD: registered as a hidden version-6 node on our port, unregistered on stop", { timeout: 60_000 }, async () => {
  const epmd = await PrivateEpmd.start();
  try {
    const name = uniqueName("reg");
    const self = await Node.start(name, { cookie: COOKIE, epmdPort: epmd.port });
    try {
      assert.equal(self, `${name}@localhost`);
      assert.equal(Node.self(), self);
      assert.ok(Node.isAlive());
      assert.ok(Wire.creation() > 0);
      const info = await portPlease("127.0.0.1", name, epmd.port);
      assert.deepEqual(info, { port: Wire.localNode()!.port, nodeType: 72, highest: 6, lowest: 6 });
      // The same name twice is refused by EPMD; a second start is refused here.
      await assert.rejects(register(name, 1, { epmdPort: epmd.port, startEpmd: false }), /refused the name/);
      await assert.rejects(Node.start(uniqueName("other"), { cookie: COOKIE, epmdPort: epmd.port }), /already started/);
    } finally {
      await Node.stop();
    }
    assert.equal(Node.self(), "nonode@nohost");
    await until(() => true, "", 15000);
    let after = await portPlease("127.0.0.1", name, epmd.port);
    for (let i = 0; after !== undefined && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 10)); // EPMD notices the closed registration socket
      after = await portPlease("127.0.0.1", name, epmd.port);
    }
    assert.equal(after, undefined);
    // The name is free again.
    await Node.start(name, { cookie: COOKIE, epmdPort: epmd.port });
    await Node.stop();
  } finally {
    await epmd.stop();
  }
});

test(
  "EPMD: with none answering, start runs 'epmd -daemon' (or says clearly it cannot)",
  { timeout: 60_000 },
  async () => {
    const port = await freePort();
    await assert.rejects(
      Node.start(uniqueName("noepmd"), { cookie: COOKIE, epmdPort: port, startEpmd: false }),
      /no EPMD answers on 127\.0\.0\.1:\d+/,
    );
    assert.equal(Node.isAlive(), false);
    const self = await Node.start(uniqueName("autoepmd"), { cookie: COOKIE, epmdPort: port });
    try {
      assert.ok((await portPlease("127.0.0.1", self.split("@")[0], port)) !== undefined);
    } finally {
      await Node.stop();
      // This daemon is ours (its port was free): stop it.
      spawnSync("epmd", ["-port", String(port), "-kill"]);
    }
  },
);

test("bad input: names, cookies, tick times are refused and nothing starts", { timeout: 60_000 }, async () => {
  await assert.rejects(Node.start("bad name", { cookie: COOKIE }), /bad node name/);
  await assert.rejects(Node.start("a@b@c", { cookie: COOKIE }), /bad node name/);
  await assert.rejects(Node.start("ok", { cookie: "has space" }), /cookie/);
  await assert.rejects(Node.start("ok", { cookie: COOKIE, netTickTime: 0 }), /netTickTime/);
  const home = mkdtempSync(join(tmpdir(), "no-cookie-"));
  const saved = { HOME: process.env.HOME, KV_COOKIE: process.env.KV_COOKIE };
  try {
    process.env.HOME = home;
    delete process.env.KV_COOKIE;
    const nowhere = await freePort(); // never the shared EPMD, even if this wrongly started
    await assert.rejects(
      Node.start("ok", { epmdPort: nowhere, startEpmd: false }),
      /no cookie: pass \{ cookie \}, set \$KV_COOKIE/,
    );
  } finally {
    if (saved.HOME === undefined) delete process.env.HOME;
    else process.env.HOME = saved.HOME;
    if (saved.KV_COOKIE !== undefined) process.env.KV_COOKIE = saved.KV_COOKIE;
    rmSync(home, { recursive: true, force: true });
  }
  assert.equal(Node.isAlive(), false);
  await Process.run(() => assert.throws(() => Node.monitor("bad"), /bad node name/));
});

test(
  "ticks keep an idle connection up; a silent peer is dropped with net_tick_timeout",
  { timeout: 60_000 },
  async () => {
    await withNode("parent", async (epmd) => {
      const peer = await startWirePeer(uniqueName("peer"), COOKIE, epmd.port, 1);
      try {
        assert.equal(await Node.connect(peer.node), true);
        const conn = () => Wire.localNode()!.peers.get(peer.node)?.conn;
        // 1 s tick time: a tick every 250 ms each way; 8 of them span twice the tick time.
        await until(() => (conn()?.ticksReceived ?? 0) >= 8, "8 ticks from the peer", 15000);
        assert.deepEqual(Node.list(), [peer.node]);
        await peer.waitLine(/./, 50).catch(() => {});
        assert.ok(!peer.lines.some((l) => l.startsWith("down")), peer.lines.join("\n"));
        const down = nextDown(peer.node);
        peer.freeze();
        assert.equal(await down, "net_tick_timeout");
      } finally {
        await peer.kill();
      }
    }, { netTickTime: 1 });
  },
);

/** A fake node registered in EPMD whose listener takes the connection and then stays silent. */
async function silentNode(epmdPort: number, alive: string) {
  const sockets: net.Socket[] = [];
  const named: Uint8Array[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on("data", (d) => named.push(d));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen({ host: "127.0.0.1", port: 0 }, r));
  const reg = await register(alive, (server.address() as net.AddressInfo).port, { epmdPort, startEpmd: false });
  return {
    named,
    sockets,
    close() {
      reg.close();
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Reads 2-byte-framed handshake packets from a raw socket. */
function handshakeReader(socket: net.Socket) {
  let buf = new Uint8Array(0);
  const waiting: (() => void)[] = [];
  let closed = false;
  socket.on("data", (d: Uint8Array) => {
    const next = new Uint8Array(buf.length + d.length);
    next.set(buf);
    next.set(d, buf.length);
    buf = next;
    waiting.splice(0).forEach((w) => w());
  });
  socket.on("close", () => {
    closed = true;
    waiting.splice(0).forEach((w) => w());
  });
  return {
    async packet(header: 2 | 4 = 2): Promise<Uint8Array | undefined> {
      for (;;) {
        if (buf.length >= header) {
          const len = header === 2 ? (buf[0] << 8) | buf[1] : new DataView(buf.buffer, buf.byteOffset).getUint32(0);
          if (buf.length >= header + len) {
            const p = buf.slice(header, header + len);
            buf = buf.slice(header + len);
            return p;
          }
        }
        if (closed) return undefined;
        await new Promise<void>((r) => waiting.push(r));
      }
    },
  };
}

function frame2(body: number[]): Uint8Array {
  return new Uint8Array([body.length >> 8, body.length & 0xff, ...body]);
}
function nameBody(tag: number, name: string, challenge?: number): number[] {
  const n = new TextEncoder().encode(name);
  const flags = [Math.floor(OUR_FLAGS / 2 ** 32), OUR_FLAGS >>> 0];
  const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return [
    tag,
    ...u32(flags[0]),
    ...u32(flags[1]),
    ...(challenge === undefined ? [] : u32(challenge)),
    ...u32(77),
    n.length >> 8,
    n.length & 255,
    ...n,
  ];
}
const md5 = (cookie: string, challenge: number) => [...createHash("md5").update(cookie + String(challenge)).digest()];

test(
  "simultaneous connect, scripted: the greater name's connection wins, as in OTP's net_kernel",
  { timeout: 60_000 },
  async () => {
    // Our node is "m…": a peer named "z…" wins (we answer ok_simultaneous and drop our attempt),
    // a peer named "a…" loses (we answer nok and keep ours).
    await withNode("m", async (epmd, self) => {
      for (const [prefix, expected] of [["z", "ok_simultaneous"], ["a", "nok"]] as const) {
        const alive = uniqueName(prefix);
        const other = `${alive}@localhost`;
        const fake = await silentNode(epmd.port, alive);
        try {
          const me = new Term.ErlPid(self, 1, 0, Wire.creation());
          assert.equal(Wire.sendControl(other, echoTo(me), [me, "queued"]), true);
          await until(() => fake.named.length > 0, "our send_name at the silent node", 15000);
          assert.equal(fake.named[0][2], 78, "version 6 send_name ('N')");
          // Now the same node connects to us while our attempt is pending.
          const raw = net.connect({ host: "127.0.0.1", port: Wire.localNode()!.port });
          const rd = handshakeReader(raw);
          raw.write(frame2(nameBody(78, other)));
          const status = await rd.packet();
          assert.equal(new TextDecoder().decode(status!.subarray(1)), expected);
          if (expected === "nok") {
            assert.equal(await rd.packet(), undefined, "closed after nok");
            assert.equal(Node.list().length, 0);
            raw.destroy();
            continue;
          }
          await until(
            () => fake.sockets[0].destroyed || fake.sockets[0].readableEnded,
            "our own attempt dropped",
            15000,
          );
          const challenge = await rd.packet();
          assert.equal(challenge![0], 78);
          const theirs = new DataView(challenge!.buffer, challenge!.byteOffset).getUint32(9);
          const ours = 123456789;
          const u32 = [(ours >>> 24) & 255, (ours >>> 16) & 255, (ours >>> 8) & 255, ours & 255];
          raw.write(frame2([114, ...u32, ...md5(COOKIE, theirs)]));
          const ack = await rd.packet();
          assert.deepEqual([...ack!], [97, ...md5(COOKIE, ours)]);
          // Up: what we queued while pending flows on the winning connection.
          const msg = await rd.packet(4);
          assert.equal(msg![0], 112);
          const control = Term.decodeAt(msg!, 1);
          assert.ok(Term.equals(control.term, echoTo(me)));
          assert.ok(Term.equals(Term.decodeAt(msg!, control.end).term, [me, "queued"]));
          assert.deepEqual(Node.list(), [other]);
          const down = nextDown(other);
          raw.destroy();
          assert.equal(await down, "connection_closed");
        } finally {
          fake.close();
        }
      }
    });
  },
);

test(
  "simultaneous connect, raced: both sides connect at once, one connection survives",
  { timeout: 60_000 },
  async () => {
    await withNode("parent", async (epmd, self) => {
      const peer = await startWirePeer(uniqueName("peer"), COOKIE, epmd.port);
      try {
        for (let round = 0; round < 5; round++) {
          const [ours, theirs] = await Promise.all([
            Node.connect(peer.node),
            peer.ask(`connect ${self}`, /^connect \S+ (true|false)$/),
          ]);
          assert.equal(ours, true, `round ${round}`);
          assert.equal(theirs[1], "true", `round ${round}`);
          assert.deepEqual(Node.list(), [peer.node]);
          assert.equal((await peer.ask("list", /^list (.*)$/))[1], self);
          const from = peer.lines.length;
          Node.disconnect(peer.node);
          await peer.waitLine(new RegExp(`^down ${self} `), 15000, from);
        }
      } finally {
        await peer.kill();
      }
    });
  },
);

test("Node.monitor and Node.monitorNodes deliver nodeup/nodedown to the process", { timeout: 60_000 }, async () => {
  await withNode("parent", async (epmd) => {
    const peer = await startWirePeer(uniqueName("peer"), COOKIE, epmd.port);
    try {
      const ghost = uniqueName("ghost") + "@localhost";
      const msgs = await Process.run(async () => {
        Node.monitorNodes(true);
        Node.monitor(ghost); // unreachable: nodedown at once
        const first = await Process.receive();
        Node.monitor(peer.node); // connects
        const up = await Process.receive();
        void peer.kill();
        const downs = [await Process.receive(), await Process.receive()];
        Node.monitorNodes(false);
        return [first, up, ...downs];
      });
      assert.deepEqual(msgs, [
        ["nodedown", ghost],
        ["nodeup", peer.node],
        ["nodedown", peer.node],
        ["nodedown", peer.node],
      ]);
    } finally {
      await peer.kill();
    }
  });
});

test("a peer lacking OTP 25's flags is refused; a silent connection is dropped after the setup time", {
  timeout: 60_000,
}, async () => {
  await withNode("guard", async () => {
    const port = Wire.localNode()!.port;
    const old = net.connect({ host: "127.0.0.1", port });
    const rd = handshakeReader(old);
    const body = nameBody(78, uniqueName("old") + "@localhost");
    for (let i = 1; i <= 8; i++) body[i] = 0; // flags 0
    old.write(frame2(body));
    assert.equal(new TextDecoder().decode((await rd.packet())!.subarray(1)), "not_allowed");
    assert.equal(await rd.packet(), undefined);
    old.destroy();
    const silent = net.connect({ host: "127.0.0.1", port });
    assert.equal(await handshakeReader(silent).packet(), undefined, "closed by us");
    silent.destroy();
  }, { setupTime: 300 });
});

test("the cookie is in no field of the running node", { timeout: 60_000 }, async () => {
  await withNode("secret", () => {
    const node = Wire.localNode()!;
    const seen = new Set<unknown>();
    const hasCookie = (v: unknown, depth: number): boolean => {
      if (typeof v === "string") return v.includes(COOKIE);
      if (v === null || typeof v !== "object" || depth > 4 || seen.has(v)) return false;
      seen.add(v);
      return Object.values(v).some((x) => hasCookie(x, depth + 1));
    };
    assert.equal(hasCookie(node, 0), false);
    assert.doesNotMatch(JSON.stringify(node.opts), new RegExp(COOKIE));
  });
});

/** Completes, as the connecting side, a raw handshake whose status was read; resolves when up. */
async function finishRawHandshake(raw: net.Socket, rd: ReturnType<typeof handshakeReader>): Promise<void> {
  const challenge = await rd.packet();
  assert.equal(challenge![0], 78);
  const theirs = new DataView(challenge!.buffer, challenge!.byteOffset).getUint32(9);
  const ours = 987654321;
  raw.write(
    frame2([114, (ours >>> 24) & 255, (ours >>> 16) & 255, (ours >>> 8) & 255, ours & 255, ...md5(COOKIE, theirs)]),
  );
  assert.deepEqual([...(await rd.packet())!], [97, ...md5(COOKIE, ours)]);
}

test("a node we think is up connects again (it restarted): we ask 'alive', and on 'true' replace the old connection", {
  timeout: 60_000,
}, async () => {
  await withNode("alive", async () => {
    const other = uniqueName("phoenix") + "@localhost";
    const port = Wire.localNode()!.port;
    const first = net.connect({ host: "127.0.0.1", port });
    const rd1 = handshakeReader(first);
    first.write(frame2(nameBody(78, other)));
    assert.equal(new TextDecoder().decode((await rd1.packet())!.subarray(1)), "ok");
    await finishRawHandshake(first, rd1);
    await until(() => Node.list().includes(other), "the first connection up", 15000);
    // The same name again, while the first connection still looks up.
    const second = net.connect({ host: "127.0.0.1", port });
    const rd2 = handshakeReader(second);
    const down = nextDown(other);
    second.write(frame2(nameBody(78, other)));
    assert.equal(new TextDecoder().decode((await rd2.packet())!.subarray(1)), "alive");
    second.write(frame2([115, ...new TextEncoder().encode("true")]));
    assert.equal(await down, "connection_closed");
    assert.equal(await rd1.packet(4), undefined, "the old connection is closed");
    await finishRawHandshake(second, rd2);
    await until(() => Node.list().includes(other), "the new connection up", 15000);
    // Messages now flow on the new one.
    const me = new Term.ErlPid(Node.self(), 1, 0, Wire.creation());
    Wire.sendControl(other, echoTo(me), [me, "after restart"]);
    const frame = await rd2.packet(4);
    assert.ok(Term.equals(Term.decodeAt(frame!, Term.decodeAt(frame!, 1).end).term, [me, "after restart"]));
    first.destroy();
    second.destroy();
  });
});
