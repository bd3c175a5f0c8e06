// The fast lane: an HTTP/1.1 server on raw sockets for the data-plane routes. Measured on the
// benchmark machine (bench/minimal-proxy.mjs, BENCHMARKS.md), node:http's server side costs
// 25-45 µs of CPU per proxied request more than one on raw sockets; a proxy with raw sockets on
// both sides reaches 96-98 % of direct throughput at 1000 connections, node:http + undici 61-75 %.
//
// It only serves what it fully understands (head.ts: plain HTTP/1.1, a content-length body or
// none, a route the gateway marks as fast). On anything else — chunked uploads, Expect, Upgrade,
// HTTP/1.0, malformed or oversized heads and bodies, admin and dashboard routes — it hands the
// connection, with the bytes it has read, to a node:http server, which then owns it for good.
// So rare and hostile requests keep node:http's proven behaviour.
import type { IncomingHttpHeaders, Server as NodeHttpServer } from "node:http";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { parseRequestHead, type RequestHead } from "./head.js";
import { Http1Response, type ResponseOwner } from "./response.js";
import { SendWatch } from "./send-watch.js";

export interface FastRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** performance.now() when the read that completed the request arrived (parsing it is the gateway's time). */
  readonly receivedAt: number;
}

/** What the gateway tells the fast lane. */
export interface FastLane {
  /** Whether this method and path are served here (else node:http serves the connection). */
  accepts(method: string, path: string): boolean;
  /** Bodies larger than this go to node:http, which refuses them with 413 as before. */
  maxBodyBytes(): number;
  handle(req: FastRequest, res: Http1Response): void;
}

export interface Http1ServerOptions {
  /** Idle keep-alive connections are closed after this long (node:http: keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** A request head must arrive whole within this long (node:http: headersTimeout). */
  headersTimeoutMs: number;
  /**
   * A response the client stops reading is cut after this long without progress (nginx's
   * send_timeout): otherwise a stalled reader holds its upstream stream, which the provider bills.
   */
  sendTimeoutMs: number;
}

/** node:http's default limit for a request head; bigger ones go to it (it answers 431). */
const MAX_HEAD = 16 * 1024;
/** Pipelined bytes buffered while a response is in flight before reading pauses. */
const MAX_PIPELINED = 64 * 1024;
const SWEEP_MS = 1000;
const CRLF2 = Buffer.from("\r\n\r\n");
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

class Connection implements ResponseOwner {
  /** Bytes read and not yet consumed. */
  private buf: Buffer | undefined;
  /** A parsed head whose body is still arriving. */
  private head: RequestHead | undefined;
  /** That body, collected into one buffer of its final size (a concat per read would be quadratic). */
  private body: Buffer | undefined;
  private bodyFilled = 0;
  /** Answered 408, or its last response said `connection: close`: nothing more is read. */
  private expired = false;
  res: Http1Response | undefined;
  lastActive = Date.now();
  /** When the first byte of a request whose head is not complete yet arrived (0: none pending). */
  headSince = 0;
  private paused = false;
  /** performance.now() at the latest read, or when the previous response finished (pipelining). */
  private readAt = 0;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly sendWatch = new SendWatch();
  private readonly onDrain = (): void => {
    this.res?.emit("drain");
  };
  private readonly onClose = (): void => this.closed();

  constructor(
    private readonly server: Http1Server,
    readonly socket: Socket,
  ) {
    socket.on("data", this.onData);
    socket.on("drain", this.onDrain);
    socket.on("close", this.onClose);
    socket.on("error", ignore);
  }

  /** A request whose head was accepted and whose body is still arriving: it is in flight too. */
  get receivingBody(): boolean {
    return this.head !== undefined && this.res === undefined;
  }

