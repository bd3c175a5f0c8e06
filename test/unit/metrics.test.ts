// Per-request metrics: counted in the gateway's own series and handed to prom-client when it
// collects, so what a scrape shows must still be every request, once.
import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/observability/metrics.js";
import { newContext, type RequestContext } from "../../src/server/context.js";

function finished(over: Partial<RequestContext>): RequestContext {
  return Object.assign(newContext({}), { provider: "openai", status: 200, attempts: 1, ...over });
}

async function value(m: Metrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return found?.value;
}

describe("request metrics", () => {
  it("counts requests, attempts and tokens per label set, and nothing twice across scrapes", async () => {
    const m = new Metrics();
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    for (let i = 0; i < 3; i++) m.record(finished({ model: "gpt-4o-mini", usage, attempts: 2 }));
    m.record(finished({ model: "gpt-4o-mini", status: 502, usage: undefined }));
    m.record(finished({ model: "gpt-4o", stream: true, usage }));
    m.record(finished({ model: undefined })); // /health and the like: not a model request

    expect(await value(m, "ferrogw_requests_total", { model: "gpt-4o-mini", status: "200", stream: "false" })).toBe(3);
    expect(await value(m, "ferrogw_requests_total", { model: "gpt-4o-mini", status: "502" })).toBe(1);
    expect(await value(m, "ferrogw_requests_total", { model: "gpt-4o", stream: "true" })).toBe(1);
    expect(await value(m, "ferrogw_tokens_total", { model: "gpt-4o-mini", direction: "input" })).toBe(30);
    expect(await value(m, "ferrogw_tokens_total", { model: "gpt-4o-mini", direction: "output" })).toBe(15);
    expect(await value(m, "ferrogw_upstream_attempts_total", { provider: "openai" })).toBe(8);

    // A second scrape after one more request: the total moves by one.
    m.record(finished({ model: "gpt-4o-mini", usage }));
    expect(await value(m, "ferrogw_requests_total", { model: "gpt-4o-mini", status: "200" })).toBe(4);
    expect(await value(m, "ferrogw_tokens_total", { model: "gpt-4o-mini", direction: "input" })).toBe(40);
    const text = await m.registry.metrics();
    expect(text).toContain('ferrogw_requests_total{provider="openai",model="gpt-4o-mini",status="200",stream="false"} 4');
    expect(text).toMatch(/ferrogw_request_duration_seconds_count\{provider="openai"\} 6/);
  });

  it("keeps the counts of series dropped when clients send more model names than it caches", async () => {
    const m = new Metrics();
    m.record(finished({ model: "first" }));
    for (let i = 0; i < 10_001; i++) m.record(finished({ model: `model-${i}` }));
    m.record(finished({ model: "first" }));
    expect(await value(m, "ferrogw_requests_total", { model: "first" })).toBe(2);
    expect(await value(m, "ferrogw_requests_total", { model: "model-0" })).toBe(1);
    expect(await value(m, "ferrogw_requests_total", { model: "model-10000" })).toBe(1);
  });
});
