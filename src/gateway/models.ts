// GET /v1/models: the models the configured targets serve, as OpenAI's list shape, with what the
// model catalog knows of each (context window, max output, modalities, prices in USD per 1M tokens).
import type { ModelInfo } from "../api/types.js";
import type { CatalogEntry } from "../catalog/index.js";
import type { Runtime } from "./runtime.js";

const CREATED = Math.floor(Date.now() / 1000);

/** OpenAI's model object plus the catalog's fields (clients ignore fields they do not know). */
export interface CatalogModelInfo extends ModelInfo {
  context_window?: number;
  max_output_tokens?: number;
  modalities?: { input: string[]; output: string[] };
  pricing?: { input_per_m?: number; output_per_m?: number; cached_input_per_m?: number; cache_write_per_m?: number };
}

function describe(id: string, ownedBy: string, entry: CatalogEntry | undefined): CatalogModelInfo {
  const info: CatalogModelInfo = { id, object: "model", created: CREATED, owned_by: ownedBy };
  if (!entry) return info;
  if (entry.context_window !== undefined) info.context_window = entry.context_window;
  if (entry.max_output !== undefined) info.max_output_tokens = entry.max_output;
  if (entry.modalities) info.modalities = { input: [...entry.modalities.input], output: [...entry.modalities.output] };
  if (entry.pricing) info.pricing = { ...entry.pricing };
  return info;
}

// The list only changes with the runtime (config version): built once per runtime.
const cache = new WeakMap<Runtime, { object: "list"; data: CatalogModelInfo[] }>();

export function listModels(rt: Runtime): { object: "list"; data: CatalogModelInfo[] } {
  const hit = cache.get(rt);
  if (hit) return hit;
  const seen = new Set<string>();
  const data: CatalogModelInfo[] = [];
  for (const target of rt.router.allTargets()) {
    const provider = target.provider;
    for (const id of provider.models()) {
      if (seen.has(id)) continue;
      seen.add(id);
      data.push(describe(id, provider.name, rt.catalog?.lookup(provider.kind, id)));
    }
  }
  for (const alias of Object.keys(rt.config.aliases)) {
    if (!seen.has(alias)) data.push({ id: alias, object: "model", created: CREATED, owned_by: "alias" });
  }
  const out = { object: "list" as const, data };
  cache.set(rt, out);
  return out;
}
