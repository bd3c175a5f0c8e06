// The model catalog: the dataset models (data.ts) plus the config's `catalog.models` additions
// and overrides, looked up by (provider kind, model id). It is the gateway's PriceSource for
// cost-optimized routing and prices each request's usage (costOf).
import type { Usage } from "../api/types.js";
import type { ModelPrice, PriceSource } from "../routing/prices.js";
import { baseModels, type BaseModel } from "./data.js";
import type { CatalogEntry, CatalogPricing } from "./types.js";
import { billableUsage } from "./usage.js";

/** One `catalog.models` entry of the config ("<provider>/<model>" → what to set). */
export interface CatalogOverride {
  input_per_m?: number;
  output_per_m?: number;
  cached_input_per_m?: number;
  context_window?: number;
  max_output?: number;
}

interface KindIndex {
  /** Lower-cased listed id → entry. */
  readonly exact: Map<string, CatalogEntry>;
  /** Dataset entries in order, for ids only their match rules know (dated snapshots, variants). */
  readonly rules: readonly BaseModel[];
  /** Listed model ids, in order, without duplicates. */
  readonly listed: string[];
}

function applyOverride(kind: string, model: string, base: CatalogEntry | undefined, o: CatalogOverride): CatalogEntry {
  const pricing: { -readonly [K in keyof CatalogPricing]: CatalogPricing[K] } = { ...(base?.pricing ?? {}) };
  if (o.input_per_m !== undefined) pricing.input_per_m = o.input_per_m;
  if (o.output_per_m !== undefined) pricing.output_per_m = o.output_per_m;
  if (o.cached_input_per_m !== undefined) pricing.cached_input_per_m = o.cached_input_per_m;
  return {
    ...(base ?? {}),
    provider: kind,
    model: base?.model ?? model,
    ...(o.context_window !== undefined ? { context_window: o.context_window } : {}),
    ...(o.max_output !== undefined ? { max_output: o.max_output } : {}),
    ...(Object.keys(pricing).length > 0 ? { pricing } : {}),
    source: "config",
  };
}

export class ModelCatalog implements PriceSource {
  private readonly kinds = new Map<string, KindIndex>();
  /** Cache of rule lookups (a miss is cached as null); ids seen in traffic are a small set. */
  private readonly ruleCache = new Map<string, CatalogEntry | null>();

  /**
   * @param overrides "<provider>/<model>" → override; provider is a kind, or a configured provider
   *   name that `kindOf` resolves to its kind.
   */
  constructor(
    overrides: Readonly<Record<string, CatalogOverride>> = {},
    kindOf: (provider: string) => string = (p) => p,
    base: ReadonlyMap<string, readonly BaseModel[]> = baseModels(),
  ) {
    for (const [kind, models] of base) {
      const idx: KindIndex = { exact: new Map(), rules: models, listed: [] };
      const seen = new Set<string>();
      for (const m of models) {
        for (const id of m.ids) if (!idx.exact.has(id)) idx.exact.set(id, m.entry);
        for (const id of [m.entry.model, ...m.aliases]) {
          const lower = id.toLowerCase();
          if (seen.has(lower) || idx.exact.get(lower) !== m.entry) continue;
          seen.add(lower);
          idx.listed.push(id);
        }
      }
      this.kinds.set(kind, idx);
    }
    for (const [key, o] of Object.entries(overrides)) {
      const slash = key.indexOf("/");
      if (slash <= 0) continue;
      const kind = kindOf(key.slice(0, slash));
      const model = key.slice(slash + 1);
      let idx = this.kinds.get(kind);
      if (!idx) this.kinds.set(kind, (idx = { exact: new Map(), rules: [], listed: [] }));
      const entry = applyOverride(kind, model, this.lookup(kind, model), o);
      idx.exact.set(model.toLowerCase(), entry);
      if (entry.model.toLowerCase() !== model.toLowerCase()) idx.exact.set(entry.model.toLowerCase(), entry);
      if (!idx.listed.some((m) => m.toLowerCase() === entry.model.toLowerCase())) idx.listed.push(entry.model);
    }
  }

