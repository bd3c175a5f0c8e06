// How far V8 lets the heap grow past the live data before its next full collection. A proxied
// request lives for the upstream's latency, long enough to be promoted out of the young
// generation, so under load the old generation fills with requests that are already finished.
// V8's adaptive default lets it grow to up to 4x the live data: at 1000 connections that was
// 200+ MB per worker of garbage waiting to be collected. 50% measured 275 vs 416 MB for two
// workers at no measurable CPU cost (BENCHMARKS.md). The flag is global to the process and read
// at each collection, so it also applies to worker threads started afterwards.
import { setFlagsFromString } from "node:v8";

/** Growth past live data in percent from `--heap-growth` / FERROGW_HEAP_GROWTH; 0 leaves V8's default. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 50;

export function resolveHeapGrowth(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = flag ?? env.FERROGW_HEAP_GROWTH;
  if (raw === undefined || raw === "") return DEFAULT_HEAP_GROWTH_PERCENT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`--heap-growth must be a whole number of percent from 0 to 1000 (got ${JSON.stringify(raw)})`);
  return n;
}

export function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
