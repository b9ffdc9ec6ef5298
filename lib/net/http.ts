/**
 * A small HTTP/1.1 server on the TCP contract of `tcp.ts`, for tools such as
 * the Observer: request parsing with limits, any method, keep-alive and
 * pipelining (answered in order), and plain responses with a known length.
 * No chunked request bodies, no upgrades, no TLS.
 *
 * Bad input never reaches the handler: a malformed request line or header
 * gets `400`, a head past `maxHeaderBytes` or `maxHeaders` gets `431`, a body
 * past `maxBodyBytes` gets `413`, `Transfer-Encoding` gets `501`, an unknown
 * HTTP version `505`; each of these closes the connection. A connection that
 * sends no complete request within `idleTimeout` is closed.
 *
 * @example
 * ```ts
 * import { json, serve } from "./http.ts";
 * import { connect } from "./tcp.ts";
 * import assert from "node:assert/strict";
 *
 * const server = await serve({ port: 0 }, (req) => json({ path: req.path, q: req.query.get("q") }));
 * const got = Promise.withResolvers<string>();
 * let text = "";
 * const client = await connect({ port: server.port }, () => ({
 *   data(bytes) { text += new TextDecoder().decode(bytes); },
 *   close() { got.resolve(text); },
 * }));
 * client.write(new TextEncoder().encode("GET /hi?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
 * const reply = await got.promise;
 * assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
 * assert.ok(reply.endsWith('{"path":"/hi","q":"1"}'));
 * await server.close();
 * ```
 *
 * @module
 */
import { listen, type TcpConnection, type TcpConnectionHandler, type TcpListener } from "./tcp.ts";

/** One parsed request, as the handler sees it. */
export interface HttpRequest {
  /** The method, as sent (methods are case-sensitive): `GET`, `POST`, ... */
  readonly method: string;
  /** The request target, as sent. */
  readonly target: string;
  /** The decoded-once path of the target (`/api/x`), without the query. */
  readonly path: string;
  /** The query parameters. */
  readonly query: URLSearchParams;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  readonly version: string;
  /** Header fields, names lower-cased; repeated fields joined with `, `. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body (empty without `Content-Length`). */
  readonly body: Uint8Array;
  /** The peer's address. */
  readonly remoteAddress: string;
}

/** What a handler answers. */
export interface HttpResponse {
  /** The status code, 100..999 (1xx are not supported: use 200..). */
  status: number;
  /** Extra header fields. `Content-Length` and `Connection` are set by the server. */
  headers?: Record<string, string>;
  /** The body; a string is sent as UTF-8. */
  body?: string | Uint8Array;
}

/** Answers one request. A throw or rejection becomes a `500`. */
export type HttpHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** Where and how to serve. */
export interface HttpServeOptions {
  /** The address to bind. Defaults to `"127.0.0.1"`. */
  hostname?: string;
  /** The port; `0` picks a free one. Defaults to `0`. */
  port?: number;
  /** Largest request line plus headers, in bytes. Defaults to 16 KiB. */
  maxHeaderBytes?: number;
  /** Most header fields in one request. Defaults to 100. */
  maxHeaders?: number;
  /** Largest request body, in bytes. Defaults to 1 MiB. */
  maxBodyBytes?: number;
  /** Close a connection that sends no complete request for this long, in ms. Defaults to 10 000. */
  idleTimeout?: number;
  /** Called with anything a handler throws. Defaults to `console.error`. */
  onError?: (error: unknown) => void;
}

/** A running HTTP server. */
export interface HttpServer {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** Stops accepting, closes every connection, resolves once the port is free. Idempotent. */
  close(): Promise<void>;
}

/** Reason phrases for the statuses this module and its users send. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/**
 * A JSON response.
 *
 * @example
 * ```ts
 * import { json } from "./http.ts";
 * import assert from "node:assert/strict";
 * const r = json({ ok: true }, 201);
 * assert.equal(r.status, 201);
 * assert.equal(r.body, '{"ok":true}');
 * assert.equal(r.headers!["content-type"], "application/json; charset=utf-8");
 * ```
 */
export function json(value: unknown, status = 200, headers?: Record<string, string>): HttpResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
    body: JSON.stringify(value),
  };
}

/**
 * A text response (`text/plain` unless `contentType` says otherwise).
 *
 * @example
 * ```ts
 * import { text } from "./http.ts";
 * import assert from "node:assert/strict";
 * const r = text("<p>hi</p>", 200, "text/html; charset=utf-8");
 * assert.equal(r.headers!["content-type"], "text/html; charset=utf-8");
 * ```
 */
