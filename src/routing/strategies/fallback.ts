import type { Choice, Strategy } from "../strategy.js";
import type { Target } from "../target.js";

/** Targets in config order; the attempt loop moves on when one fails. */
export const fallbackStrategy: Strategy = {
  mode: "fallback",
  choose(candidates: readonly Target[]): Choice {
    return { targets: [...candidates] };
  },
};
