import type { Choice, Strategy } from "../strategy.js";
import type { Target } from "../target.js";

/** The first target that serves the model, and no other. */
export const singleStrategy: Strategy = {
  mode: "single",
  choose(candidates: readonly Target[]): Choice {
    return { targets: candidates.slice(0, 1) };
  },
};