export function text(body: string, status = 200, contentType = "text/plain; charset=utf-8"): HttpResponse {
  return { status, headers: { "content-type": contentType }, body };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A request the parser refused, with the status to answer. */
class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Where the head ends: the index after its blank line, or -1. */
function headEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i + 1] === 10) return i + 2;
    if (buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

interface Head {
  method: string;
  target: string;
  path: string;
  query: URLSearchParams;
  version: string;
  headers: Map<string, string>;
  contentLength: number;
  keepAlive: boolean;
}

function parseHead(raw: string, o: Required<HttpServeOptions>): Head {
  const lines = raw.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const m = REQUEST_LINE.exec(lines[0] ?? "");
  if (m === null) throw new HttpError(400, "Malformed request line");
  const [, method, target, major, minor] = m;
  if (!TOKEN.test(method)) throw new HttpError(400, "Malformed method");
  if (major !== "1" || (minor !== "0" && minor !== "1")) throw new HttpError(505, "Unsupported HTTP version");
  if (lines.length - 1 > o.maxHeaders) throw new HttpError(431, "Too many header fields");
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HttpError(400, "Malformed header field");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpError(400, "Malformed header field name");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) throw new HttpError(400, "Malformed header field value");
    const key = name.toLowerCase();
    const prev = headers.get(key);
    if (key === "content-length" && prev !== undefined && prev !== value) {
      throw new HttpError(400, "Conflicting Content-Length");
    }
    headers.set(key, prev === undefined || key === "content-length" ? value : `${prev}, ${value}`);
  }
  if (headers.has("transfer-encoding")) throw new HttpError(501, "Transfer-Encoding is not supported");
  let contentLength = 0;
  const cl = headers.get("content-length");
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) throw new HttpError(400, "Malformed Content-Length");
    contentLength = Number(cl);
    if (contentLength > o.maxBodyBytes) throw new HttpError(413, "Body too large");
  }
  let url: URL;
  try {
    if (target.startsWith("/")) url = new URL(`http://h${target}`);
    else if (/^https?:\/\//i.test(target)) url = new URL(target);
    else if (target === "*" && method === "OPTIONS") url = new URL("http://h/");
    else throw new Error("bad target");
  } catch {
    throw new HttpError(400, "Malformed request target");
  }
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    throw new HttpError(400, "Malformed request path");
  }
  const conn = (headers.get("connection") ?? "").toLowerCase().split(",").map((s) => s.trim());
  const keepAlive = minor === "1" ? !conn.includes("close") : conn.includes("keep-alive");
  return {
    method,
    target,
    path,
    query: url.searchParams,
    version: `HTTP/1.${minor}`,
    headers,
    contentLength,
    keepAlive,
  };
}

