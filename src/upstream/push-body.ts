// A streaming upstream response body fed straight from the upstream connection's parser
// (connection.ts). A consumer attaches a sink (pipeTo) and gets each chunk synchronously as it is
// parsed, with backpressure by return value; no Readable stream, async iterator or promise per
// chunk (at 23 SSE events per stream those cost more than forwarding the bytes). text(),
// arrayBuffer() and async iteration are built on the same sink for the code that wants them.
import type { UpstreamBody } from "../providers/types.js";

export interface BodySink {
  /**
   * One chunk. Return false to stop upstream reads until PushBody.resume() is called. `last`:
   * end() follows at once, so a writer may send this chunk together with its own ending.
   */
  data(chunk: Buffer, last?: boolean): boolean;
  end(): void;
  error(err: Error): void;
}

/** Chunks a consumer of the async iterator may fall behind by before upstream reads pause. */
const ITERATOR_BUFFER = 16;
/**
 * Bytes kept for a consumer that has not attached yet before upstream reads pause. It attaches a
 * few microtasks after the response head (the head's read often carries the first events too), so
 * pausing at once only stopped and restarted the socket's reads: two epoll_ctl calls per stream.
 */
const EARLY_LIMIT = 64 * 1024;

const noop = (): void => undefined;

export class PushBody implements UpstreamBody {
  private sink: BodySink | undefined;
  private early: Buffer[] | undefined;
  private earlyBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private paused = false;
  /** Set by the pool: lets the connection read again after a sink said false. */
  private resumeReads: () => void = noop;
  /** Set by the pool: aborts the upstream request. */
  private abortRequest: (err: Error) => void = noop;

  /** `source` as a PushBody: itself when it is one, else fed from its async iterator. */
  static from(source: UpstreamBody): PushBody {
    if (source instanceof PushBody) return source;
    const body = new PushBody();
    const chunks = source[Symbol.asyncIterator]();
    let pumping = false;
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      try {
        for (;;) {
          const next = await chunks.next();
          if (next.done) {
            body.complete();
            return;
          }
          if (!body.push(Buffer.from(next.value))) {
            pumping = false;
            return;
          }
        }
      } catch (err) {
        body.fail(err as Error);
      }
    };
    body.bind(
      () => void pump(),
      (err) => {
        void chunks.return?.();
        body.fail(err);
      },
    );
    void pump();
    return body;
  }

  /** The pool wires the body to its exchange once the response head has arrived. */
  bind(resume: () => void, abort: (err: Error) => void): void {
    this.resumeReads = resume;
    this.abortRequest = abort;
  }

  // ---- producer side (the pool's dispatch handler) ----

  /** Returns false when the connection should pause reading. */
  push(chunk: Buffer, last = false): boolean {
    if (this.sink) {
      const more = this.sink.data(chunk, last);
      this.paused = !more;
      return more;
    }
    // Nobody is reading yet: keep the chunk; past EARLY_LIMIT, stop reading until somebody is.
    (this.early ??= []).push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes < EARLY_LIMIT) return true;
    this.paused = true;
    return false;
  }

  complete(): void {
    this.ended = true;
    this.sink?.end();
  }

  fail(err: Error): void {
    this.failure = err;
    this.sink?.error(err);
  }

  // ---- consumer side ----

  /** Delivers everything, from what arrived before this call on. One sink per body. */
  pipeTo(sink: BodySink): void {
    if (this.sink) throw new Error("response body is already being read");
    this.sink = sink;
    const early = this.early;
    this.early = undefined;
    this.earlyBytes = 0;
    let more = true;
    if (early) for (const chunk of early) more = sink.data(chunk);
    if (this.failure) sink.error(this.failure);
    else if (this.ended) sink.end();
    else if (more) this.resume();
  }

  /** After a sink's data() returned false: it can take more now. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeReads();
  }

  /** Stops the upstream request (the consumer no longer wants the rest). */
  cancel(err: Error): void {
    if (!this.ended && !this.failure) this.abortRequest(err);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  private bytes(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.pipeTo({
        data: (chunk) => chunks.push(chunk) > 0,
        end: () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
        error: reject,
      });
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const queue: Buffer[] = [];
    let done = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    this.pipeTo({
      data: (chunk) => {
        queue.push(chunk);
        notify();
        return queue.length < ITERATOR_BUFFER;
      },
      end: () => {
        done = true;
        notify();
      },
      error: (err) => {
        failure = err;
        notify();
      },
    });
    try {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          if (queue.length === 0) this.resume();
          yield chunk;
          continue;
        }
        if (failure) throw failure;
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      // The consumer stopped early (break, throw): the rest is not wanted.
      if (!done && !failure) this.cancel(new Error("response body no longer read"));
    }
  }
}
