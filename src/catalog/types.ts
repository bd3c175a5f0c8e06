// The model catalog's entry: what one provider charges for one model and what the model can take.

export interface CatalogPricing {
  /** USD per 1M input (prompt) tokens that were not served from cache. */
  readonly input_per_m?: number;
  /** USD per 1M output (completion) tokens, reasoning included. */
  readonly output_per_m?: number;
  /** USD per 1M input tokens read from the provider's prompt cache. */
  readonly cached_input_per_m?: number;
  /** USD per 1M input tokens written to the cache (Anthropic-style cache writes). */
  readonly cache_write_per_m?: number;
}

export interface CatalogEntry {
  /** Our provider kind (the vendor table's `kind`), e.g. "openai", "groq", "bedrock". */
  readonly provider: string;
  /** The model id as the provider is sent it. */
  readonly model: string;
  readonly name?: string;
  readonly context_window?: number;
  readonly max_output?: number;
  readonly modalities?: { readonly input: readonly string[]; readonly output: readonly string[] };
  readonly pricing?: CatalogPricing;
  readonly deprecated?: boolean;
  /** Where the entry came from: the price dataset, the models.dev snapshot, or the config. */
  readonly source: "genai-prices" | "models.dev" | "config";
}
