// Builds the configured providers from the config's `providers:` section and the environment
// (<NAME>_API_KEY, <NAME>_BASE_URL). Built once per config version; nothing here runs per request.
import type { GatewayConfig, ProviderConfig } from "../config/schema.js";
import { codecFor } from "./codecs.js";
import type { Operation, Provider } from "./types.js";
import { VENDORS, vendorByKind, type VendorSpec } from "./vendors.js";

const DEFAULT_TIMEOUT_MS = 120_000;

export interface ProviderSet {
  /** Providers that have what they need to serve (a key, or a base URL for keyless ones). */
  readonly byName: ReadonlyMap<string, Provider>;
  /** Why a provider named by config could not be built (missing key, unknown type). */
  readonly warnings: readonly string[];
}

function envKey(vendor: VendorSpec, env: NodeJS.ProcessEnv): string | undefined {
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
  private readonly declared: ReadonlySet<string>;
  private readonly prefixes: readonly string[];

  constructor(
    readonly name: string,
    private readonly vendor: VendorSpec,
    readonly baseUrl: URL,
    readonly headers: Readonly<Record<string, string>>,
    readonly timeoutMs: number,
    declaredModels: readonly string[],
  ) {
    this.codec = codecFor(vendor);
    this.operations = new Set(vendor.operations);
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
    return false;
  }

  models(): readonly string[] {
    return [...new Set([...this.declared, ...this.vendor.knownModels])];
  }
}

function buildOne(
  name: string,
  vendor: VendorSpec,
  cfg: ProviderConfig | undefined,
  declaredModels: readonly string[],
  env: NodeJS.ProcessEnv,
  explicitlyWanted: boolean,
): Provider | string {
  const key = cfg?.api_key || (name === vendor.kind ? envKey(vendor, env) : undefined) || (cfg ? envKey(vendor, env) : undefined);
  const envBase = name === vendor.kind ? env[`${vendor.envPrefix}_BASE_URL`] : undefined;
  const base = cfg?.base_url ?? envBase ?? vendor.baseUrl;
  if (vendor.keyRequired && !key) return `provider ${name}: no API key (set ${vendor.envPrefix}_API_KEY or providers.${name}.api_key)`;
  if (!vendor.keyRequired && !key && !cfg && !envBase && !explicitlyWanted) return `provider ${name}: not configured`;
  let baseUrl: URL;
  try {
    baseUrl = new URL(base.replace(/\/+$/, ""));
  } catch {
    return `provider ${name}: invalid base URL`;
  }
  const headers = { ...authHeaders(vendor, key), ...(cfg?.headers ?? {}) };
  const models = [...declaredModels, ...(cfg?.models ?? [])];
  return new ConfiguredProvider(name, vendor, baseUrl, headers, cfg?.timeout ?? DEFAULT_TIMEOUT_MS, models);
}

export function buildProviders(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env): ProviderSet {
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
    const built = buildOne(name, vendor, cfg, declaredByTarget.get(name) ?? [], env, wanted);
    if (typeof built === "string") {
      if (wanted) warnings.push(built);
    } else byName.set(name, built);
  }
  return { byName, warnings };
}
