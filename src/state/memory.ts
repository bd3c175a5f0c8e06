// In-process state: answers synchronously, exact within one process, lost on restart.
import { gcra } from "./gcra.js";
import type { BudgetStore, CacheStore, RateCheck, RateLimiter, RateResult, RateRule, ReserveResult, Spend } from "./types.js";

/** GCRA limiter over a Map of theoretical arrival times, bounded to maxKeys entries. */
export class MemoryRateLimiter implements RateLimiter {
  readonly backend = "memory";
  private readonly tats = new Map<string, number>();

  constructor(private readonly maxKeys = 100_000) {}

  consume(checks: readonly RateCheck[]): RateResult {
    const now = Date.now();
    const current: number[] = new Array<number>(checks.length);
    for (let i = 0; i < checks.length; i++) current[i] = this.tats.get((checks[i] as RateCheck).key) ?? 0;
    const { result, newTats } = gcra(checks, current, now);
    if (result.allowed) {
      for (let i = 0; i < checks.length; i++) {
        const c = checks[i] as RateCheck;
        if (c.cost > 0) this.store(c.key, newTats[i] as number, now);
      }
    }
    return result;
  }

  debit(key: string, rule: RateRule, cost: number): void {
    const now = Date.now();
    this.store(key, Math.max(this.tats.get(key) ?? 0, now) + cost * rule.intervalMs, now);
  }

  async close(): Promise<void> {
    this.tats.clear();
  }

  private store(key: string, tat: number, now: number): void {
    if (this.tats.size >= this.maxKeys && !this.tats.has(key)) this.prune(now);
    this.tats.set(key, tat);
  }

  /** Drops keys whose bucket is full again (they carry no state); then the oldest inserted. */
  private prune(now: number): void {
    for (const [k, tat] of this.tats) if (tat <= now) this.tats.delete(k);
    if (this.tats.size < this.maxKeys) return;
    let excess = this.tats.size - this.maxKeys + 1;
    for (const k of this.tats.keys()) {
      if (excess-- <= 0) break;
      this.tats.delete(k);
    }
  }
}

interface CacheEntry {
  value: string;
  expiresAt: number;
}

/** LRU with a per-entry TTL: a read refreshes recency; the least recently used entry goes first. */
export class MemoryCacheStore implements CacheStore {
  readonly backend = "memory";
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly maxEntries: number) {}

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: string, ttlMs: number): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

interface SpendEntry {
  spent: number;
  reserved: number;
  expiresAt: number;
}

/** Per-key spend. At maxKeys, inserting a new key drops expired keys, or else the key with the lowest spend. */
export class MemoryBudgetStore implements BudgetStore {
  readonly backend = "memory";
  private readonly spend = new Map<string, SpendEntry>();

  constructor(private readonly maxKeys: number) {}

  reserve(key: string, estimate: number, limit: number): ReserveResult {
    const e = this.entry(key);
    if (limit > 0 && e.spent + e.reserved >= limit) return { ok: false, spent: e.spent, reserved: e.reserved };
    e.reserved += estimate;
    return { ok: true, spent: e.spent, reserved: e.reserved };
  }

  settle(key: string, reserved: number, actual: number, expireAtMs: number): void {
    const e = this.entry(key);
    e.reserved = Math.max(0, e.reserved - reserved);
    e.spent += actual;
    e.expiresAt = expireAtMs;
  }

  /** Gives back a reservation that will never be settled (its worker died), leaving the rest as is. */
  release(key: string, reserved: number): void {
    const e = this.live(key);
    if (e) e.reserved = Math.max(0, e.reserved - reserved);
  }

  get(key: string): Spend {
    const e = this.live(key);
    return e ? { spent: e.spent, reserved: e.reserved } : { spent: 0, reserved: 0 };
  }

  async list(prefix: string): Promise<Array<Spend & { key: string }>> {
    const now = Date.now();
    const out: Array<Spend & { key: string }> = [];
    for (const [key, e] of this.spend) {
      if (!key.startsWith(prefix) || (e.expiresAt > 0 && e.expiresAt <= now)) continue;
      out.push({ key, spent: e.spent, reserved: e.reserved });
    }
    return out;
  }

  async close(): Promise<void> {
    // Process-level store shared by store_id: kept across config reloads on purpose.
  }

  private live(key: string): SpendEntry | undefined {
    const e = this.spend.get(key);
    if (e && e.expiresAt > 0 && e.expiresAt <= Date.now() && e.reserved === 0) {
      this.spend.delete(key);
      return undefined;
    }
    return e;
  }

  private entry(key: string): SpendEntry {
    let e = this.live(key);
    if (!e) {
      if (this.maxKeys > 0 && this.spend.size >= this.maxKeys) this.evictLowest();
      e = { spent: 0, reserved: 0, expiresAt: 0 };
      this.spend.set(key, e);
    }
    return e;
  }

  /**
   * Past periods' counters (`key:2026-11-24`) are never read again: they go first, all at once.
   * Only when none has expired does the lowest current spend make room.
   */
  private evictLowest(): void {
    const now = Date.now();
    let freed = false;
    for (const [k, e] of this.spend) {
      if (e.expiresAt > 0 && e.expiresAt <= now && e.reserved === 0) {
        this.spend.delete(k);
        freed = true;
      }
    }
    if (freed) return;
    let minKey: string | undefined;
    let min = Infinity;
    for (const [k, e] of this.spend) {
      if (e.reserved === 0 && e.spent < min) {
        min = e.spent;
        minKey = k;
      }
    }
    if (minKey !== undefined) this.spend.delete(minKey);
  }
}

/**
 * Memory state that outlives a config version: each runtime hands it to the next, so a reload
 * does not give every caller a fresh rate-limit allowance. Worker threads get the same from
 * their shared table; this is the `--workers 1` counterpart. Limiters are found by their place
 * among the pipeline's stores, as in that table.
 */
export class MemoryState {
  private readonly limiters = new Map<number, MemoryRateLimiter>();

  rateLimiter(slot: number, maxKeys: number): MemoryRateLimiter {
    let r = this.limiters.get(slot);
    if (!r) {
      r = new MemoryRateLimiter(maxKeys);
      this.limiters.set(slot, r);
    }
    return r;
  }
}

const budgetStores = new Map<string, MemoryBudgetStore>();

/** Budget stores are process-level by store_id, so a config reload keeps the spend counters. */
export function memoryBudgetStore(storeId: string, maxKeys: number): MemoryBudgetStore {
  let s = budgetStores.get(storeId);
  if (!s) {
    s = new MemoryBudgetStore(maxKeys);
    budgetStores.set(storeId, s);
  }
  return s;
}
