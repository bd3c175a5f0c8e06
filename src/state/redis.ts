// Redis-backed state, shared by every gateway worker and instance pointed at the same Redis.
// Each check-and-update is one Lua script, so it is atomic without locks; time comes from the
// Redis server (TIME) so instances with skewed clocks still agree.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type * as IORedis from "ioredis";
import type { Redis } from "ioredis";
import type { BudgetStore, CacheStore, RateCheck, RateLimiter, RateResult, RateRule, ReserveResult, Spend } from "./types.js";

/** GCRA over n keys: all-or-nothing. ARGV per key: interval_ms, tolerance_ms, cost. */
const RATE_CONSUME = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local tats, newTats = {}, {}
local denied, retry = 0, 0
for i = 1, n do
  local T = tonumber(ARGV[(i - 1) * 3 + 1])
  local tau = tonumber(ARGV[(i - 1) * 3 + 2])
  local cost = tonumber(ARGV[(i - 1) * 3 + 3])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if tat < now then tat = now end
  local newTat = tat + cost * T
  local over, r
  if cost > 0 then
    r = newTat - now - tau
    over = r > 0.000001
  else
    r = tat - now - tau + T
    over = tat - now >= tau - 0.000001
  end
  if over and (denied == 0 or r > retry) then denied = i; retry = r end
  tats[i] = tat
  newTats[i] = newTat
