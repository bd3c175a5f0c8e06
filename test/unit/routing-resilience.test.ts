// Circuit breaker, concurrency gate, retry policy and the attempt loop, without any network.
import { describe, expect, it } from "vitest";
import type { TargetConfig } from "../../src/config/schema.js";
import type { Operation, Provider, WireCodec } from "../../src/providers/types.js";
import { AttemptError, finalFailure, runAttempts } from "../../src/routing/attempts.js";
import { CircuitBreaker, Outcome, REFUSED } from "../../src/routing/circuit-breaker.js";
import { ConcurrencyGate } from "../../src/routing/concurrency.js";
import { backoffMs, isRetryableStatus, parseRetryAfterMs, retryPolicy } from "../../src/routing/retry.js";
import type { RoutePlan } from "../../src/routing/router.js";
import { Target } from "../../src/routing/target.js";
import { newContext, type RequestContext } from "../../src/server/context.js";
import { GatewayError } from "../../src/server/errors.js";

const OPS: ReadonlySet<Operation> = new Set(["chat"]);

function target(key: string, cfg: Partial<TargetConfig> = {}, index = 0): Target {
  const provider: Provider = {
    name: key,
    kind: key,
    codec: {} as unknown as WireCodec,
    baseUrl: new URL("http://127.0.0.1:1"),
    headers: {},
    timeoutMs: 1000,
    operations: OPS,
    batches: false,
    serves: () => true,
    models: () => [],
  };
  return new Target(provider, { virtual_key: key, weight: 1, ...cfg }, index);
}

function plan(targets: Target[], requestTimeoutMs?: number): RoutePlan {
  return { model: "gpt-4o", targets, requestTimeoutMs };
}

function fail(status: number, retryAfterMs?: number): AttemptError {
  const gwStatus = status === 0 ? 502 : status >= 500 ? 502 : status;
  return new AttemptError({ error: new GatewayError(gwStatus, "upstream_error", `e${status}`, `failed ${status}`), upstreamStatus: status, retryAfterMs });
}

/** Runs the loop with a script: each call to a target takes the next entry of its script (an error status, or "ok"). */
async function run(
  targets: Target[],
  scripts: Record<string, Array<number | "ok">>,
  opts: { ctx?: RequestContext; timeoutMs?: number } = {},
): Promise<{ result: string | GatewayError; calls: string[]; ctx: RequestContext }> {
  const ctx = opts.ctx ?? newContext({});
  const calls: string[] = [];
  try {
    const result = await runAttempts(ctx, plan(targets, opts.timeoutMs), async (t) => {
      calls.push(t.key);
      const step = scripts[t.key]?.shift() ?? "ok";
      if (step === "ok") return t.key;
      throw fail(step);
    });
    return { result, calls, ctx };
  } catch (e) {
    if (!(e instanceof GatewayError)) throw e;
    return { result: e, calls, ctx };
  }
}

describe("circuit breaker", () => {
  const cfg = { failure_threshold: 3, success_threshold: 2, max_half_threshold: 1, timeout: 1000 };

  it("opens after failure_threshold consecutive failures; a success resets the count", () => {
    const b = new CircuitBreaker(cfg);
    const t = 1_000_000;
    b.record(b.acquire(t), Outcome.Failure, t);
    b.record(b.acquire(t), Outcome.Failure, t);
    b.record(b.acquire(t), Outcome.Success, t);
    b.record(b.acquire(t), Outcome.Failure, t);
    b.record(b.acquire(t), Outcome.Failure, t);
    expect(b.state(t)).toBe("closed");
    b.record(b.acquire(t), Outcome.Neutral, t);
    b.record(b.acquire(t), Outcome.Failure, t);
    expect(b.state(t)).toBe("open");
    expect(b.acquire(t + 10)).toBe(REFUSED);
    expect(b.selectable(t + 10)).toBe(false);
    expect(b.retryInMs(t + 400)).toBe(600);
  });

  it("goes half-open after the timeout with max_half_threshold probes, closes after success_threshold successes", () => {
    const b = new CircuitBreaker(cfg);
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) b.record(b.acquire(t), Outcome.Failure, t);
    const later = t + 1000;
    expect(b.state(later)).toBe("half-open");
    const probe = b.acquire(later);
    expect(probe).not.toBe(REFUSED);
    expect(b.acquire(later)).toBe(REFUSED); // one probe at a time
    expect(b.selectable(later)).toBe(false);
    b.record(probe, Outcome.Success, later);
    expect(b.state(later)).toBe("half-open");
    b.record(b.acquire(later), Outcome.Success, later);
    expect(b.state(later)).toBe("closed");
  });

  it("re-opens on a failed probe; a neutral probe only frees its slot", () => {
    const b = new CircuitBreaker({ ...cfg, max_half_threshold: 2 });
    const t = 1_000_000;
    for (let i = 0; i < 3; i++) b.record(b.acquire(t), Outcome.Failure, t);
    const later = t + 1000;
    const p1 = b.acquire(later);
    const p2 = b.acquire(later);
    expect(b.acquire(later)).toBe(REFUSED);
    b.record(p1, Outcome.Neutral, later);
    expect(b.state(later)).toBe("half-open");
    expect(b.selectable(later)).toBe(true);
    b.record(p2, Outcome.Failure, later);
    expect(b.state(later)).toBe("open");
    expect(b.retryInMs(later)).toBe(1000);
  });

  it("ignores results from attempts admitted before the state changed", () => {
    const b = new CircuitBreaker({ ...cfg, failure_threshold: 1, success_threshold: 1 });
    const t = 1_000_000;
    const slow = b.acquire(t);
    b.record(b.acquire(t), Outcome.Failure, t);
    expect(b.state(t)).toBe("open");
    b.record(slow, Outcome.Success, t); // started while closed: says nothing about now
    expect(b.state(t)).toBe("open");
  });
});