  private received(chunk: Buffer): void {
    this.readAt = performance.now();
    this.lastActive = Date.now();
    const body = this.body;
    if (body !== undefined) {
      const n = Math.min(chunk.length, body.length - this.bodyFilled);
      chunk.copy(body, this.bodyFilled, 0, n);
      this.bodyFilled += n;
      if (this.bodyFilled < body.length) return;
      this.body = undefined;
      this.buf = n < chunk.length ? chunk.subarray(n) : undefined;
      this.dispatch(this.head as RequestHead, body);
      return;
    }
    if (this.buf === undefined && this.head === undefined) this.headSince = this.lastActive;
    this.buf = this.buf === undefined ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.res !== undefined) {
      if (this.buf.length > MAX_PIPELINED && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    this.next();
  }

  /** Serves the next complete request in the buffer, if any. */
  private next(): void {
    const buf = this.buf;
    if (buf === undefined || this.expired) return;
    let head = this.head;
    if (head === undefined) {
      const end = buf.indexOf(CRLF2);
      if (end < 0) {
        if (buf.length > MAX_HEAD) this.handOff();
        return;
      }
      const parsed = end + 4 > MAX_HEAD ? undefined : parseRequestHead(buf, end);
      if (parsed === undefined || this.server.closing || !this.server.lane.accepts(parsed.method, pathOf(parsed.url)) || parsed.contentLength > this.server.lane.maxBodyBytes()) {
        this.handOff();
        return;
      }
      head = this.head = parsed;
      this.headSince = 0;
    }
    const need = head.headLength + head.contentLength;
    if (buf.length < need) {
      const body = Buffer.allocUnsafe(head.contentLength);
      this.bodyFilled = buf.copy(body, 0, head.headLength);
      this.body = body;
      this.buf = undefined;
      return;
    }
    this.buf = buf.length === need ? undefined : buf.subarray(need);
    this.dispatch(head, buf.subarray(head.headLength, need));
  }

  private dispatch(head: RequestHead, body: Buffer): void {
    this.head = undefined;
    // Bytes of the next request already here: its head's clock starts now.
    this.headSince = this.buf === undefined ? 0 : Date.now();
    // A request whose body arrived during shutdown is answered with `connection: close`.
    const res = new Http1Response(this, this.socket, head.keepAlive && !this.server.closing);
    this.res = res;
    try {
      this.server.lane.handle({ method: head.method, url: head.url, headers: head.headers, body, receivedAt: this.readAt }, res);
    } catch {
      this.socket.destroy();
    }
  }

  /**
   * Nothing more is read from this connection: whatever the client sends after this (a request
   * pipelined behind `connection: close`) is dropped, never served, as node:http does. The socket
   * closes once `last` (if any) is written.
   */
  shut(last?: string): void {
    this.expired = true;
    this.socket.off("data", this.onData);
    this.buf = undefined;
    this.head = undefined;
    this.body = undefined;
    this.headSince = 0;
    if (last !== undefined) this.socket.write(last);
    this.socket.destroySoon();
  }

  /** Closes the connection when its response has waited `limitMs` for the client to read any of it. */
  checkStalled(now: number, limitMs: number): void {
    if (this.sendWatch.stalled(this.socket, now, limitMs)) this.socket.destroy();
  }

  /** A head (or a body) that took too long: 408, then nothing more is read from this connection. */
  expire(): void {
    this.shut(REQUEST_TIMEOUT);
  }

  responseFinished(res: Http1Response): void {
    if (this.res !== res) return;
    this.res = undefined;
    this.lastActive = Date.now();
    res.closeOnce();
    if (!res.keepAlive || this.server.closing) {
      this.shut();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (this.buf !== undefined) {
      this.headSince = this.lastActive;
      this.readAt = performance.now();
    }
    this.next();
  }

  private closed(): void {
    this.server.forget(this);
    const res = this.res;
    this.res = undefined;
    res?.closeOnce();
  }

  /** Gives the socket, and the bytes read from it, to node:http for the rest of its life. */
  private handOff(): void {
    const socket = this.socket;
    socket.off("data", this.onData);
    socket.off("drain", this.onDrain);
    socket.off("close", this.onClose);
    socket.off("error", ignore);
    this.server.forget(this);
    this.server.adopted(socket);
    socket.pause();
    if (this.buf !== undefined) socket.unshift(this.buf);
    this.buf = undefined;
    this.server.fallback.emit("connection", socket);
    socket.resume();
  }
}

function ignore(): void {}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

export class Http1Server {
  private readonly server: Server;
  private readonly conns = new Set<Connection>();
  /** Sockets handed to node:http (chunked uploads, Expect, HTTP/1.0): they get the send timeout too. */
  private readonly handedOff = new Map<Socket, SendWatch>();
  private readonly sweep: ReturnType<typeof setInterval>;
  closing = false;

  constructor(
    readonly lane: FastLane,
    readonly fallback: NodeHttpServer,
    private readonly opts: Http1ServerOptions,
  ) {
    this.server = createServer({ noDelay: true }, (socket) => {
      this.conns.add(new Connection(this, socket));
    });
    this.sweep = setInterval(() => this.closeExpired(), SWEEP_MS);
    this.sweep.unref();
    // node:http starts tracking its connections (headers and request timeouts,
    // closeIdleConnections, closeAllConnections) on 'listening'; this one never listens itself.
    fallback.emit("listening");
  }

  listen(options: { port?: number; host?: string; fd?: number; backlog: number }): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      const done = (): void => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      };
      // Node 20 ignores `backlog` in the options for a descriptor (it re-listens with 511, which
      // drops handshakes when 1000 clients connect at once); the positional argument is honoured.
      if (options.fd !== undefined) this.server.listen({ fd: options.fd }, options.backlog, done);
      else this.server.listen(options, done);
    });
  }

  forget(conn: Connection): void {
    this.conns.delete(conn);
  }

  adopted(socket: Socket): void {
    this.handedOff.set(socket, new SendWatch());
    socket.once("close", () => this.handedOff.delete(socket));
  }

  /** Requests whose body is still arriving: not yet handed to the gateway, but in flight. */
  get receiving(): number {
    let n = 0;
    for (const c of this.conns) if (c.receivingBody) n++;
    return n;
  }

  /**
   * Stops accepting. Connections without a request in flight (idle, or partway through a head)
   * close now, as node:http's closeIdleConnections does; a request being answered, or whose body
   * is still arriving, is served and its connection closes after the response.
   */
  stopAccepting(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.conns) {
      // Not yet answered: its head says `connection: close` (node:http does the same).
      if (c.res !== undefined) c.res.keepAlive = false;
      else if (!c.receivingBody) c.shut();
    }
    return closed;
  }

  /** Closes every connection still open, ours and node:http's (end of the shutdown grace period). */
  destroyAll(): void {
    clearInterval(this.sweep);
    for (const c of this.conns) c.socket.destroy();
    this.fallback.closeAllConnections();
    // Stops node:http's connection-checking timer; it was never listening, so the callback
    // only reports that.
    this.fallback.close(ignore);
  }

  private closeExpired(): void {
    const now = Date.now();
    for (const [socket, watch] of this.handedOff) if (watch.stalled(socket, now, this.opts.sendTimeoutMs)) socket.destroy();
    const idleCutoff = now - this.opts.keepAliveTimeoutMs;
    const headCutoff = now - this.opts.headersTimeoutMs;
    for (const c of this.conns) {
      if (c.res !== undefined) {
        c.checkStalled(now, this.opts.sendTimeoutMs);
        continue;
      }
      // A head still incomplete after headersTimeout (slowloris): 408 and close, as node:http does.
      if (c.headSince !== 0 && c.headSince < headCutoff) c.expire();
      // A body that stopped arriving: answered 408 rather than dropped without a word.
      else if (c.lastActive < idleCutoff) {
        if (c.receivingBody) c.expire();
        else c.socket.destroy();
      }
    }
  }
}
