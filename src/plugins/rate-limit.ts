// rate-limit: a global requests-per-second limit with a burst, per-API-key and per-user
// requests-per-minute limits, and a per-key tokens-per-minute limit. All are GCRA buckets (a
// smooth token bucket: `rpm` requests at once from idle, then one every 60/rpm s), checked in
// one atomic step: a request refused by one limit consumes none of the others. With backend
// redis the buckets live in Redis and one Lua script checks and takes them, so the limits are
// exact across workers and instances. A refusal is 429 rate_limit_exceeded with Retry-After and
// OpenAI's x-ratelimit-* headers; successful responses carry the x-ratelimit-* headers too.
import { z } from "zod";
import { GatewayError } from "../server/errors.js";
import type { RateCheck, RateLimiter, RateResult, RateRule } from "../state/types.js";
import { formatResetDuration, redisTarget, stateConfig } from "./common.js";
import { rejected } from "./metrics.js";
import type { HookResult, Plugin, PluginContext, PluginDeps, ResponseInfo } from "./types.js";

const positive = (what: string) => z.number().positive(`${what} must be > 0 (turn the plugin off with enabled: false instead)`);

export const rateLimitSchema = z.strictObject({
  /** Global limit over all traffic. */
  requests_per_second: positive("requests_per_second").optional(),
  /** Global burst capacity; defaults to requests_per_second (at least 1). */
  /** At least 1: a smaller bucket cannot hold one request. */
  burst: z.number().min(1, "burst must be at least 1").optional(),
  /** Per API key, requests per minute (a key's own rate_limit_rpm wins). */
  key_rpm: positive("key_rpm").optional(),
  /** Per end user (the request's `user`, or the X-Ferro-User header), requests per minute. */
  user_rpm: positive("user_rpm").optional(),
  /** Per API key (or all anonymous traffic), tokens per minute, counted from responses' usage. */
  tokens_per_minute: positive("tokens_per_minute").optional(),
  /** Keys tracked in memory before the idle ones are dropped. */
  max_keys: z.number().int().positive().default(100_000),
  ...stateConfig,
});
export type RateLimitConfig = z.output<typeof rateLimitSchema>;

type Scope = "global" | "key" | "user" | "tokens";

const SCOPE_TEXT: Record<Scope, string> = {
  global: "requests per second for this gateway",
  key: "requests per minute for this API key",
  user: "requests per minute for this user",
  tokens: "tokens per minute for this API key",
};

function rpmRule(rpm: number): RateRule {
  const intervalMs = 60_000 / rpm;
  return { intervalMs, toleranceMs: intervalMs * Math.max(1, rpm), limit: rpm };
}

export class RateLimit implements Plugin {
  readonly name = "rate-limit";
  readonly type = "guardrail" as const;
  readonly keepsRequest = true as const;
  readonly everyOperation = true as const;
  private readonly limiter: RateLimiter;
  private readonly global: RateRule | undefined;
  private readonly keyRule: RateRule | undefined;
  private readonly userRule: RateRule | undefined;
  private readonly tokenRule: RateRule | undefined;
  /** Per-key rules built from API key records' rate_limit_rpm, by rpm. */
  private readonly recordRules = new Map<number, RateRule>();
  private rejections = 0;
  afterResponse?: (pc: PluginContext, res: ResponseInfo) => HookResult;

  constructor(
    cfg: RateLimitConfig,
    private readonly deps: PluginDeps,
  ) {
    this.limiter = deps.state.rateLimiter(cfg.backend, redisTarget(cfg, deps), cfg.max_keys);
    if (cfg.requests_per_second !== undefined) {
      const rps = cfg.requests_per_second;
      const intervalMs = 1000 / rps;
      const burst = cfg.burst ?? Math.max(1, Math.ceil(rps));
      this.global = { intervalMs, toleranceMs: intervalMs * burst, limit: rps };
    }
    if (cfg.key_rpm !== undefined) this.keyRule = rpmRule(cfg.key_rpm);
    if (cfg.user_rpm !== undefined) this.userRule = rpmRule(cfg.user_rpm);
    if (cfg.tokens_per_minute !== undefined) {
      this.tokenRule = rpmRule(cfg.tokens_per_minute);
      this.afterResponse = this.recordTokens;
    }
  }

