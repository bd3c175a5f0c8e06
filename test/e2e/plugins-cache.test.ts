// response-cache through HTTP: miss then hit (no second upstream call), streams served from the
// cache as well-formed SSE, stream answers populating the cache, bypass headers, no caching of
// errors or of non-deterministic requests, TTL, and the hit/miss metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { pluginRegistry } from "../../src/plugins/metrics.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const UPSTREAM_KEY = "sk-test-upstream-key-123456";

function cachePlugins(config: Record<string, unknown>): unknown[] {
  return [
    { name: "response-cache", type: "transform", stage: "before_request", enabled: true, config },
    { name: "response-cache", type: "transform", stage: "after_request", enabled: true, config },
  ];
}

async function start(mock: MockUpstream, plugins: unknown[]): Promise<TestGateway> {
  const base = await mock.start();
  return startGateway({ plugins }, { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "silent" });
}

async function rawStream(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; cache: string | null; text: string }> {
  const r = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: r.status, cache: r.headers.get("x-ferro-cache"), text: await r.text() };
}

describe("response-cache (memory)", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 4 });
    gw = await start(mock, cachePlugins({ max_age: 60, max_entries: 100 }));
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  const ask = (content: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}, headers?: Record<string, string>) =>
    gw.client.chat.completions.create({ model: "gpt-4o-mini", temperature: 0, messages: [{ role: "user", content }], ...extra }, { headers }).withResponse();

  it("misses, then serves the same answer from the cache without calling the provider", async () => {
    const first = await ask("cache me");
    expect(first.response.headers.get("x-ferro-cache")).toBe("miss");
    const calls = mock.requests.length;
    const second = await ask("cache me");
    expect(second.response.headers.get("x-ferro-cache")).toBe("hit");
    expect(mock.requests.length).toBe(calls);
    expect(second.data).toEqual(first.data);
    expect(second.response.headers.get("x-ferro-provider")).toBeNull();
  });

  it("keys on the normalised request: parameters matter, key order and user do not", async () => {
    await ask("params", { max_tokens: 50 });
    expect((await ask("params", { max_tokens: 51 })).response.headers.get("x-ferro-cache")).toBe("miss");
    const reordered = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"max_tokens":50,"messages":[{"content":"params","role":"user"}],"temperature":0,"user":"someone","model":"gpt-4o-mini"}`,
    });
    expect(reordered.headers.get("x-ferro-cache")).toBe("hit");
  });

  it("serves a streaming request from the cache as a well-formed stream ending in [DONE]", async () => {
    const first = await ask("stream from cache");
    const calls = mock.requests.length;
    const raw = await rawStream(gw.url, { model: "gpt-4o-mini", temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "stream from cache" }] });
    expect(raw.status).toBe(200);
    expect(raw.cache).toBe("hit");
    expect(raw.text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(mock.requests.length).toBe(calls);

    const stream = await gw.client.chat.completions.create({ model: "gpt-4o-mini", temperature: 0, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "stream from cache" }] });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(first.data.choices[0]?.message.content);
    expect(finish).toBe("stop");
    expect(usage).toEqual(first.data.usage);
  });

  it("a streamed answer fills the cache for later requests, streaming or not", async () => {
    const body = { model: "gpt-4o-mini", temperature: 0, stream: true, messages: [{ role: "user", content: "streamed first" }] };
    const miss = await rawStream(gw.url, body);
    expect(miss.cache).toBe("miss");
    const calls = mock.requests.length;
    const hit = await ask("streamed first");
    expect(hit.response.headers.get("x-ferro-cache")).toBe("hit");
    expect(hit.data.choices[0]?.message.content).toBe("Mock reply to: streamed first");
    const again = await rawStream(gw.url, body);
    expect(again.cache).toBe("hit");
    expect(mock.requests.length).toBe(calls);
  });

  it("does not cache a stream that ended before its finish_reason", async () => {
    const body = { model: "gpt-4o-mini", temperature: 0, stream: true, messages: [{ role: "user", content: "cut short" }] };
    mock.enqueue({ endAfterFrames: 2 });
    expect((await rawStream(gw.url, body)).cache).toBe("miss");
    const calls = mock.requests.length;
    const next = await ask("cut short");
    expect(next.response.headers.get("x-ferro-cache")).toBe("miss");
    expect(next.data.choices[0]?.message.content).toBe("Mock reply to: cut short");
    expect(mock.requests.length).toBe(calls + 1);
  });

  it("tool calls survive the round trip through the cache", async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }];
    const first = await ask("use the tool", { tools });
    const second = await ask("use the tool", { tools });
    expect(second.response.headers.get("x-ferro-cache")).toBe("hit");
    expect(second.data.choices[0]?.message.tool_calls).toEqual(first.data.choices[0]?.message.tool_calls);
  });

  it("Cache-Control: no-cache and X-Ferro-Cache-Bypass skip the cache", async () => {
    await ask("bypass me");
    const calls = mock.requests.length;
    const a = await ask("bypass me", {}, { "cache-control": "no-cache" });
    expect(a.response.headers.get("x-ferro-cache")).toBe("bypass");
    const b = await ask("bypass me", {}, { "x-ferro-cache-bypass": "true" });
    expect(b.response.headers.get("x-ferro-cache")).toBe("bypass");
    expect(mock.requests.length).toBe(calls + 2);
    expect((await ask("bypass me")).response.headers.get("x-ferro-cache")).toBe("hit");
  });

  it("caches every exact match, sampled requests included, as the reference does", async () => {
    const req = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "sampled by default" }] };
    expect((await gw.client.chat.completions.create(req).withResponse()).response.headers.get("x-ferro-cache")).toBe("miss");
    const calls = mock.requests.length;
    expect((await gw.client.chat.completions.create(req).withResponse()).response.headers.get("x-ferro-cache")).toBe("hit");
    expect(mock.requests.length).toBe(calls);
  });

  it("with cache_nondeterministic: false, does not cache sampled requests (no temperature 0, no seed)", async () => {
    const upstream = new MockUpstream({ chunks: 4 });
    const own = await start(upstream, cachePlugins({ max_age: 60, max_entries: 100, cache_nondeterministic: false }));
    try {
      const req = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "sampled" }] };
      const a = await own.client.chat.completions.create(req).withResponse();
      expect(a.response.headers.get("x-ferro-cache")).toBe("bypass");
      const calls = upstream.requests.length;
      await own.client.chat.completions.create(req);
      expect(upstream.requests.length).toBe(calls + 1);
      const seeded = { ...req, seed: 7 };
      await own.client.chat.completions.create(seeded);
      expect((await own.client.chat.completions.create(seeded).withResponse()).response.headers.get("x-ferro-cache")).toBe("hit");
    } finally {
      await own.close();
      await upstream.close();
    }
  });

  it("never caches an error", async () => {
    mock.enqueue({ status: 500, message: "boom" });
    await expect(ask("flaky")).rejects.toMatchObject({ status: 502 });
    const ok = await ask("flaky");
    expect(ok.response.headers.get("x-ferro-cache")).toBe("miss");
    expect(ok.data.choices[0]?.message.content).toBe("Mock reply to: flaky");
    expect((await ask("flaky")).response.headers.get("x-ferro-cache")).toBe("hit");
  });

  it("counts hits and misses in the plugin metrics and admin stats", async () => {
    const text = await pluginRegistry.metrics();
    expect(text).toMatch(/ferrogw_cache_lookups_total\{result="hit"\} [1-9]/);
    expect(text).toMatch(/ferrogw_cache_lookups_total\{result="miss"\} [1-9]/);
    const stats = (await gw.server.currentRuntime.plugins.stats())["response-cache"] as { hits: number; misses: number; entries: number };
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats.entries).toBeGreaterThan(0);
  });
});

describe("response-cache TTL and size", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 2 });
    gw = await start(mock, cachePlugins({ max_age: 2, max_entries: 2 }));
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  const ask = (content: string) => gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }).withResponse();
  const status = async (content: string) => (await ask(content)).response.headers.get("x-ferro-cache");

  it("expires entries after max_age and keeps at most max_entries (LRU)", async () => {
    expect(await status("a")).toBe("miss");
    expect(await status("a")).toBe("hit");
    await new Promise((r) => setTimeout(r, 2100));
    expect(await status("a")).toBe("miss");
    expect(await status("b")).toBe("miss");
    expect(await status("a")).toBe("hit"); // a is now the most recently used
    expect(await status("c")).toBe("miss"); // evicts b
    expect(await status("b")).toBe("miss");
    expect(await status("a")).toBe("miss"); // storing b again evicted a (order was a, c)
  });
});
