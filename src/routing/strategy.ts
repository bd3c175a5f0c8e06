// The strategy interface: given the targets that serve this request (config order), return the
// targets to attempt, in order. Only `fallback` returns more than one; every other mode picks one
// target and the attempt loop asks only that one (its retries still apply).
//
// Under every mode a target whose circuit is open is passed over when choosing. A strategy that
// cannot choose says why (`refusal`), so the router can tell "everything that serves this model is
// down" (503) from "nothing serves it" (404).
import type { IncomingHttpHeaders } from "node:http";
import type { StrategyMode } from "../config/schema.js";
import type { Operation } from "../providers/types.js";
import type { Target } from "./target.js";

export interface RouteRequest {
  /** The requested model after alias resolution. */
  readonly model: string;
  readonly operation: Operation;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readonly<Record<string, unknown>>;
  readonly keyId: string | undefined;
}

/**
 * Why no target was chosen:
 * - circuit_open: targets serve the model but every eligible one has an open circuit (503);
 * - drained: every target that serves the model has weight 0 (503);
 * - unpriced: cost-optimized with unpriced_strategy skip and no priced target (404);
 * - not_served: the rule's target does not serve the model (404).
 */
export type Refusal = "circuit_open" | "drained" | "unpriced" | "not_served";

export interface Choice {
  /** Never mutated by consumers: strategies hand out precomputed choices. */
  readonly targets: readonly Target[];
  /** A/B label or the rule that decided, reported in x-ferro-variant and the request log. */
  readonly variant?: string;
  readonly refusal?: Refusal;
}

export interface Strategy {
  readonly mode: StrategyMode;
  choose(candidates: readonly Target[], req: RouteRequest): Choice;
  /**
   * What, besides the model and the body's content, decides where this request goes (the rule a
   * header or API key matches, a sticky A/B variant): requests that differ in it may be answered
   * by different models, so the response cache keeps them apart. Undefined: nothing else does.
   */
  routeKey?(candidates: readonly Target[], req: RouteRequest): string | undefined;
}

export const CIRCUIT_OPEN: Choice = Object.freeze({ targets: [], refusal: "circuit_open" as const });
export const NOT_SERVED: Choice = Object.freeze({ targets: [], refusal: "not_served" as const });

/** Header values must be visible ASCII; labels come from config, so clean them once at load. */
export function headerSafe(label: string): string {
  return label.replace(/[^\x20-\x7e]/g, "_").slice(0, 200);
}

/** One precomputed single-target choice per target, indexed by Target.index. */
export function soloChoices(targets: readonly Target[], variant?: string): Choice[] {
  return targets.map((t) => Object.freeze(variant === undefined ? { targets: [t] } : { targets: [t], variant }));
}