  beforeRequest(pc: PluginContext): HookResult {
    const checks: RateCheck[] = [];
    const scopes: Scope[] = [];
    if (this.global) {
      checks.push({ key: "g", rule: this.global, cost: 1 });
      scopes.push("global");
    }
    const keyRule = this.keyRuleFor(pc);
    if (keyRule && pc.keyId !== undefined) {
      checks.push({ key: `k:${pc.keyId}`, rule: keyRule, cost: 1 });
      scopes.push("key");
    }
    if (this.userRule && pc.user !== undefined) {
      // Per key: two tenants' "alice" are different people.
      checks.push({ key: `u:${pc.keyId ?? "-"}:${pc.user}`, rule: this.userRule, cost: 1 });
      scopes.push("user");
    }
    if (this.tokenRule) {
      checks.push({ key: `t:${pc.keyId ?? "-"}`, rule: this.tokenRule, cost: 0 });
      scopes.push("tokens");
    }
    if (checks.length === 0) return;
    const r = this.limiter.consume(checks);
    if (r instanceof Promise) return r.then((res) => this.decide(pc, checks, scopes, res));
    this.decide(pc, checks, scopes, r);
  }

  stats(): unknown {
    return { backend: this.limiter.backend, rejections: this.rejections };
  }

  close(): Promise<void> {
    return this.limiter.close();
  }

  /** The key's own rate_limit_rpm (API key record) wins over the config's key_rpm. */
  private keyRuleFor(pc: PluginContext): RateRule | undefined {
    const id = pc.ctx.identity;
    if (id.kind === "api_key") {
      const rpm = id.key.rateLimitRpm;
      if (typeof rpm === "number" && rpm > 0) {
        let rule = this.recordRules.get(rpm);
        if (!rule) {
          rule = rpmRule(rpm);
          if (this.recordRules.size < 10_000) this.recordRules.set(rpm, rule);
        }
        return rule;
      }
    }
    return this.keyRule;
  }

  private decide(pc: PluginContext, checks: RateCheck[], scopes: Scope[], r: RateResult): void {
    // Headers describe the tightest request limit and the token limit, as OpenAI's do.
    let req = -1;
    let tok = -1;
    for (let i = 0; i < checks.length; i++) {
      if (scopes[i] === "tokens") tok = i;
      else if (req < 0 || (r.remaining[i] as number) < (r.remaining[req] as number)) req = i;
    }
    if (!r.allowed) {
      const i = r.deniedIndex;
      if (scopes[i] !== "tokens") req = i;
      const headers: Record<string, string> = { "retry-after": String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))), "retry-after-ms": String(r.retryAfterMs) };
      const pairs = this.headerPairs(checks, r, req, tok);
      for (let k = 0; k < pairs.length; k += 2) headers[pairs[k] as string] = pairs[k + 1] as string;
      const scope = scopes[i] ?? "global";
      const rule = (checks[i] as RateCheck).rule;
      this.rejections++;
      rejected(this.name, "rate_limit_exceeded");
      throw new GatewayError(
        429,
        "rate_limit_error",
        "rate_limit_exceeded",
        `Rate limit reached: ${rule.limit} ${SCOPE_TEXT[scope]}. Retry in ${(r.retryAfterMs / 1000).toFixed(1)}s.`,
        { headers },
      );
    }
    const pairs = this.headerPairs(checks, r, req, tok);
    for (let k = 0; k < pairs.length; k += 2) pc.setHeader(pairs[k] as string, pairs[k + 1] as string);
  }

  /** OpenAI's x-ratelimit-* headers as name, value pairs. */
  private headerPairs(checks: RateCheck[], r: RateResult, req: number, tok: number): string[] {
    const out: string[] = [];
    if (req >= 0) {
      out.push("x-ratelimit-limit-requests", String((checks[req] as RateCheck).rule.limit));
      out.push("x-ratelimit-remaining-requests", String(r.remaining[req] ?? 0));
      out.push("x-ratelimit-reset-requests", formatResetDuration(r.resetMs[req] ?? 0));
    }
    if (tok >= 0) {
      out.push("x-ratelimit-limit-tokens", String((checks[tok] as RateCheck).rule.limit));
      out.push("x-ratelimit-remaining-tokens", String(r.remaining[tok] ?? 0));
      out.push("x-ratelimit-reset-tokens", formatResetDuration(r.resetMs[tok] ?? 0));
    }
    return out;
  }

  private recordTokens(pc: PluginContext, res: ResponseInfo): HookResult {
    const rule = this.tokenRule;
    const total = res.usage?.total_tokens;
    if (!rule || res.cached || !total) return;
    const out = this.limiter.debit(`t:${pc.keyId ?? "-"}`, rule, total);
    if (out) return out.catch((err: unknown) => this.deps.logger.warn({ err, plugin: this.name }, "rate-limit: recording tokens failed"));
  }
}
