/**
 * The Observer's HTTP side: one page and a small JSON API, on the runtime's
 * TCP adapter through `lib/net/http.ts`.
 *
 * | Request                          | Answer                                           |
 * | -------------------------------- | ------------------------------------------------ |
 * | `GET /`                          | the page (`page.html`, `page.css`, `page.js`)    |
 * | `GET /api/system`                | `{ now, history, readOnly }` system figures       |
 * | `GET /api/processes`             | `{ total, processes }`; `?sort=&desc=1&limit=`   |
 * | `GET /api/process/:pid`          | one process's detail, or 404                     |
 * | `GET /api/apps`                  | `{ applications }`, each with its tree            |
 * | `GET /api/ets`                   | `{ tables }`                                      |
 * | `GET /api/nodes`                 | `{ self, alive, nodes }`: other nodes and what is held with each |
 * | `GET /api/logs`                  | `{ logs }`: open disk logs (policy, files, sync)  |
 * | `POST /api/process/:pid/kill`    | exit signal `kill`; 403 when read-only            |
 *
 * `:pid` is `<0.N.0>` (URL-encoded) or just `N`. The kill request must carry
 * `Content-Type: application/json` (so a foreign page cannot send it without
 * a CORS preflight, which is never granted), and, on loopback, the `Host`
 * header must name a loopback address (against DNS rebinding).
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * const obs = await Observer.start({ port: 0 });
 * console.assert(obs.url === `http://127.0.0.1:${obs.port}/`);
 * await obs.close();
 * ```
 *
 * @module
 */
import { type HttpRequest, type HttpResponse, type HttpServer, json, serve } from "../../net/mod.ts";
import {
  applications,
  diskLogs,
  etsTables,
  kill,
  nodes,
  processes,
  processInfo,
  type ProcessSortKey,
  resolvePid,
  type Sampler,
  startSampler,
  system,
} from "./introspect.ts";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./_assets.ts";

/** Options for {@linkcode start}. */
export interface ObserverOptions {
  /** The address to bind. Defaults to `"127.0.0.1"` (loopback). */
  hostname?: string;
  /** The port; `0` picks a free one. Defaults to `0`. */
  port?: number;
  /** Refuse the kill action (403). Defaults to false. */
  readOnly?: boolean;
  /** How often system figures are sampled for the charts, in ms. Defaults to 1000. */
  sampleInterval?: number;
}

/** A running Observer. */
export interface ObserverServer {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** The page's address, `http://HOST:PORT/`. */
  readonly url: string;
  /** Whether the kill action is refused. */
  readonly readOnly: boolean;
  /** Stops serving and sampling. Idempotent. */
  close(): Promise<void>;
}

const SORT_KEYS: ReadonlySet<string> = new Set([
  "id",
  "name",
  "behaviour",
  "status",
  "messageQueueLen",
  "messagesHandled",
  "memory",
]);

const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function asset(body: string, type: string): HttpResponse {
  return { status: 200, headers: { "content-type": type, "cache-control": "no-cache", ...SECURITY_HEADERS }, body };
}

