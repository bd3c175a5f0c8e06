// One keep-alive HTTP/1.1 connection to an upstream, one request at a time: writes the request in
// one write and parses the response (content-length, chunked or read-until-close bodies) straight
// from the socket's reads, handing each piece of body to the caller as it arrives. It replaces
// undici's Client on the request path: measured in a bare proxy at 1000 connections, undici cost
// ~20 µs of CPU per request more than this (bench/minimal-proxy.mjs, BENCHMARKS.md). Errors are
// undici's classes, so everything above (send.ts's mapping, timeouts, aborts) reads them as before.
import { isIP, connect as netConnect, type OnReadOpts, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import * as errors from "./errors.js";
import { upstreamLookups } from "./dns-cache.js";
import type { WireClock } from "../providers/types.js";
import { isToken, sliceOws } from "../server/http1/syntax.js";

/** What a request reports, in order: headers (return false to pause), data*, then complete or error. */
export interface ExchangeEvents {
  headers(status: number, headers: Record<string, string | string[] | undefined>, resume: () => void, abort: (err: Error) => void): boolean;
  /** `last`: complete() follows at once, in the same call stack (the end came in the same read). */
  data(chunk: Buffer, last: boolean): boolean;
  complete(): void;
  /**
   * `resendable`: the connection had served an earlier request and was lost before any byte of
   * this one's answer, within RESEND_WINDOW_MS of sending it: the server closed it without
   * reading the request (its idle timeout, a restart, racing our send), so it may go again.
   */
  error(err: Error, resendable?: boolean): void;
}

/** Extra TLS settings (a private CA, say). Not a socket of its own: tls.connect ignores onread then. */
export type UpstreamTlsOptions = Omit<ConnectionOptions, "socket">;

/** Where a connection goes, worked out once per origin. */
export interface UpstreamTarget {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** The Host header: hostname, plus the port when it is not the scheme's default. */
  readonly hostHeader: string;
  readonly tlsOptions: UpstreamTlsOptions | undefined;
}

/** The pool side: gets idle connections back and forgets closed ones. */
export interface ConnectionOwner {
  release(conn: UpstreamConnection): void;
  forget(conn: UpstreamConnection): void;
  /** The latest TLS session, offered to new connections so they resume instead of a full handshake. */
  tlsSession: Buffer | undefined;
  /** The idle limit the upstream's latest keep-alive hint set, for connections yet to hear one. */
  idleLimitMs: number | undefined;
}

const enum Phase {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

const CRLF = Buffer.from("\r\n");
const CRLF2 = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** Where TCP and TLS reads land (see the constructor); every read is consumed before the next one. */
const READ_BUFFER = Buffer.alloc(64 * 1024);
/** Without a keep-alive hint from the server, an idle connection is closed after this long. */
const DEFAULT_IDLE_MS = 30_000;
const MAX_IDLE_MS = 600_000;
/**
 * A reused connection lost this soon after a request was sent, before any byte of the answer,
 * was closed by a server that never read it: its close crossed our send, which takes at most a
 * round trip. Later, the server may have been working on the request (a crash mid-generation),
 * and a POST must not be sent twice (RFC 9112 9.3.1.1).
 */
const RESEND_WINDOW_MS = 500;
/** Closed this long before the server's own keep-alive timeout, so a request never races it. */
const IDLE_MARGIN_MS = 2_000;
const KEEP_ALIVE_HINT = /timeout=(\d+)/i;
const STATUS_LINE = /^HTTP\/1\.[01] [1-9][0-9]{2}(?: |$)/;

const DECIMAL = /^\d{1,15}$/;

/**
 * Whether a comma-separated header (`connection: keep-alive, close`), sent on one line or on
 * several (which RFC 9110 5.3 makes one list), holds `token`, case-insensitively.
 */
function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  if (typeof value === "string" && !value.includes(",")) return value.trim().toLowerCase() === token;
  const list = typeof value === "string" ? value : value.join(",");
  for (const item of list.split(",")) if (item.trim().toLowerCase() === token) return true;
  return false;
}

/**
 * The size on a chunk-size line buf[from, to): hex digits, then optional spaces or tabs and a
 * `;extension`. -1 when it is not that, or has more than 12 digits (2^48 bytes).
 */
function chunkSize(buf: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to && (buf[i] === 32 || buf[i] === 9)) i++;
  let size = 0;
  const digitsFrom = i;
  for (; i < to; i++) {
    const c = buf[i] as number;
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (v < 0) break;
    size = size * 16 + v;
  }
  if (i === digitsFrom || i - digitsFrom > 12) return -1;
  while (i < to && (buf[i] === 32 || buf[i] === 9)) i++;
  return i === to || buf[i] === 59 /* ";" */ ? size : -1;
}

