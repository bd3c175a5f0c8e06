// budget: per-API-key USD spend limits. Cost comes from the response's token usage and a price
// per million tokens (the config's input_per_m_tokens / output_per_m_tokens when set, else the
// model price table behind the PriceSource interface). Spend is tracked per period (daily,
// weekly, monthly or total, UTC).
//
// Reserve, then settle: before the provider call the plugin reserves the request's worst case
// (prompt estimate + max_tokens, or reserve_output_tokens) and admits the request only while
// spent + reserved is under the limit; when the response is complete it releases the reservation
// and adds the actual cost (on failure: nothing, or the reservation when no usage came back from
// a stream that had begun or a request cancelled while the upstream had it). So concurrent
// requests overspend by at most one request's worth, on one instance (memory) or across
// instances (Redis: reserve and settle are Lua scripts).
import { z } from "zod";
import type { ChatRequest, Usage } from "../api/types.js";
import type { BudgetPeriod } from "../store/types.js";
import { builtinCatalog } from "../catalog/catalog.js";
import type { ModelPrice, PriceSource } from "../routing/prices.js";
import { GatewayError } from "../server/errors.js";
import { NANO_USD, type BudgetStore, type ReserveResult } from "../state/types.js";
import { inputChars, redisTarget, stateConfig } from "./common.js";
import { rejected } from "./metrics.js";
import type { HookResult, Plugin, PluginContext, PluginDeps, ResponseInfo } from "./types.js";

export const budgetSchema = z
  .strictObject({
    /** Plugins with the same store_id share spend counters. */
    store_id: z.string().min(1).default("default"),
    /** Per API key, USD per period; 0 = unlimited (spend is still tracked). A key's own budget_usd wins. */
    spend_limit_usd: z.number().min(0, "spend_limit_usd must be >= 0").default(0),
    /** USD per 1M prompt tokens; overrides the model price table. */
    input_per_m_tokens: z.number().min(0).optional(),
    /** USD per 1M completion tokens; overrides the model price table. */
    output_per_m_tokens: z.number().min(0).optional(),
    /** Keys tracked by the memory backend; at the cap the lowest-spend key is forgotten. */
    max_keys: z.number().int().min(0).default(10_000),
    period: z.enum(["daily", "weekly", "monthly", "total"]).default("total"),
    /** Output tokens reserved for a request that sets no max_tokens. */
    reserve_output_tokens: z.number().int().min(0).default(4096),
    ...stateConfig,
  })
  .superRefine((c, ctx) => {
    if (c.spend_limit_usd > 0 && c.input_per_m_tokens === 0 && c.output_per_m_tokens === 0)
      ctx.addIssue({ code: "custom", path: ["input_per_m_tokens"], message: "both prices are 0: every request would cost nothing and the limit would never apply" });
  });
export type BudgetConfig = z.output<typeof budgetSchema>;

interface Reservation {
  storeKey: string;
  estimate: number;
  /** The store's id for this reservation (Redis), released on settle. */
  hold?: string;
  expireAt: number;
  model: string;
}

interface PeriodSlot {
  id: string;
  /** When this period ends (epoch ms); Infinity for total. */
  endsAt: number;
}

function periodOf(period: BudgetPeriod, now: number): PeriodSlot {
  if (period === "total") return { id: "total", endsAt: Infinity };
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (period === "monthly") return { id: `${y}-${String(m + 1).padStart(2, "0")}`, endsAt: Date.UTC(y, m + 1, 1) };
  const dayStart = Date.UTC(y, m, d.getUTCDate());
  if (period === "daily") return { id: new Date(dayStart).toISOString().slice(0, 10), endsAt: dayStart + 86_400_000 };
  const monday = dayStart - ((d.getUTCDay() + 6) % 7) * 86_400_000;
  return { id: `w${new Date(monday).toISOString().slice(0, 10)}`, endsAt: monday + 7 * 86_400_000 };
}

/** Spend counters outlive their period by a week, for admin stats; total never expires. */
const KEEP_AFTER_PERIOD_MS = 7 * 86_400_000;

const usd = (nano: number): number => Math.round(nano) / NANO_USD;