end
local out = {}
if denied == 0 then out[1] = 1; out[2] = 0; out[3] = 0 else out[1] = 0; out[2] = denied; out[3] = math.max(1, math.ceil(retry)) end
for i = 1, n do
  local T = tonumber(ARGV[(i - 1) * 3 + 1])
  local tau = tonumber(ARGV[(i - 1) * 3 + 2])
  local cost = tonumber(ARGV[(i - 1) * 3 + 3])
  local level
  if denied == 0 then
    level = newTats[i] - now
    if cost > 0 then redis.call('SET', KEYS[i], string.format('%.3f', newTats[i]), 'PX', math.ceil(level) + 1000) end
  else
    level = tats[i] - now
  end
  local rem = math.floor((tau - level + 0.000001) / T)
  if rem < 0 then rem = 0 end
  out[#out + 1] = rem
  out[#out + 1] = math.max(0, math.ceil(level))
end
return out
`;

/** Unconditional GCRA debit of one key. ARGV: interval_ms, cost. */
const RATE_DEBIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local newTat = tat + tonumber(ARGV[2]) * tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil(newTat - now) + 1000)
return 1
`;

/** How long a lapsed reservation is remembered: a request running this much longer than HOLD_TTL_MS is not charged. */
const LAPSED_KEEP_MS = 24 * 3_600_000;

// Reservations live in a sorted set, one member per request ("<id>:<amount>"), scored by when it
// expires, with their running total in a counter beside it: one that is never settled (its
// instance died, or its reserve timed out on our side but ran on Redis) is dropped on its own,
// however busy the key stays. A single counter with a TTL that every request refreshed kept such
// a leak for as long as the key was in use. Each call touches only the expired members, so a
// key with thousands of requests in flight costs no more per call.
// A dropped reservation moves to a "lapsed" set for a day, so a settle charges exactly once: when
// it finds its reservation in either set. A settle that ioredis sends again after a reconnect
// (the first one ran) finds it in neither and charges nothing.
// KEYS: spent, holds (sorted set), held (their total), lapsed (sorted set, scored by when to forget).
const PRUNE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #gone > 0 then
  local freed = 0
  local forget = now + ${LAPSED_KEEP_MS}
  for _, m in ipairs(gone) do
    freed = freed + (tonumber(string.match(m, ':(%d+)$')) or 0)
    redis.call('ZADD', KEYS[4], forget, m)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('DECRBY', KEYS[3], string.format('%d', freed))
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  redis.call('PEXPIRE', KEYS[4], ${LAPSED_KEEP_MS})
end
local reserved = 0
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[3])
else reserved = math.max(0, tonumber(redis.call('GET', KEYS[3]) or '0') or 0) end
local spent = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
`;

/** ARGV: hold member ("<id>:<amount>"), limit (0 = none), hold_ttl_ms. Returns {ok, spent, reserved}. */
const BUDGET_RESERVE = `${PRUNE}
-- Sent again by ioredis after a reconnect, when the first one ran: it holds already.
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return {1, spent, reserved} end
local limit = tonumber(ARGV[2])
if limit > 0 and spent + reserved >= limit then return {0, spent, reserved} end
local amount = string.match(ARGV[1], ':(%d+)$')
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
reserved = redis.call('INCRBY', KEYS[3], amount)
-- Kept past the last hold's expiry: an idle key's lapsed holds move to KEYS[4] on its next call.
local keep = tonumber(ARGV[3]) + ${LAPSED_KEEP_MS}
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('PEXPIRE', KEYS[3], keep)
return {1, spent, reserved}
`;

/**
 * ARGV: hold member (or "" for none), actual, spent_expire_at_ms (0 = never). A hold is charged
 * once: a second settle of the same hold (a resend) releases and charges nothing.
 */
const BUDGET_SETTLE = `
local charge = true
if ARGV[1] ~= '' then
  if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
    redis.call('DECRBY', KEYS[3], string.match(ARGV[1], ':(%d+)$'))
  else
    charge = redis.call('ZREM', KEYS[4], ARGV[1]) == 1
  end
end
local s = 0
if charge and tonumber(ARGV[2]) > 0 then s = redis.call('INCRBY', KEYS[1], ARGV[2]) end
if tonumber(ARGV[3]) > 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return s
`;
/** Returns {spent, reserved}. */
const BUDGET_GET = `${PRUNE}
return {spent, reserved}
`;

/** How long a reservation holds budget when nobody settles it (a request running longer is still charged in full when it ends). */
const HOLD_TTL_MS = 15 * 60_000;
/**
 * The most one request reserves, in nano-USD ($1M): an estimate comes from the client's
 * max_tokens, and totals must stay exact integers in Lua's doubles.
 */
const MAX_HOLD = 1e15;

interface FerroCommands {
  ferroRateConsume(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  ferroRateDebit(key: string, interval: number, cost: number): Promise<unknown>;
  ferroBudgetReserve(spentKey: string, holdsKey: string, heldKey: string, lapsedKey: string, hold: string, limit: string, ttl: number): Promise<unknown>;
  ferroBudgetSettle(spentKey: string, holdsKey: string, heldKey: string, lapsedKey: string, hold: string, actual: string, expireAt: string): Promise<unknown>;
  ferroBudgetGet(spentKey: string, holdsKey: string, heldKey: string, lapsedKey: string): Promise<unknown>;
}

export type FerroRedis = Redis & FerroCommands;

/** One client per Redis URL, shared by the plugins of one pipeline and closed with it. */
// Loaded with the first client: a gateway without a Redis backend never pays for ioredis (about
// 2 MB of heap in every worker).
let redisClass: typeof Redis | undefined;
function loadRedis(): typeof Redis {
  redisClass ??= (createRequire(import.meta.url)("ioredis") as typeof IORedis).Redis;
  return redisClass;
}

export class RedisConnections {
  private readonly clients = new Map<string, FerroRedis>();

  constructor(private readonly onError: (url: string, err: Error) => void = () => undefined) {}

  get(url: string): FerroRedis {
    let c = this.clients.get(url);
    if (c) return c;
    const client = new (loadRedis())(url, {
      maxRetriesPerRequest: 2,
      connectTimeout: 2000,
      commandTimeout: 2000,
      enableAutoPipelining: true,
    });
    client.defineCommand("ferroRateConsume", { lua: RATE_CONSUME });
    client.defineCommand("ferroRateDebit", { lua: RATE_DEBIT, numberOfKeys: 1 });
    client.defineCommand("ferroBudgetReserve", { lua: BUDGET_RESERVE, numberOfKeys: 4 });
    client.defineCommand("ferroBudgetSettle", { lua: BUDGET_SETTLE, numberOfKeys: 4 });
    client.defineCommand("ferroBudgetGet", { lua: BUDGET_GET, numberOfKeys: 4 });
    let reported = false;
    client.on("error", (err: Error) => {
      if (reported) return;
      reported = true;
      this.onError(url, err);
    });
    client.on("ready", () => {
      reported = false;
    });
    c = client as FerroRedis;
    this.clients.set(url, c);
    return c;
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

/** A non-negative whole number (rounded down) as Redis reads it: no exponent, capped where doubles stay exact. */
function integer(n: number): string {
  return String(Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER) : 0);
}

function toNumbers(reply: unknown): number[] {
  if (!Array.isArray(reply)) throw new Error("unexpected Redis reply");
  return reply.map((v) => Number(v));
}

export class RedisRateLimiter implements RateLimiter {
  readonly backend = "redis";

  constructor(
    private readonly redis: FerroRedis,
    private readonly prefix: string,
  ) {}

  async consume(checks: readonly RateCheck[]): Promise<RateResult> {
    const args: Array<string | number> = [checks.length];
    for (const c of checks) args.push(this.prefix + c.key);
    for (const c of checks) args.push(c.rule.intervalMs, c.rule.toleranceMs, c.cost);
    const [numKeys, ...rest] = args as [number, ...Array<string | number>];
    const out = toNumbers(await this.redis.ferroRateConsume(numKeys, ...rest));
    const remaining: number[] = [];
    const resetMs: number[] = [];
    for (let i = 0; i < checks.length; i++) {
      remaining.push(out[3 + i * 2] ?? 0);
      resetMs.push(out[4 + i * 2] ?? 0);
    }
    const allowed = out[0] === 1;
    return { allowed, deniedIndex: allowed ? -1 : (out[1] ?? 1) - 1, retryAfterMs: out[2] ?? 0, remaining, resetMs };
  }

  async debit(key: string, rule: RateRule, cost: number): Promise<void> {
    await this.redis.ferroRateDebit(this.prefix + key, rule.intervalMs, cost);
  }

  async close(): Promise<void> {
    // The connection belongs to RedisConnections.
  }
}

export class RedisCacheStore implements CacheStore {
  readonly backend = "redis";

  constructor(
    private readonly redis: FerroRedis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const v = await this.redis.get(this.prefix + key);
    return v ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, "PX", Math.max(1, Math.round(ttlMs)));
  }

  size(): number {
    return -1;
  }

  async close(): Promise<void> {
    // The connection belongs to RedisConnections.
  }
}

export class RedisBudgetStore implements BudgetStore {
  readonly backend = "redis";

  constructor(
    private readonly redis: FerroRedis,
    private readonly prefix: string,
    /** How long an unsettled reservation holds budget (tests shorten it). */
    private readonly holdTtlMs = HOLD_TTL_MS,
  ) {}

  /** The keys of a budget share one hash tag, so they live in one cluster slot. */
  private keys(key: string): [string, string, string, string] {
    const base = `${this.prefix}{${key}}`;
    return [`${base}:spent`, `${base}:holds`, `${base}:held`, `${base}:lapsed`];
  }

  async reserve(key: string, estimate: number, limit: number): Promise<ReserveResult> {
    const [s, h, t, l] = this.keys(key);
    // Integers as strings: ioredis would write a number past 2^53 differently from our template.
    const hold = `${randomUUID()}:${integer(Math.min(Math.ceil(estimate), MAX_HOLD))}`;
    let reply: unknown;
    try {
      reply = await this.redis.ferroBudgetReserve(s, h, t, l, hold, integer(limit), this.holdTtlMs);
    } catch (err) {
      // A timeout here does not stop the script on Redis: take back what it may have reserved.
      this.redis.ferroBudgetSettle(s, h, t, l, hold, "0", "0").catch(() => undefined);
      throw err;
    }
    const out = toNumbers(reply);
    return { ok: out[0] === 1, spent: out[1] ?? 0, reserved: out[2] ?? 0, hold: out[0] === 1 ? hold : undefined };
  }

  async settle(key: string, _reserved: number, actual: number, expireAtMs: number, hold?: string): Promise<void> {
    const [s, h, t, l] = this.keys(key);
    await this.redis.ferroBudgetSettle(s, h, t, l, hold ?? "", integer(Math.ceil(actual)), integer(expireAtMs));
  }

  async get(key: string): Promise<Spend> {
    const out = toNumbers(await this.redis.ferroBudgetGet(...this.keys(key)));
    return { spent: out[0] ?? 0, reserved: out[1] ?? 0 };
  }

  async list(prefix: string): Promise<Array<Spend & { key: string }>> {
    const pattern = `${this.prefix}{${prefix.replace(/[*?[\]\\]/g, "\\$&")}*}:spent`;
    const found = new Set<string>();
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      for (const k of keys) found.add(k.slice(this.prefix.length + 1, -"}:spent".length));
    } while (cursor !== "0" && found.size < 100_000);
    const out: Array<Spend & { key: string }> = [];
    for (const key of found) out.push({ key, ...(await this.get(key)) });
    return out;
  }

  async close(): Promise<void> {
    // The connection belongs to RedisConnections.
  }
}
