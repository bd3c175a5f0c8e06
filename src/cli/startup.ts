// What every way of starting the gateway does first: load and validate the config (every problem
// logged with its path), run the one-time checks, open nothing that outlives them.
import { ApiKeyService } from "../auth/api-keys.js";
import { configWarnings, loadConfigOrDefault, type LoadResult } from "../config/load.js";
import type { GatewayConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { buildProviders } from "../providers/registry.js";
import { openStores } from "../store/factory.js";

export type LoadedConfig = Extract<LoadResult, { ok: true }>;

/** Logged with "ferrogw listening". */
export interface StartupInfo {
  config: string;
  providers: string[];
  strategy: string;
}

/** Warnings about the providers, and the store migrations run once before anything serves. */
async function preflight(log: Logger, env: NodeJS.ProcessEnv, config: GatewayConfig): Promise<void> {
  const providers = buildProviders(config, env);
  for (const w of [...configWarnings(config), ...providers.warnings]) log.warn(w);
  if (providers.byName.size === 0) log.warn("no provider is configured: set a provider key such as OPENAI_API_KEY, or add providers to the config");
  const stores = await openStores(env);
  try {
    const open = !env.MASTER_KEY && !(await new ApiKeyService(stores.keys).hasAnyKeys());
    if (open) log.warn("no MASTER_KEY or API keys configured: the gateway accepts requests without authentication");
    log.info({ stores: stores.describe }, "stores ready");
  } finally {
    await stores.close();
  }
}

/** Loads the config and runs the checks; undefined (after logging why) when the gateway cannot start. */
export async function prepare(path: string | undefined, log: Logger, env: NodeJS.ProcessEnv): Promise<{ loaded: LoadedConfig; info: StartupInfo } | undefined> {
  const loaded = loadConfigOrDefault(path, env);
  if (!loaded.ok) {
    for (const issue of loaded.issues) log.error({ path: issue.path }, `config: ${issue.message}`);
    return undefined;
  }
  try {
    await preflight(log, env, loaded.config);
  } catch (err) {
    log.error({ err: (err as Error).message }, "cannot open the stores");
    return undefined;
  }
  const info: StartupInfo = { config: path ?? "(built-in default)", providers: [...buildProviders(loaded.config, env).byName.keys()], strategy: loaded.config.strategy.mode };
  return { loaded, info };
}
