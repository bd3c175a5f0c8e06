// The Cohere v2 codec against recorded Cohere responses (../shared/fixtures/cohere: chat bodies,
// streamed events, embeddings), and the outbound request against Cohere's API reference
// (docs.cohere.com/reference/chat, /reference/embed; the cohere-typescript V2ChatRequest type).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk, ChatRequest } from "../../src/api/types.js";
import type { CodecContext } from "../../src/providers/types.js";
import { GatewayError } from "../../src/server/errors.js";
import { cohereCodec, parseCohereError } from "../../src/wire/cohere/index.js";
import { toCohereRequest } from "../../src/wire/cohere/request.js";
import { cohereFinishReason, cohereUsage } from "../../src/wire/cohere/response.js";
import { CohereStreamError } from "../../src/wire/cohere/stream.js";
import { createDecoder } from "../../src/wire/decode.js";
import { cohereFormat } from "../mock-upstream/cohere.js";
import { parseBody } from "../helpers/upstream-body.js";

const FIXTURES = new URL("../../../shared/fixtures/cohere/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), "utf8");
const json = (name: string): unknown => JSON.parse(fixture(name));
const lines = (name: string): string[] => fixture(name).split("\n").filter((l) => l.trim().length > 0);
const ctx: CodecContext = { model: "command-a-03-2025", requestId: "req-1" };

/** Feeds fixture events (one JSON payload per line) through the stream translator. */
function translate(name: string): { chunks: ChatCompletionChunk[]; usage: ReturnType<ReturnType<typeof cohereCodec.chatStream>["usage"]> } {
  const t = cohereCodec.chatStream(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const line of lines(name)) {
    const type = (JSON.parse(line) as { type: string }).type;
    chunks.push(...t.push({ event: type, data: line }));
  }
  chunks.push(...t.end());
  return { chunks, usage: t.usage() };
}

function collect(chunks: ChatCompletionChunk[]): { text: string; reasoning: string; calls: Map<number, { id?: string; name: string; args: string }>; finish: string | null } {
  let text = "";
  let reasoning = "";
  let finish: string | null = null;
  const calls = new Map<number, { id?: string; name: string; args: string }>();
  for (const c of chunks) {
    const choice = c.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? "";
    reasoning += choice.delta.reasoning_content ?? "";
    for (const d of choice.delta.tool_calls ?? []) {
      const call = calls.get(d.index) ?? { name: "", args: "" };
      if (d.id) call.id = d.id;
      call.name += d.function?.name ?? "";
      call.args += d.function?.arguments ?? "";
      calls.set(d.index, call);
    }
    finish = choice.finish_reason ?? finish;
  }
  return { text, reasoning, calls, finish };
}

describe("Cohere chat responses (fixtures)", () => {
  it("text: content, COMPLETE → stop, billed usage", () => {
    const res = cohereCodec.chatResponse(json("cohere-text.json"), ctx);
    expect(res.object).toBe("chat.completion");
    expect(res.id).toBe("e7592632-1e3d-424f-b129-bd5f9f980f7b");
    expect(res.model).toBe("command-a-03-2025");
    expect(res.choices[0]?.message).toEqual({ role: "assistant", content: "The capital of France is Paris.", refusal: null });
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage).toEqual({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
  });

  it("MAX_TOKENS → length", () => {
    const res = cohereCodec.chatResponse(json("cohere-max-tokens.json"), ctx);
    expect(res.choices[0]?.message.content).toBe("**The History of");
    expect(res.choices[0]?.finish_reason).toBe("length");
    expect(res.usage?.completion_tokens).toBe(4);
  });

  it("tool calls: ids, names, arguments; tool_plan as reasoning; content null", () => {
    const res = cohereCodec.chatResponse(json("cohere-tool-call.json"), ctx);
    const msg = res.choices[0]?.message;
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(msg?.content).toBeNull();
    expect(msg?.tool_calls).toEqual([
      { id: "weather_dqgshstja6p9", type: "function", function: { name: "weather", arguments: '{"location":"San Francisco"}' } },
      { id: "cityAttractions_dcxfx4myvx68", type: "function", function: { name: "cityAttractions", arguments: '{"city":"San Francisco"}' } },
    ]);
    expect(msg?.reasoning_content).toContain("I will use the weather tool");
    expect(res.usage).toEqual({ prompt_tokens: 119, completion_tokens: 52, total_tokens: 171 });
  });

  it('a call with "null" arguments gets "{}"', () => {
    const res = cohereCodec.chatResponse(json("cohere-null-args.json"), ctx);
    expect(res.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: "currentTime", arguments: "{}" });
  });

  it("thinking content → reasoning_content, text → content", () => {
    const res = cohereCodec.chatResponse(json("cohere-reasoning.json"), ctx);
    expect(res.choices[0]?.message.content).toBe("2 + 2 = 4");
    expect(res.choices[0]?.message.reasoning_content).toMatch(/^Okay, so I need to figure out/);
    expect(res.usage?.completion_tokens).toBe(578);
  });

  it("citations do not disturb the text", () => {
    const res = cohereCodec.chatResponse(json("cohere-citations.json"), ctx);
    expect(res.choices[0]?.message.content).toMatch(/^The key benefits mentioned in this document are:/);
    expect(res.usage).toEqual({ prompt_tokens: 39, completion_tokens: 27, total_tokens: 66 });
  });

  it("rejects a body that is not a chat response", () => {
    expect(() => cohereCodec.chatResponse({ message: undefined }, ctx)).toThrow();
  });
});

describe("Cohere streams (fixtures)", () => {
  it("text stream: role first, deltas in order, finish and usage at message-end", () => {
    const { chunks, usage } = translate("cohere-text.chunks.txt");
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks[0]?.id).toBe("321d178c-2c12-44d3-ae42-2f5510f6b1cc");
    const out = collect(chunks);
    expect(out.text).toBe("The capital of France is Paris.");
    expect(out.finish).toBe("stop");
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).length).toBe(1);
    expect(usage).toEqual({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
    for (const c of chunks) expect(c.object).toBe("chat.completion.chunk");
  });

  it("reasoning stream: thinking deltas → reasoning_content", () => {
    const out = collect(translate("cohere-reasoning.chunks.txt").chunks);
    expect(out.reasoning).toMatch(/^The user is asking for the sum of 2 and 2\./);
    expect(out.text).toBe("The answer to 2 + 2 is 4.");
    expect(out.finish).toBe("stop");
  });

  it("tool-call stream: two calls with ids, names and whole arguments", () => {
    const { chunks, usage } = translate("cohere-tool-call.chunks.txt");
    const out = collect(chunks);
    expect(out.finish).toBe("tool_calls");
    expect(out.calls.get(0)).toEqual({ id: "weather_e8p4pn45zt0t", name: "weather", args: '{"location": "San Francisco"}' });
    expect(out.calls.get(1)).toEqual({ id: "cityAttractions_pyxssbwnq9fq", name: "cityAttractions", args: '{"city": "San Francisco"}' });
    expect(out.reasoning).toContain("I will use the weather tool");
    expect(usage?.prompt_tokens).toBe(119);
  });

  it('a streamed call without arguments ends with "{}"', () => {
    const out = collect(translate("cohere-empty-tool-call.chunks.txt").chunks);
    expect(out.calls.get(0)).toEqual({ id: "currentTime_y46ar19t5gvw", name: "currentTime", args: "{}" });
    expect(out.finish).toBe("tool_calls");
  });

  it("decodes the SSE framing Cohere sends (event: <type>, data: <json>)", () => {
    const frames = lines("cohere-text.chunks.txt").map((l) => `event: ${(JSON.parse(l) as { type: string }).type}\ndata: ${l}\n\n`);
    const decoder = createDecoder(cohereCodec.streamFraming);
    const t = cohereCodec.chatStream(ctx);
    const chunks: ChatCompletionChunk[] = [];
    const bytes = new TextEncoder().encode(frames.join(""));
    // Split at arbitrary points, as a network would.
    for (let i = 0; i < bytes.length; i += 37) for (const ev of decoder.feed(bytes.subarray(i, i + 37))) chunks.push(...t.push(ev));
    for (const ev of decoder.end()) chunks.push(...t.push(ev));
    chunks.push(...t.end());
    expect(collect(chunks).text).toBe("The capital of France is Paris.");
  });

  it("an error at message-end fails the stream", () => {
    const t = cohereCodec.chatStream(ctx);
    t.push({ event: "message-start", data: '{"type":"message-start","id":"x","delta":{"message":{"role":"assistant"}}}' });
    expect(() => t.push({ event: "message-end", data: '{"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal failure"}}' })).toThrow(CohereStreamError);
  });

  it("fails a stream that ended without message-end instead of inventing a finish", () => {
    const t = cohereCodec.chatStream(ctx);
    t.push({ event: "message-start", data: '{"type":"message-start","id":"x"}' });
    t.push({ event: "content-delta", data: '{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hi"}}}}' });
    expect(() => t.end()).toThrow(expect.objectContaining({ status: 502, code: "incomplete_stream", retryable: true }));
    expect(() => cohereCodec.chatStream(ctx).end()).toThrow(/ended the stream before the answer was complete/);
  });
});

