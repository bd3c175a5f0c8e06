// Everything built from one config version. Requests take the current runtime when they start
// and keep it to the end, so a hot reload never changes a request in flight.
import type { GatewayConfig } from "../config/schema.js";
import { buildProviders, type ProviderSet } from "../providers/registry.js";
import { Router } from "../routing/router.js";

export interface Runtime {
  readonly config: GatewayConfig;
  readonly providers: ProviderSet;
  readonly router: Router;
}

export function buildRuntime(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env): Runtime {
  const providers = buildProviders(config, env);
  return { config, providers, router: new Router(config, providers) };
}
