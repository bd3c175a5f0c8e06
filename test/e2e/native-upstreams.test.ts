// Anthropic- and Gemini-wire upstreams behind the gateway, seen through the openai SDK: the
// client cannot tell it is not talking to OpenAI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { drain, streamFailure } from "../helpers/sdk.js";
import { until } from "../helpers/until.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const tool: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "lookup", description: "Look something up", parameters: { type: "object", properties: { input: { type: "string" } }, required: ["input"] } },
};


for (const wire of [
  { name: "Anthropic", env: "ANTHROPIC", model: "claude-3-5-sonnet-20241022", path: "/v1/messages", base: (b: string) => b },
  { name: "Gemini", env: "GEMINI", model: "gemini-2.0-flash", path: "/v1beta/models/gemini-2.0-flash:", base: (b: string) => b },
]) {
  describe(`${wire.name}-wire upstream`, () => {
    let mock: MockUpstream;
    let gw: TestGateway;

    beforeAll(async () => {
      mock = new MockUpstream({ chunks: 3 });
      const base = await mock.start();
      gw = await startGateway({}, { [`${wire.env}_API_KEY`]: "test-upstream-key-0000000000", [`${wire.env}_BASE_URL`]: wire.base(base) });
    });
    afterAll(async () => {
      await gw.close();
      await mock.close();
    });

    it("answers a chat completion in OpenAI's shape", async () => {
      const res = await gw.client.chat.completions.create({
        model: wire.model,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hello native" },
        ],
        max_tokens: 100,
      });
      expect(res.object).toBe("chat.completion");
      expect(res.choices[0]?.message.role).toBe("assistant");
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello native");
      expect(res.choices[0]?.finish_reason).toBe("stop");
      expect(res.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
      expect(mock.requests.at(-1)?.path).toContain(wire.path);
    });

    it("streams, with usage when asked", async () => {
      const stream = await gw.client.chat.completions.create({
        model: wire.model,
        messages: [{ role: "user", content: "stream native" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const out = await drain(stream);
      expect(out.role).toBe("assistant");
      expect(out.text).toBe("Mock reply to: stream native");
      expect(out.finish).toBe("stop");
      expect(out.usage?.completion_tokens).toBeGreaterThan(0);
    });

    it("returns tool calls, non-streaming and streaming, and accepts the tool result back", async () => {
      const res = await gw.client.chat.completions.create({ model: wire.model, messages: [{ role: "user", content: "find cats" }], tools: [tool] });
      const call = res.choices[0]?.message.tool_calls?.[0];
      expect(res.choices[0]?.finish_reason).toBe("tool_calls");
      if (call?.type !== "function") throw new Error("expected a function tool call");
      expect(call.function.name).toBe("lookup");
      expect(JSON.parse(call.function.arguments)).toEqual({ input: "find cats" });

      const streamed = await drain(
        await gw.client.chat.completions.create({ model: wire.model, messages: [{ role: "user", content: "find dogs" }], tools: [tool], stream: true }),
      );
      expect(streamed.toolName).toBe("lookup");
      expect(JSON.parse(streamed.toolArgs)).toEqual({ input: "find dogs" });
      expect(streamed.finish).toBe("tool_calls");

      const followUp = await gw.client.chat.completions.create({
        model: wire.model,
        tools: [tool],
        messages: [
          { role: "user", content: "find cats" },
          { role: "assistant", content: null, tool_calls: [call] },
          { role: "tool", tool_call_id: call.id, content: '{"found": 3}' },
        ],
      });
      expect(followUp.choices[0]?.finish_reason).toBe("stop");
      expect(followUp.choices[0]?.message.content).toContain("Mock reply to");
    });

    it("a stream the upstream cut short reaches the SDK as an error, not as a finished answer", async () => {
      // Both wires put the finish in a frame after the second.
      mock.enqueue({ endAfterFrames: 2 });
      const err = await streamFailure(gw.client.chat.completions.create({ model: wire.model, messages: [{ role: "user", content: "cut this short" }], stream: true }));
      expect(err.message).toMatch(/ended (the stream )?before the (answer|message) was complete/);
      // The tokens the upstream reported before it stopped are kept for budgets and the log.
      await until("the request's record", () => gw.finished.some((c) => c.model === wire.model && c.status === 502));
      const record = gw.finished.find((c) => c.model === wire.model && c.status === 502);
      expect(record?.usage?.prompt_tokens).toBeGreaterThan(0);
    });

    it("translates the provider's errors to OpenAI's shape", async () => {
      mock.enqueue({ status: 400, message: "messages: bad turn order" });
      const err = (await gw.client.chat.completions.create({ model: wire.model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as {
        status: number;
        message: string;
      };
      expect(err.status).toBe(400);
      expect(err.message).toContain("bad turn order");
      mock.enqueue({ status: 429, message: "slow down" });
      const limited = (await gw.client.chat.completions.create({ model: wire.model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as {
        status: number;
      };
      expect(limited.status).toBe(429);
    });
  });
}

describe("Gemini embeddings", () => {
  it("answers in OpenAI's embeddings shape, float and base64", async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const gw = await startGateway({}, { GEMINI_API_KEY: "test-upstream-key-0000000000", GEMINI_BASE_URL: base });
    try {
      const floats = await gw.client.embeddings.create({ model: "gemini-embedding-001", input: ["alpha", "beta"], encoding_format: "float" });
      expect(floats.data).toHaveLength(2);
      expect(floats.data[0]?.embedding).toHaveLength(8);
      // The SDK asks for base64 by default and decodes it: the vectors must match.
      const decoded = await gw.client.embeddings.create({ model: "gemini-embedding-001", input: ["alpha", "beta"] });
      expect(decoded.data[1]?.embedding[0]).toBeCloseTo(floats.data[1]?.embedding[0] ?? NaN, 5);
      expect(mock.requests.at(-1)?.path).toContain(":batchEmbedContents");
    } finally {
      await gw.close();
      await mock.close();
    }
  });
});
