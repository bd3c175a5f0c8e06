// The GCRA (generic cell rate algorithm) step shared by the memory limiter; the Redis limiter
// runs the same arithmetic in Lua. State per key is one number: the theoretical arrival time.
import type { RateCheck, RateResult } from "./types.js";

const EPS = 1e-6;

/**
 * Evaluates all checks against their current TATs (read through `tatOf`) and, when every check
 * passes, returns the new TATs to store. Nothing is to be written when the result is denied.
 */
export function gcra(checks: readonly RateCheck[], tats: readonly number[], now: number): { result: RateResult; newTats: number[] } {
  const n = checks.length;
  const newTats: number[] = new Array<number>(n);
  let deniedIndex = -1;
  let retry = 0;
  for (let i = 0; i < n; i++) {
    const c = checks[i] as RateCheck;
    const T = c.rule.intervalMs;
    const tau = c.rule.toleranceMs;
    const tat = Math.max(tats[i] ?? 0, now);
    const newTat = tat + c.cost * T;
    let over: boolean;
    let r: number;
    if (c.cost > 0) {
      r = newTat - now - tau;
      over = r > EPS;
    } else {
      r = tat - now - tau + T;
      over = tat - now >= tau - EPS;
    }
    if (over && (deniedIndex < 0 || r > retry)) {
      deniedIndex = i;
      retry = r;
    }
    newTats[i] = newTat;
  }
  const allowed = deniedIndex < 0;
  const remaining: number[] = new Array<number>(n);
  const resetMs: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const c = checks[i] as RateCheck;
    const T = c.rule.intervalMs;
    const level = (allowed ? (newTats[i] as number) : Math.max(tats[i] ?? 0, now)) - now;
    remaining[i] = Math.max(0, Math.floor((c.rule.toleranceMs - level + EPS) / T));
    resetMs[i] = Math.max(0, Math.ceil(level));
  }
  return { result: { allowed, deniedIndex, retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(retry)), remaining, resetMs }, newTats };
}
