// Plugin name → descriptor (config schema, factory, stages). Also what `ferrogw plugins` lists.
import type { z } from "zod";
import type { PriceSource } from "../routing/prices.js";
import { Budget, budgetSchema } from "./budget.js";
import { MaxToken, maxTokenSchema } from "./max-token.js";
import { PiiGuard, piiGuardSchema } from "./pii-guard.js";
import { RateLimit, rateLimitSchema } from "./rate-limit.js";
import { RequestLogger, requestLoggerSchema } from "./request-logger.js";
import { ResponseCache, responseCacheSchema } from "./response-cache.js";
import type { Plugin, PluginDeps, PluginType, Stage } from "./types.js";
import { WordFilter, wordFilterSchema } from "./word-filter.js";

/** Build-time context beyond PluginDeps that some factories need. */
export interface FactoryEnv {
  /** Provider name → vendor kind, for price lookups. */
  providerKind: (name: string) => string | undefined;
  /** Model prices (the runtime's model catalog). */
  prices: PriceSource | undefined;
}

export interface PluginDescriptor {
  readonly name: string;
  readonly type: PluginType;
  /** The stages an entry may list this plugin at. */
  readonly stages: readonly Stage[];
  /**
   * Stages the plugin always runs at once it is enabled, listed or not: the two halves of
   * reserve/settle or lookup/store belong together (listing both, as the reference config
   * does, is accepted and changes nothing but the position).
   */
  readonly implicitStages: readonly Stage[];
  readonly description: string;
  readonly schema: z.ZodType<unknown>;
  create(config: unknown, deps: PluginDeps, env: FactoryEnv): Plugin;
}

function define<S extends z.ZodType>(d: Omit<PluginDescriptor, "schema" | "create"> & { schema: S; create(config: z.output<S>, deps: PluginDeps, env: FactoryEnv): Plugin }): PluginDescriptor {
  return { ...d, schema: d.schema as z.ZodType<unknown>, create: (config, deps, env) => d.create(config as z.output<S>, deps, env) };
}

const ALL: readonly Stage[] = ["before_request", "after_response", "on_error"];

export const PLUGINS: readonly PluginDescriptor[] = [
  define({
    name: "word-filter",
    type: "guardrail",
    stages: ["before_request", "after_response"],
    implicitStages: [],
    description: "Blocks requests containing blocked words or phrases; with check_output, filters the answer too (streams included).",
    schema: wordFilterSchema,
    create: (c, deps) => new WordFilter(c, deps),
  }),
  define({
    name: "max-token",
    type: "guardrail",
    stages: ["before_request"],
    implicitStages: [],
    description: "Caps max_tokens, the number of messages and the input length of a request.",
    schema: maxTokenSchema,
    create: (c) => new MaxToken(c),
  }),
  define({
    name: "pii-guard",
    type: "guardrail",
    stages: ["before_request", "after_response"],
    implicitStages: [],
    description: "Finds e-mail addresses, phone numbers, card numbers and API keys in messages (and optionally answers): block or redact.",
    schema: piiGuardSchema,
    create: (c, deps) => new PiiGuard(c, deps),
  }),
  define({
    name: "response-cache",
    type: "transform",
    stages: ["before_request", "after_response"],
    implicitStages: ["before_request", "after_response"],
    description: "Exact-match response cache (memory LRU or Redis) with TTL; serves streams from cache too.",
    schema: responseCacheSchema,
    create: (c, deps) => new ResponseCache(c, deps),
  }),
  define({
    name: "rate-limit",
    type: "guardrail",
    stages: ["before_request"],
    implicitStages: ["before_request", "after_response"],
    description: "Global requests per second, per-key and per-user requests per minute, tokens per minute (memory or Redis).",
    schema: rateLimitSchema,
    create: (c, deps) => new RateLimit(c, deps),
  }),
  define({
    name: "budget",
    type: "guardrail",
    stages: ALL,
    implicitStages: ALL,
    description: "Per-API-key USD spend limits per period, reserve-then-settle (memory or Redis).",
    schema: budgetSchema,
    create: (c, deps, env) => new Budget(c, deps, env.providerKind, env.prices),
  }),
  define({
    name: "request-logger",
    type: "logging",
    stages: ALL,
    implicitStages: [],
    description: "Structured request, response and error lines; bodies (redacted) in the request log store on request.",
    schema: requestLoggerSchema,
    create: (c, deps) => new RequestLogger(c, deps),
  }),
];

const BY_NAME = new Map(PLUGINS.map((p) => [p.name, p]));

export function pluginDescriptor(name: string): PluginDescriptor | undefined {
  return BY_NAME.get(name);
}

/** For `ferrogw plugins` and GET /admin/plugins. */
export function listPlugins(): Array<{ name: string; type: PluginType; stages: Stage[]; description: string }> {
  return PLUGINS.map((p) => ({ name: p.name, type: p.type, stages: [...p.stages], description: p.description }));
}