/** Serializes a response (head and body in one buffer). */
function serialize(res: HttpResponse, keepAlive: boolean, head: boolean, version: string): Uint8Array {
  const status = Number.isInteger(res.status) && res.status >= 200 && res.status <= 999 ? res.status : 500;
  const body = res.body === undefined
    ? new Uint8Array(0)
    : typeof res.body === "string"
    ? encoder.encode(res.body)
    : res.body;
  let h = `${version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1"} ${status} ${STATUS_TEXT[status] ?? "Unknown"}\r\n`;
  if (res.headers !== undefined) {
    for (const [k, v] of Object.entries(res.headers)) {
      const lk = k.toLowerCase();
      if (lk === "content-length" || lk === "connection" || lk === "transfer-encoding") continue;
      if (!TOKEN.test(k) || BAD_VALUE.test(String(v))) continue;
      h += `${k}: ${v}\r\n`;
    }
  }
  h += `content-length: ${body.length}\r\nconnection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
  const headBytes = encoder.encode(h);
  if (head || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  return out;
}

/** One connection's parser and response queue. */
class HttpConnection implements TcpConnectionHandler {
  #conn: TcpConnection;
  #handler: HttpHandler;
  #o: Required<HttpServeOptions>;
  #buf: Uint8Array = new Uint8Array(0);
  #scanned = 0;
  #head: Head | null = null;
  #busy = false;
  #done = false;
  #paused = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #peerEnded = false;
  #parsing = false;
  #onGone: (c: HttpConnection) => void;

  constructor(
    conn: TcpConnection,
    handler: HttpHandler,
    o: Required<HttpServeOptions>,
    onGone: (c: HttpConnection) => void,
  ) {
    this.#conn = conn;
    this.#handler = handler;
    this.#o = o;
    this.#onGone = onGone;
    this.#arm();
  }

  data(bytes: Uint8Array): void {
    if (this.#done) return;
    const next = new Uint8Array(this.#buf.length + bytes.length);
    next.set(this.#buf, 0);
    next.set(bytes, this.#buf.length);
    this.#buf = next;
    if (this.#busy) {
      if (this.#buf.length > this.#o.maxHeaderBytes + this.#o.maxBodyBytes && !this.#paused) {
        this.#paused = true;
        this.#conn.pause();
      }
      return;
    }
    this.#parse();
  }

  end(): void {
    this.#peerEnded = true;
    if (!this.#busy) this.#finish();
  }

  close(): void {
    this.#done = true;
    this.#disarm();
    this.#onGone(this);
  }

  /** Closes the connection now (server shutdown). */
  shutdown(): void {
    this.#done = true;
    this.#disarm();
    this.#conn.abort();
  }

  #arm(): void {
    this.#disarm();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#busy || this.#done) return;
      if (this.#buf.length > 0) this.#fail(new HttpError(408, "Request timeout"));
      else this.#finish();
    }, this.#o.idleTimeout);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#disarm();
    this.#conn.close();
  }

  #fail(e: HttpError): void {
    this.#conn.write(serialize(text(`${e.message}\n`, e.status), false, false, "HTTP/1.1"));
    this.#finish();
  }

  #parse(): void {
    // A handler that answers synchronously lands back here: let the loop below go on.
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      this.#parseLoop();
    } finally {
      this.#parsing = false;
    }
  }

  #parseLoop(): void {
    while (!this.#done && !this.#busy) {
      if (this.#head === null) {
        // Tolerate blank lines between requests (RFC 9112, 2.2).
        let skip = 0;
        while (skip < this.#buf.length && (this.#buf[skip] === 13 || this.#buf[skip] === 10)) skip++;
        if (skip > 0) {
          this.#buf = this.#buf.subarray(skip);
          this.#scanned = 0;
        }
        const end = headEnd(this.#buf, Math.max(0, this.#scanned - 2));
        if (end < 0) {
          this.#scanned = this.#buf.length;
          if (this.#buf.length > this.#o.maxHeaderBytes) this.#fail(new HttpError(431, "Request head too large"));
          return;
        }
        if (end > this.#o.maxHeaderBytes) return this.#fail(new HttpError(431, "Request head too large"));
        try {
          this.#head = parseHead(latin1.decode(this.#buf.subarray(0, end)), this.#o);
        } catch (e) {
          return this.#fail(e instanceof HttpError ? e : new HttpError(400, "Bad request"));
        }
        this.#buf = this.#buf.subarray(end);
        this.#scanned = 0;
      }
      const head = this.#head;
      if (this.#buf.length < head.contentLength) return;
      const body = this.#buf.slice(0, head.contentLength);
      this.#buf = this.#buf.subarray(head.contentLength);
      this.#head = null;
      this.#dispatch(head, body);
    }
  }

  #dispatch(head: Head, body: Uint8Array): void {
    this.#busy = true;
    this.#disarm();
    const req: HttpRequest = {
      method: head.method,
      target: head.target,
      path: head.path,
      query: head.query,
      version: head.version,
      headers: head.headers,
      body,
      remoteAddress: this.#conn.remoteAddress,
    };
    let r: HttpResponse | Promise<HttpResponse>;
    try {
      r = this.#handler(req);
    } catch (e) {
      r = Promise.reject(e);
    }
    if (r instanceof Promise) {
      r.then((res) => this.#respond(head, res), (e) => this.#respondError(head, e));
    } else {
      this.#respond(head, r);
    }
  }

  #respondError(head: Head, e: unknown): void {
    this.#o.onError(e);
    this.#respond(head, text("Internal server error\n", 500));
  }

  #respond(head: Head, res: HttpResponse): void {
    if (this.#done) return;
    let bytes: Uint8Array;
    const keep = head.keepAlive && !this.#peerEnded;
    try {
      bytes = serialize(res, keep, head.method === "HEAD", head.version);
    } catch (e) {
      this.#o.onError(e);
      bytes = serialize(text("Internal server error\n", 500), keep, false, head.version);
    }
    this.#conn.write(bytes);
    this.#busy = false;
    if (!keep) return this.#finish();
    if (this.#paused) {
      this.#paused = false;
      this.#conn.resume();
    }
    this.#arm();
    this.#parse();
  }
}

/**
 * Serves HTTP/1.1 on `options.hostname:options.port` (default
 * `127.0.0.1:0`), answering each request with `handler`.
 *
 * @example
 * ```ts
 * import { serve, text } from "./http.ts";
 * import assert from "node:assert/strict";
 * const server = await serve({ port: 0 }, () => text("hello"));
 * assert.equal(server.hostname, "127.0.0.1");
 * assert.ok(server.port > 0);
 * await server.close();
 * ```
 */
export async function serve(options: HttpServeOptions, handler: HttpHandler): Promise<HttpServer> {
  const o: Required<HttpServeOptions> = {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    maxHeaders: options.maxHeaders ?? 100,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    idleTimeout: options.idleTimeout ?? 10_000,
    onError: options.onError ?? ((e) => console.error("HTTP handler failed:", e)),
  };
  const open = new Set<HttpConnection>();
  const gone = (c: HttpConnection) => open.delete(c);
  const listener: TcpListener = await listen(
    { hostname: o.hostname, port: o.port, onError: o.onError },
    (conn) => {
      const c = new HttpConnection(conn, handler, o, gone);
      open.add(c);
      return c;
    },
  );
  let closing: Promise<void> | undefined;
  return {
    hostname: listener.hostname,
    port: listener.port,
    close() {
      closing ??= (async () => {
        for (const c of open) c.shutdown();
        open.clear();
        await listener.close();
      })();
      return closing;
    },
  };
}
