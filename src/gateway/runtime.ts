// Everything built from one config version. Requests take the current runtime when they start
// and keep it to the end, so a hot reload never changes a request in flight.
import { buildCatalog, type ModelCatalog } from "../catalog/index.js";
import { McpHub } from "../mcp/hub.js";
import type { McpLog } from "../mcp/server.js";
import { RequestTracing } from "../observability/tracing.js";
import type { GatewayConfig } from "../config/schema.js";
import { buildPipeline, type PluginPipeline } from "../plugins/pipeline.js";
import { MemoryState } from "../state/index.js";
import { buildProviders, type ProviderSet } from "../providers/registry.js";
import { Router } from "../routing/router.js";

export interface Runtime {
  readonly config: GatewayConfig;
  readonly providers: ProviderSet;
  readonly router: Router;
  /** Model catalog (datasets + config `catalog:`): prices, limits, the models each provider lists. */
  readonly catalog: ModelCatalog;
  /** The plugins of `config.plugins` (src/plugins); inactive when none is enabled. */
  readonly plugins: PluginPipeline;
  /** The MCP servers of `config.mcp_servers` and their tools (src/mcp); undefined when none is configured. */
  readonly mcp: McpHub | undefined;
  /** OpenTelemetry tracing of `config.observability.tracing` (src/observability/tracing.ts); undefined when off. */
  readonly tracing: RequestTracing | undefined;
  /** Memory plugin state that the next config version takes over (see MemoryState). */
  readonly memory: MemoryState;
  /** Requests started on this version and not yet done: it is closed only once they are. */
  readonly active: { requests: number };
  /** Releases what this version holds (connections of stateful plugins), once it is replaced. */
  close?(): Promise<void>;
}

/** What a new version takes over from the running one on a reload, and where MCP servers log. */
export interface RuntimeCarry {
  /** The running version's MCP hub: kept, connections and all, when `mcp_servers` did not change. */
  mcp?: McpHub;
  /** The running version's tracing: kept, exporter and queue, when its settings did not change. */
  tracing?: RequestTracing;
  log?: McpLog;
}

/** `memory`: the running version's, when this one replaces it (a reload). */
export function buildRuntime(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env, memory: MemoryState = new MemoryState(), carry: RuntimeCarry = {}): Runtime {
  const catalog = buildCatalog(config);
  const providers = buildProviders(config, env, catalog);
  const plugins = buildPipeline(config.plugins, { env, prices: catalog, providerKind: (name) => providers.byName.get(name)?.kind, memory });
  const router = new Router(config, providers, { prices: catalog });
  // Last: nothing after them may throw, or the hub (a stdio process) or the exporter would be left running.
  const tracing = RequestTracing.for(config.observability?.tracing, env, carry.log, carry.tracing);
  const mcp = McpHub.for(config.mcp_servers, env, carry.log, carry.mcp);
  const close = async (): Promise<void> => {
    await Promise.all([plugins.close(), mcp?.release(), tracing?.release()]);
  };
  return { config, providers, catalog, router, plugins, mcp, tracing, memory, active: { requests: 0 }, close };
}
