// Batched, asynchronous request-log writer. The request path only calls enqueue(), which appends
// to an in-memory queue (O(1), no I/O, never throws); a background drain writes the queue to the
// store in batches every `flushIntervalMs`, or as soon as `batchSize` rows are waiting.
//
// Store down: the failed batch goes back to the head of the queue and is retried with full-jitter
// exponential backoff (initialBackoffMs … maxBackoffMs). Meanwhile rows keep queueing up to
// `maxBuffered` (rows in flight included); past that, new rows are dropped, counted in
// stats.dropped and logged (at most one warning per 10 s). Ordering is FIFO.
//
// Shutdown (SIGTERM): close() stops the timer and drains everything, retrying with backoff until
// `closeTimeoutMs`; only what could not be written by then is dropped, counted and logged.
// A batch is one transaction, so a failed batch is never half-written; a batch that timed out
// after the server committed it may be written twice (at-least-once).
import type { RequestLogRow, RequestLogStore } from "./types.js";

export { captureBody, redactText, type BodyLogOptions } from "./redact.js";
export { rowFromContext, type LogRowExtras } from "./log-row.js";

/** The subset of a pino logger the writer uses. */
export interface WriterLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RequestLogWriterOptions {
  store: Pick<RequestLogStore, "insertBatch">;
  /** Rows per insert, and the queue length that triggers a flush (default 500). */
  batchSize?: number;
  /** Flush at least this often while rows are waiting (default 1000 ms). */
  flushIntervalMs?: number;
  /** Memory bound: rows held (queued + in flight) before new ones are dropped (default 100 000). */
  maxBuffered?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long close() keeps retrying a failing store (default 10 000 ms). */
  closeTimeoutMs?: number;
  logger?: WriterLogger;
}

export interface RequestLogWriterStats {
  /** Rows accepted by enqueue(). */
  enqueued: number;
  /** Rows the store confirmed. */
  written: number;
  /** Rows lost: queue full, enqueued after close(), or still unwritten when close() gave up. */
  dropped: number;
  /** insertBatch calls that threw. */
  failedBatches: number;
  /** Rows waiting or in flight. */
  buffered: number;
  lastError: string | undefined;
}

const consoleLogger: WriterLogger = {
  warn: (obj, msg) => console.warn(`ferrogw request log: ${msg}`, obj),
  error: (obj, msg) => console.error(`ferrogw request log: ${msg}`, obj),
};

const DROP_LOG_INTERVAL_MS = 10_000;

export class RequestLogWriter {
  private readonly store: Pick<RequestLogStore, "insertBatch">;
  private readonly batchSize: number;
  private readonly maxBuffered: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly closeTimeoutMs: number;
  private readonly log: WriterLogger;

  /** FIFO of chunks of at most batchSize rows; new rows go into the last one. */
  private readonly queue: RequestLogRow[][] = [];
  private readonly timer: NodeJS.Timeout;
  private draining: Promise<void> | undefined;
  private drainScheduled = false;
  private backoffMs = 0;
  private retryAt = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** close() timed out: the rows left were counted as dropped. */
  private abandoned = false;

  private enqueued = 0;
  private written = 0;
  private dropped = 0;
  /** Accepted rows that have left the queue for good (written, or dropped at close). */
  private settled = 0;
  private failedBatches = 0;
  private buffered = 0;
  private lastError: string | undefined;
  private dropsUnlogged = 0;
  private lastDropReason = "";
  private lastDropLog = 0;

