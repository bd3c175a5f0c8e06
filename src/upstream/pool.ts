// One connection pool per upstream origin, kept alive across requests. Pools are not capped at a
// small connection count: concurrency = RPS x upstream latency, so a fixed cap turns into a hidden
// queue under load. Queue depth is exported for the metrics endpoint.
//
// The pool is a stack of our own single-request HTTP/1.1 connections (connection.ts): a free one
// is popped in O(1) and pushed back when its response is complete. undici's Pool scanned every
// client for a free one on each request, and undici's Client cost ~20 µs of CPU per request more
// than connection.ts (bench/, BENCHMARKS.md).
import * as errors from "./errors.js";
import type { UpstreamBody, UpstreamReply, WireClock } from "../providers/types.js";
import type { CancelSignal } from "../server/cancellation.js";
import { UpstreamConnection, type ConnectionOwner, type ExchangeEvents, type UpstreamTarget, type UpstreamTlsOptions } from "./connection.js";
import { isToken } from "../server/http1/syntax.js";
import { PushBody } from "./push-body.js";

/**
 * A response body read to its end before the reply is handed over (non-streaming calls). It
 * implements the same UpstreamBody interface as undici's streaming body, without a Readable
 * stream, a body-consumer promise chain and a copy per response (bench: ~35 µs per request).
 */
export class BufferedBody implements UpstreamBody {
  constructor(private readonly bytes: Buffer) {}

  /** The body itself, without the copy arrayBuffer() makes. */
  buffer(): Buffer {
    return this.bytes;
  }

  text(): Promise<string> {
    return Promise.resolve(this.bytes.toString("utf8"));
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.bytes;
    return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.bytes.length > 0) yield this.bytes;
  }
}

/** One upstream request as the pool sends it. */
export interface UpstreamCall {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** The client went away or the deadline passed: abort the request. */
  cancel: CancelSignal;
  headersTimeout: number;
  bodyTimeout: number;
}

/** Idle clients kept beyond this are closed when they come back (bounds memory after a burst). */
const MAX_IDLE = 4096;

/** Checked every this many ms: connect, header and body deadlines, and idle connections. */
const SWEEP_MS = 250;
// A header name is a token; a value has no CR, LF or NUL (they would split the request).
const HEADER_VALUE_BAD = /[\r\n\0]/;
// A request target: visible ASCII only (no space, CR, LF); a method: a token.
const REQUEST_TARGET = /^\/[\x21-\x7e]*$/;

interface HeaderLines {
  lines: string;
  /** The caller set Host itself (a provider's `headers:`); it replaces the one from the URL. */
  hasHost: boolean;
}

/** Header lines of the header objects codecs reuse on every request (they are frozen). */
const headerLines = new WeakMap<Readonly<Record<string, string>>, HeaderLines>();