/** The peer closed or reset the connection (not a timeout, an abort or a parse error). */
function isConnectionLoss(err: Error): boolean {
  if (err instanceof errors.SocketError) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ECONNRESET" || code === "EPIPE";
}

const enum Wait {
  None,
  Connect,
  Headers,
  Body,
}

export class UpstreamConnection {
  readonly socket: Socket;
  connected = false;
  closed = false;
  /** ms timestamp when it last became idle (0: it never waited in the pool), and how long it may stay so. */
  idleSince = 0;
  idleLimitMs = DEFAULT_IDLE_MS;
  /** ms timestamp after which the current wait times out (0: no deadline). */
  deadline = 0;
  private wait = Wait.None;
  private events: ExchangeEvents | undefined;
  private phase = Phase.Idle;
  private buf: Buffer | undefined;
  /** Where the unparsed part of `buf` starts. */
  private pos = 0;
  private remaining = 0;
  private keepAlive = true;
  private headRequest = false;
  private paused = false;
  private trailerBytes = 0;
  /** The server closed the connection while a read-until-close body was paused. */
  private eof = false;
  private headersTimeoutMs = 0;
  private bodyTimeoutMs = 0;
  /** Body pieces parsed from the current read, handed over together when the read is consumed. */
  private readonly batch: Buffer[] = [];
  /** The exchange in progress's clock: stamped when the request is written and at each read. */
  private clock: WireClock | undefined;
  /** Whether any byte of the current request's answer arrived. */
  private answered = false;
  /** Date.now() when the current request was sent. */
  private sentAtMs = 0;
  /** The current answer's status; 0 until its head arrives. */
  private status = 0;
  /** The upstream's host when it is a name (looked up), else undefined. */
  private readonly hostName: string | undefined;