  constructor(opts: RequestLogWriterOptions) {
    this.store = opts.store;
    this.batchSize = Math.max(1, opts.batchSize ?? 500);
    this.maxBuffered = Math.max(this.batchSize, opts.maxBuffered ?? 100_000);
    this.initialBackoffMs = opts.initialBackoffMs ?? 500;
    this.maxBackoffMs = Math.max(this.initialBackoffMs, opts.maxBackoffMs ?? 30_000);
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.log = opts.logger ?? consoleLogger;
    this.timer = setInterval(() => this.background(), opts.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** O(1), no I/O, never throws. */
  enqueue(row: RequestLogRow): void {
    if (this.closed) return this.drop(1, "the writer is closed");
    if (this.buffered >= this.maxBuffered) return this.drop(1, "the buffer is full (is the store down?)");
    let tail = this.queue[this.queue.length - 1];
    if (tail === undefined || tail.length >= this.batchSize) {
      tail = [];
      this.queue.push(tail);
    }
    tail.push(row);
    this.buffered++;
    this.enqueued++;
    if (tail.length >= this.batchSize && !this.drainScheduled && this.draining === undefined) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        this.background();
      });
    }
  }

  get stats(): RequestLogWriterStats {
    return {
      enqueued: this.enqueued,
      written: this.written,
      dropped: this.dropped,
      failedBatches: this.failedBatches,
      buffered: this.buffered,
      lastError: this.lastError,
    };
  }

  /**
   * Writes every row enqueued before the call, ignoring any backoff. Rejects with the store's
   * error if a batch fails (the rows stay queued for the next attempt).
   */
  async flush(): Promise<void> {
    const target = this.enqueued;
    while (this.settled < target) {
      if (this.draining) {
        await this.draining.catch(() => undefined);
        continue;
      }
      await this.startDrain(true);
    }
  }

  /** Stops the timer and drains everything, retrying until closeTimeoutMs. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const deadline = Date.now() + this.closeTimeoutMs;
    let timedOut = false;
    while (this.buffered > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        timedOut = true;
        break;
      }
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), remaining);
      });
      try {
        const outcome = await Promise.race([this.flush().then(() => "ok" as const), expired]);
        if (outcome === "timeout") timedOut = true;
      } catch {
        const wait = Math.min(Math.max(10, this.backoffMs), deadline - Date.now());
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      } finally {
        clearTimeout(timer);
      }
      if (timedOut) break;
    }
    if (this.buffered > 0) {
      const lost = this.buffered;
      // Whatever is still queued (or stuck in flight) is given up.
      this.abandoned = true;
      this.queue.length = 0;
      this.buffered = 0;
      this.settled += lost;
      this.dropped += lost;
      this.log.error(
        { dropped: lost, droppedTotal: this.dropped, written: this.written, lastError: this.lastError, timedOut },
        `could not write ${lost} request log rows before shutdown`,
      );
    }
    this.flushDropLog(true);
  }

  private background(): void {
    if (this.buffered === 0 || this.draining || Date.now() < this.retryAt) return;
    this.startDrain(false).catch(() => undefined);
  }

  private startDrain(ignoreBackoff: boolean): Promise<void> {
    this.draining ??= this.drain(ignoreBackoff).finally(() => {
      this.draining = undefined;
      // More full batches arrived while this drain ran: keep going (unless backing off).
      const head = this.queue[0];
      if (!this.abandoned && (this.queue.length > 1 || (head !== undefined && head.length >= this.batchSize))) setImmediate(() => this.background());
    });
    return this.draining;
  }

  /** Writes the batches queued when it started, in order; stops at the first failure. */
  private async drain(ignoreBackoff: boolean): Promise<void> {
    for (let budget = this.queue.length; budget > 0; budget--) {
      if (!ignoreBackoff && Date.now() < this.retryAt) return;
      const batch = this.queue.shift();
      if (batch === undefined) return;
      if (batch.length === 0) continue;
      try {
        await this.store.insertBatch(batch);
      } catch (err) {
        this.failedBatches++;
        this.lastError = err instanceof Error ? err.message : String(err);
        if (this.abandoned) throw err;
        this.queue.unshift(batch);
        this.backoffMs = this.backoffMs === 0 ? this.initialBackoffMs : Math.min(this.maxBackoffMs, this.backoffMs * 2);
        const delay = Math.round(this.backoffMs / 2 + Math.random() * (this.backoffMs / 2));
        this.retryAt = Date.now() + delay;
        this.log.error(
          { err: this.lastError, batch: batch.length, buffered: this.buffered, failedBatches: this.failedBatches, retryInMs: delay },
          "request log store write failed; will retry",
        );
        throw err;
      }
      this.written += batch.length;
      if (this.abandoned) {
        // close() gave up on this batch while it was in flight and counted it dropped; it made it.
        this.dropped -= batch.length;
      } else {
        this.buffered -= batch.length;
        this.settled += batch.length;
      }
      this.backoffMs = 0;
      this.retryAt = 0;
    }
  }

  private drop(n: number, reason: string): void {
    this.dropped += n;
    this.dropsUnlogged += n;
    this.lastDropReason = reason;
    this.flushDropLog(false);
  }

  private flushDropLog(force: boolean): void {
    if (this.dropsUnlogged === 0) return;
    const now = Date.now();
    if (!force && now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.log.warn(
      { dropped: this.dropsUnlogged, droppedTotal: this.dropped, buffered: this.buffered, lastError: this.lastError },
      `dropped ${this.dropsUnlogged} request log rows: ${this.lastDropReason}`,
    );
    this.dropsUnlogged = 0;
    this.lastDropLog = now;
  }
}
