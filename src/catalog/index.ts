// The model catalog: public surface. See data.ts for the datasets and catalog.ts for lookups.
import type { GatewayConfig } from "../config/schema.js";
import { ModelCatalog, builtinCatalog } from "./catalog.js";

export { ModelCatalog, builtinCatalog, costOf, type CatalogOverride } from "./catalog.js";
export type { CatalogEntry, CatalogPricing } from "./types.js";

/** The catalog for one config version: the datasets plus `catalog.models`. */
export function buildCatalog(config: GatewayConfig): ModelCatalog {
  const overrides = config.catalog?.models ?? {};
  if (Object.keys(overrides).length === 0) return builtinCatalog();
  // "<provider>/<model>": a configured provider name stands for its type (its vendor kind).
  return new ModelCatalog(overrides, (p) => config.providers[p]?.type ?? p);
}