export class Budget implements Plugin {
  readonly name = "budget";
  readonly type = "guardrail" as const;
  readonly keepsRequest = true as const;
  readonly everyOperation = true as const;
  private readonly store: BudgetStore;
  private readonly slot: number;
  private readonly configPrice: ModelPrice | undefined;
  private readonly periods = new Map<BudgetPeriod, PeriodSlot>();
  private rejections = 0;
  /** Model → the dearest catalog price for it (null: unpriced), bounded. */
  private readonly dearestCache = new Map<string, ModelPrice | null>();

  constructor(
    private readonly cfg: BudgetConfig,
    private readonly deps: PluginDeps,
    private readonly providerKind: (name: string) => string | undefined = () => undefined,
    /** Model prices when the config sets none: the runtime's model catalog. */
    private readonly prices: PriceSource = builtinCatalog(),
  ) {
    this.store = deps.state.budgetStore(cfg.backend, redisTarget(cfg, deps), cfg.store_id, cfg.max_keys);
    this.slot = deps.slot;
    if (cfg.input_per_m_tokens !== undefined || cfg.output_per_m_tokens !== undefined)
      this.configPrice = { input: cfg.input_per_m_tokens ?? 0, output: cfg.output_per_m_tokens ?? 0 };
  }

  beforeRequest(pc: PluginContext): HookResult {
    const keyId = pc.keyId;
    if (keyId === undefined) return; // no key, no per-key budget
    const { limitUsd, period } = this.limitFor(pc);
    const slot = this.period(period);
    const req = pc.req;
    const model = pc.router?.resolveAlias(req.model) ?? req.model;
    const estimate = this.estimate(req, model);
    const r: Reservation = { storeKey: `${keyId}:${slot.id}`, estimate, hold: undefined, expireAt: slot.endsAt === Infinity ? 0 : slot.endsAt + KEEP_AFTER_PERIOD_MS, model };
    const limit = Math.round(limitUsd * NANO_USD);
    const out = this.store.reserve(r.storeKey, estimate, limit);
    if (out instanceof Promise) return out.then((res) => this.admit(pc, r, res, limitUsd, period));
    this.admit(pc, r, out, limitUsd, period);
  }

  afterResponse(pc: PluginContext, res: ResponseInfo): HookResult {
    const r = this.take(pc);
    if (!r) return;
    let actual = 0;
    if (!res.cached) {
      const usage = res.usage ?? pc.ctx.usage;
      actual = usage ? this.cost(usage, pc.ctx.provider, pc.ctx.upstreamModel ?? r.model) : r.estimate;
      // The log's cost; the server re-prices it from the model catalog when the catalog knows the model.
      pc.ctx.costUsd = usd(actual);
    }
    return this.settle(r, actual);
  }

  onError(pc: PluginContext, _err: GatewayError): HookResult {
    const r = this.take(pc);
    if (!r) return;
    const usage = pc.ctx.usage;
    // Without usage, the reservation is charged when tokens were (or may have been) spent: a
    // stream that broke after it began, or a request cancelled (client gone, request_timeout)
    // while the upstream had it, which providers bill. A request that never reached one is free.
    const spentTokens = pc.responseStarted || pc.ctx.abort.cutOffUpstream;
    const actual = usage ? this.cost(usage, pc.ctx.provider, pc.ctx.upstreamModel ?? r.model) : spentTokens ? r.estimate : 0;
    if (actual > 0) pc.ctx.costUsd = usd(actual);
    return this.settle(r, actual);
  }

  /** Current-period spend per key, for admin stats. */
  async stats(): Promise<unknown> {
    const slot = this.period(this.cfg.period);
    const rows = await this.store.list("");
    const keys = rows
      .filter((r) => r.key.endsWith(`:${slot.id}`))
      .map((r) => ({ key_id: r.key.slice(0, r.key.length - slot.id.length - 1), spent_usd: usd(r.spent), reserved_usd: usd(r.reserved) }));
    return { backend: this.store.backend, store_id: this.cfg.store_id, period: this.cfg.period, period_id: slot.id, limit_usd: this.cfg.spend_limit_usd, rejections: this.rejections, keys };
  }

