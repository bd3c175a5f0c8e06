// Shared-state interfaces behind the plugins: a rate limiter, a response-cache store and a
// budget (spend) store, each with a memory and a Redis implementation. Memory implementations
// answer synchronously so the request path does not await when it does not have to; Redis ones
// are exact across gateway workers and instances (every check-and-update is one Lua script).

/** A GCRA rule: one unit is released every `intervalMs`; the bucket holds `toleranceMs` worth. */
export interface RateRule {
  /** Emission interval: milliseconds per unit (60000 / rpm, 1000 / rps, 60000 / tpm). */
  readonly intervalMs: number;
  /** Bucket depth in milliseconds: intervalMs × burst. */
  readonly toleranceMs: number;
  /** The configured limit, reported in the x-ratelimit-limit-* headers. */
  readonly limit: number;
}

/** One check of a consume call. cost 0 checks that some capacity is left without taking any. */
export interface RateCheck {
  key: string;
  rule: RateRule;
  cost: number;
}

export interface RateResult {
  allowed: boolean;
  /** When denied: index of the check that denied (the one with the longest wait). */
  deniedIndex: number;
  /** When denied: milliseconds until the request would be admitted. */
  retryAfterMs: number;
  /** Per check: units left after this call (nothing is taken when denied). */
  remaining: number[];
  /** Per check: milliseconds until the bucket is full again. */
  resetMs: number[];
}

export interface RateLimiter {
  readonly backend: "memory" | "redis";
  /** Takes `cost` from every check at once, or nothing when any of them would go over. */
  consume(checks: readonly RateCheck[]): RateResult | Promise<RateResult>;
  /** Takes `cost` unconditionally (tokens actually used, known only afterwards). */
  debit(key: string, rule: RateRule, cost: number): void | Promise<void>;
  close(): Promise<void>;
}

export interface CacheStore {
  readonly backend: "memory" | "redis";
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): void | Promise<void>;
  /** Entries held (memory), or -1 when the backend does not count them. */
  size(): number;
  close(): Promise<void>;
}

/** Spend in nano-USD (1e-9 USD) integers, so sums never drift. */
export interface Spend {
  spent: number;
  reserved: number;
}

export interface ReserveResult extends Spend {
  ok: boolean;
  /** Redis: the reservation's own id, which settle() releases (each reservation expires on its own). */
  hold?: string;
}

export interface BudgetStore {
  readonly backend: "memory" | "redis";
  /**
   * Atomically: when spent + reserved < limit (or limit is 0), adds `estimate` to reserved and
   * answers ok; otherwise answers not ok and changes nothing.
   */
  reserve(key: string, estimate: number, limit: number): ReserveResult | Promise<ReserveResult>;
  /**
   * Atomically releases `reserved` (the reservation `hold`, where reserve() gave one) and adds
   * `actual` to spent. expireAtMs: when the period ends (0 = never).
   */
  settle(key: string, reserved: number, actual: number, expireAtMs: number, hold?: string): void | Promise<void>;
  get(key: string): Spend | Promise<Spend>;
  /** Every tracked key whose name starts with `prefix`. */
  list(prefix: string): Promise<Array<Spend & { key: string }>>;
  close(): Promise<void>;
}

/** 1 USD in the stores' integer unit. */
export const NANO_USD = 1_000_000_000;
