// Picks the memory or Redis implementation of each state kind. One factory per plugin pipeline:
// it owns the Redis connections the pipeline's plugins share, and closes them with it.
import { SharedBudgetStore, SharedCacheStore } from "../server/workers/shared-state.js";
import { workerInfo } from "../server/workers/thread-info.js";
import { MemoryCacheStore, MemoryState, memoryBudgetStore } from "./memory.js";
import { RedisBudgetStore, RedisCacheStore, RedisConnections, RedisRateLimiter } from "./redis.js";
import { SharedRateLimiter } from "./shared-rate.js";
import type { BudgetStore, CacheStore, RateLimiter } from "./types.js";

export type StateBackend = "memory" | "redis";

export interface RedisTarget {
  /** redis://[user:pass@]host:port[/db] */
  url: string;
  /** Prepended to every key, e.g. "ferrogw:". */
  prefix: string;
}

export class StateFactory {
  private readonly redis: RedisConnections;
  /**
   * In a worker thread, memory state is shared by every worker; the n-th store of a kind in a
   * pipeline is the same one in each. Counted per kind, so a config that adds a cache before a
   * rate limit does not give that limit another place (fresh buckets for every caller).
   */
  private rateLimiters = 0;
  private caches = 0;

  constructor(
    onRedisError?: (url: string, err: Error) => void,
    private readonly memory: MemoryState = new MemoryState(),
  ) {
    this.redis = new RedisConnections(onRedisError);
  }

  rateLimiter(backend: StateBackend, redis: RedisTarget | undefined, maxKeys: number): RateLimiter {
    if (backend === "redis" && redis) return new RedisRateLimiter(this.redis.get(redis.url), `${redis.prefix}rl:`);
    const worker = workerInfo();
    if (worker) return new SharedRateLimiter(worker.rateArena, this.rateLimiters++);
    return this.memory.rateLimiter(this.rateLimiters++, maxKeys);
  }

  cacheStore(backend: StateBackend, redis: RedisTarget | undefined, maxEntries: number): CacheStore {
    if (backend === "redis" && redis) return new RedisCacheStore(this.redis.get(redis.url), `${redis.prefix}cache:`);
    if (workerInfo()) return new SharedCacheStore({ kind: "cache", id: String(this.caches++), size: maxEntries });
    return new MemoryCacheStore(maxEntries);
  }

  budgetStore(backend: StateBackend, redis: RedisTarget | undefined, storeId: string, maxKeys: number): BudgetStore {
    if (backend === "redis" && redis) return new RedisBudgetStore(this.redis.get(redis.url), `${redis.prefix}budget:${storeId}:`);
    if (workerInfo()) return new SharedBudgetStore({ kind: "budget", id: storeId, size: maxKeys });
    return memoryBudgetStore(storeId, maxKeys);
  }

  close(): Promise<void> {
    return this.redis.closeAll();
  }
}

export type { BudgetStore, CacheStore, RateLimiter } from "./types.js";
export { MemoryState } from "./memory.js";
