// `ferrogw models [--provider P] [--config F]`: the model catalog (context window, max output,
// modalities, prices in USD per 1M tokens), with the config's `catalog:` overrides applied.
// Offline: it reads the catalog shipped with the gateway, not a running gateway.
import { buildCatalog, type CatalogEntry } from "../catalog/index.js";
import { loadConfigOrDefault } from "../config/load.js";
import { resolveConfigPath } from "./config-path.js";
import { emit, table, type GlobalOptions } from "./output.js";

export interface ModelsOptions {
  provider?: string;
  config?: string;
}

function price(n: number | undefined): string | undefined {
  if (n === undefined) return undefined;
  return Number(n.toPrecision(6)).toString();
}

export function models(g: GlobalOptions, opts: ModelsOptions): void {
  const result = loadConfigOrDefault(resolveConfigPath(opts.config));
  if (!result.ok) {
    process.stderr.write(`config: ${result.issues.length} error(s)\n`);
    for (const issue of result.issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
    process.exitCode = 1;
    return;
  }
  const config = result.config;
  const catalog = buildCatalog(config);
  // --provider takes a vendor kind or a name from `providers:` (which stands for its type).
  const kind = opts.provider ? (config.providers[opts.provider]?.type ?? opts.provider) : undefined;
  if (kind && catalog.modelsFor(kind).length === 0) {
    process.stderr.write(`no catalog models for provider "${opts.provider}"; providers with models: ${catalog.providerKinds().join(", ")}\n`);
    process.exitCode = 1;
    return;
  }
  const entries: CatalogEntry[] = catalog.entries(kind);
  emit(g, { object: "list", count: entries.length, data: entries }, () => {
    const rows = entries.map((e) => [
      e.provider,
      e.model,
      e.context_window,
      e.max_output,
      price(e.pricing?.input_per_m),
      price(e.pricing?.output_per_m),
      price(e.pricing?.cached_input_per_m),
      e.modalities ? e.modalities.input.join("+") : undefined,
    ]);
    const kinds = new Set(entries.map((e) => e.provider)).size;
    return (
      table(["PROVIDER", "MODEL", "CONTEXT", "MAX OUT", "IN $/M", "OUT $/M", "CACHED $/M", "INPUT"], rows, g.color) +
      `${entries.length} models from ${kinds} provider(s); prices in USD per 1M tokens\n`
    );
  });
}
