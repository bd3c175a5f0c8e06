// The attempt loop: each target of the plan is asked up to its retry policy's attempts; on a
// failure another target may help with (5xx, 429, timeout, transport, provider auth/404), the
// loop moves on. A deterministic client error (400, 413, 422) ends the loop at once: another
// provider would refuse the same request the same way.
import { setTimeout as sleep } from "node:timers/promises";
import { GatewayError } from "../server/errors.js";
import type { RequestContext } from "../server/context.js";
import { backoffMs, isRetryableStatus } from "./retry.js";
import type { Target } from "./target.js";

export interface AttemptFailure {
  error: GatewayError;
  /** HTTP status from the upstream, or 0 for a transport failure. */
  upstreamStatus: number;
  retryAfterMs: number | undefined;
}

export class AttemptError extends Error {
  constructor(readonly failure: AttemptFailure) {
    super(failure.error.message);
  }
}

const CLIENT_ERRORS_FINAL = new Set([400, 413, 422]);

export async function runAttempts<T>(ctx: RequestContext, targets: readonly Target[], attempt: (target: Target) => Promise<T>): Promise<T> {
  let last: GatewayError | undefined;
  for (const target of targets) {
    const policy = target.retry;
    for (let i = 1; i <= policy.attempts; i++) {
      ctx.attempts++;
      ctx.target = target.key;
      ctx.provider = target.provider.name;
      try {
        return await attempt(target);
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err;
        const { error, upstreamStatus, retryAfterMs } = err.failure;
        last = error;
        if (ctx.abort.signal.aborted || error.status === 499) throw error;
        if (CLIENT_ERRORS_FINAL.has(upstreamStatus)) throw error;
        if (i < policy.attempts && isRetryableStatus(policy, upstreamStatus)) {
          await sleep(backoffMs(policy, i, retryAfterMs), undefined, { signal: ctx.abort.signal }).catch(() => undefined);
          continue;
        }
        break;
      }
    }
  }
  throw last ?? new GatewayError(503, "api_error", "no_target_available", "No target could serve the request.");
}
