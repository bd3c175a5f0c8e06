// Model prices for cost-optimized routing, behind an interface so the model catalog can replace
// this table later without touching the strategy. Prices are USD per 1M tokens, keyed by provider
// kind (the vendor, so a second OpenAI account prices like the first) and the model id the target
// is sent. Approximate list prices; a model missing here is "unpriced" (see unpriced_strategy).

export interface ModelPrice {
  /** USD per 1M input (prompt) tokens. */
  readonly input: number;
  /** USD per 1M output (completion) tokens. */
  readonly output: number;
}

export interface PriceSource {
  price(providerKind: string, model: string): ModelPrice | undefined;
}

const TABLE: Record<string, Record<string, ModelPrice>> = {
  openai: {
    "gpt-4o": { input: 2.5, output: 10 },
    "gpt-4o-mini": { input: 0.15, output: 0.6 },
    "gpt-4.1": { input: 2, output: 8 },
    "gpt-4.1-mini": { input: 0.4, output: 1.6 },
    "gpt-4.1-nano": { input: 0.1, output: 0.4 },
    o3: { input: 2, output: 8 },
    "o4-mini": { input: 1.1, output: 4.4 },
    "text-embedding-3-small": { input: 0.02, output: 0 },
    "text-embedding-3-large": { input: 0.13, output: 0 },
  },
  anthropic: {
    "claude-sonnet-4-5": { input: 3, output: 15 },
    "claude-opus-4-1": { input: 15, output: 75 },
    "claude-3-5-haiku-latest": { input: 0.8, output: 4 },
    "claude-3-5-sonnet-20241022": { input: 3, output: 15 },
  },
  gemini: {
    "gemini-2.5-pro": { input: 1.25, output: 10 },
    "gemini-2.5-flash": { input: 0.3, output: 2.5 },
    "gemini-2.0-flash": { input: 0.1, output: 0.4 },
  },
  deepseek: {
    "deepseek-chat": { input: 0.27, output: 1.1 },
    "deepseek-reasoner": { input: 0.55, output: 2.19 },
  },
  groq: {
    "llama-3.3-70b-versatile": { input: 0.59, output: 0.79 },
    "llama-3.1-8b-instant": { input: 0.05, output: 0.08 },
    "openai/gpt-oss-120b": { input: 0.15, output: 0.75 },
  },
  mistral: {
    "mistral-large-latest": { input: 2, output: 6 },
    "mistral-small-latest": { input: 0.2, output: 0.6 },
    "codestral-latest": { input: 0.3, output: 0.9 },
  },
  xai: {
    "grok-4": { input: 3, output: 15 },
    "grok-3": { input: 3, output: 15 },
    "grok-3-mini": { input: 0.3, output: 0.5 },
  },
  cerebras: {
    "llama3.1-8b": { input: 0.1, output: 0.1 },
  },
};

/** A PriceSource over a fixed table: provider kind → model → price. */
export function tablePrices(table: Readonly<Record<string, Readonly<Record<string, ModelPrice>>>>): PriceSource {
  const byKind = new Map(Object.entries(table).map(([kind, models]) => [kind, new Map(Object.entries(models))]));
  return { price: (kind, model) => byKind.get(kind)?.get(model) };
}

/** The built-in table, until the model catalog provides prices. */
export const builtinPrices: PriceSource = tablePrices(TABLE);
