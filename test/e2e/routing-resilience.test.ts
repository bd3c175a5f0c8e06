// Retries, fallback, Retry-After, circuit breakers, concurrency gates, timeouts and streams that
// fail before or after their first byte, end to end against scripted mock upstreams.
import { afterEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { until } from "../helpers/until.js";
import type { HealthReport } from "../../src/server/health.js";

interface Setup {
  gw: TestGateway;
  a: MockUpstream;
  b: MockUpstream;
}

let open: Setup | undefined;
afterEach(async () => {
  if (!open) return;
  await open.gw.close();
  await Promise.all([open.a.close(), open.b.close()]);
  open = undefined;
});

/** Two OpenAI-wire mocks as providers "a" and "b" (`type: openai`), plus whatever config the test needs. */
async function setup(
  config: Record<string, unknown>,
  opts: { a?: ConstructorParameters<typeof MockUpstream>[0]; b?: ConstructorParameters<typeof MockUpstream>[0]; timeout?: string } = {},
): Promise<Setup> {
  const a = new MockUpstream({ chunks: 4, ...opts.a });
  const b = new MockUpstream({ chunks: 4, ...opts.b });
  const provider = async (m: MockUpstream, name: string): Promise<Record<string, unknown>> => ({
    type: "openai",
    base_url: `${await m.start()}/v1`,
    api_key: `sk-${name}-0123456789`,
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
  });
  // These tests are about retry and failover: fallback unless a test names another mode.
  const gw = await startGateway({ providers: { a: await provider(a, "a"), b: await provider(b, "b") }, strategy: { mode: "fallback" }, ...config }, {});
  open = { gw, a, b };
  return open;
}

const chat = (content = "hi"): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming => ({ model: "gpt-4o-mini", messages: [{ role: "user", content }] });
const retry = (attempts: number, on?: number[]): Record<string, unknown> => ({ attempts, initial_backoff_ms: 5, ...(on ? { on_status_codes: on } : {}) });

async function health(gw: TestGateway): Promise<HealthReport> {
  return (await (await fetch(`${gw.url}/health`)).json()) as HealthReport;
}

async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await p.catch((err: unknown) => err);
  if (!(e instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(e)}`);
  return e;
}

describe("retries and fallback", () => {
  it("retries one target exactly `attempts` times on its on_status_codes", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a", retry: retry(3, [503]) }, { virtual_key: "b" }] });
    a.enqueue({ status: 503 }, { status: 503 });
    const { response } = await gw.client.chat.completions.create(chat()).withResponse();
    expect(response.headers.get("x-ferro-target")).toBe("a");
    expect(response.headers.get("x-ferro-attempts")).toBe("3");
    expect(a.requests.length).toBe(3);
    expect(b.requests.length).toBe(0);

    // A status outside on_status_codes is not retried; fallback moves to the next target.
    a.enqueue({ status: 500 });
    const second = await gw.client.chat.completions.create(chat()).withResponse();
    expect(second.response.headers.get("x-ferro-target")).toBe("b");
    expect(second.response.headers.get("x-ferro-attempts")).toBe("2");
    expect(a.requests.length).toBe(4);
    expect(b.requests.length).toBe(1);

    // Exhausted retries on a, then b answers.
    a.enqueue({ status: 503 }, { status: 503 }, { status: 503 });
    await gw.client.chat.completions.create(chat());
    expect(a.requests.length).toBe(7);
    expect(b.requests.length).toBe(2);
  });

  it("does not retry a 400 anywhere", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a", retry: retry(3) }, { virtual_key: "b" }] });
    a.enqueue({ status: 400, message: "bad temperature" });
    const err = await apiError(gw.client.chat.completions.create(chat()));
    expect(err.status).toBe(400);
    expect(a.requests.length).toBe(1);
    expect(b.requests.length).toBe(0);
  });

  it("asks only the chosen target under a non-fallback mode, retries included", async () => {
    const { gw, a, b } = await setup({ strategy: { mode: "single" }, targets: [{ virtual_key: "a", retry: retry(2) }, { virtual_key: "b" }] });
    a.enqueue({ status: 502 }, { status: 502 });
    const err = await apiError(gw.client.chat.completions.create(chat()));
    expect(err.status).toBe(502);
    expect(a.requests.length).toBe(2);
    expect(b.requests.length).toBe(0);
  });

  it("retries connection resets and upstream timeouts", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a", retry: retry(3) }, { virtual_key: "b" }] }, { timeout: "150ms" });
    // undici checks header timeouts on a coarse (~0.5 s) clock: delay well past it.
    a.enqueue({ reset: true }, { delayMs: 2500 });
    const { response } = await gw.client.chat.completions.create(chat()).withResponse();
    expect(response.headers.get("x-ferro-target")).toBe("a");
    expect(a.requests.length).toBe(3);
    expect(b.requests.length).toBe(0);
  });

  it("honours Retry-After before retrying", async () => {
    const { gw, a } = await setup({ targets: [{ virtual_key: "a", retry: retry(2, [429]) }] });
    a.enqueue({ status: 429, headers: { "retry-after": "1" } });
    const started = Date.now();
    await gw.client.chat.completions.create(chat());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(a.requests.length).toBe(2);
  });
});

describe("timeouts and cancellation", () => {
  it("answers 504 upstream_timeout when the only target does not answer in time", async () => {
    const { gw, a } = await setup({ strategy: { mode: "single" }, targets: [{ virtual_key: "a" }] }, { timeout: "150ms" });
    a.enqueue({ delayMs: 2500 });
    const err = await apiError(gw.client.chat.completions.create(chat()));
    expect(err.status).toBe(504);
    expect(err.code).toBe("upstream_timeout");
  });

  // The first attempt lets go of the parsed request (it sends the client's own JSON); a fallback
  // that must write the request anew parses that JSON again.
  it("a fallback to a renamed model sends the whole conversation, renamed", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a" }, { virtual_key: "b", model_map: { "gpt-4o-mini": "gpt-4o" } }] });
    a.enqueue({ status: 503 });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `turn ${i} ${"é".repeat(200)}` }));
    const out = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages, temperature: 0.25, stream: true, stream_options: { include_usage: true } });
    let chunks = 0;
    for await (const c of out) if (c.choices.length > 0 || c.usage) chunks++;
    expect(chunks).toBeGreaterThan(0);
    expect(a.requests.at(-1)?.body).toMatchObject({ model: "gpt-4o-mini", messages });
    expect(b.requests.at(-1)?.body).toEqual({ model: "gpt-4o", messages, temperature: 0.25, stream: true, stream_options: { include_usage: true } });
  });

  it("request_timeout bounds all attempts together with 504 request_timeout", async () => {
    const { gw, a } = await setup({ request_timeout: "300ms", targets: [{ virtual_key: "a", retry: retry(5) }, { virtual_key: "b" }] });
    a.enqueue({ status: 503 }, { delayMs: 2000 });
    const started = Date.now();
    const err = await apiError(gw.client.chat.completions.create(chat()));
    const took = Date.now() - started;
    expect(err.status).toBe(504);
    expect(err.code).toBe("request_timeout");
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1500);
    expect(a.requests.length).toBe(2);
  });

  it("a client disconnect cancels the request: nothing is retried", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a", retry: retry(3) }, { virtual_key: "b" }] });
    a.enqueue({ delayMs: 1000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    await gw.client.chat.completions.create(chat(), { signal: ac.signal }).catch(() => undefined);
    await expect.poll(() => gw.finished.at(-1)?.status).toBe(499);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.requests.length).toBe(1);
    expect(b.requests.length).toBe(0);
  });
});

describe("circuit breaker", () => {
  const breaker = { failure_threshold: 3, success_threshold: 1, max_half_threshold: 1, timeout: "700ms" };
  const openFor = (): Promise<void> => new Promise((r) => setTimeout(r, 720));

  it("opens after N failures, passes traffic to the other target, then half-opens and recovers", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a", circuit_breaker: breaker }, { virtual_key: "b" }] });
    a.enqueue({ status: 500 }, { status: 500 }, { status: 500 });
    for (let i = 0; i < 3; i++) {
      const { response } = await gw.client.chat.completions.create(chat()).withResponse();
      expect(response.headers.get("x-ferro-target")).toBe("b");
    }
    expect(a.requests.length).toBe(3);
    let h = await health(gw);
    expect(h.targets.find((t) => t.key === "a")).toMatchObject({ circuit: "open" });
    expect(h.status).toBe("degraded");

    for (let i = 0; i < 5; i++) await gw.client.chat.completions.create(chat());
    expect(a.requests.length).toBe(3); // passed over while open
    expect(b.requests.length).toBe(8);

    await openFor();
    expect((await health(gw)).targets.find((t) => t.key === "a")?.circuit).toBe("half-open");
    const { response } = await gw.client.chat.completions.create(chat()).withResponse();
    expect(response.headers.get("x-ferro-target")).toBe("a"); // the probe
    h = await health(gw);
    expect(h.targets.find((t) => t.key === "a")).toMatchObject({ circuit: "closed", consecutive_failures: 0 });
    await gw.client.chat.completions.create(chat());
    expect(a.requests.length).toBe(5);
  });

  it("a failed probe re-opens it; 429s do not count; all candidates open is 503 circuit_open", async () => {
    const { gw, a } = await setup({ strategy: { mode: "single" }, targets: [{ virtual_key: "a", circuit_breaker: { ...breaker, failure_threshold: 2 } }] });
    a.enqueue({ status: 429 }, { status: 429 }, { status: 429 });
    for (let i = 0; i < 3; i++) expect((await apiError(gw.client.chat.completions.create(chat()))).status).toBe(429);
    expect((await health(gw)).targets[0]?.circuit).toBe("closed");

    // The reset comes twice: a reused connection lost before any byte is tried once more on a new one.
    a.enqueue({ reset: true }, { reset: true }, { status: 503 });
    await apiError(gw.client.chat.completions.create(chat()));
    await apiError(gw.client.chat.completions.create(chat()));
    const refused = await apiError(gw.client.chat.completions.create(chat()));
    expect(refused.status).toBe(503);
    expect(refused.code).toBe("circuit_open");
    expect(a.requests.length).toBe(6);

    await openFor();
    a.enqueue({ status: 500 });
    expect((await apiError(gw.client.chat.completions.create(chat()))).status).toBe(502);
    expect((await health(gw)).targets[0]?.circuit).toBe("open");
    expect((await apiError(gw.client.chat.completions.create(chat()))).code).toBe("circuit_open");
    expect(a.requests.length).toBe(7);

    // A model nobody serves is still 404, not 503.
    const nf = await apiError(gw.client.chat.completions.create({ ...chat(), model: "no-such-model" }));
    expect(nf.status).toBe(404);
  });
});

describe("concurrency gate", () => {
  it("sheds beyond max_concurrency + queue_size with 429 target_concurrency_exceeded", async () => {
    const { gw, a } = await setup(
      { strategy: { mode: "single" }, targets: [{ virtual_key: "a", concurrency: { max_concurrency: 1, queue_size: 1 } }] },
      { a: { latencyMs: 150 } },
    );
    const results = await Promise.allSettled([0, 1, 2].map(() => gw.client.chat.completions.create(chat())));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(2);
    expect(rejected.length).toBe(1);
    const err = rejected[0]?.reason as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(429);
    expect(err.code).toBe("target_concurrency_exceeded");
    expect(a.requests.length).toBe(2);
  });

  it("a streaming request holds its slot until the stream ends", async () => {
    const { gw } = await setup(
      { strategy: { mode: "single" }, targets: [{ virtual_key: "a", concurrency: { max_concurrency: 1, queue_size: 1 } }] },
      { a: { chunkDelayMs: 60 } },
    );
    const stream = await gw.client.chat.completions.create({ ...chat("stream"), stream: true });
    const it = stream[Symbol.asyncIterator]();
    await it.next(); // the stream has begun; the upstream is still sending
    // The next request waits for the slot, and the one after it finds the queue full.
    let answered = false;
    const waiting = gw.client.chat.completions.create(chat()).then((r) => {
      answered = true;
      return r;
    });
    await until("the request to queue", async () => (await health(gw)).targets[0]?.concurrency?.queued === 1);
    const during = await apiError(gw.client.chat.completions.create(chat()));
    expect(during.status).toBe(429);
    expect((await health(gw)).targets[0]?.concurrency).toMatchObject({ active: 1, queued: 1, max: 1 });
    expect(answered).toBe(false);
    while (!(await it.next()).done);
    const after = await waiting;
    expect(after.choices[0]?.message.content).toContain("hi");
  });
});

describe("streaming failover", () => {
  const fallbackTargets = { targets: [{ virtual_key: "a", retry: retry(3) }, { virtual_key: "b" }] };

  async function collect(gw: TestGateway): Promise<{ text: string; error: unknown }> {
    let text = "";
    try {
      const stream = await gw.client.chat.completions.create({ ...chat("stream me"), stream: true });
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      return { text, error: undefined };
    } catch (error) {
      return { text, error };
    }
  }

  it("fails over when the upstream dies before the first byte", async () => {
    const { gw, a, b } = await setup({ targets: [{ virtual_key: "a" }, { virtual_key: "b" }] });
    a.enqueue({ reset: true });
    expect(await collect(gw)).toEqual({ text: "Mock reply to: stream me", error: undefined });
    // The upstream sent its headers but no byte of body: still nothing reached the client.
    a.enqueue({ resetAfterFrames: 0 });
    expect(await collect(gw)).toEqual({ text: "Mock reply to: stream me", error: undefined });
    expect(a.requests.length).toBe(2);
    expect(b.requests.length).toBe(2);
  });

  it("never retries after the stream began: the client gets an error event and the stream ends", async () => {
    // Paced frames, so the first ones reach the client before the upstream connection dies.
    const { gw, a, b } = await setup(fallbackTargets, { a: { chunkDelayMs: 15 } });
    a.enqueue({ resetAfterFrames: 3 });
    const { text, error } = await collect(gw);
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toBe("Mock reply to: stream me");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(a.requests.length).toBe(1);
    expect(b.requests.length).toBe(0);
    await expect.poll(() => gw.finished.at(-1)?.errorCode).toBe("upstream_unreachable");

    // The raw bytes: a well-formed final SSE error event, then [DONE].
    a.enqueue({ resetAfterFrames: 2 });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...chat("raw"), stream: true }),
    });
    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(raw).toMatch(/\n\ndata: \{"error":\{[^\n]*"code":"upstream_unreachable"[^\n]*\}\}\n\ndata: \[DONE\]\n\n$/);
    expect(a.requests.length).toBe(2);
    expect(b.requests.length).toBe(0);
  });
});
