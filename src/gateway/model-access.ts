// A key restricted to some models may use them by name or through an alias, but an alias is no
// way around the list: both the requested and the resolved name must be allowed.
import { checkModelAllowed } from "../auth/api-keys.js";
import type { RequestContext } from "../server/context.js";
import type { Runtime } from "./runtime.js";

export function checkModelAccess(rt: Runtime, ctx: RequestContext, requested: string): void {
  const allowed = ctx.identity.allowedModels;
  if (allowed === null) return;
  checkModelAllowed(ctx.identity, requested);
  const resolved = rt.router.resolveAlias(requested);
  if (resolved !== requested) checkModelAllowed(ctx.identity, resolved);
}
