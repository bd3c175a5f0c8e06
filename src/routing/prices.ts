// Model prices for cost-optimized routing and budgets, behind an interface: the model catalog
// (src/catalog) is the implementation; tests use small fixed tables. Prices are USD per 1M
// tokens, keyed by provider kind (the vendor, so a second OpenAI account prices like the first)
// and the model id the target is sent. A model without a price is "unpriced" (unpriced_strategy).

export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  readonly input: number;
  /** USD per 1M output (completion) tokens. */
  readonly output: number;
}

export interface PriceSource {
  price(providerKind: string, model: string): ModelPrice | undefined;
  /** The highest price any provider lists for this model id (before routing has picked one). */
  dearest?(model: string): ModelPrice | undefined;
}

/** A PriceSource over a fixed table: provider kind → model → price. */
export function tablePrices(table: Readonly<Record<string, Readonly<Record<string, ModelPrice>>>>): PriceSource {
  const byKind = new Map(Object.entries(table).map(([kind, models]) => [kind, new Map(Object.entries(models))]));
  return { price: (kind, model) => byKind.get(kind)?.get(model) };
}
