// Usage as billed, from the usage objects providers actually send. OpenAI-wire bodies are
// forwarded unchanged, so vendor dialects reach the gateway's accounting as they are:
//  - xAI counts reasoning outside completion_tokens (total = prompt + completion + reasoning);
//  - DeepSeek reports cache hits as prompt_cache_hit_tokens (also as cached_tokens lately);
//  - Cohere, Anthropic, Gemini, Bedrock go through their codecs, which emit OpenAI's fields.
import type { Usage } from "../api/types.js";

export interface BillableUsage {
  /** Prompt tokens, cached ones included. */
  readonly prompt: number;
  /** Prompt tokens served from the provider's cache (≤ prompt). */
  readonly cached: number;
  /** Output tokens, reasoning included. */
  readonly output: number;
}

type VendorUsage = Partial<Usage> & { prompt_cache_hit_tokens?: unknown };

const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0);

export function billableUsage(u: VendorUsage): BillableUsage {
  const prompt = n(u.prompt_tokens);
  let output = n(u.completion_tokens);
  const total = n(u.total_tokens);
  // Reasoning left out of completion_tokens (xAI) shows as a total above prompt + completion.
  if (total > prompt + output) output = total - prompt;
  const cached = Math.min(prompt, n(u.prompt_tokens_details?.cached_tokens) || n(u.prompt_cache_hit_tokens));
  return { prompt, cached, output };
}
