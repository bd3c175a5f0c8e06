import { CIRCUIT_OPEN, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";

/** Targets in config order, open circuits passed over; the attempt loop moves on when one fails. */
export class FallbackStrategy implements Strategy {
  readonly mode = "fallback" as const;

  choose(candidates: readonly Target[], _req?: RouteRequest): Choice {
    const now = Date.now();
    let skipped = 0;
    for (const t of candidates) if (!t.selectable(now)) skipped++;
    if (skipped === 0) return { targets: candidates };
    if (skipped === candidates.length) return CIRCUIT_OPEN;
    return { targets: candidates.filter((t) => t.selectable(now)) };
  }
}
