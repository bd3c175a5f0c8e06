import { it } from "vitest";
import { builtinCatalog, costOf } from "../../src/catalog/index.js";
it("dump", () => {
const t0 = performance.now();
const c = builtinCatalog();
console.log("size", c.size, "kinds", c.providerKinds().length, "ms", (performance.now() - t0).toFixed(1));
for (const [k, m] of [["openai","gpt-4o"],["openai","gpt-4o-2024-08-06"],["openai","gpt-4o-mini"],["anthropic","claude-sonnet-4-5"],["anthropic","claude-3-5-sonnet-20241022"],["groq","llama-3.3-70b-versatile"],["cohere","command-a-03-2025"],["hugging-face","meta-llama/Llama-3.1-8B-Instruct"],["hugging-face","meta-llama/Llama-3.1-8B-Instruct:cerebras"],["gemini","gemini-2.5-flash"],["qwen","qwen3-coder-plus"],["deepinfra","zai-org/GLM-4.5"],["bedrock","anthropic.claude-3-5-sonnet-20241022-v2:0"],["cloudflare","@cf/meta/llama-3.1-8b-instruct"],["vertex-ai","claude-3-5-haiku@20241022"],["fireworks","accounts/fireworks/models/deepseek-v3-0324"]] as const) {
  console.log(k, m, JSON.stringify(c.lookup(k, m)));
}
console.log(costOf("openai", "gpt-4o", { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000, prompt_tokens_details: { cached_tokens: 500_000 } }));
const per = new Map<string, number>(); for (const e of c.entries()) per.set(e.provider, (per.get(e.provider) ?? 0) + 1); console.log(JSON.stringify([...per]));
});