  constructor(
    private readonly owner: ConnectionOwner,
    target: UpstreamTarget,
  ) {
    this.hostName = isIP(target.host) === 0 ? target.host : undefined;
    // Reads land in one shared buffer and come to us directly, without the Readable stream
    // machinery and a buffer allocated per read; each read is copied out at its size. TLS too:
    // there the cleartext lands in it (A/B with an HTTPS upstream in BENCHMARKS.md).
    const onread: OnReadOpts = {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Uint8Array): boolean => {
        const chunk = Buffer.allocUnsafe(n);
        chunk.set(buf.subarray(0, n));
        this.onData(chunk);
        return true;
      },
    };
    if (target.tls) {
      // tls.connect takes onread since Node 15.1 / 14.18 (nodejs/node#35753); @types/node omits it.
      const options: ConnectionOptions & { onread: OnReadOpts } = {
        host: target.host,
        port: target.port,
        servername: this.hostName,
        ALPNProtocols: ["http/1.1"],
        session: owner.tlsSession,
        onread,
        lookup: upstreamLookups.lookup,
        ...target.tlsOptions,
      };
      const tls: TLSSocket = tlsConnect(options);
      tls.on("session", (session: Buffer) => {
        owner.tlsSession = session;
      });
      tls.once("secureConnect", () => this.onConnected());
      this.socket = tls;
    } else {
      this.socket = netConnect({ host: target.host, port: target.port, onread, lookup: upstreamLookups.lookup });
      this.socket.once("connect", () => this.onConnected());
    }
    this.socket.setNoDelay(true);
    this.socket.on("error", (err: Error) => this.fail(err));
    this.socket.on("close", () => this.onClose());
    this.wait = Wait.Connect;
    this.deadline = Date.now() + CONNECT_TIMEOUT_MS;
  }

  get busy(): boolean {
    return this.events !== undefined;
  }

  /** Opened ahead of requests (UpstreamPool.warm) and still connecting. */
  get warming(): boolean {
    return this.events === undefined && !this.connected && !this.closed;
  }

  /**
   * An idle connection may take a request: still open, not closed by the server, and not past its
   * idle limit (the sweep closes those, but only every quarter second; a server that closes an
   * idle connection at its own timeout would otherwise race our request).
   */
  reusable(): boolean {
    return !this.closed && !this.socket.readableEnded && Date.now() - this.idleSince <= this.idleLimitMs;
  }

  /** Sends one request; `head` is the request line and headers, blank line included. */
  send(head: string, body: string | Uint8Array | undefined, isHead: boolean, headersTimeoutMs: number, bodyTimeoutMs: number, events: ExchangeEvents, clock?: WireClock): void {
    this.events = events;
    this.clock = clock;
    this.answered = false;
    this.sentAtMs = Date.now();
    this.status = 0;
    this.phase = Phase.Head;
    this.keepAlive = true;
    this.eof = false;
    this.paused = false;
    this.trailerBytes = 0;
    this.headRequest = isHead;
    this.headersTimeoutMs = headersTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
    if (this.connected) this.waitFor(Wait.Headers);
    // Stamped before the write: the send itself is socket I/O, like the wait and the reads, and
    // on loopback it also runs the receiving side's network stack (the benchmark's mock).
    if (clock !== undefined) clock.sentAt = clock.readAt = performance.now();
    if (typeof body !== "object") this.socket.write(body === undefined ? head : head + body);
    else {
      // Bytes (a long body) go out in one writev with the head, not copied: a copy of that size
      // is a buffer of its own outside the JS heap, and those add up to more frequent full GCs.
      this.socket.cork();
      this.socket.write(head);
      this.socket.write(body);
      this.socket.uncork();
    }
  }

  /**
   * Whether the upstream may be working on the current request, and billing it: the whole
   * request went out on an open connection, and no error status came back for it.
   */
  mayBeServing(): boolean {
    return this.connected && this.events !== undefined && this.socket.writableLength === 0 && this.status < 400;
  }

  /** Ends the exchange in progress with `err` and closes the connection. */
  fail(err: Error): void {
    // Could not connect (a socket error or the connect timeout, not a cancel): the address may
    // be gone (a provider moving during an outage), so the next connection asks the resolver
    // again instead of reusing that answer for up to 30 s.
    if (!this.connected && this.hostName !== undefined && (err instanceof errors.ConnectTimeoutError || !(err instanceof errors.UpstreamTransportError))) {
      upstreamLookups.forget(this.hostName);
    }
    // What arrived intact before the failure still reaches the caller, ahead of the error.
    this.flush();
    const events = this.events;
    this.events = undefined;
    this.clock = undefined;
    this.phase = Phase.Idle;
    this.close();
    // Resendable: the connection waited in the pool before this request (a reused or warm one).
    events?.error(err, this.idleSince !== 0 && !this.answered && Date.now() - this.sentAtMs <= RESEND_WINDOW_MS && isConnectionLoss(err));
  }

  /** Called by the pool's sweep: the current wait has passed its deadline. */
  timedOut(): void {
    const wait = this.wait;
    if (wait === Wait.Connect) this.fail(new errors.ConnectTimeoutError());
    else if (wait === Wait.Headers) this.fail(new errors.HeadersTimeoutError());
    else if (wait === Wait.Body) this.fail(new errors.BodyTimeoutError());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wait = Wait.None;
    this.deadline = 0;
    this.socket.destroy();
    this.owner.forget(this);
  }

  private waitFor(wait: Wait): void {
    this.wait = wait;
    const ms = wait === Wait.Headers ? this.headersTimeoutMs : wait === Wait.Body ? this.bodyTimeoutMs : 0;
    this.deadline = ms > 0 ? Date.now() + ms : 0;
  }

  private onConnected(): void {
    this.connected = true;
    if (this.events !== undefined && this.phase === Phase.Head) this.waitFor(Wait.Headers);
    else this.waitFor(Wait.None);
    // Opened ahead of any request (UpstreamPool.warm): it waits with the idle ones, as long as
    // the upstream's last keep-alive hint allows.
    if (this.events === undefined && !this.closed) {
      this.idleLimitMs = this.owner.idleLimitMs ?? DEFAULT_IDLE_MS;
      this.idleSince = Date.now();
      this.owner.release(this);
    }
  }

  private onClose(): void {
    if (this.events !== undefined && this.phase === Phase.UntilClose) {
      // The end of a body that had no length: what is buffered is the rest of it.
      this.eof = true;
      this.keepAlive = false;
      if (!this.paused) this.readToEnd();
      return;
    }
    if (this.events !== undefined) this.fail(new errors.SocketError("other side closed"));
    else this.close();
  }

  private readToEnd(): void {
    if (this.buf !== undefined) this.parse();
    if (!this.paused) this.finish();
  }

  private onData(chunk: Buffer): void {
    if (this.clock !== undefined) this.clock.readAt = performance.now();
    if (this.events === undefined) {
      // Bytes nobody asked for: the connection is out of step, so it cannot be reused.
      this.close();
      return;
    }
    this.answered = true;
    if (this.buf === undefined) this.buf = chunk;
    else {
      this.buf = Buffer.concat([this.pos === 0 ? this.buf : this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
    if (this.wait === Wait.Body && this.bodyTimeoutMs > 0) this.deadline = Date.now() + this.bodyTimeoutMs;
    if (!this.paused) this.parse();
  }

  /** Reading again after the reader paused; a no-op once `events`' exchange is over. */
  private resume(events: ExchangeEvents): void {
    if (!this.paused || this.events !== events) return;
    this.paused = false;
    this.waitFor(Wait.Body);
    if (this.eof) {
      this.readToEnd();
      return;
    }
    this.socket.resume();
    if (this.buf !== undefined) this.parse();
  }

  private pause(): void {
    this.paused = true;
    // A client that reads slowly is not the upstream timing out.
    this.waitFor(Wait.None);
    this.socket.pause();
  }

  /** Consumes buffered bytes, then hands over the body they held in one piece. */
  private parse(): void {
    this.parseBuffered();
    this.flush();
  }

  /** Consumes buffered bytes until they run out, the exchange ends, or the reader pauses. */
  private parseBuffered(): void {
    while (this.buf !== undefined && this.events !== undefined && !this.paused) {
      const buf = this.buf;
      const at = this.pos;
      switch (this.phase) {
        case Phase.Head: {
          const end = buf.indexOf(CRLF2, at);
          if (end < 0) {
            if (buf.length - at > MAX_HEAD) this.fail(new errors.HeadersOverflowError());
            return;
          }
          this.take(end + 4 - at);
          this.onHead(buf.toString("latin1", at, end));
          break;
        }
        case Phase.Length:
        case Phase.ChunkData: {
          const n = Math.min(this.remaining, buf.length - at);
          const piece = at === 0 && n === buf.length ? buf : buf.subarray(at, at + n);
          this.take(n);
          this.remaining -= n;
          this.deliver(piece);
          if (this.remaining === 0) {
            if (this.phase === Phase.Length) {
              this.finish();
              return;
            }
            this.phase = Phase.ChunkEnd;
          }
          break;
        }
        case Phase.UntilClose:
          this.deliver(at === 0 ? buf : buf.subarray(at));
          this.take(buf.length - at);
          break;
        case Phase.ChunkSize: {
          const eol = buf.indexOf(CRLF, at);
          if (eol < 0) {
            if (buf.length - at > 1024) this.fail(new errors.HTTPParserError("chunk size line too long"));
            return;
          }
          const size = chunkSize(buf, at, eol);
          if (size < 0) {
            this.fail(new errors.HTTPParserError("invalid chunk size"));
            return;
          }
          this.take(eol + 2 - at);
          this.remaining = size;
          this.phase = size === 0 ? Phase.Trailers : Phase.ChunkData;
          break;
        }
        case Phase.ChunkEnd: {
          if (buf.length - at < 2) return;
          if (buf[at] !== 13 || buf[at + 1] !== 10) {
            this.fail(new errors.HTTPParserError("missing CRLF after chunk data"));
            return;
          }
          this.take(2);
          this.phase = Phase.ChunkSize;
          break;
        }
        case Phase.Trailers: {
          const eol = buf.indexOf(CRLF, at);
          if (eol < 0) {
            if (this.trailerBytes + buf.length - at > MAX_HEAD) this.fail(new errors.HeadersOverflowError());
            return;
          }
          this.trailerBytes += eol + 2 - at;
          if (this.trailerBytes > MAX_HEAD) {
            this.fail(new errors.HeadersOverflowError());
            return;
          }
          this.take(eol + 2 - at);
          if (eol === at) {
            this.finish();
            return;
          }
          break;
        }
        default:
          return;
      }
    }
  }

  /** Moves past n buffered bytes (an offset, not a copy: chunked bodies take several steps per read). */
  private take(n: number): void {
    const buf = this.buf as Buffer;
    this.pos += n;
    if (this.pos >= buf.length) {
      this.buf = undefined;
      this.pos = 0;
    }
  }

  private deliver(piece: Buffer): void {
    if (piece.length > 0) this.batch.push(piece);
  }

  /**
   * Hands the caller the body pieces parsed so far as one buffer. A streaming upstream that is
   * read less often than it writes (a busy gateway) leaves several chunks in one read; the client
   * then gets them in one write instead of one each, which is where a loaded proxy spends its CPU.
   */
  private flush(last = false): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    const data = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch);
    batch.length = 0;
    const events = this.events;
    if (events !== undefined && !events.data(data, last) && this.events === events) this.pause();
  }

  private onHead(head: string): void {
    const lineEnd = head.indexOf("\r\n");
    const statusLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
    // "HTTP/1.1 200 OK": version, then a three-digit status.
    if (!STATUS_LINE.test(statusLine)) {
      this.fail(new errors.HTTPParserError("invalid status line"));
      return;
    }
    const status = Number(statusLine.slice(9, 12));
    const http10 = statusLine.charCodeAt(7) === 48; /* "0" */
    const headers: Record<string, string | string[] | undefined> = {};
    let pos = lineEnd < 0 ? head.length : lineEnd + 2;
    while (pos < head.length) {
      let next = head.indexOf("\r\n", pos);
      if (next < 0) next = head.length;
      const colon = head.indexOf(":", pos);
      // No colon, a continuation line (obs-fold) or whitespace in the name: not a header llhttp accepts.
      if (colon < 0 || colon > next || !isToken(head, pos, colon)) {
        this.fail(new errors.HTTPParserError("invalid response header"));
        return;
      }
      {
        const key = head.slice(pos, colon).toLowerCase();
        const value = sliceOws(head, colon + 1, next);
        const prev = headers[key];
        if (prev === undefined) headers[key] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else headers[key] = [prev, value];
      }
      pos = next + 2;
    }
    // 1xx (not 101): an interim answer; the real one follows on the same connection.
    if (status < 200 && status !== 101) return;

    this.keepAlive = !http10 && !hasToken(headers.connection, "close");
    const hint = headers["keep-alive"];
    const m = typeof hint === "string" ? KEEP_ALIVE_HINT.exec(hint) : null;
    this.idleLimitMs = m ? Math.min(Number(m[1]) * 1000 - IDLE_MARGIN_MS, MAX_IDLE_MS) : DEFAULT_IDLE_MS;
    this.owner.idleLimitMs = this.idleLimitMs;

    const te = headers["transfer-encoding"];
    const cl = headers["content-length"];
    if (this.headRequest || status === 204 || status === 304) {
      this.phase = Phase.Idle;
    } else if (te !== undefined) {
      const codings = typeof te === "string" ? te.toLowerCase().split(",") : [];
      if (codings.length === 0 || codings[codings.length - 1]?.trim() !== "chunked") {
        this.fail(new errors.HTTPParserError("unsupported transfer-encoding"));
        return;
      }
      // Both framings at once: chunked wins (RFC 9112 6.3), and the connection is not reused.
      if (cl !== undefined) this.keepAlive = false;
      this.phase = Phase.ChunkSize;
    } else if (cl !== undefined) {
      const n = typeof cl === "string" && DECIMAL.test(cl) ? Number(cl) : Number.NaN;
      if (Number.isNaN(n)) {
        this.fail(new errors.HTTPParserError("invalid content-length"));
        return;
      }
      this.remaining = n;
      this.phase = n === 0 ? Phase.Idle : Phase.Length;
    } else {
      this.phase = Phase.UntilClose;
      this.keepAlive = false;
    }
    const events = this.events as ExchangeEvents;
    this.status = status;
    this.waitFor(Wait.Body);
    // Bound to this exchange: a late resume() or abort() from its reader never touches the next one.
    const resume = (): void => this.resume(events);
    const abort = (err: Error): void => {
      if (this.events === events) this.fail(err);
    };
    const go = events.headers(status, headers, resume, abort);
    if (this.events !== events) return;
    if (this.phase === Phase.Idle) {
      this.finish();
      return;
    }
    if (!go) this.pause();
  }

  /** The response is complete: the connection goes back to the pool (or closes), then the caller hears. */
  private finish(): void {
    this.flush(true);
    const events = this.events;
    if (events === undefined) return;
    this.events = undefined;
    this.clock = undefined;
    this.phase = Phase.Idle;
    this.waitFor(Wait.None);
    // The reader paused on the last piece: reading resumes for whoever gets the connection next.
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    // An answer that came before our request body was all written (an early 413, say) leaves the
    // rest of that body on the wire: the server would read it as the next request's start.
    if (this.keepAlive && this.buf === undefined && !this.closed && !this.eof && !this.socket.readableEnded && this.socket.writableLength === 0) {
      this.idleSince = Date.now();
      this.owner.release(this);
    } else {
      this.close();
    }
    events.complete();
  }
}