function error(status: number, message: string): HttpResponse {
  return json({ error: message }, status, SECURITY_HEADERS);
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The host part of a `Host` header (`a:1` -> `a`, `[::1]:2` -> `::1`). */
function hostOf(header: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (m !== null) return m[1];
  const colon = header.lastIndexOf(":");
  return colon >= 0 ? header.slice(0, colon) : header;
}

/** The router: a pure function of the request. */
function handler(readOnly: boolean, loopback: boolean, sampler: Sampler): (req: HttpRequest) => Promise<HttpResponse> {
  return async (req) => {
    if (loopback) {
      const host = req.headers.get("host");
      if (host !== undefined && !isLoopbackHost(hostOf(host))) return error(421, "Host must be a loopback address");
    }
    const p = req.path;
    const get = req.method === "GET" || req.method === "HEAD";
    if (p === "/" || p === "/index.html") return get ? asset(PAGE_HTML, "text/html; charset=utf-8") : notAllowed();
    if (p === "/page.js") return get ? asset(PAGE_JS, "text/javascript; charset=utf-8") : notAllowed();
    if (p === "/page.css") return get ? asset(PAGE_CSS, "text/css; charset=utf-8") : notAllowed();
    if (p === "/api/system") {
      return get ? json({ now: system(), history: sampler.samples(), readOnly }, 200, SECURITY_HEADERS) : notAllowed();
    }
    if (p === "/api/processes") {
      if (!get) return notAllowed();
      const sort = req.query.get("sort") ?? "id";
      if (!SORT_KEYS.has(sort)) return error(400, `Unknown sort key ${JSON.stringify(sort.slice(0, 40))}`);
      const desc = req.query.get("desc");
      const limitText = req.query.get("limit");
      const limit = limitText === null ? 1000 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 0) return error(400, "limit must be a non-negative integer");
      const all = processes({
        sortBy: sort as ProcessSortKey,
        descending: desc === null ? undefined : desc === "1" || desc === "true",
      });
      return json({ total: all.length, processes: all.slice(0, limit) }, 200, SECURITY_HEADERS);
    }
    if (p === "/api/apps") {
      return get ? json({ applications: await applications() }, 200, SECURITY_HEADERS) : notAllowed();
    }
    if (p === "/api/ets") return get ? json({ tables: etsTables() }, 200, SECURITY_HEADERS) : notAllowed();
    if (p === "/api/nodes") return get ? json(nodes(), 200, SECURITY_HEADERS) : notAllowed();
    if (p === "/api/logs") return get ? json({ logs: diskLogs() }, 200, SECURITY_HEADERS) : notAllowed();
    const m = /^\/api\/process\/([^/]{1,40})(\/kill)?$/.exec(p);
    if (m !== null) {
      const ref = m[1];
      if (m[2] === undefined) {
        if (!get) return notAllowed();
        const d = await processInfo(ref);
        return d === undefined ? error(404, "No such process") : json(d, 200, SECURITY_HEADERS);
      }
      if (req.method !== "POST") return notAllowed("POST");
      if (readOnly) return error(403, "The observer is read-only");
      const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type !== "application/json") return error(415, "A kill request must be sent as application/json");
      const origin = req.headers.get("origin");
      const host = req.headers.get("host");
      if (origin !== undefined && origin !== "null" && host !== undefined && origin !== `http://${host}`) {
        return error(403, "Cross-origin requests are refused");
      }
      const pid = resolvePid(ref);
      if (pid === undefined || !/^(<0\.\d+\.0>|\d+)$/.test(ref)) return error(404, "No such process");
      kill(pid, "kill");
      return json({ killed: pid.toString() }, 200, SECURITY_HEADERS);
    }
    return error(404, "Not found");
  };
}

function notAllowed(allow = "GET, HEAD"): HttpResponse {
  const r = error(405, "Method not allowed");
  r.headers = { ...r.headers, allow };
  return r;
}

/**
 * Starts the Observer: serves the page and the JSON API on
 * `hostname:port` (loopback and a free port by default) and samples system
 * figures for the charts. Call `close()` to stop both.
 *
 * @example
 * ```ts
 * import * as Observer from "./mod.ts";
 * const obs = await Observer.start({ hostname: "127.0.0.1", port: 0, readOnly: true });
 * console.assert(obs.readOnly && obs.port > 0);
 * await obs.close();
 * ```
 */
export async function start(opts?: ObserverOptions): Promise<ObserverServer> {
  const hostname = opts?.hostname ?? "127.0.0.1";
  const readOnly = opts?.readOnly ?? false;
  const sampler = startSampler({ interval: opts?.sampleInterval ?? 1000 });
  let http: HttpServer;
  try {
    http = await serve({ hostname, port: opts?.port ?? 0 }, handler(readOnly, isLoopbackHost(hostname), sampler));
  } catch (e) {
    sampler.stop();
    throw e;
  }
  const shownHost = http.hostname.includes(":") ? `[${http.hostname}]` : http.hostname;
  let closing: Promise<void> | undefined;
  return {
    hostname: http.hostname,
    port: http.port,
    url: `http://${shownHost}:${http.port}/`,
    readOnly,
    close() {
      closing ??= (async () => {
        sampler.stop();
        await http.close();
      })();
      return closing;
    },
  };
}
