// Resolves a request to the targets to attempt: aliases first, then explicit `provider/model`
// addressing, then every target whose provider serves the model, chosen by the strategy (the
// configured mode, or the one a request names in x-ferro-strategy).
import { STRATEGY_MODES, type GatewayConfig, type StrategyMode } from "../config/schema.js";
import type { ProviderSet } from "../providers/registry.js";
import type { Operation, Provider } from "../providers/types.js";
import type { RequestContext } from "../server/context.js";
import { modelNotFound, GatewayError } from "../server/errors.js";
import { createStrategy, unavailableReason, type StrategyDeps } from "./strategies/index.js";
import type { Refusal, Strategy } from "./strategy.js";
import { Target } from "./target.js";

/** Request header naming a strategy mode for this request only. */
export const STRATEGY_HEADER = "x-ferro-strategy";

export interface RoutePlan {
  /** The model to request (alias resolved, provider prefix stripped). */
  readonly model: string;
  /** Targets to attempt, in order; more than one only under fallback. */
  readonly targets: readonly Target[];
  /** config.request_timeout: bounds a non-streaming request end to end. */
  readonly requestTimeoutMs: number | undefined;
}

const MAX_CACHED_MODELS = 4096;
const MODES: ReadonlySet<string> = new Set(STRATEGY_MODES);

export function circuitOpenError(model: string, retryInMs: number): GatewayError {
  return new GatewayError(503, "api_error", "circuit_open", `Every target that serves '${model}' is unavailable (circuit breaker open); try again later.`, {
    headers: retryInMs > 0 ? { "retry-after": String(Math.ceil(retryInMs / 1000)) } : undefined,
    retryable: true,
  });
}

export class Router {
  private readonly aliases: ReadonlyMap<string, string>;
  private readonly targets: readonly Target[];
  private readonly byProvider: ReadonlyMap<string, Target>;
  private readonly providers: ReadonlyMap<string, Provider>;
  /** Targets for providers addressed as `provider/model` that no configured target names. */
  private readonly adHoc = new Map<string, Target>();
  /** Strategy per mode: the configured one, plus every other mode the config can run, for x-ferro-strategy. */
  private readonly strategies = new Map<string, Strategy | string>();
  /** operation → model → candidate targets (which targets serve a model never changes per config). */
  private readonly candidateCache = new Map<Operation, Map<string, readonly Target[]>>();
  private readonly requestTimeoutMs: number | undefined;
  readonly strategy: Strategy;

  constructor(config: GatewayConfig, providers: ProviderSet, deps: StrategyDeps = {}) {
    this.aliases = new Map(Object.entries(config.aliases));
    this.providers = providers.byName;
    const configured = config.targets.filter((t) => providers.byName.has(t.virtual_key));
    this.targets =
      config.targets.length > 0
        ? configured.map((t, i) => new Target(providers.byName.get(t.virtual_key) as Provider, t, i))
        : [...providers.byName.values()].map((p, i) => new Target(p, undefined, i));
    const byProvider = new Map<string, Target>();
    for (const t of this.targets) if (!byProvider.has(t.provider.name)) byProvider.set(t.provider.name, t);
    this.byProvider = byProvider;
    this.requestTimeoutMs = config.request_timeout;
    this.strategy = createStrategy(config.strategy.mode, config, this.targets, deps);
    for (const mode of STRATEGY_MODES) {
      if (mode === config.strategy.mode) this.strategies.set(mode, this.strategy);
      else this.strategies.set(mode, unavailableReason(mode, config) ?? createStrategy(mode, config, this.targets, deps));
    }
  }

  allTargets(): readonly Target[] {
    return this.targets;
  }

  resolveAlias(model: string): string {
    return this.aliases.get(model) ?? model;
  }

  /**
   * Where, besides the model and content, this request would be routed (Strategy.routeKey), under
   * the strategy it asks for: the response cache's scope. "" when the strategy header is invalid
   * (plan() refuses that request anyway).
   */
  routeScope(requested: string, ctx: RequestContext, body: Readonly<Record<string, unknown>>): string {
    let strategy: Strategy;
    try {
      strategy = this.strategyFor(ctx);
    } catch {
      return "";
    }
    if (strategy.routeKey === undefined) return strategy.mode;
    const model = this.resolveAlias(requested);
    const key = strategy.routeKey(this.candidates(model, "chat"), { model, operation: "chat", headers: ctx.headers, body, keyId: ctx.keyId });
    return key === undefined ? strategy.mode : `${strategy.mode}:${key}`;
  }

