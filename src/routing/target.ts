// A routing target at run time: a provider plus the policies configured for it, and the state
// those policies keep (circuit breaker, concurrency gate, observed latency). Built once per config
// version; the state lives as long as the runtime does.
import type { TargetConfig } from "../config/schema.js";
import type { Provider } from "../providers/types.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { ConcurrencyGate } from "./concurrency.js";
import { LatencyStats } from "./latency.js";
import { retryPolicy, type RetryPolicy } from "./retry.js";

export class Target {
  readonly key: string;
  readonly weight: number;
  readonly retry: RetryPolicy;
  /** Position in the router's target list (config order); -1 for an ad-hoc explicit target. */
  readonly index: number;
  readonly breaker: CircuitBreaker | undefined;
  readonly gate: ConcurrencyGate | undefined;
  readonly latency = new LatencyStats();
  private readonly modelMap: ReadonlyMap<string, string>;

  constructor(
    readonly provider: Provider,
    cfg: TargetConfig | undefined,
    index = -1,
  ) {
    this.key = cfg?.virtual_key ?? provider.name;
    this.weight = cfg?.weight ?? 1;
    this.retry = retryPolicy(cfg?.retry);
    this.index = index;
    this.breaker = cfg?.circuit_breaker ? new CircuitBreaker(cfg.circuit_breaker) : undefined;
    this.gate = cfg?.concurrency ? new ConcurrencyGate(cfg.concurrency) : undefined;
    this.modelMap = new Map(Object.entries(cfg?.model_map ?? {}));
  }

  /** The model name this target is sent for a requested model. */
  upstreamModel(model: string): string {
    return this.modelMap.get(model) ?? model;
  }

  serves(model: string): boolean {
    return this.modelMap.has(model) || this.provider.serves(model);
  }

  /** False while the circuit is open (or half-open with every probe slot taken). */
  selectable(now: number): boolean {
    return this.breaker === undefined || this.breaker.selectable(now);
  }
}
