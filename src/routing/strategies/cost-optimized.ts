import type { GatewayConfig } from "../../config/schema.js";
import type { ModelPrice, PriceSource } from "../prices.js";
import { CIRCUIT_OPEN, soloChoices, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";

type Unpriced = GatewayConfig["strategy"]["unpriced_strategy"];

const UNPRICED: Choice = Object.freeze({ targets: [], refusal: "unpriced" as const });
/** Expected completion length when the request sets no max_tokens: only ranks, never bills. */
const DEFAULT_OUTPUT_TOKENS = 256;
const MAX_CACHED_MODELS = 1024;
const NO_PRICE = null;

/** Rough prompt size in tokens (~4 characters each) from whatever the body carries. */
export function estimateTokens(body: Readonly<Record<string, unknown>>): { input: number; output: number } {
  let chars = 0;
  const messages = body.messages;
  if (Array.isArray(messages)) {
    for (const m of messages as Array<{ content?: unknown }>) chars += textLength(m?.content);
  } else {
    chars += textLength(body.input) + textLength(body.prompt);
  }
  const max = body.max_completion_tokens ?? body.max_tokens;
  return { input: Math.ceil(chars / 4) + 1, output: typeof max === "number" && max > 0 ? max : messages ? DEFAULT_OUTPUT_TOKENS : 0 };
}

function textLength(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (!Array.isArray(v)) return 0;
  let n = 0;
  for (const part of v as unknown[]) {
    if (typeof part === "string") n += part.length;
    else if (part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") n += (part as { text: string }).text.length;
  }
  return n;
}

/**
 * The cheapest target that serves the model, by estimated request cost (prompt tokens × input
 * price + expected completion tokens × output price). Ties keep config order. A target with no
 * price is handled by `unpriced_strategy`: `fallback` ranks priced targets and uses the first
 * unpriced one only when none is priced; `skip` never uses an unpriced target; `allow` prices it at zero.
 */
export class CostOptimizedStrategy implements Strategy {
  readonly mode = "cost-optimized" as const;
  private readonly choices: readonly Choice[];
  /** model → price per target index (null: unpriced), so the lookup runs once per model. */
  private readonly cache = new Map<string, Array<ModelPrice | null>>();

  constructor(
    private readonly targets: readonly Target[],
    private readonly prices: PriceSource,
    private readonly unpriced: Unpriced,
  ) {
    this.choices = soloChoices(targets);
  }

  choose(candidates: readonly Target[], req: RouteRequest): Choice {
    const now = Date.now();
    const prices = this.pricesFor(req.model);
    const tokens = estimateTokens(req.body);
    let best: Target | undefined;
    let bestCost = Infinity;
    let firstUnpriced: Target | undefined;
    let eligible = 0;
    for (const t of candidates) {
      if (!t.selectable(now)) continue;
      eligible++;
      const p = prices[t.index];
      let cost: number;
      if (p) cost = tokens.input * p.input + tokens.output * p.output;
      else if (this.unpriced === "allow") cost = 0;
      else {
        firstUnpriced ??= t;
        continue;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = t;
      }
    }
    if (best === undefined && this.unpriced === "fallback") best = firstUnpriced;
    if (best !== undefined) return this.choices[best.index] ?? { targets: [best] };
    if (eligible === 0) return CIRCUIT_OPEN;
    return UNPRICED;
  }

  private pricesFor(model: string): Array<ModelPrice | null> {
    let row = this.cache.get(model);
    if (row) return row;
    row = this.targets.map((t) => this.prices.price(t.provider.kind, t.upstreamModel(model)) ?? NO_PRICE);
    if (this.cache.size >= MAX_CACHED_MODELS) this.cache.clear();
    this.cache.set(model, row);
    return row;
  }
}
