/**
 * A TypeScript node for the distribution tests, run as a child process (its
 * BEAM twin is `fixtures/otp_ts_peer.erl`):
 * `_peer.ts NAME COOKIE`. It prints `ready NODE` once started, then serves a
 * GenServer registered as `peer` whose calls (atoms as commands, since strings
 * cross nodes as binaries) let a test make things happen on this node:
 *
 * - `{spawn}`: a process that waits for `{stop, Reason}` and exits with Reason; replies its pid.
 * - `{watch, Pid, ReportTo}`: a process trapping exits that links to and monitors Pid, sends
 *   `{watching, Self}` to ReportTo once it has, then `{exit, From, Reason}` / `{down, Pid, Reason}`;
 *   replies its pid.
 * - `{call, Dest, Request}`: `GenServer.call(Dest, Request)` from here; replies `{ok, Reply}` or
 *   `{error, Reason}`.
 * - `{echo, X}`: replies X; `{hang}` never replies. Casts `{send, To, Msg}` send Msg to To.
 *
 * @module
 */
import process from "node:process";
import { GenServer, Node, Process } from "../../mod.ts";

const [name, cookie] = process.argv.slice(2);
const A = (s: string) => Symbol.for(s);
const keyOf = (v: unknown) => typeof v === "symbol" ? Symbol.keyFor(v) : undefined;

await GenServer.start(
  {
    init: () => ["ok", null],
    handleCall(req: unknown[], _from, s) {
      switch (keyOf(req[0])) {
        case "spawn":
          return [
            "reply",
            Process.spawn(async ({ receive, exit }) => {
              const [, reason] = await receive<[symbol, unknown]>((m) => Array.isArray(m) && m[0] === A("stop"));
              exit(typeof reason === "symbol" ? Symbol.keyFor(reason) : reason); // exit/1
            }),
            s,
          ];
        case "watch": {
          const [, target, reportTo] = req as [symbol, Process.Pid, Process.Pid];
          return [
            "reply",
            Process.spawn(async ({ receive }) => {
              Process.trapExit(true);
              Process.link(target);
              Process.monitor(target);
              Process.send(reportTo, [A("watching"), Process.self()]);
              for (;;) {
                const m = await receive();
                if (m instanceof Process.ExitMessage) Process.send(reportTo, [A("exit"), m.from, m.reason]);
                else if (m instanceof Process.DownMessage) Process.send(reportTo, [A("down"), m.pid, m.reason]);
              }
            }),
            s,
          ];
        }
        case "call": {
          const [, dest, request] = req as [symbol, Process.Pid, unknown];
          return GenServer.call(dest, request, 2000).then(
            (r) => ["reply", [A("ok"), r], s] as const,
            (e: GenServer.CallError) => ["reply", [A("error"), e.reason], s] as const,
          );
        }
        case "echo":
          return ["reply", req[1], s];
        case "hang":
          return ["noreply", s];
        default:
          return ["reply", A("badarg"), s];
      }
    },
    handleCast(msg: unknown[], s) {
      if (keyOf(msg[0]) === "send") Process.send(msg[1] as Process.Pid, msg[2]);
      return ["noreply", s];
    },
  },
  undefined,
  { name: "peer" },
);

const full = await Node.start(name, { cookie });
console.log(`ready ${full}`);
// Its parent holds stdin open: if the parent dies (even killed), the peer goes too.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
