// Picks the memory or Redis implementation of each state kind. One factory per plugin pipeline:
// it owns the Redis connections the pipeline's plugins share, and closes them with it.
import { ClusterBudgetStore, ClusterCacheStore, ClusterRateLimiter, isClusterWorker } from "../server/cluster.js";
import { MemoryCacheStore, MemoryRateLimiter, memoryBudgetStore } from "./memory.js";
import { RedisBudgetStore, RedisCacheStore, RedisConnections, RedisRateLimiter } from "./redis.js";
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
  /** In a cluster worker, memory state lives in the primary; the n-th store of a pipeline is the same one in every worker. */
  private shared = 0;

  constructor(onRedisError?: (url: string, err: Error) => void) {
    this.redis = new RedisConnections(onRedisError);
  }

  rateLimiter(backend: StateBackend, redis: RedisTarget | undefined, maxKeys: number): RateLimiter {
    if (backend === "redis" && redis) return new RedisRateLimiter(this.redis.get(redis.url), `${redis.prefix}rl:`);
    if (isClusterWorker()) return new ClusterRateLimiter({ kind: "rate", id: String(this.shared++), size: maxKeys });
    return new MemoryRateLimiter(maxKeys);
  }

  cacheStore(backend: StateBackend, redis: RedisTarget | undefined, maxEntries: number): CacheStore {
    if (backend === "redis" && redis) return new RedisCacheStore(this.redis.get(redis.url), `${redis.prefix}cache:`);
    if (isClusterWorker()) return new ClusterCacheStore({ kind: "cache", id: String(this.shared++), size: maxEntries });
    return new MemoryCacheStore(maxEntries);
  }

  budgetStore(backend: StateBackend, redis: RedisTarget | undefined, storeId: string, maxKeys: number): BudgetStore {
    if (backend === "redis" && redis) return new RedisBudgetStore(this.redis.get(redis.url), `${redis.prefix}budget:${storeId}:`);
    if (isClusterWorker()) return new ClusterBudgetStore({ kind: "budget", id: storeId, size: maxKeys });
    return memoryBudgetStore(storeId, maxKeys);
  }

  close(): Promise<void> {
    return this.redis.closeAll();
  }
}

export type { BudgetStore, CacheStore, RateLimiter } from "./types.js";