describe("Cohere request (API reference shape)", () => {
  const base: ChatRequest = { model: "x", messages: [{ role: "user", content: "hi" }] };

  it("maps messages of every role, tool calls and tool results", () => {
    const body = toCohereRequest(
      {
        model: "x",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "developer", content: [{ type: "text", text: "Really." }] },
          { role: "user", content: [{ type: "text", text: "Weather?" }, { type: "image_url", image_url: { url: "https://x/img.png", detail: "low" } }] },
          { role: "assistant", content: "Checking.", tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
          { role: "tool", tool_call_id: "call_1", content: '{"temp":20}' },
          { role: "assistant", content: "20 degrees." },
        ],
      },
      "command-a-03-2025",
      false,
    );
    expect(body.model).toBe("command-a-03-2025");
    expect(body.stream).toBeUndefined();
    expect(body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "system", content: "Really." },
      { role: "user", content: [{ type: "text", text: "Weather?" }, { type: "image_url", image_url: { url: "https://x/img.png", detail: "low" } }] },
      { role: "assistant", tool_plan: "Checking.", tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":20}' },
      { role: "assistant", content: "20 degrees." },
    ]);
  });

  it("maps sampling parameters to Cohere's names", () => {
    const body = toCohereRequest(
      { ...base, max_completion_tokens: 50, stop: ["END"], temperature: 0.2, top_p: 0.9, seed: 7, frequency_penalty: 0.1, presence_penalty: 0.2, logprobs: true, user: "u1" },
      "m",
      true,
    );
    expect(body).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      max_tokens: 50,
      stop_sequences: ["END"],
      temperature: 0.2,
      p: 0.9,
      seed: 7,
      frequency_penalty: 0.1,
      presence_penalty: 0.2,
      logprobs: true,
    });
  });

  it("maps tools and tool_choice (a named tool becomes the only tool, REQUIRED)", () => {
    const tools: ChatRequest["tools"] = [
      { type: "function", function: { name: "a", description: "A", parameters: { type: "object", properties: {} } } },
      { type: "function", function: { name: "b", parameters: { type: "object", properties: {} }, strict: true } },
    ];
    const auto = toCohereRequest({ ...base, tools }, "m", false);
    expect(auto.tools).toEqual([
      { type: "function", function: { name: "a", description: "A", parameters: { type: "object", properties: {} } } },
      { type: "function", function: { name: "b", parameters: { type: "object", properties: {} } } },
    ]);
    expect(auto.strict_tools).toBe(true);
    expect(auto.tool_choice).toBeUndefined();
    expect(toCohereRequest({ ...base, tools, tool_choice: "required" }, "m", false).tool_choice).toBe("REQUIRED");
    expect(toCohereRequest({ ...base, tools, tool_choice: "none" }, "m", false).tool_choice).toBe("NONE");
    const named = toCohereRequest({ ...base, tools, tool_choice: { type: "function", function: { name: "b" } } }, "m", false);
    expect(named.tools?.map((t) => t.function.name)).toEqual(["b"]);
    expect(named.tool_choice).toBe("REQUIRED");
  });

  it("maps response_format to json_object (with json_schema)", () => {
    expect(toCohereRequest({ ...base, response_format: { type: "json_object" } }, "m", false).response_format).toEqual({ type: "json_object" });
    const schema = { type: "object", properties: { a: { type: "string" } } };
    expect(toCohereRequest({ ...base, response_format: { type: "json_schema", json_schema: { name: "s", schema } } }, "m", false).response_format).toEqual({
      type: "json_object",
      json_schema: schema,
    });
  });

  it("forwards Cohere-native fields and refuses n > 1", () => {
    const body = toCohereRequest({ ...base, documents: [{ data: { text: "doc" } }], thinking: { type: "enabled", token_budget: 100 } }, "m", false);
    expect(body.documents).toEqual([{ data: { text: "doc" } }]);
    expect(body.thinking).toEqual({ type: "enabled", token_budget: 100 });
    expect(() => toCohereRequest({ ...base, n: 2 }, "m", false)).toThrow(GatewayError);
  });

  it("posts to /v2/chat as JSON", () => {
    const req = cohereCodec.chatRequest(base, ctx, true);
    expect(req).toMatchObject({ path: "/v2/chat", method: "POST", headers: { "content-type": "application/json" } });
    expect(parseBody(req.body)).toMatchObject({ model: "command-a-03-2025", stream: true });
  });
});

