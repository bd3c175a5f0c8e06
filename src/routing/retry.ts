// Per-target retry policy: how many times ONE target is asked, on which failures, with
// exponential backoff and full jitter; an upstream Retry-After wins over the computed wait.
import type { TargetConfig } from "../config/schema.js";

export interface RetryPolicy {
  readonly attempts: number;
  /** Explicit status codes to retry; undefined means the default policy (408, 429, 5xx). */
  readonly onStatus: ReadonlySet<number> | undefined;
  readonly initialBackoffMs: number;
}

export const NO_RETRY: RetryPolicy = { attempts: 1, onStatus: undefined, initialBackoffMs: 100 };

export function retryPolicy(cfg: TargetConfig["retry"]): RetryPolicy {
  if (!cfg) return NO_RETRY;
  return {
    attempts: cfg.attempts,
    onStatus: cfg.on_status_codes ? new Set(cfg.on_status_codes) : undefined,
    initialBackoffMs: cfg.initial_backoff_ms,
  };
}

/** Status 0 stands for a transport failure (connection refused/reset, timeout). */
export function isRetryableStatus(policy: RetryPolicy, status: number): boolean {
  if (status === 0) return true;
  if (policy.onStatus) return policy.onStatus.has(status);
  return status === 408 || status === 429 || status >= 500;
}

const MAX_RETRY_AFTER_MS = 30_000;

/** Retry-After in seconds or as an HTTP date; capped so a hostile upstream cannot park us. */
export function parseRetryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(v) - now;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Full jitter: uniform in [0, initial * 2^(retry-1)). `retry` counts from 1. */
export function backoffMs(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined, random = Math.random): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  return Math.floor(random() * policy.initialBackoffMs * 2 ** (retry - 1));
}
