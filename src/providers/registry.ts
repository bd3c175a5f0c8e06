// Builds the configured providers from the config's `providers:` section and the environment
// (<NAME>_API_KEY, <NAME>_BASE_URL). Built once per config version; nothing here runs per request.
import type { GatewayConfig, ProviderConfig } from "../config/schema.js";
import { cloudSetup, type CloudSetup } from "./cloud.js";
import { codecFor } from "./codecs.js";
import type { Operation, Provider, UpstreamRequest } from "./types.js";
import { VENDORS, vendorByKind, type VendorSpec } from "./vendors.js";

const DEFAULT_TIMEOUT_MS = 120_000;

/** What providers read from the model catalog (src/catalog): the models it lists per vendor kind. */
export interface CatalogModels {
  lists(kind: string, model: string): boolean;
  modelsFor(kind: string): readonly string[];
}

/** Fills a vendor's "{placeholder}" base URL from the environment; undefined while one is unset. */
function templatedBase(vendor: VendorSpec, env: NodeJS.ProcessEnv): string | undefined {
  let url = vendor.baseUrl;
  for (const [name, vars] of Object.entries(vendor.baseUrlEnv ?? {})) {
    const value = vars.map((v) => env[v]).find((v) => v);
    if (!value) return undefined;
    // A host may be given as a URL (DATABRICKS_HOST=https://adb-1.azuredatabricks.net/).
    url = url.replace(`{${name}}`, value.replace(/^https?:\/\//, "").replace(/\/+$/, ""));
  }
  return url;
}

export interface ProviderSet {
  /** Providers that have what they need to serve (a key, or a base URL for keyless ones). */
  readonly byName: ReadonlyMap<string, Provider>;
  /** Why a provider named by config could not be built (missing key, unknown type). */
  readonly warnings: readonly string[];
}

function envKey(vendor: VendorSpec, env: NodeJS.ProcessEnv): string | undefined {
  // A keyless local server never picks a key up from the environment: OLLAMA_API_KEY is Ollama
  // Cloud's and must not be sent to OLLAMA_BASE_URL (providers.<name>.api_key still sets one).
  if (!vendor.keyRequired) return undefined;
  const direct = env[`${vendor.envPrefix}_API_KEY`];
  if (direct) return direct;
  for (const alias of vendor.keyEnvAliases ?? []) if (env[alias]) return env[alias];
  return undefined;
}

function authHeaders(vendor: VendorSpec, key: string | undefined): Record<string, string> {
  if (!key) return {};
  if (vendor.authHeader === "authorization") return { authorization: `Bearer ${key}` };
  return { [vendor.authHeader]: key };
}

class ConfiguredProvider implements Provider {
  readonly codec;
  readonly operations: ReadonlySet<Operation>;
  readonly batches: boolean;
  private readonly declared: ReadonlySet<string>;
  private readonly prefixes: readonly string[];
  readonly authorize?: (req: UpstreamRequest, url: URL) => Promise<Record<string, string>>;

  constructor(
    readonly name: string,
    private readonly vendor: VendorSpec,
    readonly baseUrl: URL,
    readonly headers: Readonly<Record<string, string>>,
    readonly timeoutMs: number,
    declaredModels: readonly string[],
    cloud?: CloudSetup,
    private readonly catalog?: CatalogModels,
  ) {
    this.codec = cloud?.codec ?? codecFor(vendor);
    const authorize = cloud?.authorize;
    if (authorize) this.authorize = (req, url) => authorize(req, url, this.headers);
    this.operations = new Set(vendor.operations);
    // Cloud setups (Azure's deployments) use other paths than the vendor's own base URL.
    this.batches = vendor.batches === true && cloud === undefined;
    this.declared = new Set(declaredModels);
    this.prefixes = vendor.modelPrefixes;
  }

  get kind(): string {
    return this.vendor.kind;
  }

  serves(model: string): boolean {
    if (this.declared.has(model)) return true;
    for (const p of this.prefixes) if (model.startsWith(p)) return true;
    if (this.vendor.servesNamespacedIds && model.includes("/")) return true;
    if (this.vendor.servesTaggedIds && model.includes(":")) return true;
    return this.catalog?.lists(this.vendor.kind, model) ?? false;
  }

  models(): readonly string[] {
    return [...new Set([...this.declared, ...this.vendor.knownModels, ...(this.catalog?.modelsFor(this.vendor.kind) ?? [])])];
  }
}

function buildOne(
  name: string,
  vendor: VendorSpec,
  cfg: ProviderConfig | undefined,
  declaredModels: readonly string[],
  env: NodeJS.ProcessEnv,
  explicitlyWanted: boolean,
  catalog?: CatalogModels,
): Provider | string {
  // Cloud platforms (Bedrock, Azure, Vertex) build their URL and credentials themselves.
  const cloud = cloudSetup(name, vendor, cfg, env);
  if (typeof cloud === "string") return cloud;
  const key = cfg?.api_key || (name === vendor.kind ? envKey(vendor, env) : undefined) || (cfg ? envKey(vendor, env) : undefined);
  const envBase = name === vendor.kind ? env[`${vendor.envPrefix}_BASE_URL`] : undefined;
  const base = cloud?.baseUrl ?? cfg?.base_url ?? envBase ?? (vendor.baseUrlEnv ? templatedBase(vendor, env) : vendor.baseUrl);
  if (base === undefined) {
    const vars = Object.values(vendor.baseUrlEnv ?? {}).map((v) => v[0]).join(", ");
    return `provider ${name}: no base URL (set ${vars}, ${vendor.envPrefix}_BASE_URL or providers.${name}.base_url)`;
  }
  if (!cloud && vendor.keyRequired && !key) return `provider ${name}: no API key (set ${vendor.envPrefix}_API_KEY or providers.${name}.api_key)`;
  // A keyless local server is enabled by its base URL or config, not by a key (OLLAMA_API_KEY is Ollama Cloud's).
  if (!cloud && !vendor.keyRequired && !cfg && !envBase && !explicitlyWanted) return `provider ${name}: not configured`;
  let baseUrl: URL;
  try {
    baseUrl = new URL(base.replace(/\/+$/, ""));
  } catch {
    return `provider ${name}: invalid base URL`;
  }
  const headers = { ...(cloud ? cloud.headers : authHeaders(vendor, key)), ...(cfg?.headers ?? {}) };
  const models = [...declaredModels, ...(cfg?.models ?? [])];
  return new ConfiguredProvider(name, vendor, baseUrl, headers, cfg?.timeout ?? DEFAULT_TIMEOUT_MS, models, cloud, catalog);
}

export function buildProviders(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env, catalog?: CatalogModels): ProviderSet {
  const byName = new Map<string, Provider>();
  const warnings: string[] = [];
  const declaredByTarget = new Map<string, string[]>();
  for (const t of config.targets) declaredByTarget.set(t.virtual_key, [...(declaredByTarget.get(t.virtual_key) ?? []), ...(t.models ?? [])]);

  const names = new Set<string>([...VENDORS.map((v) => v.kind), ...Object.keys(config.providers), ...declaredByTarget.keys()]);
  for (const name of names) {
    const cfg = config.providers[name];
    const kind = cfg?.type ?? name;
    const vendor = vendorByKind(kind);
    const wanted = declaredByTarget.has(name) || cfg !== undefined;
    if (!vendor) {
      if (wanted) warnings.push(`provider ${name}: unknown provider type "${kind}"`);
      continue;
    }
    const built = buildOne(name, vendor, cfg, declaredByTarget.get(name) ?? [], env, wanted, catalog);
    if (typeof built === "string") {
      if (wanted) warnings.push(built);
    } else byName.set(name, built);
  }
  return { byName, warnings };
}