describe("Cohere embeddings", () => {
  it("request: /v2/embed with texts, input_type and float embeddings", () => {
    const req = cohereCodec.embeddingsRequest?.({ model: "embed-v4.0", input: ["a", "b"], dimensions: 512 }, { model: "embed-v4.0", requestId: "r" });
    expect(req?.path).toBe("/v2/embed");
    expect(parseBody(req?.body ?? "{}")).toEqual({ model: "embed-v4.0", texts: ["a", "b"], input_type: "search_document", embedding_types: ["float"], output_dimension: 512 });
    const query = cohereCodec.embeddingsRequest?.({ model: "m", input: "q", input_type: "search_query" }, { model: "m", requestId: "r" });
    expect(parseBody(query?.body ?? "{}")).toMatchObject({ texts: ["q"], input_type: "search_query" });
    expect(() => cohereCodec.embeddingsRequest?.({ model: "m", input: [1, 2, 3] }, { model: "m", requestId: "r" })).toThrow(GatewayError);
  });

  it("response (fixture): vectors in order, billed tokens as usage", () => {
    const res = cohereCodec.embeddingsResponse?.(json("cohere-embedding.json"), { model: "embed-v4.0", requestId: "r" });
    expect(res?.data.map((d) => d.index)).toEqual([0, 1]);
    expect(res?.data[0]?.embedding).toEqual([0.03302002, 0.020904541, -0.019744873, -0.0625, 0.04437256]);
    expect(res?.usage).toEqual({ prompt_tokens: 10, total_tokens: 10 });
    expect(res?.model).toBe("embed-v4.0");
  });
});

