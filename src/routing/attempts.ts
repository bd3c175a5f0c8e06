// The attempt loop. Each target of the plan is asked up to its retry policy's `attempts`, waiting
// a full-jitter backoff (or the upstream's Retry-After) between tries of the same target; only
// fallback plans hold more than one target, so only fallback moves on to another. Around every
// attempt: the target's circuit breaker admits it (or not) and learns its result, the concurrency
// gate holds a slot for as long as it runs (a whole stream), and its latency is recorded.
//
// What ends the loop at once: a deterministic client error (400, 413, 422 — another provider would
// refuse the same request the same way), the client going away, `request_timeout` elapsing, and a
// stream failing after its first byte reached the client (a retry would send a second response).
import { setTimeout as sleep } from "node:timers/promises";
import type { Cancellation } from "../server/cancellation.js";
import type { RequestContext } from "../server/context.js";
import { GatewayError } from "../server/errors.js";
import { Outcome, REFUSED } from "./circuit-breaker.js";
import { backoffMs, isRetryableStatus } from "./retry.js";
import { circuitOpenError, type RoutePlan } from "./router.js";
import type { Target } from "./target.js";

export interface AttemptFailure {
  error: GatewayError;
  /** HTTP status from the upstream, or 0 for a transport failure (connection, timeout, bad body). */
  upstreamStatus: number;
  retryAfterMs: number | undefined;
  /** Never retried, on any target: the response to the client has already begun. */
  final?: boolean;
}

export class AttemptError extends Error {
  constructor(readonly failure: AttemptFailure) {
    super(failure.error.message);
  }
}

/** A failure after the response began (a stream broke mid-way): reported to the client, never retried. */
export function finalFailure(error: GatewayError): AttemptError {
  return new AttemptError({ error, upstreamStatus: error.status === 499 ? 499 : 0, retryAfterMs: undefined, final: true });
}

const CLIENT_ERRORS_FINAL = new Set([400, 413, 422]);
/** The latency a failed attempt is recorded as, at least: a failing target must not look fast. */
const FAILURE_SAMPLE_MS = 1000;

/** The abort reason used when request_timeout elapses, to tell it from a client disconnect. */
const REQUEST_TIMEOUT = new Error("request_timeout");

function fireDeadline(cancel: Cancellation): void {
  cancel.abort(REQUEST_TIMEOUT);
}

function requestTimeoutError(ms: number): GatewayError {
  return new GatewayError(504, "timeout_error", "request_timeout", `The request did not complete within request_timeout (${ms} ms).`);
}

const clientGone = (): GatewayError => new GatewayError(499, "api_error", "client_closed_request", "The request was cancelled.");

const SHED = "target_concurrency_exceeded";

function shedError(target: Target): AttemptError {
  const gate = target.gate as NonNullable<Target["gate"]>;
  const error = new GatewayError(
    429,
    "rate_limit_error",
    SHED,
    `Target ${target.key} is at its concurrency limit (${gate.max} in flight, ${gate.queueSize} queued).`,
  );
  return new AttemptError({ error, upstreamStatus: 429, retryAfterMs: undefined });
}

/** What a failure means for the circuit breaker: 5xx, redirects and transport failures count; 4xx, 429 and 499 do not. */
function breakerOutcome(f: AttemptFailure): Outcome {
  const s = f.upstreamStatus;
  if (s === 0) return f.error.status === 499 ? Outcome.Neutral : Outcome.Failure;
  return s >= 500 || (s >= 300 && s < 400) ? Outcome.Failure : Outcome.Neutral;
}

function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/**
 * `timed`: whether request_timeout applies here. Not to a stream (its answer is already flowing
 * to the client), nor inside the MCP tool loop, which puts one deadline around all its turns.
 */
export function runAttempts<T>(ctx: RequestContext, plan: RoutePlan, attempt: (target: Target) => Promise<T>, timed = !ctx.stream): Promise<T> {
  const limit = timed ? plan.requestTimeoutMs : undefined;
  return limit === undefined ? loop(ctx, plan, attempt, undefined) : withDeadline(ctx, limit, () => loop(ctx, plan, attempt, limit));
}

/** `run` under the plan's request_timeout, if it has one (the MCP tool loop: its turns and its tool calls). */
export function withRequestTimeout<T>(ctx: RequestContext, plan: RoutePlan, run: () => Promise<T>): Promise<T> {
  const limit = plan.requestTimeoutMs;
  return limit === undefined ? run() : withDeadline(ctx, limit, run);
}