  /** The entry for a model of a provider kind: an exact listed id, else a dataset match rule. */
  lookup(kind: string, model: string): CatalogEntry | undefined {
    const idx = this.kinds.get(kind);
    if (!idx) return undefined;
    const lower = model.toLowerCase();
    const hit = idx.exact.get(lower);
    if (hit) return hit;
    const key = `${kind}\u0000${lower}`;
    const cached = this.ruleCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let found: CatalogEntry | undefined;
    for (const m of idx.rules) {
      if (m.matches(lower)) {
        found = m.entry;
        break;
      }
    }
    if (this.ruleCache.size < 10_000) this.ruleCache.set(key, found ?? null);
    return found;
  }

  /** True when the catalog lists this exact model id for the provider kind. */
  lists(kind: string, model: string): boolean {
    return this.kinds.get(kind)?.exact.has(model.toLowerCase()) ?? false;
  }

  /** The model ids listed for a provider kind. */
  modelsFor(kind: string): readonly string[] {
    return this.kinds.get(kind)?.listed ?? [];
  }

  /** Provider kinds with at least one model. */
  providerKinds(): string[] {
    return [...this.kinds.keys()].filter((k) => (this.kinds.get(k)?.listed.length ?? 0) > 0).sort();
  }

  /** Every listed entry, optionally of one kind. */
  entries(kind?: string): CatalogEntry[] {
    const out: CatalogEntry[] = [];
    for (const k of kind ? [kind] : this.providerKinds()) {
      const idx = this.kinds.get(k);
      if (!idx) continue;
      for (const id of idx.listed) {
        const e = idx.exact.get(id.toLowerCase());
        // An alias is listed under its own id with its model's data.
        if (e) out.push(e.model === id ? e : { ...e, model: id });
      }
    }
    return out;
  }

  get size(): number {
    let n = 0;
    for (const idx of this.kinds.values()) n += idx.listed.length;
    return n;
  }

  /** PriceSource for cost-optimized routing: USD per 1M input / output tokens. */
  price(providerKind: string, model: string): ModelPrice | undefined {
    const p = this.lookup(providerKind, model)?.pricing;
    if (p?.input_per_m === undefined && p?.output_per_m === undefined) return undefined;
    return { input: p.input_per_m ?? 0, output: p.output_per_m ?? 0 };
  }

  /**
   * The highest input and the highest output price any provider kind lists for this model id
   * (each on its own, so it bounds every one of them): what a budget reserves before routing.
   */
  dearest(model: string): ModelPrice | undefined {
    let input = -1;
    let output = -1;
    for (const kind of this.kinds.keys()) {
      const p = this.price(kind, model);
      if (p === undefined) continue;
      input = Math.max(input, p.input);
      output = Math.max(output, p.output);
    }
    return input < 0 ? undefined : { input, output };
  }

  /**
   * USD for one request's usage, or undefined when the model is unpriced. Cached prompt tokens are
   * charged at the cache-read price (the input price where the provider has none); reasoning
   * tokens are charged as output (see usage.ts for the vendor dialects this reads).
   */
  costOf(providerKind: string, model: string, usage: Partial<Usage> | undefined): number | undefined {
    if (!usage) return undefined;
    const p = this.lookup(providerKind, model)?.pricing;
    if (!p || (p.input_per_m === undefined && p.output_per_m === undefined)) return undefined;
    const { prompt, cached, output } = billableUsage(usage);
    const input = p.input_per_m ?? 0;
    const usd = (prompt - cached) * input + cached * (p.cached_input_per_m ?? input) + output * (p.output_per_m ?? 0);
    return usd / 1e6;
  }
}

let defaultCatalog: ModelCatalog | undefined;

/** The catalog without config overrides (built on first use). */
export function builtinCatalog(): ModelCatalog {
  defaultCatalog ??= new ModelCatalog();
  return defaultCatalog;
}

/** USD for a request's usage at the built-in catalog's prices; undefined when unpriced. */
export function costOf(provider: string, model: string, usage: Partial<Usage> | undefined): number | undefined {
  return builtinCatalog().costOf(provider, model, usage);
}
