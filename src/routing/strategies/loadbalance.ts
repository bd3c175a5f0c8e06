import { CIRCUIT_OPEN, soloChoices, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";

const DRAINED: Choice = Object.freeze({ targets: [], refusal: "drained" as const });

/**
 * Smooth weighted round robin (nginx's): every pick adds each eligible target's weight to its
 * running score, takes the highest score and subtracts the total from it. Over any window the
 * shares match the weights exactly, and a heavy target's turns are spread out rather than bunched.
 * Weight 0 takes no traffic; a target with an open circuit is left out and its share goes to the rest.
 */
export class LoadBalanceStrategy implements Strategy {
  readonly mode = "loadbalance" as const;
  private readonly score: Float64Array;
  private readonly choices: readonly Choice[];

  constructor(targets: readonly Target[]) {
    this.score = new Float64Array(targets.length);
    this.choices = soloChoices(targets);
  }

  choose(candidates: readonly Target[], _req?: RouteRequest): Choice {
    const now = Date.now();
    const score = this.score;
    let total = 0;
    let best = -1;
    let bestScore = -Infinity;
    let weighted = 0;
    for (const t of candidates) {
      const w = t.weight;
      if (w <= 0) continue;
      weighted++;
      if (!t.selectable(now)) continue;
      const s = (score[t.index] as number) + w;
      score[t.index] = s;
      total += w;
      if (s > bestScore) {
        bestScore = s;
        best = t.index;
      }
    }
    if (best < 0) return weighted > 0 ? CIRCUIT_OPEN : DRAINED;
    score[best] = (score[best] as number) - total;
    return this.choices[best] as Choice;
  }
}