/** request_timeout: one timer for the whole request; when it fires, everything in flight is aborted. */
async function withDeadline<T>(ctx: RequestContext, limit: number, run: () => Promise<T>): Promise<T> {
  const remaining = limit - elapsedMs(ctx.startNs);
  if (remaining <= 0) throw requestTimeoutError(limit);
  const timer = setTimeout(fireDeadline, remaining, ctx.abort);
  try {
    return await run();
  } catch (err) {
    // Whatever was cut off by the deadline (an attempt, a tool call) reports it as a timeout.
    if (ctx.abort.aborted && ctx.abort.reason === REQUEST_TIMEOUT) throw requestTimeoutError(limit);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The error for a request cancelled while the gateway worked on it: the client left, or request_timeout. */
export function cancellationError(cancel: Cancellation, limitMs = 0): GatewayError {
  return cancel.reason === REQUEST_TIMEOUT ? requestTimeoutError(limitMs) : clientGone();
}

async function loop<T>(ctx: RequestContext, plan: RoutePlan, attempt: (target: Target) => Promise<T>, limit: number | undefined): Promise<T> {
  const cancel = ctx.abort;
  let last: GatewayError | undefined;
  for (const target of plan.targets) {
    const policy = target.retry;
    const breaker = target.breaker;
    const gate = target.gate;
    for (let i = 1; i <= policy.attempts; i++) {
      if (cancel.aborted) throw cancel.reason === REQUEST_TIMEOUT ? requestTimeoutError(limit ?? 0) : clientGone();
      const gen = breaker ? breaker.acquire(Date.now()) : 0;
      if (gen === REFUSED) {
        // Opened since the plan was made (or its probes are taken): pass over it like the strategy would.
        last ??= circuitOpenError(plan.model, breaker?.retryInMs() ?? 0);
        break;
      }

      let failure: AttemptFailure;
      let held = false;
      const upstreamBefore = ctx.upstreamNs;
      const startNs = process.hrtime.bigint();
      try {
        if (gate && !gate.tryEnter()) {
          const waiting = gate.wait(cancel.signal);
          if (!waiting) throw shedError(target);
          await waiting;
        }
        held = gate !== undefined;
        ctx.attempts++;
        ctx.target = target.key;
        ctx.provider = target.provider.name;
        const out = await attempt(target);
        const now = Date.now();
        breaker?.record(gen, Outcome.Success, now);
        target.latency.record(observedMs(ctx.upstreamNs - upstreamBefore, startNs), now);
        return out;
      } catch (err) {
        const now = Date.now();
        if (cancel.aborted && cancel.reason === REQUEST_TIMEOUT) {
          // Our own deadline elapsed while this target was working on it: that counts against it.
          breaker?.record(gen, held ? Outcome.Failure : Outcome.Neutral, now);
          throw requestTimeoutError(limit ?? 0);
        }
        if (!(err instanceof AttemptError)) {
          breaker?.record(gen, Outcome.Neutral, now);
          if (cancel.aborted) throw clientGone();
          throw err;
        }
        failure = err.failure;
        breaker?.record(gen, breakerOutcome(failure), now);
        if (failure.error.status !== 499 && !CLIENT_ERRORS_FINAL.has(failure.upstreamStatus) && failure.error.code !== SHED) {
          // A failing (or rate-limited) target must not look fast to least-latency: count it as slow.
          const ms = observedMs(ctx.upstreamNs - upstreamBefore, startNs);
          target.latency.record(Math.max(ms, target.latency.ewmaMs * 2, FAILURE_SAMPLE_MS), now);
        }
      } finally {
        if (held) gate?.release();
      }

      const { error, upstreamStatus, retryAfterMs } = failure;
      last = error;
      if (failure.final || error.status === 499 || cancel.aborted) throw error;
      if (CLIENT_ERRORS_FINAL.has(upstreamStatus)) throw error;
      if (i < policy.attempts && isRetryableStatus(policy, upstreamStatus)) {
        const wait = backoffMs(policy, i, retryAfterMs);
        // A wait the deadline will not outlast only delays the answer: give up on this target now.
        if (limit !== undefined && wait >= limit - elapsedMs(ctx.startNs)) break;
        if (wait > 0) await sleep(wait, undefined, { signal: cancel.signal }).catch(() => undefined);
        continue;
      }
      break;
    }
  }
  throw last ?? circuitOpenError(plan.model, 0);
}

/** Upstream time this attempt added (headers + body; time to first byte for a stream), else wall time. */
function observedMs(upstreamNs: bigint, startNs: bigint): number {
  return upstreamNs > 0n ? Number(upstreamNs) / 1e6 : elapsedMs(startNs);
}