  /** One key's spend in the configured period (admin). */
  async spend(keyId: string): Promise<{ spent_usd: number; reserved_usd: number }> {
    const s = await this.store.get(`${keyId}:${this.period(this.cfg.period).id}`);
    return { spent_usd: usd(s.spent), reserved_usd: usd(s.reserved) };
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private limitFor(pc: PluginContext): { limitUsd: number; period: BudgetPeriod } {
    const id = pc.ctx.identity;
    if (id.kind === "api_key" && typeof id.key.budgetUsd === "number") return { limitUsd: id.key.budgetUsd, period: id.key.budgetPeriod ?? this.cfg.period };
    return { limitUsd: this.cfg.spend_limit_usd, period: this.cfg.period };
  }

  private admit(pc: PluginContext, r: Reservation, res: ReserveResult, limitUsd: number, period: BudgetPeriod): void {
    if (res.ok) {
      r.hold = res.hold;
      pc.set(this.slot, r);
      return;
    }
    this.rejections++;
    rejected(this.name, "budget_exceeded");
    const spent = usd(res.spent).toFixed(4);
    const per = period === "total" ? "" : ` (${period})`;
    if (res.spent >= Math.round(limitUsd * NANO_USD))
      throw new GatewayError(429, "rate_limit_error", "budget_exceeded", `Budget exceeded for this API key: spent $${spent} of $${limitUsd.toFixed(2)}${per}.`);
    throw new GatewayError(
      429,
      "rate_limit_error",
      "budget_exceeded",
      `Budget for this API key is held by requests in flight: spent $${spent}, reserved $${usd(res.reserved).toFixed(4)} of $${limitUsd.toFixed(2)}${per}. Retry shortly.`,
      { headers: { "retry-after": "1" } },
    );
  }

  private take(pc: PluginContext): Reservation | undefined {
    const r = pc.get<Reservation>(this.slot);
    if (r) pc.set(this.slot, undefined);
    return r;
  }

  private settle(r: Reservation, actual: number): HookResult {
    const out = this.store.settle(r.storeKey, r.estimate, actual, r.expireAt, r.hold);
    if (out) return out.catch((err: unknown) => this.deps.logger.error({ err, plugin: this.name }, "budget: settling spend failed"));
  }

  private period(p: BudgetPeriod): PeriodSlot {
    const now = Date.now();
    let slot = this.periods.get(p);
    if (!slot || now >= slot.endsAt) {
      slot = periodOf(p, now);
      this.periods.set(p, slot);
    }
    return slot;
  }

  private price(providerName: string | undefined, model: string): ModelPrice | undefined {
    if (this.configPrice) return this.configPrice;
    const slash = model.indexOf("/");
    // `name/model` addressing names a provider (openai-eu), which prices as its kind (openai).
    const prefix = slash > 0 ? model.slice(0, slash) : undefined;
    const kind = providerName !== undefined ? this.providerKind(providerName) : prefix !== undefined ? (this.providerKind(prefix) ?? prefix) : undefined;
    const bare = slash > 0 && providerName === undefined ? model.slice(slash + 1) : model;
    return kind !== undefined ? this.prices.price(kind, bare) : undefined;
  }

  private dearestPrice(model: string): ModelPrice | undefined {
    let p = this.dearestCache.get(model);
    if (p === undefined) {
      p = this.prices.dearest?.(model) ?? null;
      if (this.dearestCache.size < 10_000) this.dearestCache.set(model, p);
    }
    return p ?? undefined;
  }

  /** nano-USD, rounded up. */
  private cost(u: Usage, providerName: string | undefined, model: string): number {
    const p = this.price(providerName, model);
    if (!p) return 0;
    return Math.ceil(u.prompt_tokens * p.input * 1000 + u.completion_tokens * p.output * 1000);
  }

  /**
   * The worst case of a request, in nano-USD: a generous prompt estimate plus all output tokens.
   * `model`: the requested model with its alias resolved (plugins run before routing does it).
   */
  private estimate(req: ChatRequest, model: string): number {
    // A bare model name has no provider yet: reserve at the dearest price any provider lists for
    // it. Without one, the reservation was 0 and concurrent requests could all pass the limit.
    const p = this.price(undefined, model) ?? this.dearestPrice(model);
    if (!p) return 0;
    const promptTokens = Math.ceil(inputChars(req) / 3) + 8 * req.messages.length;
    const maxOut = typeof req.max_completion_tokens === "number" ? req.max_completion_tokens : typeof req.max_tokens === "number" ? req.max_tokens : this.cfg.reserve_output_tokens;
    const n = typeof req.n === "number" && req.n > 1 ? req.n : 1;
    return Math.ceil(promptTokens * p.input * 1000 + maxOut * n * p.output * 1000);
  }
}
