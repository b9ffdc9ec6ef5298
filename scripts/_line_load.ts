/**
 * The load generator the durability benchmarks share (`bench_durable.ts`,
 * `bench_durable_ab.ts`): connections that send a pipelined batch and wait
 * for its reply lines, the 10,000 16-byte keys and values, and one phase of
 * `ops` requests over all connections.
 *
 * @module
 */

import * as net from "node:net";
import { Buffer } from "node:buffer";

/** Keys cycled through by a phase. */
export const KEY_SPACE = 10_000;

/** A 16-byte key. */
export function key16(i: number): string {
  return `k${String(i).padStart(15, "0")}`;
}

/** A 16-byte value. */
export const VALUE16 = "v".repeat(16);

/** The requests of a phase, one per key: the kv protocol's, or Redis's inline commands. */
export function requests(protocol: "kv" | "redis", phase: "PUT" | "GET"): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < KEY_SPACE; k++) {
    const key = key16(k);
    const line = protocol === "redis"
      ? (phase === "PUT" ? `SET b:${key} ${VALUE16}\r\n` : `GET b:${key}\r\n`)
      : (phase === "PUT" ? `PUT b ${key} ${VALUE16}\r\n` : `GET b ${key}\r\n`);
    out.push(Buffer.from(line, "latin1"));
  }
  return out;
}

/** Reply lines per request: a kv GET answers the value (or an empty line) then OK, Redis one bulk reply in two lines. */
export function linesPer(phase: "PUT" | "GET"): number {
  return phase === "PUT" ? 1 : 2;
}

/** One client connection on 127.0.0.1. */
export class LineConnection {
  readonly socket: net.Socket;
  #expected = 0;
  #newlines = 0;
  #done: (() => void) | undefined;
  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.#newlines++;
      if (this.#newlines >= this.#expected) {
        this.#newlines -= this.#expected;
        this.#expected = 0;
        const done = this.#done;
        this.#done = undefined;
        done?.();
      }
    });
  }
  ready(): Promise<void> {
    return new Promise((resolve) => this.socket.once("connect", () => resolve()));
  }
  /** Sends `batch` and resolves once `lines` reply lines came back. */
  send(batch: Buffer, lines: number): Promise<void> {
    return new Promise((resolve) => {
      this.#expected = lines;
      this.#done = resolve;
      this.socket.write(batch);
    });
  }
}

/** ops/s of `ops` requests from `reqs` over `conns`, `pipeline` deep, each answered in `lines` lines. */
export async function phase(
  conns: LineConnection[],
  reqs: Buffer[],
  lines: number,
  pipeline: number,
  ops: number,
): Promise<number> {
  let issued = 0, cursor = 0;
  const start = performance.now();
  await Promise.all(conns.map(async (c) => {
    for (;;) {
      const n = Math.min(pipeline, ops - issued);
      if (n <= 0) return;
      issued += n;
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        parts.push(reqs[cursor]);
        cursor = cursor + 1 === reqs.length ? 0 : cursor + 1;
      }
      await c.send(Buffer.concat(parts), n * lines);
    }
  }));
  return ops / ((performance.now() - start) / 1000);
}