describe("concurrency gate", () => {
  it("admits max, queues queue_size FIFO, sheds beyond; release hands the slot over", async () => {
    const g = new ConcurrencyGate({ max_concurrency: 2, queue_size: 1 });
    const ac = new AbortController();
    expect(g.tryEnter()).toBe(true);
    expect(g.tryEnter()).toBe(true);
    expect(g.tryEnter()).toBe(false);
    const waiting = g.wait(ac.signal);
    expect(waiting).toBeDefined();
    expect(g.wait(ac.signal)).toBeUndefined();
    expect(g.queued).toBe(1);
    g.release();
    await waiting;
    expect(g.active).toBe(2);
    g.release();
    g.release();
    expect(g.active).toBe(0);
  });

  it("drops a waiter whose request is cancelled", async () => {
    const g = new ConcurrencyGate({ max_concurrency: 1, queue_size: 5 });
    g.tryEnter();
    const ac = new AbortController();
    const waiting = g.wait(ac.signal);
    ac.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(g.queued).toBe(0);
    g.release();
    expect(g.active).toBe(0);
  });
});

describe("retry policy", () => {
  it("retries transport failures always, the default set (408, 429, 5xx) or exactly on_status_codes", () => {
    const def = retryPolicy({ attempts: 3, initial_backoff_ms: 10 });
    expect([0, 408, 429, 500, 503].every((s) => isRetryableStatus(def, s))).toBe(true);
    expect([400, 401, 404].some((s) => isRetryableStatus(def, s))).toBe(false);
    const only = retryPolicy({ attempts: 3, on_status_codes: [503], initial_backoff_ms: 10 });
    expect(isRetryableStatus(only, 503)).toBe(true);
    expect(isRetryableStatus(only, 500)).toBe(false);
    expect(isRetryableStatus(only, 0)).toBe(true);
  });

  it("full jitter: uniform in [0, initial * 2^(n-1)); Retry-After wins", () => {
    const p = retryPolicy({ attempts: 5, initial_backoff_ms: 100 });
    expect(backoffMs(p, 1, undefined, () => 0.999)).toBe(99);
    expect(backoffMs(p, 3, undefined, () => 0.5)).toBe(200);
    expect(backoffMs(p, 3, undefined, () => 0)).toBe(0);
    expect(backoffMs(p, 3, 1500, () => 0.5)).toBe(1500);
  });

  it("parses Retry-After seconds and dates, capped", () => {
    expect(parseRetryAfterMs("2")).toBe(2000);
    expect(parseRetryAfterMs("0.5")).toBe(500);
    expect(parseRetryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfterMs("86400")).toBe(30_000);
    expect(parseRetryAfterMs("soon")).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });
});

