/**
 * `tab2file` / `file2tab`: a table's objects as a file, and back. Private:
 * the public contract is documented in `ets.ts`.
 *
 * The file is UTF-8 text, one JSON value per line: a header (format,
 * version, the table's options, its object count), one line per object
 * (values tagged where JSON has no form for them), and a footer with the
 * count and the CRC-32 of the object lines. It is written to `FILE.tmp`
 * and renamed over `FILE`, so a crash leaves the old file or the new one.
 *
 * @module
 */
import * as fs from "node:fs";
import { crc32 } from "node:zlib";
import { Buffer } from "node:buffer";
import { Pid, Ref } from "../process/pid.ts";
import { EtsError } from "./error.ts";

export const FORMAT = "otp-ts-ets";
export const VERSION = 1;

/** The table options a file records. */
export interface FileHeader {
  format: string;
  version: number;
  name: string;
  named: boolean;
  type: string;
  keyPos: number;
  access: string;
  readConcurrency: boolean;
  writeConcurrency: boolean;
  size: number;
}

function where(path: string[]): string {
  return path.length === 0 ? "" : ` at ${path.join("")}`;
}

/** A value as JSON, tagged where JSON cannot say it; throws on what cannot survive a restart. */
function encode(v: unknown, path: string[]): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) && !Object.is(v, -0) ? v : { n: Object.is(v, -0) ? "-0" : String(v) };
    case "undefined":
      return { u: 1 };
    case "bigint":
      return { b: v.toString() };
    case "function":
    case "symbol":
      throw cannot(`a ${typeof v}`, path);
  }
  if (v === null) return null;
  if (v instanceof Pid) throw cannot(`a pid (${v})`, path);
  if (v instanceof Ref) throw cannot(`a reference (${v})`, path);
  if (Array.isArray(v)) return v.map((x, i) => encode(x, [...path, `[${i}]`]));
  if (v instanceof Map) {
    return { m: [...v].map(([k, x], i) => [encode(k, [...path, `.key(${i})`]), encode(x, [...path, `.get(${i})`])]) };
  }
  if (v instanceof Set) return { s: [...v].map((x, i) => encode(x, [...path, `{${i}}`])) };
  if (v instanceof Uint8Array) return { y: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (v instanceof Date) return { d: v.getTime() };
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return {
      o: Object.keys(v as object).map((k) => [k, encode((v as Record<string, unknown>)[k], [...path, `.${k}`])]),
    };
  }
  throw cannot(`an instance of ${(v as object).constructor?.name ?? "a class"}`, path);
}

function cannot(what: string, path: string[]): EtsError {
  return new EtsError("badarg", `tab2file: ${what}${where(path)} cannot survive a restart; the file is not written`);
}

/** The inverse of `encode`; throws on what `encode` never writes. */
function decode(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(decode);
  const o = v as Record<string, unknown>;
  if ("n" in o) return Number(o.n);
  if ("u" in o) return undefined;
  if ("b" in o) return BigInt(o.b as string);
  if ("m" in o) return new Map((o.m as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]));
  if ("s" in o) return new Set((o.s as unknown[]).map(decode));
  if ("y" in o) return new Uint8Array(Buffer.from(o.y as string, "base64"));
  if ("d" in o) return new Date(o.d as number);
  if ("o" in o) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of o.o as [string, unknown][]) {
      Object.defineProperty(out, k, { value: decode(x), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  throw new Error(`unknown tag ${Object.keys(o).join(",")}`);
}

/** Writes the file (all or nothing). */
export function writeTable(file: string, header: FileHeader, objects: readonly unknown[], sync: boolean): void {
  // Encode everything first: a value that cannot be written leaves no file at all.
  const lines = objects.map((obj, i) => JSON.stringify(encode(obj, [`object ${i + 1}`])));
  const body = lines.length === 0 ? "" : lines.join("\n") + "\n";
  const bodyBytes = Buffer.from(body, "utf8");
  const text = JSON.stringify(header) + "\n" + body +
    JSON.stringify({ end: true, count: lines.length, crc32: crc32(bodyBytes) >>> 0 }) + "\n";
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeFileSync(fd, text);
    if (sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Reads a file: its header and objects. With `verify`, the count and CRC must match and the footer be there. */
export function readTable(file: string, verify: boolean): { header: FileHeader; objects: unknown[][] } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new EtsError("badarg", `file2tab: cannot read ${file}: ${(e as Error).message}`);
  }
  const bad = (why: string) => new EtsError("badarg", `file2tab: ${file}: ${why}`);
  const lines = text.split("\n");
  let header: FileHeader;
  try {
    header = JSON.parse(lines[0]);
  } catch {
    throw bad("not a table file (bad header)");
  }
  if (header?.format !== FORMAT) throw bad("not a table file (bad header)");
  if (header.version !== VERSION) {
    throw bad(`unknown table file version ${header.version} (this build reads ${VERSION})`);
  }
  const objects: unknown[][] = [];
  let footer: { end: true; count: number; crc32: number } | undefined;
  let bodyEnd = lines[0].length + 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (verify) throw bad(`line ${i + 1} is damaged`);
      break; // a torn end: keep what was read
    }
    if (!Array.isArray(value)) {
      footer = value as typeof footer;
      break;
    }
    try {
      objects.push(decode(value) as unknown[]);
    } catch (e) {
      if (verify) throw bad(`line ${i + 1}: ${(e as Error).message}`);
      break;
    }
    bodyEnd += line.length + 1;
  }
  if (verify) {
    if (footer?.end !== true) throw bad("truncated (no end marker)");
    if (footer.count !== objects.length || header.size !== objects.length) {
      throw bad(`object count ${objects.length} does not match the recorded ${footer.count}`);
    }
    const crc = crc32(Buffer.from(text.slice(lines[0].length + 1, bodyEnd), "utf8")) >>> 0;
    if (crc !== footer.crc32) throw bad("checksum mismatch (the objects were changed)");
  }
  return { header, objects };
}
