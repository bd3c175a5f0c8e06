// One circuit breaker per target. Closed: requests flow and consecutive failures are counted;
// `failure_threshold` of them open it. Open: the target is passed over for `timeout`, then the
// breaker goes half-open and lets at most `max_half_threshold` probes through at once;
// `success_threshold` successful probes close it, one failed probe opens it again.
//
// Every state change starts a new generation. An attempt carries the generation it was admitted
// in, and a result from an older generation is ignored, so a slow request that started before
// the circuit opened cannot close it (or free a probe slot it never held).
import type { TargetConfig } from "../config/schema.js";

export type BreakerState = "closed" | "open" | "half-open";

/** What an attempt's result means for the breaker. */
export const Outcome = {
  Success: 0,
  Failure: 1,
  /** Neither: 429, 4xx, client disconnect, concurrency shed. Only frees a probe slot. */
  Neutral: 2,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Returned by acquire() when the breaker refuses the attempt. */
export const REFUSED = -1;

type BreakerConfig = NonNullable<TargetConfig["circuit_breaker"]>;

export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly maxProbes: number;
  readonly openMs: number;

  private stateValue: BreakerState = "closed";
  private generation = 0;
  private failures = 0;
  private successes = 0;
  private probes = 0;
  private openedAt = 0;

  constructor(cfg: BreakerConfig) {
    this.failureThreshold = cfg.failure_threshold;
    this.successThreshold = cfg.success_threshold;
    this.maxProbes = cfg.max_half_threshold;
    this.openMs = cfg.timeout;
  }

  /** The state as of `now` (an open circuit whose timeout has passed reads half-open). */
  state(now = Date.now()): BreakerState {
    this.advance(now);
    return this.stateValue;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until an open circuit goes half-open; 0 when it is not open. */
  retryInMs(now = Date.now()): number {
    this.advance(now);
    return this.stateValue === "open" ? Math.max(0, this.openedAt + this.openMs - now) : 0;
  }

  /** Would a request be let through now? Used when choosing; takes no probe slot. */
  selectable(now: number): boolean {
    if (this.stateValue === "closed") return true;
    this.advance(now);
    if (this.stateValue === "open") return false;
    return this.probes < this.maxProbes;
  }

  /** Admits one attempt: returns its generation, or REFUSED. A half-open admission takes a probe slot. */
  acquire(now: number): number {
    if (this.stateValue === "closed") return this.generation;
    this.advance(now);
    if (this.stateValue === "open") return REFUSED;
    if (this.probes >= this.maxProbes) return REFUSED;
    this.probes++;
    return this.generation;
  }

  /** Records the result of an attempt admitted in generation `gen`. */
  record(gen: number, outcome: Outcome, now: number): void {
    if (gen !== this.generation) return;
    if (this.stateValue === "closed") {
      if (outcome === Outcome.Success) this.failures = 0;
      else if (outcome === Outcome.Failure && ++this.failures >= this.failureThreshold) this.open(now);
      return;
    }
    if (this.stateValue !== "half-open") return;
    if (this.probes > 0) this.probes--;
    if (outcome === Outcome.Failure) this.open(now);
    else if (outcome === Outcome.Success && ++this.successes >= this.successThreshold) this.close();
  }

  private advance(now: number): void {
    if (this.stateValue === "open" && now - this.openedAt >= this.openMs) {
      this.stateValue = "half-open";
      this.generation++;
      this.probes = 0;
      this.successes = 0;
    }
  }

  private open(now: number): void {
    this.stateValue = "open";
    this.generation++;
    this.openedAt = now;
    this.probes = 0;
    this.successes = 0;
  }

  private close(): void {
    this.stateValue = "closed";
    this.generation++;
    this.failures = 0;
    this.probes = 0;
    this.successes = 0;
  }
}