describe("attempt loop", () => {
  const retry = (attempts: number, on?: number[]): Partial<TargetConfig> => ({ retry: { attempts, on_status_codes: on, initial_backoff_ms: 1 } });

  it("asks one target exactly `attempts` times on retryable failures", async () => {
    const { result, calls, ctx } = await run([target("a", retry(3))], { a: [503, 503, 503, 503] });
    expect(calls).toEqual(["a", "a", "a"]);
    expect(result).toMatchObject({ code: "e503" });
    expect(ctx.attempts).toBe(3);
  });

  it("stops retrying a status outside on_status_codes, and a client error ends everything", async () => {
    const r1 = await run([target("a", retry(3, [503])), target("b", {}, 1)], { a: [500] });
    expect(r1.calls).toEqual(["a", "b"]);
    expect(r1.result).toBe("b");
    const r2 = await run([target("a", retry(3)), target("b", {}, 1)], { a: [400] });
    expect(r2.calls).toEqual(["a"]);
    expect(r2.result).toMatchObject({ code: "e400" });
  });

  it("moves to the next target only when the plan has one (fallback)", async () => {
    const r = await run([target("a", retry(2)), target("b", retry(2), 1)], { a: [502, 502], b: [429, "ok"] });
    expect(r.calls).toEqual(["a", "a", "b", "b"]);
    expect(r.result).toBe("b");
    expect(r.ctx.target).toBe("b");
    expect(r.ctx.attempts).toBe(4);
  });

  it("honours Retry-After between tries of one target", async () => {
    const t = target("a", retry(2));
    const started = Date.now();
    let n = 0;
    const out = await runAttempts(newContext({}), plan([t]), async () => {
      if (n++ === 0) throw fail(429, 300);
      return "ok";
    });
    expect(out).toBe("ok");
    expect(Date.now() - started).toBeGreaterThanOrEqual(270);
  });

  it("never retries a failure after the response began", async () => {
    const t = target("a", retry(3));
    const calls: string[] = [];
    const err = await runAttempts(newContext({}), plan([t, target("b", {}, 1)]), async (x) => {
      calls.push(x.key);
      throw finalFailure(new GatewayError(502, "upstream_error", "upstream_unreachable", "reset"));
    }).catch((e: unknown) => e);
    expect(calls).toEqual(["a"]);
    expect(err).toMatchObject({ code: "upstream_unreachable" });
  });

  it("counts 5xx and transport failures toward the breaker, not 429 or 4xx; an open circuit is passed over", async () => {
    const a = target("a", { circuit_breaker: { failure_threshold: 2, success_threshold: 1, max_half_threshold: 1, timeout: 60_000 } });
    const b = target("b", {}, 1);
    await run([a, b], { a: [429] });
    await run([a, b], { a: [404] });
    await run([a, b], { a: [429] });
    expect(a.breaker?.state()).toBe("closed");
    await run([a, b], { a: [500] });
    await run([a, b], { a: [0] });
    expect(a.breaker?.state()).toBe("open");
    const r = await run([a, b], {});
    expect(r.calls).toEqual(["b"]);
    const alone = await run([a], {});
    expect(alone.calls).toEqual([]);
    expect(alone.result).toMatchObject({ status: 503, code: "circuit_open" });
  });

  it("request_timeout bounds all attempts together: 504 request_timeout, and in-flight work is cancelled", async () => {
    const t = target("a", retry(10));
    const ctx = newContext({});
    let cancelled = false;
    const started = Date.now();
    const err = await runAttempts(ctx, plan([t], 150), (x) => {
      void x;
      return new Promise<string>((_resolve, reject) => {
        ctx.abort.signal.addEventListener("abort", () => {
          cancelled = true;
          reject(new AttemptError({ error: new GatewayError(499, "api_error", "client_closed_request", "x"), upstreamStatus: 499, retryAfterMs: undefined }));
        });
      });
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, code: "request_timeout" });
    expect(cancelled).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("gives up on a Retry-After the deadline would not outlast", async () => {
    const t = target("a", retry(3));
    const started = Date.now();
    const err = await runAttempts(newContext({}), plan([t], 500), async () => {
      throw fail(429, 5000);
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "e429" });
    expect(Date.now() - started).toBeLessThan(400);
  });

  it("sheds beyond the concurrency queue with 429 target_concurrency_exceeded", async () => {
    const t = target("a", { concurrency: { max_concurrency: 1, queue_size: 1 } });
    let release: () => void = () => undefined;
    const hold = new Promise<void>((r) => (release = r));
    const first = runAttempts(newContext({}), plan([t]), async () => {
      await hold;
      return "first";
    });
    const second = runAttempts(newContext({}), plan([t]), async () => "second");
    const third = await runAttempts(newContext({}), plan([t]), async () => "third").catch((e: unknown) => e);
    expect(third).toMatchObject({ status: 429, code: "target_concurrency_exceeded" });
    expect(t.gate?.queued).toBe(1);
    release();
    expect(await first).toBe("first");
    expect(await second).toBe("second");
    expect(t.gate?.active).toBe(0);
  });

  it("records latency on success for least-latency", async () => {
    const t = target("a");
    await runAttempts(newContext({}), plan([t]), async () => {
      await new Promise((r) => setTimeout(r, 20));
      return "ok";
    });
    expect(t.latency.samples).toBe(1);
    expect(t.latency.ewmaMs).toBeGreaterThanOrEqual(15);
  });
});
