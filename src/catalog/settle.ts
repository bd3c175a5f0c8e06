// Prices a finished request: called once the response is out (in the server's close handler,
// after usage of forwarded bodies has been read), so it never delays a response.
import type { Provider } from "../providers/types.js";
import type { RequestContext } from "../server/context.js";
import type { ModelCatalog } from "./catalog.js";

export interface PricingRuntime {
  readonly catalog: ModelCatalog;
  readonly providers: { readonly byName: ReadonlyMap<string, Provider> };
}

/** Sets ctx.costUsd from the usage, the provider that served and the model it was sent. */
export function settleCost(rt: PricingRuntime, ctx: RequestContext): void {
  if (!ctx.usage || !ctx.provider || !ctx.upstreamModel || ctx.status >= 400 || ctx.cacheHit) return;
  const provider = rt.providers.byName.get(ctx.provider);
  if (!provider) return;
  const usd = rt.catalog.costOf(provider.kind, ctx.upstreamModel, ctx.usage);
  if (usd !== undefined) ctx.costUsd = usd;
}
