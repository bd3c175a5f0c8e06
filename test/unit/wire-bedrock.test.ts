// The Bedrock Converse codec against recorded Bedrock responses (shared/fixtures/amazon-bedrock):
// Converse bodies and ConverseStream events, the latter re-framed as binary AWS event-stream
// messages and decoded through the gateway's own decoder, fed in awkward byte slices.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk, ChatRequest } from "../../src/api/types.js";
import type { StreamEvent } from "../../src/providers/types.js";
import { GatewayError } from "../../src/server/errors.js";
import { createDecoder } from "../../src/wire/decode.js";
import { bedrockConverseCodec, encodeEvent } from "../../src/wire/bedrock-converse/index.js";
import { AwsEventStreamDecoder } from "../../src/wire/bedrock-converse/eventstream.js";
import { bedrockFormat } from "../mock-upstream/bedrock.js";
import { parseBody } from "../helpers/upstream-body.js";

const FIXTURES = join(import.meta.dirname, "../../../shared/fixtures/amazon-bedrock");
const ctx = { model: "anthropic.claude-3-5-sonnet-20241022-v2:0", requestId: "req-123" };

type Json = Record<string, unknown>;
const readJson = (name: string): Json => JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as Json;
const readEvents = (name: string): Json[] =>
  readFileSync(join(FIXTURES, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Json);

/** One fixture line {"contentBlockDelta": {...}} as the binary message Bedrock sends for it. */
function frame(line: Json): Uint8Array {
  const [name, payload] = Object.entries(line)[0] as [string, unknown];
  return encodeEvent(name, JSON.stringify(payload));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds bytes to a fresh decoder in slices of the given size. */
function decodeAll(bytes: Uint8Array, slice: number): StreamEvent[] {
  const d = createDecoder("aws-eventstream");
  const out: StreamEvent[] = [];
  for (let i = 0; i < bytes.length; i += slice) out.push(...d.feed(bytes.subarray(i, i + slice)));
  out.push(...d.end());
  return out;
}

interface Collected {
  text: string;
  reasoning: string;
  tools: Array<{ id: string; name: string; args: string }>;
  finish: string | null;
  roles: number;
}

function collect(chunks: ChatCompletionChunk[]): Collected {
  const out: Collected = { text: "", reasoning: "", tools: [], finish: null, roles: 0 };
  for (const c of chunks) {
    expect(c.object).toBe("chat.completion.chunk");
    expect(c.id).toBe("chatcmpl-req-123");
    const choice = c.choices[0];
    if (!choice) continue;
    if (choice.delta.role) out.roles++;
    out.text += choice.delta.content ?? "";
    out.reasoning += choice.delta.reasoning_content ?? "";
    for (const t of choice.delta.tool_calls ?? []) {
      if (t.id) out.tools[t.index] = { id: t.id, name: t.function?.name ?? "", args: "" };
      const slot = out.tools[t.index];
      if (slot) slot.args += t.function?.arguments ?? "";
    }
    if (choice.finish_reason) out.finish = choice.finish_reason;
  }
  return out;
}

/** What the fixture says the answer is, read straight from Bedrock's events (the oracle). */
function expected(lines: Json[]): { text: string; reasoning: string; tools: Array<{ id: string; name: string; args: string }>; stop: string | undefined; usage: Json | undefined } {
  let text = "";
  let reasoning = "";
  const tools = new Map<number, { id: string; name: string; args: string }>();
  let stop: string | undefined;
  let usage: Json | undefined;
  for (const line of lines) {
    const start = line.contentBlockStart as { contentBlockIndex: number; start: { toolUse?: { toolUseId: string; name: string } } } | undefined;
    if (start?.start.toolUse) tools.set(start.contentBlockIndex, { id: start.start.toolUse.toolUseId, name: start.start.toolUse.name, args: "" });
    const delta = line.contentBlockDelta as { contentBlockIndex: number; delta: { text?: string; toolUse?: { input: string }; reasoningContent?: { text?: string } } } | undefined;
    if (delta?.delta.text) text += delta.delta.text;
    if (delta?.delta.reasoningContent?.text) reasoning += delta.delta.reasoningContent.text;
    if (delta?.delta.toolUse) {
      const t = tools.get(delta.contentBlockIndex);
      if (t) t.args += delta.delta.toolUse.input;
    }
    const stopEv = line.messageStop as { stopReason: string } | undefined;
    if (stopEv) stop = stopEv.stopReason;
    const meta = line.metadata as { usage: Json } | undefined;
    if (meta) usage = meta.usage;
  }
  return { text, reasoning, tools: [...tools.values()], stop, usage };
}

const FINISH: Record<string, string> = { end_turn: "stop", tool_use: "tool_calls", max_tokens: "length", stop_sequence: "stop" };

describe("Bedrock Converse responses (recorded fixtures)", () => {
  it("translates a text answer with usage", () => {
    const body = readJson("amazon-bedrock-text.json");
    const res = bedrockConverseCodec.chatResponse(body, ctx);
    expect(res).toMatchObject({ id: "chatcmpl-req-123", object: "chat.completion", model: ctx.model });
    expect(res.choices[0]?.message.content).toBe('Let me count the "r"s in "strawberry":\n\ns-t-**r**-a-w-b-e-**r**-**r**-y\n\nThere are **3** "r"s in "strawberry."');
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage).toEqual({ prompt_tokens: 22, completion_tokens: 57, total_tokens: 79, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("returns reasoning content apart from the answer", () => {
    const res = bedrockConverseCodec.chatResponse(readJson("amazon-bedrock-reasoning.json"), ctx);
    const msg = res.choices[0]?.message;
    expect(msg?.reasoning_content).toBe('Let me count the r\'s in "strawberry":\n\ns-t-r-a-w-b-e-r-r-y\n\nThere are 3 r\'s.');
    expect(msg?.content).toBe('There are **3** r\'s in "strawberry":\n\n1. st**r**awbe**r****r**y');
    expect(res.usage?.total_tokens).toBe(129);
  });

  it("translates tool calls (one, several, and without arguments)", () => {
    const one = bedrockConverseCodec.chatResponse(readJson("amazon-bedrock-tool-call.1.json"), ctx);
    expect(one.choices[0]?.finish_reason).toBe("tool_calls");
    expect(one.choices[0]?.message.content).toBeNull();
    expect(one.choices[0]?.message.tool_calls).toEqual([{ id: "tool-use-id", type: "function", function: { name: "bash", arguments: '{"command":"ls -l"}' } }]);

    const many = bedrockConverseCodec.chatResponse(readJson("amazon-bedrock-json-with-tools.1.json"), ctx);
    expect(many.choices[0]?.message.content).toBe("Calling multiple tools.Finally the JSON response.");
    expect(many.choices[0]?.message.tool_calls?.map((t) => [t.id, t.function.name, JSON.parse(t.function.arguments)])).toEqual([
      ["tool-1", "tool-a", { param: "a" }],
      ["tool-2", "tool-b", { param: "b" }],
      ["json-tool-id", "json", { final: "result" }],
    ]);
    expect(many.usage).toEqual({ prompt_tokens: 28, completion_tokens: 62, total_tokens: 90 });

    const noArgs = bedrockConverseCodec.chatResponse(readJson("amazon-bedrock-tool-no-args.json"), ctx);
    expect(noArgs.choices[0]?.message.content).toBe("I'll update the issue list for you.");
    expect(noArgs.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: "updateIssueList", arguments: "{}" });
  });

  it("translates every recorded Converse body without losing text or tool calls", () => {
    for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json") && !f.includes("reranking"))) {
      const body = readJson(file) as { output: { message: { content: Json[] } }; stopReason: string };
      const res = bedrockConverseCodec.chatResponse(body, ctx);
      const blocks = body.output.message.content;
      const text = blocks.map((b) => (typeof b.text === "string" ? b.text : "")).join("");
      const calls = blocks.filter((b) => b.toolUse).length;
      expect(res.choices[0]?.message.content ?? "", file).toBe(text);
      expect(res.choices[0]?.message.tool_calls?.length ?? 0, file).toBe(calls);
      expect(res.choices[0]?.finish_reason, file).toBe(FINISH[body.stopReason]);
    }
  });

  it("counts cache reads and writes as prompt tokens, reads as cached", () => {
    const res = bedrockConverseCodec.chatResponse(
      { output: { message: { role: "assistant", content: [{ text: "hi" }] } }, stopReason: "max_tokens", usage: { inputTokens: 10, outputTokens: 5, totalTokens: 1215, cacheReadInputTokens: 1000, cacheWriteInputTokens: 200 } },
      ctx,
    );
    expect(res.usage).toEqual({ prompt_tokens: 1210, completion_tokens: 5, total_tokens: 1215, prompt_tokens_details: { cached_tokens: 1000 } });
    expect(res.choices[0]?.finish_reason).toBe("length");
  });

  it("maps every documented stopReason", () => {
    const finish = (stopReason: string): string | undefined =>
      bedrockConverseCodec.chatResponse({ output: { message: { content: [{ text: "x" }] } }, stopReason }, ctx).choices[0]?.finish_reason;
    expect(finish("end_turn")).toBe("stop");
    expect(finish("stop_sequence")).toBe("stop");
    expect(finish("tool_use")).toBe("tool_calls");
    expect(finish("max_tokens")).toBe("length");
    expect(finish("model_context_window_exceeded")).toBe("length");
    expect(finish("guardrail_intervened")).toBe("content_filter");
    expect(finish("content_filtered")).toBe("content_filter");
  });
});

describe("ConverseStream (recorded fixtures, binary event-stream framing)", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".chunks.txt"));

  it.each(files)("%s", (file) => {
    const lines = readEvents(file);
    const want = expected(lines);
    // Every recorded stream ends with messageStop (one that does not was cut short: see below).
    expect(want.stop).toBeTruthy();
    const bytes = concat(lines.map(frame));
    for (const slice of [1, 7, 64, bytes.length]) {
      const events = decodeAll(bytes, slice);
      expect(events).toHaveLength(lines.length);
      expect(events.map((e) => e.event)).toEqual(lines.map((l) => Object.keys(l)[0]));
      const t = bedrockConverseCodec.chatStream(ctx);
      const chunks = [...events.flatMap((e) => t.push(e)), ...t.end()];
      const got = collect(chunks);
      expect(got.text).toBe(want.text);
      expect(got.reasoning).toBe(want.reasoning);
      expect(got.tools).toEqual(want.tools.map((x) => ({ ...x })));
      expect(got.finish).toBe(FINISH[want.stop as string]);
      expect(got.roles).toBe(1);
      // Exactly one chunk carries the finish_reason, and it is the last.
      expect(chunks.filter((c) => c.choices[0]?.finish_reason).length).toBe(1);
      if (want.stop) expect(chunks.at(-1)?.choices[0]?.finish_reason).toBeTruthy();
      const usage = want.usage as { inputTokens: number; outputTokens: number } | undefined;
      if (usage) expect(t.usage()).toMatchObject({ prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens });
      else expect(t.usage()).toBeUndefined();
    }
  });

  it("accepts the wrapped event form the SDKs and fixtures use", () => {
    const lines = readEvents("amazon-bedrock-text.chunks.txt");
    const t = bedrockConverseCodec.chatStream(ctx);
    const got = collect(lines.flatMap((l) => t.push({ event: undefined, data: JSON.stringify(l) })));
    expect(got.text).toBe(expected(lines).text);
    expect(got.finish).toBe("stop");
    expect(t.usage()).toEqual({ prompt_tokens: 22, completion_tokens: 55, total_tokens: 77 });
  });

  it("streams tool calls as OpenAI deltas: id and name first, then argument pieces", () => {
    const lines = readEvents("amazon-bedrock-json-tool-text-then-weather-then-json.1.chunks.txt");
    const t = bedrockConverseCodec.chatStream(ctx);
    const chunks = decodeAll(concat(lines.map(frame)), 13).flatMap((e) => t.push(e));
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toEqual({ index: 0, id: "weather-tool-1", type: "function", function: { name: "weather", arguments: "" } });
    expect(toolDeltas[1]).toEqual({ index: 0, function: { arguments: '{"location":' } });
    expect(toolDeltas.filter((d) => d.id).map((d) => [d.index, d.id])).toEqual([
      [0, "weather-tool-1"],
      [1, "weather-tool-2"],
    ]);
  });

  it("raises a stream exception as a gateway error with the provider's message", () => {
    const t = bedrockConverseCodec.chatStream(ctx);
    const bytes = concat([frame({ messageStart: { role: "assistant" } }), encodeEvent("throttlingException", JSON.stringify({ message: "Too many tokens, please wait." }), "exception")]);
    const events = decodeAll(bytes, 5);
    expect(events[1]).toEqual({ event: "throttlingException", data: '{"message":"Too many tokens, please wait."}' });
    t.push(events[0] as StreamEvent);
    let err: unknown;
    try {
      t.push(events[1] as StreamEvent);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded", message: "Too many tokens, please wait." });
    const validation = (): unknown => t.push({ event: "validationException", data: '{"message":"bad input"}' });
    expect(validation).toThrow(/bad input/);
  });

  it("rejects corrupted frames and streams cut inside a message", () => {
    const good = frame({ messageStart: { role: "assistant" } });
    const bad = good.slice();
    bad[bad.length - 6] = (bad[bad.length - 6] ?? 0) ^ 0xff;
    expect(() => new AwsEventStreamDecoder().feed(bad)).toThrow(/checksum/i);
    const d = new AwsEventStreamDecoder();
    expect(d.feed(good.subarray(0, 20))).toEqual([]);
    expect(() => d.end()).toThrow(/ended inside a message/);
  });

  it("fails a stream that ended before messageStop instead of passing it off as finished", () => {
    const t = bedrockConverseCodec.chatStream(ctx);
    t.push({ event: "messageStart", data: JSON.stringify({ role: "assistant" }) });
    t.push({ event: "contentBlockDelta", data: JSON.stringify({ contentBlockIndex: 0, delta: { text: "Hel" } }) });
    expect(() => t.end()).toThrow(expect.objectContaining({ status: 502, code: "incomplete_stream" }));
  });

  it("decodes the mock upstream's frames back to its own decoded view", () => {
    const reply = { model: "m", text: "Hello from the mock", usage: { input: 9, output: 5 }, stop: "end" as const };
    const frames = bedrockFormat.chatStreamFrames?.(reply, 3) ?? [];
    const events = decodeAll(concat(frames), 11);
    const decodedView = bedrockFormat.chatStream(reply, 3).map((l) => JSON.parse(l) as Json);
    expect(events.map((e) => ({ [e.event ?? ""]: (({ p: _p, ...rest }) => rest)(JSON.parse(e.data) as Json) }))).toEqual(decodedView);
  });
});

describe("Converse requests", () => {
  const req: ChatRequest = {
    model: "x",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this image, and the weather?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        ],
      },
      { role: "assistant", content: null, tool_calls: [{ id: "tooluse_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
      { role: "tool", tool_call_id: "tooluse_1", content: "18C and sunny" },
      { role: "user", content: "Thanks. And tomorrow?" },
    ],
    max_completion_tokens: 300,
    temperature: 0.3,
    top_p: 0.9,
    stop: ["END"],
    tools: [{ type: "function", function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }],
    tool_choice: "required",
  };

  it("builds the documented Converse body and path", () => {
    const up = bedrockConverseCodec.chatRequest(req, ctx, false);
    expect(up.method).toBe("POST");
    expect(up.path).toBe("/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse");
    expect(up.headers["content-type"]).toBe("application/json");
    expect(parseBody(up.body)).toEqual({
      system: [{ text: "Be brief." }, { text: "Answer in English." }],
      messages: [
        { role: "user", content: [{ text: "What is in this image, and the weather?" }, { image: { format: "png", source: { bytes: "iVBORw0KGgo=" } } }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: "tooluse_1", name: "get_weather", input: { city: "Paris" } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: "tooluse_1", content: [{ text: "18C and sunny" }] } }, { text: "Thanks. And tomorrow?" }] },
      ],
      inferenceConfig: { maxTokens: 300, temperature: 0.3, topP: 0.9, stopSequences: ["END"] },
      toolConfig: {
        tools: [{ toolSpec: { name: "get_weather", description: "Weather for a city", inputSchema: { json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } } }],
        toolChoice: { any: {} },
      },
    });
  });

  it("streams through converse-stream and asks for the event-stream type", () => {
    const up = bedrockConverseCodec.chatRequest(req, { ...ctx, model: "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0" }, true);
    expect(up.path).toBe("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0/converse-stream");
    expect(up.headers.accept).toBe("application/vnd.amazon.eventstream");
  });

  it("maps tool_choice auto, a named function, and none", () => {
    const body = (r: Partial<ChatRequest>): Json => parseBody(bedrockConverseCodec.chatRequest({ ...req, ...r }, ctx, false).body) as Json;
    expect((body({ tool_choice: "auto" }).toolConfig as Json).toolChoice).toEqual({ auto: {} });
    expect((body({ tool_choice: { type: "function", function: { name: "get_weather" } } }).toolConfig as Json).toolChoice).toEqual({ tool: { name: "get_weather" } });
    // The history holds tool blocks, so the tools stay (Bedrock requires them) but nothing is forced.
    expect(body({ tool_choice: "none" }).toolConfig).toEqual({ tools: expect.any(Array) });
    expect(body({ tool_choice: "none", messages: [{ role: "user", content: "hi" }] }).toolConfig).toBeUndefined();
  });

  it("turns reasoning_effort into Claude extended thinking, passes Bedrock-native fields through", () => {
    const b = parseBody(
      bedrockConverseCodec.chatRequest({ model: "x", messages: [{ role: "user", content: "hi" }], reasoning_effort: "low", max_tokens: 500, temperature: 0.5, guardrailConfig: { guardrailIdentifier: "g1", guardrailVersion: "1" }, metadata: { team: "a" } }, ctx, false).body,
    ) as Json;
    expect(b.additionalModelRequestFields).toEqual({ thinking: { type: "enabled", budget_tokens: 1024 } });
    expect(b.inferenceConfig).toEqual({ maxTokens: 1524 });
    expect(b.guardrailConfig).toEqual({ guardrailIdentifier: "g1", guardrailVersion: "1" });
    expect(b.requestMetadata).toEqual({ team: "a" });
  });

  it("rejects what Converse cannot take: remote image URLs and audio", () => {
    const withImage = (url: string): ChatRequest => ({ model: "x", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }] });
    expect(() => bedrockConverseCodec.chatRequest(withImage("https://example.com/cat.png"), ctx, false)).toThrow(/base64 data URLs/);
    expect(() => bedrockConverseCodec.chatRequest(withImage("data:image/bmp;base64,AAAA"), ctx, false)).toThrow(/png, jpeg, gif or webp/);
  });
});

