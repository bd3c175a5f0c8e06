// Per-target concurrency gate: at most `max_concurrency` requests in flight to one target, up to
// `queue_size` more waiting for a slot (FIFO), and anything beyond that shed at once (the attempt
// loop answers it 429 target_concurrency_exceeded). A streaming request holds its slot until the
// stream ends, because the attempt it runs in lasts that long.
import type { TargetConfig } from "../config/schema.js";

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

type GateConfig = NonNullable<TargetConfig["concurrency"]>;

export class ConcurrencyGate {
  readonly max: number;
  readonly queueSize: number;
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];

  constructor(cfg: GateConfig) {
    this.max = cfg.max_concurrency;
    this.queueSize = cfg.queue_size;
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Takes a slot if one is free. The fast path: no promise, no allocation. */
  tryEnter(): boolean {
    if (this.inFlight < this.max) {
      this.inFlight++;
      return true;
    }
    return false;
  }

  /**
   * Waits for a slot; resolves holding it. Undefined when the queue is full (shed). Rejects with
   * the signal's reason when the request is cancelled while waiting.
   */
  wait(signal: AbortSignal): Promise<void> | undefined {
    if (this.waiters.length >= this.queueSize) return undefined;
    if (signal.aborted) return Promise.reject(signal.reason as unknown);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason as unknown);
        },
      };
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Frees a slot, handing it straight to the longest waiter if there is one. */
  release(): void {
    const next = this.waiters.shift();
    if (next) {
      next.signal.removeEventListener("abort", next.onAbort);
      next.resolve();
      return;
    }
    if (this.inFlight > 0) this.inFlight--;
  }
}
