// The config file's schema. Keys and meaning follow the reference gateway's config format so an
// existing config.yaml loads unchanged; `providers:` and per-target `model_map` are ours.
// Every object is strict: an unknown key is an error with its path, never silently ignored.
import { z } from "zod";
import { otlpTracesUrl } from "./otlp.js";
import { parseDurationMs } from "./duration.js";
import { goRegExp } from "./go-regexp.js";

const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `invalid duration ${JSON.stringify(v)} (use e.g. "30s", "500ms", "2m")` });
      return z.NEVER;
    }
    return ms;
  });

export const STRATEGY_MODES = [
  "single",
  "fallback",
  "loadbalance",
  "conditional",
  "content-based",
  "ab-test",
  "least-latency",
  "cost-optimized",
] as const;
export type StrategyMode = (typeof STRATEGY_MODES)[number];

/**
 * A count where 0, like an omitted key, means the default: the reference gateway's fields are Go
 * integers, whose zero is what an unset field decodes to. Negative values stay errors.
 */
const countOrDefault = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number()
    .int()
    .min(0)
    .max(max)
    .default(fallback)
    .transform((n) => (n === 0 ? fallback : n));

/** The most a target's max_concurrency or queue_size may be (the reference's bound: a larger value is a typo). */
const MAX_TARGET_CONCURRENCY = 10_000;

const retrySchema = z.strictObject({
  attempts: countOrDefault(1, 20),
  on_status_codes: z.array(z.number().int().min(100).max(599)).optional(),
  initial_backoff_ms: countOrDefault(100, 60_000),
});

const circuitBreakerSchema = z.strictObject({
  failure_threshold: countOrDefault(5),
  success_threshold: countOrDefault(1),
  max_half_threshold: countOrDefault(1),
  timeout: duration.default(30_000),
});

const concurrencySchema = z.strictObject({
  max_concurrency: z.number().int().min(1).max(MAX_TARGET_CONCURRENCY),
  /** Requests that may wait for a slot; beyond them, 429. 0 or omitted: 1000, as in the reference. */
  queue_size: countOrDefault(1000, MAX_TARGET_CONCURRENCY),
});

const NO_WILDCARD = /[*?]/;

const targetSchema = z.strictObject({
  virtual_key: z.string().min(1),
  /** Share under loadbalance; omitted means 0, as in the reference ("zero means zero"). */
  weight: z.number().min(0, "weight must not be negative").default(0),
  retry: retrySchema.optional(),
  circuit_breaker: circuitBreakerSchema.optional(),
  concurrency: concurrencySchema.optional(),
  models: z.array(z.string().min(1).refine((m) => !NO_WILDCARD.test(m), "model ids are exact; wildcards are not allowed")).optional(),
  /** Ours: requested model → the model name this target is sent. */
  model_map: z.record(z.string(), z.string()).optional(),
});

const conditionSchema = z.strictObject({
  key: z.string().min(1),
  value: z.string(),
  target_key: z.string().min(1),
});

const contentConditionSchema = z.strictObject({
  type: z.enum(["prompt_regex", "prompt_contains", "prompt_not_contains", "model", "header", "metadata"]),
  value: z.string(),
  /** For header/metadata rules: which header or metadata field to compare. */
  field: z.string().optional(),
  target_key: z.string().min(1),
});

const abVariantSchema = z.strictObject({
  target_key: z.string().min(1),
  weight: z.number().min(0, "weight must not be negative"),
  label: z.string().optional(),
});

const strategySchema = z.strictObject({
  /** Omitted: single, as in the reference (one target per request); config/load.ts makes it fallback when no targets are listed. */
  mode: z.enum(STRATEGY_MODES).default("single"),
  conditions: z.array(conditionSchema).optional(),
  content_conditions: z.array(contentConditionSchema).optional(),
  ab_variants: z.array(abVariantSchema).optional(),
  /** ab-test: request field whose value keeps a caller on one variant ("user", "api_key", "metadata.<key>", or a header name). */
  sticky_by: z.string().optional(),
  unpriced_strategy: z.enum(["fallback", "skip", "allow"]).default("fallback"),
});

const pluginSchema = z.strictObject({
  name: z.string().min(1),
  type: z.string().optional(),
  stage: z.enum(["before_request", "after_request", "after_response", "on_error"]),
  /** Omitted: off, as in the reference gateway (a Go bool); `ferrogw validate` and the start-up log say so. */
  enabled: z.boolean().optional(),
  config: z.record(z.string(), z.unknown()).default({}),
});

const mcpServerSchema = z
  .strictObject({
    name: z.string().min(1),
    url: z.string().url().optional(),
    command: z.string().optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    allowed_tools: z.array(z.string()).optional(),
    timeout_seconds: z.number().positive().default(30),
    max_call_depth: z.number().int().min(1).default(5),
    required: z.boolean().default(false),
  })
  .refine((s) => (s.url === undefined) !== (s.command === undefined), "set exactly one of url (HTTP) or command (stdio)");

const providerSchema = z.strictObject({
  /** Vendor kind from the provider table; defaults to the entry's own name. */
  type: z.string().optional(),
  base_url: z.string().url().optional(),
  api_key: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: duration.optional(),
  models: z.array(z.string()).optional(),
});

/** Ours: model catalog additions and overrides, keyed "<provider>/<model>" (USD per 1M tokens). */
const catalogModelSchema = z.strictObject({
  input_per_m: z.number().min(0).optional(),
  output_per_m: z.number().min(0).optional(),
  cached_input_per_m: z.number().min(0).optional(),
  context_window: z.number().int().positive().optional(),
  max_output: z.number().int().positive().optional(),
});

