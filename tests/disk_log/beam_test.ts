// DiskLog against OTP's disk_log, the oracle: the same scenario on the BEAM and here.
// Formats differ (binaries here, terms there), so what is compared is the behaviour: after a
// torn last record, a repairing open recovers the same number of records, a chunked read gives
// them in order, and appending after the cut goes on at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { DiskLog } from "../../mod.ts";
import { beamSkip } from "../node/_beam.ts";

const skip = beamSkip("disk_log beam_test");

/** The scenario on the BEAM; its lines of output. */
function onBeam(file: string): string[] {
  const script = `
    F = "${file}",
    F2 = F ++ ".crashed",
    {ok, x} = disk_log:open([{name, x}, {file, F}, {type, halt}]),
    [ok = disk_log:log(x, T) || T <- [first, second, third]],
    ok = disk_log:sync(x),
    %% The file as a crash leaves it: open (not closed properly), its last term torn.
    {ok, _} = file:copy(F, F2),
    {ok, Info} = file:read_file_info(F2),
    {ok, Fd} = file:open(F2, [read, write, raw, binary]),
    {ok, _} = file:position(Fd, element(2, Info) - 2), ok = file:truncate(Fd), ok = file:close(Fd),
    {repaired, z, {recovered, N}, {badbytes, _}} = disk_log:open([{name, z}, {file, F2}, {type, halt}, {repair, true}]),
    io:format("recovered ~w~n", [N]),
    {_, Before} = disk_log:chunk(z, start),
    io:format("chunk ~w~n", [Before]),
    ok = disk_log:log(z, after_cut),
    {C, After} = disk_log:chunk(z, start),
    io:format("chunk ~w ~w~n", [After, disk_log:chunk(z, C)]),
    halt().`;
  const r = spawnSync("erl", ["-noshell", "-eval", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout.split("\n").filter((l) => /^(recovered|chunk)/.test(l));
}

/** The same scenario here. */
async function here(): Promise<string[]> {
  const disk = new DiskLog.MemoryFileSystem();
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  const [, log] = await DiskLog.open({ name: "beam_oracle", dir: "/d", fs: disk });
  for (const t of ["first", "second", "third"]) DiskLog.alog(log, enc(t));
  const file = DiskLog.info(log).files[0].path;
  await DiskLog.close(log);
  disk.cut(file, disk.size(file) - 2);
  const r = await DiskLog.open({ name: "beam_oracle", dir: "/d", fs: disk, repair: true });
  assert.equal(r[0], "repaired");
  const out = [`recovered ${r[0] === "repaired" ? r[2].recovered : "none"}`];
  const z = r[1];
  const all = async () => {
    const got: string[] = [];
    let c = await DiskLog.chunk(z);
    for (; c !== "eof"; c = await DiskLog.chunk(z, c[0])) got.push(...c[1].map(dec));
    return got;
  };
  out.push(`chunk [${(await all()).join(",")}]`);
  await DiskLog.log(z, enc("after_cut"));
  out.push(`chunk [${(await all()).join(",")}] eof`);
  await DiskLog.close(z);
  return out;
}

test(
  "a torn last record: recovered count, chunks and appends as OTP's disk_log",
  { skip, timeout: 120_000 },
  async () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/disk-log-beam-`);
    try {
      assert.deepEqual(await here(), onBeam(`${dir}/x.LOG`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
