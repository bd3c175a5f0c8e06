// Resolves a request to the targets to attempt: aliases first, then explicit `provider/model`
// addressing, then every target whose provider serves the model, ordered by the strategy.
import type { GatewayConfig } from "../config/schema.js";
import type { ProviderSet } from "../providers/registry.js";
import type { Operation, Provider } from "../providers/types.js";
import { modelNotFound, GatewayError } from "../server/errors.js";
import { createStrategy } from "./strategies/index.js";
import type { Choice, RouteRequest, Strategy } from "./strategy.js";
import { Target } from "./target.js";

export interface RoutePlan extends Choice {
  /** The model to request (alias resolved, provider prefix stripped). */
  readonly model: string;
}

export class Router {
  private readonly aliases: ReadonlyMap<string, string>;
  private readonly targets: readonly Target[];
  private readonly byProvider: ReadonlyMap<string, Target>;
  private readonly providers: ReadonlyMap<string, Provider>;
  readonly strategy: Strategy;

  constructor(config: GatewayConfig, providers: ProviderSet) {
    this.aliases = new Map(Object.entries(config.aliases));
    this.providers = providers.byName;
    const configured = config.targets.filter((t) => providers.byName.has(t.virtual_key));
    this.targets =
      config.targets.length > 0
        ? configured.map((t) => new Target(providers.byName.get(t.virtual_key) as Provider, t))
        : [...providers.byName.values()].map((p) => new Target(p, undefined));
    const byProvider = new Map<string, Target>();
    for (const t of this.targets) if (!byProvider.has(t.provider.name)) byProvider.set(t.provider.name, t);
    this.byProvider = byProvider;
    this.strategy = createStrategy(config, this.targets);
  }

  allTargets(): readonly Target[] {
    return this.targets;
  }

  resolveAlias(model: string): string {
    return this.aliases.get(model) ?? model;
  }

  plan(requested: string, operation: Operation, req: Omit<RouteRequest, "model" | "operation">): RoutePlan {
    const model = this.resolveAlias(requested);
    const slash = model.indexOf("/");
    if (slash > 0) {
      const explicit = this.explicitTarget(model.slice(0, slash), operation);
      if (explicit) return { model: model.slice(slash + 1), targets: [explicit] };
    }
    const candidates = this.targets.filter((t) => t.provider.operations.has(operation) && t.serves(model));
    if (candidates.length === 0) throw modelNotFound(requested);
    const choice = this.strategy.choose(candidates, { ...req, model, operation });
    if (choice.targets.length === 0) throw modelNotFound(requested);
    return { model, ...choice };
  }

  /** `provider/model` names a provider directly, bypassing the strategy. */
  private explicitTarget(name: string, operation: Operation): Target | undefined {
    const target = this.byProvider.get(name) ?? (this.providers.has(name) ? new Target(this.providers.get(name) as Provider, undefined) : undefined);
    if (target && !target.provider.operations.has(operation))
      throw new GatewayError(400, "invalid_request_error", "unsupported_operation", `Provider ${name} does not support ${operation}.`, {
        param: "model",
      });
    return target;
  }
}