  /** Plans one request and records the strategy and variant on the context (response headers). */
  plan(requested: string, operation: Operation, ctx: RequestContext, body: Readonly<Record<string, unknown>>): RoutePlan {
    const strategy = this.strategyFor(ctx);
    const model = this.resolveAlias(requested);
    const slash = model.indexOf("/");
    if (slash > 0) {
      const explicit = this.explicitTarget(model.slice(0, slash), operation);
      if (explicit) {
        ctx.strategy = "explicit";
        if (explicit.breaker && !explicit.selectable(Date.now())) throw circuitOpenError(requested, explicit.breaker.retryInMs());
        return { model: model.slice(slash + 1), targets: [explicit], requestTimeoutMs: this.requestTimeoutMs };
      }
    }
    const candidates = this.candidates(model, operation);
    if (candidates.length === 0) throw modelNotFound(requested);
    const choice = strategy.choose(candidates, { model, operation, headers: ctx.headers, body, keyId: ctx.keyId });
    ctx.strategy = strategy.mode;
    ctx.variant = choice.variant;
    if (choice.targets.length === 0) throw this.refusalError(choice.refusal, requested, candidates);
    return { model, targets: choice.targets, requestTimeoutMs: this.requestTimeoutMs };
  }

  private strategyFor(ctx: RequestContext): Strategy {
    const header = ctx.headers[STRATEGY_HEADER];
    if (header === undefined) return this.strategy;
    const name = typeof header === "string" ? header.trim().toLowerCase() : "";
    const found = MODES.has(name) ? this.strategies.get(name as StrategyMode) : undefined;
    if (found === undefined)
      throw new GatewayError(400, "invalid_request_error", "invalid_value", `Invalid ${STRATEGY_HEADER} header: expected one of ${STRATEGY_MODES.join(", ")}.`);
    if (typeof found === "string") throw new GatewayError(400, "invalid_request_error", "invalid_value", `Invalid ${STRATEGY_HEADER} header: ${found}.`);
    return found;
  }

  private candidates(model: string, operation: Operation): readonly Target[] {
    let byModel = this.candidateCache.get(operation);
    if (!byModel) {
      byModel = new Map();
      this.candidateCache.set(operation, byModel);
    }
    let list = byModel.get(model);
    if (list) return list;
    list = this.targets.filter((t) => t.provider.operations.has(operation) && t.serves(model));
    if (byModel.size >= MAX_CACHED_MODELS) byModel.clear();
    byModel.set(model, list);
    return list;
  }

  private refusalError(refusal: Refusal | undefined, requested: string, candidates: readonly Target[]): GatewayError {
    switch (refusal) {
      case "circuit_open": {
        let retryIn = Infinity;
        for (const t of candidates) if (t.breaker) retryIn = Math.min(retryIn, t.breaker.retryInMs());
        return circuitOpenError(requested, Number.isFinite(retryIn) ? retryIn : 0);
      }
      case "drained":
        return new GatewayError(503, "api_error", "no_target_available", `Every target that serves '${requested}' has weight 0 (drained).`);
      case "unpriced":
        return new GatewayError(
          404,
          "not_found_error",
          "model_not_found",
          `No target with a known price serves the model '${requested}' (strategy.unpriced_strategy: skip).`,
          { param: "model" },
        );
      default:
        return modelNotFound(requested);
    }
  }

  /** `provider/model` names a provider directly, bypassing the strategy. */
  private explicitTarget(name: string, operation: Operation): Target | undefined {
    let target = this.byProvider.get(name) ?? this.adHoc.get(name);
    if (!target) {
      const provider = this.providers.get(name);
      if (!provider) return undefined;
      target = new Target(provider, undefined);
      this.adHoc.set(name, target);
    }
    if (!target.provider.operations.has(operation))
      throw new GatewayError(400, "invalid_request_error", "unsupported_operation", `Provider ${name} does not support ${operation}.`, {
        param: "model",
      });
    return target;
  }
}
