// The rate limiter worker threads share (src/state/shared-rate.ts): buckets separated per
// limiter, a bounded table that keeps busy buckets, and exact counts when threads race on one key.
import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { createRateArena, keyHash, SharedRateLimiter } from "../../src/state/shared-rate.js";
import type { RateRule } from "../../src/state/types.js";

const SHARED_RATE_JS = new URL("../../dist/state/shared-rate.js", import.meta.url).href;
const perMinute = (n: number, burst = n): RateRule => ({ intervalMs: 60_000 / n, toleranceMs: (60_000 / n) * burst, limit: n });

describe("SharedRateLimiter", () => {
  it("limiters with the same seed share buckets (as workers do); other seeds are separate", () => {
    const arena = createRateArena(1000);
    const workerA = new SharedRateLimiter(arena, 0);
    const workerB = new SharedRateLimiter(arena, 0);
    const otherPlugin = new SharedRateLimiter(arena, 1);
    const rule = perMinute(1, 2);
    expect(workerA.consume([{ key: "user:1", rule, cost: 1 }]).allowed).toBe(true);
    expect(workerB.consume([{ key: "user:1", rule, cost: 1 }]).allowed).toBe(true);
    expect(workerA.consume([{ key: "user:1", rule, cost: 1 }]).allowed).toBe(false);
    expect(otherPlugin.consume([{ key: "user:1", rule, cost: 1 }]).allowed).toBe(true);
  });

  it("a full table evicts buckets that are about to be full again, not a busy one", () => {
    const rl = new SharedRateLimiter(createRateArena(1000), 3);
    const slow = perMinute(1, 1);
    expect(rl.consume([{ key: "hot", rule: slow, cost: 1 }]).allowed).toBe(true);
    const fast = { intervalMs: 1, toleranceMs: 1, limit: 60_000 };
    for (let i = 0; i < 50_000; i++) rl.consume([{ key: `k${i}`, rule: fast, cost: 1 }]);
    expect(rl.consume([{ key: "hot", rule: slow, cost: 1 }]).allowed).toBe(false);
  });

  it("spreads keys: distinct hashes, never the empty-slot marker", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(keyHash(`key:${i}`, 5));
    expect(seen.size).toBe(100_000);
    expect(seen.has(0)).toBe(false);
    expect(keyHash("same", 1)).not.toBe(keyHash("same", 2));
  });

  it("is exact when two threads race on one key", { timeout: 30_000 }, async () => {
    const burst = 30_000;
    const rule = perMinute(1, burst);
    // Each thread signals it is ready, waits for the start flag, then consumes as fast as it can.
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      import(workerData.module).then(({ SharedRateLimiter }) => {
        const rl = new SharedRateLimiter(workerData.arena, 9);
        const flag = new Int32Array(workerData.flag);
        Atomics.add(flag, 1, 1);
        Atomics.wait(flag, 0, 0);
        let allowed = 0;
        for (let i = 0; i < 50000; i++) if (rl.consume([{ key: "shared", rule: workerData.rule, cost: 1 }]).allowed) allowed++;
        parentPort.postMessage(allowed);
      });`;
    const race = async (): Promise<number[]> => {
      const arena = createRateArena(1000);
      const flag = new SharedArrayBuffer(8);
      const view = new Int32Array(flag);
      const run = (): Promise<number> =>
        new Promise((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { module: SHARED_RATE_JS, arena, rule, flag } });
          w.once("message", (n: number) => resolve(n));
          w.once("error", reject);
        });
      const counts = Promise.all([run(), run()]);
      while (Atomics.load(view, 1) < 2) await new Promise((r) => setTimeout(r, 5));
      Atomics.store(view, 0, 1);
      Atomics.notify(view, 0);
      return counts;
    };
    // A loaded machine may run the two threads one after the other; race again until they overlap.
    let overlapped = false;
    for (let round = 0; round < 5 && !overlapped; round++) {
      const [a = 0, b = 0] = await race();
      expect(a + b).toBe(burst);
      overlapped = a > 0 && b > 0;
    }
    expect(overlapped).toBe(true);
  });
});