function formatHeaders(headers: Readonly<Record<string, string>>): HeaderLines {
  let lines = "";
  let hasHost = false;
  for (const name in headers) {
    const value = headers[name] as string;
    if (!isToken(name, 0, name.length) || HEADER_VALUE_BAD.test(value)) throw new errors.InvalidArgumentError(`invalid upstream request header: ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    // Framing is ours: the length comes from the body, and the connection is kept alive.
    if (lower === "content-length" || lower === "transfer-encoding" || lower === "connection") continue;
    if (lower === "host") hasHost = true;
    lines += `${name}: ${value}\r\n`;
  }
  return { lines, hasHost };
}

function headerLinesOf(headers: Readonly<Record<string, string>>): HeaderLines {
  if (!Object.isFrozen(headers)) return formatHeaders(headers);
  let lines = headerLines.get(headers);
  if (lines === undefined) {
    lines = formatHeaders(headers);
    headerLines.set(headers, lines);
  }
  return lines;
}

function targetOf(origin: string, tlsOptions: UpstreamTlsOptions | undefined): UpstreamTarget {
  const url = new URL(origin);
  const tls = url.protocol === "https:";
  if (!tls && url.protocol !== "http:") throw new errors.InvalidArgumentError(`unsupported upstream protocol ${url.protocol}`);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { tls, host, port: url.port === "" ? (tls ? 443 : 80) : Number(url.port), hostHeader: url.host, tlsOptions };
}

export class UpstreamPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly connections = new Set<UpstreamConnection>();
  private readonly target: UpstreamTarget;
  private readonly sweep: ReturnType<typeof setInterval>;
  private closing = false;
  private drained: (() => void) | undefined;
  tlsSession: Buffer | undefined;
  /** Learned from the upstream's keep-alive hints (ConnectionOwner). */
  idleLimitMs: number | undefined;

  /** `tlsOptions`: extra TLS settings (tests pass a private CA); production uses the system's. */
  constructor(
    readonly origin: string,
    tlsOptions?: UpstreamTlsOptions,
  ) {
    this.target = targetOf(origin, tlsOptions);
    this.sweep = setInterval(() => this.checkDeadlines(), SWEEP_MS);
    this.sweep.unref();
  }

  /**
   * Sends a request and resolves once the whole response is in: status, headers and a
   * BufferedBody. Errors are undici's (timeouts, aborts, socket errors), as with request().
   */
  requestBuffered(req: UpstreamCall): Promise<UpstreamReply & { body: BufferedBody }> {
    return new Promise((resolve, reject) => {
      let statusCode = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      let first: Buffer | undefined;
      let chunks: Buffer[] | undefined;
      let size = 0;
      const clock: WireClock = { sentAt: 0, readAt: 0 };
      this.send(req, clock, {
        headers(status, parsed) {
          statusCode = status;
          headers = parsed;
          return true;
        },
        data(chunk) {
          size += chunk.length;
          if (first === undefined) first = chunk;
          else (chunks ??= [first]).push(chunk);
          return true;
        },
        complete() {
          const bytes = first === undefined ? Buffer.alloc(0) : chunks === undefined ? first : Buffer.concat(chunks, size);
          resolve({ statusCode, headers, body: new BufferedBody(bytes), clock });
        },
        error: reject,
      });
    });
  }

  /**
   * Sends a request and resolves at the response head; the body then streams into a PushBody
   * straight from the connection's parser. Errors before the head reject; later ones reach the body.
   */
  requestStreaming(req: UpstreamCall): Promise<UpstreamReply & { body: PushBody }> {
    return new Promise((resolve, reject) => {
      const body = new PushBody();
      let answered = false;
      const clock: WireClock = { sentAt: 0, readAt: 0 };
      this.send(req, clock, {
        headers(status, parsed, resume, abort) {
          answered = true;
          body.bind(resume, abort);
          resolve({ statusCode: status, headers: parsed, body, clock });
          return true;
        },
        data: (chunk, last) => body.push(chunk, last),
        complete: () => body.complete(),
        error(err) {
          if (answered) body.fail(err);
          else reject(err);
        },
      });
    });
  }

  /** One request on a free connection, with the client's cancel signal wired to abort it. */
  private send(req: UpstreamCall, clock: WireClock, on: ExchangeEvents): void {
    const { cancel } = req;
    if (cancel.aborted) {
      on.error(new errors.RequestAbortedError());
      return;
    }
    if (this.closing) {
      on.error(new errors.ClientClosedError());
      return;
    }
    let head: string;
    try {
      if (!isToken(req.method, 0, req.method.length) || !REQUEST_TARGET.test(req.path)) throw new errors.InvalidArgumentError(`invalid upstream request: ${JSON.stringify(`${req.method} ${req.path}`)}`);
      const { lines, hasHost } = headerLinesOf(req.headers);
      const length = req.body === undefined ? (req.method === "GET" || req.method === "HEAD" ? "" : "content-length: 0\r\n") : `content-length: ${Buffer.byteLength(req.body)}\r\n`;
      head = `${req.method} ${req.path} HTTP/1.1\r\n${hasHost ? "" : `host: ${this.target.hostHeader}\r\n`}${lines}${length}\r\n`;
    } catch (err) {
      on.error(err as Error);
      return;
    }
    this.dispatch(req, head, clock, on, true);
  }

  /**
   * `first`: the request's first try, on an idle connection when there is one. A reused connection
   * the server closed before answering gets the request again, once, on a new connection.
   */
  private dispatch(req: UpstreamCall, head: string, clock: WireClock, on: ExchangeEvents, first: boolean): void {
    let conn = first ? this.idle.pop() : undefined;
    while (conn !== undefined && !conn.reusable()) {
      conn.close();
      conn = this.idle.pop();
    }
    if (conn === undefined) {
      conn = new UpstreamConnection(this, this.target);
      this.connections.add(conn);
    }
    const active = conn;
    const { cancel } = req;
    const onAbort = (): void => {
      if (active.mayBeServing()) cancel.cutOffDelivered();
      active.fail(new errors.RequestAbortedError());
    };
    cancel.onAbort(onAbort);
    active.send(head, req.body, req.method === "HEAD", req.headersTimeout, req.bodyTimeout, {
      headers: on.headers,
      data: on.data,
      complete() {
        cancel.offAbort(onAbort);
        on.complete();
      },
      error: (err, resendable) => {
        cancel.offAbort(onAbort);
        if (resendable && first && !cancel.aborted && !this.closing) this.dispatch(req, head, clock, on, false);
        else on.error(err);
      },
    }, clock);
  }

  /**
   * Opens connections until the pool has `count`, before any request needs them: the host
   * lookup, the TCP and TLS handshakes (and the TLS session later connections resume) are then
   * done when the first requests arrive. Each joins the idle ones once connected, and closes
   * like them after the idle limit; one that cannot connect is dropped without a word.
   */
  warm(count: number): void {
    while (!this.closing && this.connections.size < count) this.connections.add(new UpstreamConnection(this, this.target));
  }

  release(conn: UpstreamConnection): void {
    if (this.closing || this.idle.length >= MAX_IDLE) {
      conn.close();
      return;
    }
    this.idle.push(conn);
  }

  forget(conn: UpstreamConnection): void {
    this.connections.delete(conn);
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) {
      this.idle[i] = this.idle[this.idle.length - 1] as UpstreamConnection;
      this.idle.pop();
    }
    if (this.connections.size === 0 && this.closing) {
      clearInterval(this.sweep);
      this.drained?.();
    }
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.deadline !== 0 && now > c.deadline) c.timedOut();
      else if (!c.busy && c.connected && now - c.idleSince > c.idleLimitMs) c.close();
    }
  }

  get poolStats(): Omit<PoolStats, "origin"> {
    let connected = 0;
    let pending = 0;
    let running = 0;
    let warming = 0;
    for (const c of this.connections) {
      if (c.connected) connected++;
      if (c.busy) {
        if (c.connected) running++;
        else pending++;
      } else if (c.warming) warming++;
    }
    return { connected, free: this.idle.length, pending, running, queued: 0, warming };
  }

  /**
   * Closes idle connections (and unused ones still connecting) now, and the others once their
   * response is complete. Their deadlines are still enforced meanwhile (the sweep stops once the
   * last one is gone), so a request whose upstream never answers still times out and the close
   * completes.
   */
  close(): Promise<void> {
    this.closing = true;
    for (const c of this.idle.splice(0)) c.close();
    // Connections opened ahead of requests (warm) and still connecting carry nothing to finish.
    for (const c of [...this.connections]) if (!c.busy) c.close();
    if (this.connections.size === 0) {
      clearInterval(this.sweep);
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.drained = resolve));
  }

  /** Closes every connection now; requests in flight fail. */
  destroy(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    this.idle.length = 0;
    for (const c of [...this.connections]) c.fail(new errors.ClientDestroyedError());
    return Promise.resolve();
  }
}

const pools = new Map<string, UpstreamPool>();

export function poolFor(origin: string): UpstreamPool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new UpstreamPool(origin);
    pools.set(origin, pool);
  }
  return pool;
}

export interface PoolStats {
  origin: string;
  connected: number;
  free: number;
  pending: number;
  running: number;
  queued: number;
  /** Opened ahead of requests (warm) and still connecting. */
  warming: number;
}

export function poolStats(): PoolStats[] {
  return [...pools.entries()].map(([origin, pool]) => ({ origin, ...pool.poolStats }));
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}
