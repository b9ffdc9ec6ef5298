// Type-level tests, checked by `deno check` (.ci/checks/type_tests.sh), never run: each
// `@ts-expect-error` line must be a compile error, or the check fails ("Unused
// '@ts-expect-error' directive"). The lines without it must compile.
import { Agent, GenServer, type Pid, Process } from "../../mod.ts";

type Request = "get" | { kind: "take"; n: number };

export async function typedGenServer(): Promise<void> {
  const pid = await GenServer.start({
    init: () => ["ok", 0],
    handleCall: (req: Request, _from, n: number) => ["reply", typeof req === "string" ? n : n - req.n, n],
    handleCast: (_req: "inc", n: number) => ["noreply", n + 1],
    handleInfo: (_msg: "tick", n: number) => ["noreply", n],
  }, undefined);

  // The declared requests compile.
  await GenServer.call(pid, "get");
  await GenServer.call(pid, { kind: "take", n: 1 });
  GenServer.callWith(pid, "get", () => {}, () => {});
  GenServer.cast(pid, "inc");
  Process.send(pid, "tick");

  // @ts-expect-error: a call request outside the server's type
  await GenServer.call(pid, "put");
  // @ts-expect-error: a misspelt field of an object request
  await GenServer.call(pid, { kind: "tak", n: 1 });
  // @ts-expect-error: a missing field
  await GenServer.call(pid, { kind: "take" });
  // @ts-expect-error: the same through callWith
  GenServer.callWith(pid, "put", () => {}, () => {});
  // @ts-expect-error: a cast outside the server's cast type
  GenServer.cast(pid, "dec");
  // @ts-expect-error: a message outside handleInfo's type
  Process.send(pid, "tock");
}

export async function singleLiteralRequest(): Promise<void> {
  // A one-literal request type is not widened by the call's argument either.
  const pid = await GenServer.start({
    init: () => ["ok", 0],
    handleCall: (_req: "get", _from, n: number) => ["reply", n, n],
  }, undefined);
  await GenServer.call(pid, "get");
  // @ts-expect-error: "put" does not widen the request type to "get" | "put"
  await GenServer.call(pid, "put");
}

export async function explicitlyTypedRef(server: GenServer.ServerRef<{ kind: "take" }, number, "inc", "tick">) {
  const n: number = await GenServer.call(server, { kind: "take" });
  // @ts-expect-error: the reply is a number
  const s: string = await GenServer.call(server, { kind: "take" });
  // @ts-expect-error: misspelt kind
  await GenServer.call(server, { kind: "tak" });
  // @ts-expect-error: wrong cast
  GenServer.cast(server, "dec");
  // @ts-expect-error: wrong info
  Process.send(server, "tock");
  return [n, s];
}

export async function untyped(pid: Pid, name: string): Promise<void> {
  // What stays untyped: a plain Pid, and a server named by a string (a name says nothing
  // of the type of the server registered under it). Anything goes, checked at run time.
  await GenServer.call(pid, "anything");
  await GenServer.call(name, { any: "shape" });
  GenServer.cast(name, 42);
  Process.send(pid, Symbol("any"));
  Process.send(name, ["any", "tuple"]);
}

export async function typedAgent(): Promise<void> {
  const agent = await Agent.start(() => new Map<string, number>());
  await Agent.update(agent, (m) => m.set("milk", 3));
  const milk: number | undefined = await Agent.get(agent, (m) => m.get("milk"));
  // @ts-expect-error: the agent holds a Map<string, number>
  await Agent.update(agent, (m) => m.set("milk", "three"));
  // @ts-expect-error: a prepared update of another state type
  Agent.updateWith(agent, Agent.prepareUpdate((n: number) => n + 1), () => {});
  void milk;
}
