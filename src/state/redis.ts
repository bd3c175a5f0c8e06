// Redis-backed state, shared by every gateway worker and instance pointed at the same Redis.
// Each check-and-update is one Lua script, so it is atomic without locks; time comes from the
// Redis server (TIME) so instances with skewed clocks still agree.
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

/** KEYS: spent, reserved. ARGV: estimate, limit, reserved_ttl_ms. Integers (nano-USD). */
const BUDGET_RESERVE = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local reserved = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if reserved < 0 then reserved = 0 end
local limit = tonumber(ARGV[2])
if limit > 0 and spent + reserved >= limit then return {0, spent, reserved} end
reserved = redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, spent, reserved}
`;

/** KEYS: spent, reserved. ARGV: reserved, actual, reserved_ttl_ms, spent_expire_at_ms (0 = never). */
const BUDGET_SETTLE = `
local r = redis.call('DECRBY', KEYS[2], ARGV[1])
if r <= 0 then redis.call('DEL', KEYS[2]) else redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local s = 0
if tonumber(ARGV[2]) > 0 then s = redis.call('INCRBY', KEYS[1], ARGV[2]) end
if tonumber(ARGV[4]) > 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
return s
`;

/** A reservation nobody settles (a crashed instance) is forgotten after this long without activity. */
const RESERVED_TTL_MS = 15 * 60_000;

interface FerroCommands {
  ferroRateConsume(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  ferroRateDebit(key: string, interval: number, cost: number): Promise<unknown>;
  ferroBudgetReserve(spentKey: string, reservedKey: string, estimate: number, limit: number, ttl: number): Promise<unknown>;
  ferroBudgetSettle(spentKey: string, reservedKey: string, reserved: number, actual: number, ttl: number, expireAt: number): Promise<unknown>;
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
    client.defineCommand("ferroBudgetReserve", { lua: BUDGET_RESERVE, numberOfKeys: 2 });
    client.defineCommand("ferroBudgetSettle", { lua: BUDGET_SETTLE, numberOfKeys: 2 });
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
  ) {}

  /** Both counters of a key share one hash tag, so they live in one cluster slot. */
  private keys(key: string): [string, string] {
    const base = `${this.prefix}{${key}}`;
    return [`${base}:spent`, `${base}:reserved`];
  }

  async reserve(key: string, estimate: number, limit: number): Promise<ReserveResult> {
    const [s, r] = this.keys(key);
    const out = toNumbers(await this.redis.ferroBudgetReserve(s, r, Math.ceil(estimate), Math.floor(limit), RESERVED_TTL_MS));
    return { ok: out[0] === 1, spent: out[1] ?? 0, reserved: out[2] ?? 0 };
  }

  async settle(key: string, reserved: number, actual: number, expireAtMs: number): Promise<void> {
    const [s, r] = this.keys(key);
    await this.redis.ferroBudgetSettle(s, r, Math.ceil(reserved), Math.ceil(actual), RESERVED_TTL_MS, Math.floor(expireAtMs));
  }

  async get(key: string): Promise<Spend> {
    const [s, r] = this.keys(key);
    const [spent, reserved] = await this.redis.mget(s, r);
    return { spent: Number(spent ?? 0), reserved: Math.max(0, Number(reserved ?? 0)) };
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
