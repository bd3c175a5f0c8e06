// Memory state backends: the GCRA limiter (burst, steady rate, all-or-nothing checks, token
// debits), the LRU cache with TTL, and the budget store's reserve/settle.
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryBudgetStore, MemoryCacheStore, MemoryRateLimiter } from "../../src/state/memory.js";
import { createRateArena, SharedRateLimiter } from "../../src/state/shared-rate.js";
import type { RateRule } from "../../src/state/types.js";

const rpm = (n: number): RateRule => ({ intervalMs: 60_000 / n, toleranceMs: 60_000, limit: n });

afterEach(() => {
  vi.useRealTimers();
});

// The same GCRA behaviour from the single-process limiter and the one worker threads share.
const limiters: Array<[string, () => MemoryRateLimiter | SharedRateLimiter]> = [
  ["MemoryRateLimiter", () => new MemoryRateLimiter()],
  ["SharedRateLimiter", () => new SharedRateLimiter(createRateArena(1000), 7)],
];

describe.each(limiters)("%s (GCRA)", (_name, newLimiter) => {
  it("allows the burst, then one request per interval", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const rl = newLimiter();
    const rule = rpm(6); // one every 10 s, 6 at once
    const results = Array.from({ length: 7 }, () => rl.consume([{ key: "k", rule, cost: 1 }]));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, true, false]);
    expect(results.map((r) => r.remaining[0])).toEqual([5, 4, 3, 2, 1, 0, 0]);
    expect(results[6]?.retryAfterMs).toBe(10_000);
    expect(results[5]?.resetMs[0]).toBe(60_000);
    vi.advanceTimersByTime(9_999);
    expect(rl.consume([{ key: "k", rule, cost: 1 }]).allowed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(rl.consume([{ key: "k", rule, cost: 1 }]).allowed).toBe(true);
  });

  it("checks several limits all-or-nothing", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const rl = newLimiter();
    const tight = rpm(1);
    const loose = rpm(100);
    expect(rl.consume([{ key: "loose", rule: loose, cost: 1 }, { key: "tight", rule: tight, cost: 1 }]).allowed).toBe(true);
    const denied = rl.consume([{ key: "loose", rule: loose, cost: 1 }, { key: "tight", rule: tight, cost: 1 }]);
    expect(denied).toMatchObject({ allowed: false, deniedIndex: 1 });
    // The refused request took nothing from the loose limit.
    expect(rl.consume([{ key: "loose", rule: loose, cost: 1 }]).remaining[0]).toBe(98);
  });

  it("token limits: a zero-cost check passes while capacity is left; debits may overdraw", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const rl = newLimiter();
    const tpm = rpm(100);
    expect(rl.consume([{ key: "t", rule: tpm, cost: 0 }]).allowed).toBe(true);
    rl.debit("t", tpm, 99);
    expect(rl.consume([{ key: "t", rule: tpm, cost: 0 }])).toMatchObject({ allowed: true, remaining: [1] });
    rl.debit("t", tpm, 50);
    const r = rl.consume([{ key: "t", rule: tpm, cost: 0 }]);
    expect(r.allowed).toBe(false);
    expect(r.retryAfterMs).toBeGreaterThan(29_000);
  });

});

describe("MemoryRateLimiter", () => {
  it("stays bounded", () => {
    const rl = new MemoryRateLimiter(10);
    for (let i = 0; i < 100; i++) rl.consume([{ key: `k${i}`, rule: rpm(1), cost: 1 }]);
    expect((rl as unknown as { tats: Map<string, number> }).tats.size).toBeLessThanOrEqual(10);
  });
});

describe("MemoryCacheStore", () => {
  it("is an LRU with a TTL", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const c = new MemoryCacheStore(2);
    c.set("a", "1", 1000);
    c.set("b", "2", 1000);
    expect(c.get("a")).toBe("1");
    c.set("c", "3", 1000);
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBe("1");
    vi.advanceTimersByTime(1000);
    expect(c.get("a")).toBeUndefined();
    expect(c.size()).toBe(1);
    new MemoryCacheStore(0).set("x", "y", 1000);
  });
});

describe("MemoryBudgetStore", () => {
  it("admits while spent + reserved is under the limit, settles actual cost", () => {
    const s = new MemoryBudgetStore(10);
    expect(s.reserve("k", 40, 100)).toEqual({ ok: true, spent: 0, reserved: 40 });
    expect(s.reserve("k", 40, 100)).toEqual({ ok: true, spent: 0, reserved: 80 });
    expect(s.reserve("k", 40, 100)).toEqual({ ok: true, spent: 0, reserved: 120 });
    expect(s.reserve("k", 40, 100).ok).toBe(false);
    s.settle("k", 40, 30, 0);
    s.settle("k", 40, 30, 0);
    s.settle("k", 40, 30, 0);
    expect(s.get("k")).toEqual({ spent: 90, reserved: 0 });
    expect(s.reserve("k", 40, 100).ok).toBe(true);
    s.settle("k", 40, 35, 0);
    expect(s.reserve("k", 1, 100).ok).toBe(false);
    expect(s.reserve("k", 1, 0).ok).toBe(true); // 0 = unlimited
  });

  it("evicts the lowest-spend key at max_keys", async () => {
    const s = new MemoryBudgetStore(2);
    s.settle("a", 0, 5, 0);
    s.settle("b", 0, 1, 0);
    s.settle("c", 0, 3, 0);
    expect((await s.list("")).map((r) => r.key).sort()).toEqual(["a", "c"]);
  });

  it("at max_keys drops past periods' counters before a current one", async () => {
    const s = new MemoryBudgetStore(3);
    const past = Date.now() - 1;
    const tomorrow = Date.now() + 86_400_000;
    // Yesterday's counters, spent heavily; today's, spent lightly.
    s.settle("k1:day1", 0, 9, past);
    s.settle("k2:day1", 0, 8, past);
    s.settle("k1:day2", 0, 1, tomorrow);
    s.settle("k2:day2", 0, 2, tomorrow);
    s.settle("k3:day2", 0, 3, tomorrow);
    expect((await s.list("")).map((r) => r.key).sort()).toEqual(["k1:day2", "k2:day2", "k3:day2"]);
    expect(s.get("k1:day2").spent).toBe(1);
  });
});
