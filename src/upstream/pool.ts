// One undici connection pool per upstream origin, kept alive across requests. Pools are not
// capped at a small connection count: concurrency = RPS x upstream latency, so a fixed cap turns
// into a hidden queue under load. Queue depth is exported for the metrics endpoint.
import { Pool } from "undici";

const pools = new Map<string, Pool>();

export function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: { timeout: 10_000 },
    });
    pools.set(origin, pool);
  }
  return pool;
}

export interface PoolStats {
  origin: string;
  connected: number;
  free: number;
  pending: number;
  running: number;
  queued: number;
}

export function poolStats(): PoolStats[] {
  return [...pools.entries()].map(([origin, pool]) => {
    const s = pool.stats;
    return { origin, connected: s.connected, free: s.free, pending: s.pending, running: s.running, queued: s.queued };
  });
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}
