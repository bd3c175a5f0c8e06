// Observed latency of one target: an exponentially weighted moving average, fed by the attempt
// loop after every attempt. least-latency reads it; /health shows it.

/** Weight of the newest sample: 0.3 forgets a stale regime within a handful of requests. */
const ALPHA = 0.3;

export class LatencyStats {
  /** EWMA in ms; meaningful once `samples` > 0. */
  ewmaMs = 0;
  samples = 0;
  /** Date.now() of the last sample, or of the last probe claimed by least-latency. */
  lastAt = 0;

  record(ms: number, now: number): void {
    this.ewmaMs = this.samples === 0 ? ms : this.ewmaMs + ALPHA * (ms - this.ewmaMs);
    this.samples++;
    this.lastAt = now;
  }
}