const catalogSchema = z.strictObject({
  models: z
    .record(z.string(), catalogModelSchema)
    .superRefine((models, ctx) => {
      for (const key of Object.keys(models))
        if (!/^[^/]+\/.+$/.test(key)) ctx.addIssue({ code: "custom", path: [key], message: 'keys are "<provider>/<model>"' });
    })
    .default({}),
});

const tracingSchema = z.strictObject({
  enabled: z.boolean().default(false),
  endpoint: z.string().default(""),
  protocol: z.enum(["grpc", "http/protobuf"]).default("grpc"),
  service_name: z.string().default("ferrogw"),
  sample_ratio: z.number().min(0).max(1).default(1),
  privacy_level: z.enum(["none", "metadata", "full"]).default("metadata"),
  shutdown_grace: duration.optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const exporterSchema = z.strictObject({
  name: z.string(),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()).default({}),
});

export const configSchema = z
  .strictObject({
    apiVersion: z.string().optional(),
    max_request_bytes: countOrDefault(10 * 1024 * 1024),
    request_timeout: duration.refine((ms) => ms > 0, "request_timeout must be positive").optional(),
    strategy: strategySchema.default({ mode: "single", unpriced_strategy: "fallback" }),
    targets: z.array(targetSchema).default([]),
    batch_target: z.string().optional(),
    responses_target: z.string().optional(),
    aliases: z.record(z.string(), z.string()).default({}),
    plugins: z.array(pluginSchema).default([]),
    mcp_servers: z.array(mcpServerSchema).default([]),
    compatibility: z.strictObject({ on_unsupported_param: z.enum(["warn", "drop", "reject"]).default("warn") }).optional(),
    observability: z
      .strictObject({ tracing: tracingSchema.optional(), exporters: z.array(exporterSchema).optional() })
      .optional(),
    providers: z.record(z.string(), providerSchema).default({}),
    catalog: catalogSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    // The batch and Responses surfaces are not built, but a name that matches no target is an
    // error in the reference, so it is here.
    for (const field of ["batch_target", "responses_target"] as const) {
      const name = cfg[field];
      if (name !== undefined && !cfg.targets.some((t) => t.virtual_key === name))
        ctx.addIssue({ code: "custom", path: [field], message: `${field} "${name}" does not name any configured target` });
    }
    const tracing = cfg.observability?.tracing;
    if (tracing !== undefined && tracing.endpoint.trim() !== "" && !tracing.endpoint.includes("${")) {
      try {
        otlpTracesUrl(tracing.endpoint, tracing.protocol);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: ["observability", "tracing", "endpoint"], message: (e as Error).message });
      }
    }
    const weights = cfg.targets.map((t) => t.weight);
    if (cfg.strategy.mode === "loadbalance" && weights.length > 0 && weights.every((w) => w === 0)) {
      ctx.addIssue({ code: "custom", path: ["targets"], message: "at least one target weight must be positive" });
    }
    const variants = cfg.strategy.ab_variants ?? [];
    if (cfg.strategy.mode === "ab-test") {
      if (variants.length === 0) ctx.addIssue({ code: "custom", path: ["strategy", "ab_variants"], message: "ab-test needs ab_variants" });
      else if (variants.every((v) => v.weight === 0))
        ctx.addIssue({ code: "custom", path: ["strategy", "ab_variants"], message: "at least one variant weight must be positive" });
    }
    if (cfg.strategy.mode === "conditional" && !cfg.strategy.conditions?.length)
      ctx.addIssue({ code: "custom", path: ["strategy", "conditions"], message: "conditional mode needs conditions" });
    if (cfg.strategy.mode === "content-based" && !cfg.strategy.content_conditions?.length)
      ctx.addIssue({ code: "custom", path: ["strategy", "content_conditions"], message: "content-based mode needs content_conditions" });
    cfg.strategy.conditions?.forEach((c, i) => {
      if (!CONDITION_KEY.test(c.key))
        ctx.addIssue({ code: "custom", path: ["strategy", "conditions", i, "key"], message: `unknown condition key "${c.key}" (use model, model_prefix, api_key, header:<name> or metadata.<key>)` });
    });
    cfg.strategy.content_conditions?.forEach((c, i) => {
      if ((c.type === "header" || c.type === "metadata") && !c.field)
        ctx.addIssue({ code: "custom", path: ["strategy", "content_conditions", i, "field"], message: `a ${c.type} rule needs field (the ${c.type === "header" ? "header name" : "metadata key"})` });
      if (c.type !== "prompt_regex") return;
      try {
        const { source, flags } = goRegExp(c.value);
        new RegExp(source, flags);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: ["strategy", "content_conditions", i, "value"], message: `invalid regex: ${(e as Error).message}` });
      }
    });
    const targetKeys = new Set(cfg.targets.map((t) => t.virtual_key));
    const checkRef = (key: string, path: (string | number)[]): void => {
      if (targetKeys.size > 0 && !targetKeys.has(key))
        ctx.addIssue({ code: "custom", path, message: `target_key "${key}" is not one of the targets` });
    };
    cfg.strategy.conditions?.forEach((c, i) => checkRef(c.target_key, ["strategy", "conditions", i, "target_key"]));
    cfg.strategy.content_conditions?.forEach((c, i) => checkRef(c.target_key, ["strategy", "content_conditions", i, "target_key"]));
    variants.forEach((v, i) => checkRef(v.target_key, ["strategy", "ab_variants", i, "target_key"]));
  });

/** Condition keys conditional routing understands. */
const CONDITION_KEY = /^(model|model_prefix|api_key|header:.+|metadata\..+)$/;

export type GatewayConfig = z.output<typeof configSchema>;
export type TargetConfig = GatewayConfig["targets"][number];
export type ProviderConfig = GatewayConfig["providers"][string];
export type PluginConfig = GatewayConfig["plugins"][number];
