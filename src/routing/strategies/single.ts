import { CIRCUIT_OPEN, soloChoices, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";

/** The first target that serves the model (and whose circuit is not open), and no other. */
export class SingleStrategy implements Strategy {
  readonly mode = "single" as const;
  private readonly choices: readonly Choice[];

  constructor(targets: readonly Target[]) {
    this.choices = soloChoices(targets);
  }

  choose(candidates: readonly Target[], _req?: RouteRequest): Choice {
    const now = Date.now();
    for (const t of candidates) if (t.selectable(now)) return this.choices[t.index] ?? { targets: [t] };
    return CIRCUIT_OPEN;
  }
}
