// Strategy by mode name. Each strategy lives in its own file; all state they keep (round-robin
// scores, caches) is built here once per config version, never per request.
import type { GatewayConfig, StrategyMode } from "../../config/schema.js";
import { builtinCatalog } from "../../catalog/catalog.js";
import type { PriceSource } from "../prices.js";
import type { Strategy } from "../strategy.js";
import type { Target } from "../target.js";
import { AbTestStrategy } from "./ab-test.js";
import { ConditionalStrategy } from "./conditional.js";
import { ContentBasedStrategy } from "./content-based.js";
import { CostOptimizedStrategy } from "./cost-optimized.js";
import { FallbackStrategy } from "./fallback.js";
import { LeastLatencyStrategy, type LeastLatencyOptions } from "./least-latency.js";
import { LoadBalanceStrategy } from "./loadbalance.js";
import { SingleStrategy } from "./single.js";

export interface StrategyDeps {
  /** Where cost-optimized reads prices: the runtime's model catalog (default: the built-in one). */
  prices?: PriceSource;
  /** Random source for ab-test draws (tests make it deterministic). */
  random?: () => number;
  leastLatency?: Partial<LeastLatencyOptions>;
}

/** Why a mode cannot run under this config (it needs rules the config does not have), or undefined. */
export function unavailableReason(mode: StrategyMode, config: GatewayConfig): string | undefined {
  const s = config.strategy;
  if (mode === "conditional" && !s.conditions?.length) return "conditional mode needs strategy.conditions";
  if (mode === "content-based" && !s.content_conditions?.length) return "content-based mode needs strategy.content_conditions";
  if (mode === "ab-test" && !s.ab_variants?.some((v) => v.weight > 0)) return "ab-test mode needs strategy.ab_variants with a positive weight";
  // Listed targets without weights weigh 0 (as in the reference): a per-request loadbalance would drain them all.
  if (mode === "loadbalance" && config.targets.length > 0 && !config.targets.some((t) => t.weight > 0)) return "loadbalance mode needs targets with a positive weight";
  return undefined;
}

export function createStrategy(mode: StrategyMode, config: GatewayConfig, targets: readonly Target[], deps: StrategyDeps = {}): Strategy {
  const s = config.strategy;
  const reason = unavailableReason(mode, config);
  if (reason) throw new Error(reason);
  switch (mode) {
    case "single":
      return new SingleStrategy(targets);
    case "fallback":
      return new FallbackStrategy();
    case "loadbalance":
      return new LoadBalanceStrategy(targets);
    case "least-latency":
      return new LeastLatencyStrategy(targets, deps.leastLatency);
    case "cost-optimized":
      return new CostOptimizedStrategy(targets, deps.prices ?? builtinCatalog(), s.unpriced_strategy);
    case "content-based":
      return new ContentBasedStrategy(targets, s.content_conditions ?? []);
    case "conditional":
      return new ConditionalStrategy(targets, s.conditions ?? []);
    case "ab-test":
      return new AbTestStrategy(targets, s, deps.random);
  }
}
