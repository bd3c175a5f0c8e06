// One connection pool per upstream origin, kept alive across requests. Pools are not capped at a
// small connection count: concurrency = RPS x upstream latency, so a fixed cap turns into a hidden
// queue under load. Queue depth is exported for the metrics endpoint.
//
// The pool is a stack of single-connection undici Clients rather than undici's Pool: Pool finds
// a free client by scanning all of them on every request, which at 1000 concurrent upstream
// requests cost more CPU than the request itself (measured: bench/, BENCHMARKS.md). Here a free
// client is popped in O(1) and pushed back when undici says it can take a request again
// ('drain'); everything else (HTTP/1.1, TLS, timeouts, aborts) is still undici's Client.
import { Client, Dispatcher, errors, util } from "undici";
import type { UpstreamBody, UpstreamReply } from "../providers/types.js";
import type { CancelSignal } from "../server/cancellation.js";
import { PushBody } from "./push-body.js";

const CLIENT_OPTIONS: Client.Options = {
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  connect: { timeout: 10_000 },
};

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
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body: string | undefined;
  /** The client went away or the deadline passed: abort the request. */
  cancel: CancelSignal;
  headersTimeout: number;
  bodyTimeout: number;
}

/** What send() reports, in order: headers (return false to pause), data*, then complete or error. */
interface CallEvents {
  headers(status: number, headers: Record<string, string | string[] | undefined>, resume: () => void, abort: (err: Error) => void): boolean;
  data(chunk: Buffer): boolean;
  complete(): void;
  error(err: Error): void;
}

/** Idle clients kept beyond this are closed when they come back (bounds memory after a burst). */
const MAX_IDLE = 4096;

export class UpstreamPool extends Dispatcher {
  private readonly idle: Client[] = [];
  private readonly clients = new Set<Client>();
  private closing = false;

  constructor(readonly origin: string) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.closing) throw new errors.ClientClosedError();
    let client = this.idle.pop();
    while (client !== undefined && (client.closed || client.destroyed)) {
      this.clients.delete(client);
      client = this.idle.pop();
    }
    client ??= this.newClient();
    // false: the client is busy now and emits 'drain' once it can take the next request.
    if (client.dispatch(opts, handler)) this.idle.push(client);
    return true;
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
      this.send(req, {
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
          resolve({ statusCode, headers, body: new BufferedBody(bytes) });
        },
        error: reject,
      });
    });
  }

  /**
   * Sends a request and resolves at the response head; the body then streams into a PushBody
   * straight from undici's parser. Errors before the head reject; later ones reach the body.
   */
  requestStreaming(req: UpstreamCall): Promise<UpstreamReply & { body: PushBody }> {
    return new Promise((resolve, reject) => {
      const body = new PushBody();
      let answered = false;
      this.send(req, {
        headers(status, parsed, resume, abort) {
          answered = true;
          body.bind(resume, abort);
          resolve({ statusCode: status, headers: parsed, body });
          return true;
        },
        data: (chunk) => body.push(chunk),
        complete: () => body.complete(),
        error(err) {
          if (answered) body.fail(err);
          else reject(err);
        },
      });
    });
  }

  /** One request through dispatch, with the client's abort signal wired to undici's abort. */
  private send(req: UpstreamCall, on: CallEvents): void {
    const { cancel } = req;
    if (cancel.aborted) {
      on.error(new errors.RequestAbortedError());
      return;
    }
    let abortRequest: ((err: Error) => void) | undefined;
    let settled = false;
    const onAbort = (): void => abortRequest?.(new errors.RequestAbortedError());
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      cancel.offAbort(onAbort);
      return true;
    };
    cancel.onAbort(onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abort: (err?: Error) => void): void {
        abortRequest = abort;
        if (cancel.aborted) abort(new errors.RequestAbortedError());
      },
      onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
        return on.headers(status, util.parseHeaders(rawHeaders) as Record<string, string | string[] | undefined>, resume, (err) => abortRequest?.(err));
      },
      onData: (chunk: Buffer): boolean => on.data(chunk),
      onComplete(): void {
        if (finish()) on.complete();
      },
      onError(err: Error): void {
        if (finish()) on.error(err);
      },
    } as Dispatcher.DispatchHandler;
    try {
      this.dispatch({ path: req.path, method: req.method, headers: req.headers, body: req.body, headersTimeout: req.headersTimeout, bodyTimeout: req.bodyTimeout }, handler);
    } catch (err) {
      if (finish()) on.error(err as Error);
    }
  }

  private newClient(): Client {
    const client = new Client(this.origin, CLIENT_OPTIONS);
    this.clients.add(client);
    client.on("drain", () => {
      if (this.closing || client.closed || client.destroyed) return;
      if (this.idle.length >= MAX_IDLE) {
        this.clients.delete(client);
        void client.close();
        return;
      }
      this.idle.push(client);
    });
    return client;
  }

  get poolStats(): Omit<PoolStats, "origin"> {
    let connected = 0;
    let pending = 0;
    let running = 0;
    for (const c of this.clients) {
      const s = c.stats;
      if (s.connected) connected++;
      pending += s.pending;
      running += s.running;
    }
    return { connected, free: this.idle.length, pending, running, queued: 0 };
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.closing = true;
    const all = [...this.clients];
    this.clients.clear();
    this.idle.length = 0;
    const done = Promise.allSettled(all.map((c) => c.close())).then(() => undefined);
    if (callback) {
      void done.then(callback);
      return;
    }
    return done;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === "function" ? null : (a ?? null);
    const callback = typeof a === "function" ? a : b;
    this.closing = true;
    const all = [...this.clients];
    this.clients.clear();
    this.idle.length = 0;
    const done = Promise.allSettled(all.map((c) => c.destroy(err))).then(() => undefined);
    if (callback) {
      void done.then(callback);
      return;
    }
    return done;
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
}

export function poolStats(): PoolStats[] {
  return [...pools.entries()].map(([origin, pool]) => ({ origin, ...pool.poolStats }));
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}
