// V8 settings the gateway applies to itself before its workers start.
//
// How far V8 lets the heap grow past the live data before its next full collection. A proxied
// request lives for the upstream's latency, long enough to be promoted out of the young
// generation, so under load the old generation fills with requests that are already finished.
// V8's adaptive default lets it grow to up to 4x the live data: at 1000 connections that was
// 200+ MB per worker of garbage waiting to be collected. 50% held it to 275 vs 416 MB for two
// workers, but V8 starts marking as soon as the old generation's headroom is below the young
// generation's size (32 MB, below), and 50% of ~25 MB live never leaves more: with 17 KB
// requests a worker ran 7 full collections a second. 100% costs nothing on small requests and
// 16-18% less CPU per long request, for ~12 MB more per worker there (BENCHMARKS.md). The flag
// is global to the process and read at each collection, so it also applies to worker threads
// started afterwards.
import { setFlagsFromString } from "node:v8";

/** Growth past live data in percent from `--heap-growth` / FERROGW_HEAP_GROWTH; 0 leaves V8's default. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 100;

export function resolveHeapGrowth(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  return wholeNumberSetting(flag ?? env.FERROGW_HEAP_GROWTH, DEFAULT_HEAP_GROWTH_PERCENT, 1000, "--heap-growth must be a whole number of percent from 0 to 1000");
}

/** A whole number from 0 to `max` (the flag's or the variable's text), or `fallback` when unset. */
function wholeNumberSetting(raw: string | undefined, fallback: number, max: number, rule: string): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${rule} (got ${JSON.stringify(raw)})`);
  return n;
}

export function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

// The young generation: V8 lets each of its two semi-spaces grow to 16 MB. At 1000 connections a
// worker fills that every ~130 ms, and every scavenge copies what the requests in flight hold.
// 32 MB cost 10-15 % less CPU per request and per stream than 16 in A/B runs, for about 30 MB
// more per worker under that load (140-147 MB per worker in four runs, against the 150 MB budget;
// idle workers do not grow it). V8 rounds the size up to a power of two (24 acts as 32). It sizes
// a heap when it creates it, so this reaches worker threads started afterwards, not the main
// thread: with --workers 1, set NODE_OPTIONS=--max-semi-space-size=32 instead.
export const DEFAULT_SEMI_SPACE_MB = 32;

/** `--semi-space MB` / FERROGW_SEMI_SPACE_MB; 0 leaves V8's default (16). */
export function resolveSemiSpace(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  return wholeNumberSetting(flag ?? env.FERROGW_SEMI_SPACE_MB, DEFAULT_SEMI_SPACE_MB, 1024, "--semi-space must be a whole number of MB from 0 to 1024");
}

export function applySemiSpace(mb: number): void {
  if (mb > 0) setFlagsFromString(`--max-semi-space-size=${mb}`);
}

// Young-generation collections (scavenges) run with helper threads by default. The gateway runs one
// worker per core, so a helper takes its core from a sibling worker, and at 1000 connections on 2
// cores a helper spent about 1.5 ms of CPU to save the worker 0.4 ms of pause: without helpers,
// CPU per request was 3-10 % lower in A/B runs (BENCHMARKS.md). Read at every scavenge, so it
// applies to the threads already running too.

/** `--parallel-gc` / FERROGW_PARALLEL_GC=1 gives scavenges their helper threads back. */
export function resolveParallelGc(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag !== undefined) return flag;
  const raw = (env.FERROGW_PARALLEL_GC ?? "").trim().toLowerCase();
  if (raw === "" || raw === "0" || raw === "false") return false;
  if (raw === "1" || raw === "true") return true;
  throw new Error(`FERROGW_PARALLEL_GC must be 1 or 0 (got ${JSON.stringify(env.FERROGW_PARALLEL_GC)})`);
}

export function applyParallelGc(parallel: boolean): void {
  setFlagsFromString(parallel ? "--parallel-scavenge" : "--no-parallel-scavenge");
}
