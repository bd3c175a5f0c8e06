// /metrics exposes request, token, overhead and pool metrics, plus the plugins' own, and never a secret.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

describe("/metrics", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    gw = await startGateway(
      { plugins: [{ name: "response-cache", stage: "before_request", enabled: true, config: { max_age: 60, max_entries: 10, cache_nondeterministic: true } }, { name: "response-cache", stage: "after_request", enabled: true, config: { max_age: 60, max_entries: 10, cache_nondeterministic: true } }] },
      { OPENAI_API_KEY: "sk-secret-metrics-0000000000", OPENAI_BASE_URL: `${base}/v1` },
    );
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("counts requests by provider, model and status, and tokens", async () => {
    for (let i = 0; i < 2; i++) await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "count me" }] });
    await new Promise((r) => setTimeout(r, 20));
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    // The second, identical request is answered by the response cache.
    expect(text).toMatch(/ferrogw_requests_total\{provider="openai",model="gpt-4o-mini",status="200",stream="false"\} 1/);
    expect(text).toMatch(/ferrogw_requests_total\{provider="cache",model="gpt-4o-mini",status="200",stream="false"\} 1/);
    expect(text).toMatch(/ferrogw_tokens_total\{provider="openai",model="gpt-4o-mini",direction="input"\} \d+/);
    expect(text).toContain("ferrogw_gateway_overhead_seconds_bucket");
    expect(text).toContain("ferrogw_upstream_pool_connections");
    expect(text).toMatch(/cache/);
    expect(text).not.toContain("sk-secret-metrics");
  });

  it("reports the request log queue: rows written off the request path, none pending or dropped", async () => {
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "log me" }] });
    // Rows are written in batches, at least once a second.
    let text = "";
    for (let i = 0; i < 40; i++) {
      text = await (await fetch(`${gw.url}/metrics`)).text();
      if (/^ferrogw_request_log_written_rows_total [1-9]/m.test(text)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toMatch(/^ferrogw_request_log_written_rows_total [1-9]\d*$/m);
    expect(text).toMatch(/^ferrogw_request_log_pending_rows 0$/m);
    expect(text).toMatch(/^ferrogw_request_log_dropped_rows_total 0$/m);
    expect(text).toMatch(/^ferrogw_request_log_failed_batches_total 0$/m);
  });
});