describe("Bedrock errors and embeddings", () => {
  it("reads restJson1 error bodies", () => {
    expect(bedrockConverseCodec.parseError(400, '{"message":"The provided model identifier is invalid."}')).toEqual({
      message: "The provided model identifier is invalid.",
      type: "ValidationException",
      code: undefined,
    });
    expect(bedrockConverseCodec.parseError(403, '{"Message":"User is not authorized","__type":"com.amazon.coral.service#AccessDeniedException"}')).toMatchObject({
      message: "User is not authorized",
      type: "AccessDeniedException",
    });
    expect(bedrockConverseCodec.parseError(502, "<html>bad gateway</html>").message).toBe("upstream returned HTTP 502");
  });

  it("embeds with Titan (one input) and Cohere (a batch) through InvokeModel", () => {
    const titanCtx = { model: "amazon.titan-embed-text-v2:0", requestId: "r" };
    const titan = bedrockConverseCodec.embeddingsRequest?.({ model: "t", input: "hello", dimensions: 256 }, titanCtx);
    expect(titan?.path).toBe("/model/amazon.titan-embed-text-v2%3A0/invoke");
    expect(parseBody(titan?.body ?? "")).toEqual({ inputText: "hello", dimensions: 256, normalize: true });
    expect(() => bedrockConverseCodec.embeddingsRequest?.({ model: "t", input: ["a", "b"] }, titanCtx)).toThrow(/one input/);
    const titanRes = bedrockConverseCodec.embeddingsResponse?.({ embedding: [0.1, 0.2], inputTextTokenCount: 3, embeddingsByType: { float: [0.1, 0.2] } }, titanCtx);
    expect(titanRes).toEqual({ object: "list", data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }], model: "amazon.titan-embed-text-v2:0", usage: { prompt_tokens: 3, total_tokens: 3 } });

    const cohereCtx = { model: "cohere.embed-english-v3", requestId: "r" };
    const cohere = bedrockConverseCodec.embeddingsRequest?.({ model: "c", input: ["a", "b"] }, cohereCtx);
    expect(parseBody(cohere?.body ?? "")).toEqual({ texts: ["a", "b"], input_type: "search_document" });
    const cohereRes = bedrockConverseCodec.embeddingsResponse?.({ embeddings: [[1], [2]], id: "x", response_type: "embeddings_floats", texts: ["a", "b"] }, cohereCtx);
    expect(cohereRes?.data.map((d) => d.embedding)).toEqual([[1], [2]]);
    const byType = bedrockConverseCodec.embeddingsResponse?.({ embeddings: { float: [[3]] }, response_type: "embeddings_by_type" }, cohereCtx);
    expect(byType?.data[0]?.embedding).toEqual([3]);
  });
});
