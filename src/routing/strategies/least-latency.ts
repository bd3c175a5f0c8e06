import { CIRCUIT_OPEN, soloChoices, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";

export interface LeastLatencyOptions {
  /** Share of requests sent to a random other target, so a recovered one is noticed. */
  explore: number;
  /** A target not measured for this long gets the next request (one probe at a time). */
  reprobeMs: number;
  random: () => number;
}

export const LEAST_LATENCY_DEFAULTS: LeastLatencyOptions = { explore: 0.05, reprobeMs: 10_000, random: Math.random };

/**
 * The target with the lowest moving average of observed latency (recorded by the attempt loop).
 * Targets never measured go first; a target whose last sample is older than `reprobeMs` is
 * probed once; and a small share of traffic explores the others, so a target that was slow (or
 * whose circuit was open) gets traffic again once it recovers.
 */
export class LeastLatencyStrategy implements Strategy {
  readonly mode = "least-latency" as const;
  private readonly choices: readonly Choice[];
  private readonly opts: LeastLatencyOptions;

  constructor(targets: readonly Target[], opts: Partial<LeastLatencyOptions> = {}) {
    this.choices = soloChoices(targets);
    this.opts = { ...LEAST_LATENCY_DEFAULTS, ...opts };
  }

  choose(candidates: readonly Target[], _req?: RouteRequest): Choice {
    const now = Date.now();
    let best: Target | undefined;
    let eligible = 0;
    for (const t of candidates) {
      if (!t.selectable(now)) continue;
      eligible++;
      const stats = t.latency;
      if (stats.samples === 0) return this.pick(t);
      if (now - stats.lastAt >= this.opts.reprobeMs) {
        stats.lastAt = now; // claim the probe: concurrent requests keep to the best target
        return this.pick(t);
      }
      if (best === undefined || stats.ewmaMs < best.latency.ewmaMs) best = t;
    }
    if (best === undefined) return CIRCUIT_OPEN;
    if (eligible > 1 && this.opts.random() < this.opts.explore) {
      // The n-th eligible target other than the best, n uniform.
      let n = Math.floor(this.opts.random() * (eligible - 1));
      for (const t of candidates) {
        if (t === best || !t.selectable(now)) continue;
        if (n-- === 0) return this.pick(t);
      }
    }
    return this.pick(best);
  }

  private pick(t: Target): Choice {
    return this.choices[t.index] ?? { targets: [t] };
  }
}