describe("Cohere errors, finish reasons and usage", () => {
  it("reads {message} bodies and never echoes non-JSON", () => {
    expect(parseCohereError(400, '{"id":"x","message":"invalid request: temperature must be between 0 and 1.0 inclusive."}').message).toBe(
      "invalid request: temperature must be between 0 and 1.0 inclusive.",
    );
    expect(parseCohereError(429, '{"message":"You are using a Trial key"}').code).toBe("rate_limit_exceeded");
    expect(parseCohereError(502, "<html>bad gateway</html>").message).toBe("upstream returned HTTP 502");
  });

  it("maps every documented finish reason", () => {
    expect(cohereFinishReason("COMPLETE", false)).toBe("stop");
    expect(cohereFinishReason("STOP_SEQUENCE", false)).toBe("stop");
    expect(cohereFinishReason("MAX_TOKENS", false)).toBe("length");
    expect(cohereFinishReason("TOOL_CALL", true)).toBe("tool_calls");
    expect(cohereFinishReason("ERROR", false)).toBe("stop");
    expect(cohereFinishReason("CONTENT_BLOCKED", false)).toBe("content_filter");
  });

  it("falls back to raw token counts (with cached tokens) when billed units are missing", () => {
    expect(cohereUsage({ tokens: { input_tokens: 500, output_tokens: 10 }, cached_tokens: 448 })).toEqual({
      prompt_tokens: 500,
      completion_tokens: 10,
      total_tokens: 510,
      prompt_tokens_details: { cached_tokens: 448 },
    });
    expect(cohereUsage(undefined)).toBeUndefined();
  });
});

describe("the Cohere mock format agrees with the fixtures' shape", () => {
  const reply = { model: "m", text: "Hello there", usage: { input: 5, output: 3 }, stop: "end" as const };

  it("non-streaming body translates like a recorded one", () => {
    const res = cohereCodec.chatResponse(JSON.parse(cohereFormat.chatBody(reply)), ctx);
    expect(res.choices[0]?.message.content).toBe("Hello there");
    expect(res.usage?.prompt_tokens).toBe(5);
    const fixtureKeys = Object.keys(json("cohere-text.json") as object).sort();
    expect(Object.keys(JSON.parse(cohereFormat.chatBody(reply)) as object).sort()).toEqual(fixtureKeys);
  });

  it("stream frames carry the fixture's event types", () => {
    const types = cohereFormat.chatStream(reply, 3).map((f) => /^event: (\S+)/.exec(f)?.[1]);
    const fixtureTypes = [...new Set(lines("cohere-text.chunks.txt").map((l) => (JSON.parse(l) as { type: string }).type))];
    expect([...new Set(types)]).toEqual(fixtureTypes);
  });
});
