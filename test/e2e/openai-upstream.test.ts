// The gateway in front of an OpenAI-wire upstream, driven by the official openai SDK.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { input: { type: "string" } } } },
};

describe("OpenAI-wire upstream", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 3 });
    const base = await mock.start();
    gw = await startGateway({}, { OPENAI_API_KEY: "sk-test-upstream-key-123456", OPENAI_BASE_URL: `${base}/v1` });
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("answers a chat completion and forwards the request unchanged", async () => {
    const raw = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello there" }], temperature: 0.2, seed: 7, user: "u1" })
      .withResponse();
    const res = raw.data;
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]?.message.content).toBe("Mock reply to: hello there");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
    expect(raw.response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(raw.response.headers.get("x-gateway-overhead-ms"))).toBeGreaterThanOrEqual(0);
    expect(raw.response.headers.get("x-ferro-provider")).toBe("openai");
    const sent = mock.requests.at(-1);
    expect(sent?.path).toBe("/v1/chat/completions");
    expect(sent?.headers.authorization).toBe("Bearer sk-test-upstream-key-123456");
    expect(sent?.body).toMatchObject({ model: "gpt-4o-mini", temperature: 0.2, seed: 7, user: "u1" });
  });

  it("passes unknown and vendor-specific fields through", async () => {
    await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      // @ts-expect-error a field the SDK does not know must still reach the upstream
      vendor_extension: { level: 3 },
    });
    expect(mock.requests.at(-1)?.body?.vendor_extension).toEqual({ level: 3 });
  });

  it("streams a chat completion chunk by chunk, with usage when asked", async () => {
    const stream = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "stream me" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Mock reply to: stream me");
    expect(finish).toBe("stop");
    expect(chunks).toBeGreaterThanOrEqual(4);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("returns tool calls, non-streaming and streaming", async () => {
    const res = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "weather in Paris" }],
      tools: [weatherTool],
      tool_choice: "auto",
      parallel_tool_calls: false,
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ input: "weather in Paris" });

    const stream = await gw.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "weather in Rome" }],
      tools: [weatherTool],
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta.tool_calls?.[0];
      name += d?.function?.name ?? "";
      args += d?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ input: "weather in Rome" });
    expect(finish).toBe("tool_calls");
  });

  it("answers embeddings and lists models", async () => {
    const emb = await gw.client.embeddings.create({ model: "text-embedding-3-small", input: ["a", "b"] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]?.embedding.length).toBe(8);
    expect(mock.requests.at(-1)?.path).toBe("/v1/embeddings");

    const models = await gw.client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain("gpt-4o-mini");
    expect(models.data.find((m) => m.id === "gpt-4o-mini")?.owned_by).toBe("openai");
  });

  it("answers legacy completions", async () => {
    const res = await gw.client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say hi" });
    expect(res.choices[0]?.text).toContain("Say hi");
  });

  it("addresses a provider explicitly with provider/model", async () => {
    await gw.client.chat.completions.create({ model: "openai/some-new-model", messages: [{ role: "user", content: "x" }] });
    expect(mock.requests.at(-1)?.body?.model).toBe("some-new-model");
  });
});

describe("OpenAI-wire stream cut mid-event", () => {
  it("ends with a well-formed error event, never half an event", async () => {
    const { createServer } = await import("node:http");
    // An upstream that sends one whole event, then half of the next, then resets.
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\n');
      res.write('data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"del');
      setTimeout(() => res.socket?.destroy(), 30);
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const port = (upstream.address() as { port: number }).port;
    const gw = await startGateway({}, { OPENAI_API_KEY: "sk-x-000000000000", OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` });
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }], stream: true }),
      });
      const text = await res.text();
      const events = text.split("\n\n").filter(Boolean);
      expect(events[0]).toContain('"content":"Hel"');
      // Every event is a complete JSON document or [DONE]; the last JSON one is the error.
      const payloads = events.map((e) => e.replace(/^data: /, ""));
      expect(payloads.at(-1)).toBe("[DONE]");
      for (const p of payloads.slice(0, -1)) expect(() => JSON.parse(p) as unknown).not.toThrow();
      expect((JSON.parse(payloads.at(-2) ?? "{}") as { error?: { type: string } }).error?.type).toBe("upstream_error");
    } finally {
      await gw.close();
      upstream.close();
    }
  });
});
