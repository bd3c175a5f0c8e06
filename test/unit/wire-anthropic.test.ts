// The Anthropic Messages wire codec against recorded Anthropic responses (../shared/fixtures/anthropic),
// the official @anthropic-ai/sdk types, and the Anthropic format of the mock upstream.
import { readdirSync, readFileSync } from "node:fs";
import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk, ChatMessage, ChatRequest, FinishReason, JsonObject, ToolCall, Usage } from "../../src/api/types.js";
import type { CodecContext, StreamEvent } from "../../src/providers/types.js";
import { GatewayError } from "../../src/server/errors.js";
import { createDecoder } from "../../src/wire/decode.js";
import { AnthropicStreamError } from "../../src/wire/anthropic/errors.js";
import { anthropicCodec } from "../../src/wire/anthropic/index.js";
import { anthropicMessagesBody, DEFAULT_MAX_TOKENS, JSON_OBJECT_TOOL, type AnthropicMessagesBody } from "../../src/wire/anthropic/request.js";
import { finishReason, type AnthropicBlock, type AnthropicMessage, type AnthropicUsage } from "../../src/wire/anthropic/response.js";
import { anthropicFormat, mockMessage, mockStreamEvents } from "../mock-upstream/anthropic.js";
import type { MockReply } from "../mock-upstream/format.js";
import { parseBody } from "../helpers/upstream-body.js";

const FIXTURES = new URL("../../../shared/fixtures/anthropic/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), "utf8");
const fixtureLines = (name: string): string[] => fixture(name).split("\n").filter((l) => l.trim().length > 0);
const fixtureFiles = readdirSync(FIXTURES);

const newCtx = (model = "claude-sonnet-4-5"): CodecContext => ({ model, requestId: "7d3e1f20-0000-4000-8000-000000000001" });

// Compile-time checks against the official SDK: what we send must be a valid MessageCreateParams,
// and what the SDK says Anthropic returns must fit the shapes our translators read.
export function requestFitsSdk(b: AnthropicMessagesBody): Anthropic.MessageCreateParams {
  return b;
}
export function responseFitsOurs(m: Anthropic.Message, u: Anthropic.Usage, d: Anthropic.MessageDeltaUsage, b: Anthropic.ContentBlock): [AnthropicMessage, AnthropicUsage, AnthropicUsage, AnthropicBlock] {
  return [m, u, d, b];
}

function body(req: Partial<ChatRequest>, ctx = newCtx(), stream = false): AnthropicMessagesBody {
  const full: ChatRequest = { model: "claude", messages: [{ role: "user", content: "hi" }], ...req };
  // Typed as the SDK's params on purpose: every case below is also a compile-time check.
  const sdk: Anthropic.MessageCreateParams = anthropicMessagesBody(full, ctx, stream);
  const wire = parseBody(anthropicCodec.chatRequest(full, ctx, stream).body) as AnthropicMessagesBody;
  expect(wire).toEqual(sdk);
  return wire;
}

const user = (content: string): ChatMessage => ({ role: "user", content });
const call = (id: string, name: string, args: string): ToolCall => ({ id, type: "function", function: { name, arguments: args } });
const weatherTool = { type: "function" as const, function: { name: "get_weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

describe("anthropic request", () => {
  it("posts to /v1/messages with the API version header", () => {
    const req = anthropicCodec.chatRequest({ model: "x", messages: [user("hi")] }, newCtx("claude-haiku-4-5"), true);
    expect(req.path).toBe("/v1/messages");
    expect(req.method).toBe("POST");
    expect(req.headers).toEqual({ "anthropic-version": "2023-06-01", "content-type": "application/json" });
    expect(req.headers["x-api-key"]).toBeUndefined();
    const b = parseBody(req.body) as AnthropicMessagesBody;
    expect(b.model).toBe("claude-haiku-4-5");
    expect(b.stream).toBe(true);
    expect(body({}).stream).toBeUndefined();
  });

  it("hoists system and developer messages to the top-level system field", () => {
    expect(body({ messages: [{ role: "system", content: "Be brief." }, user("hi")] })).toMatchObject({
      system: "Be brief.",
      messages: [{ role: "user", content: "hi" }],
    });
    const b = body({
      messages: [
        { role: "system", content: [{ type: "text", text: "One." }, { type: "text", text: " Two." }] },
        user("hi"),
        { role: "developer", content: "Three." },
        { role: "system", content: "" },
      ],
    });
    expect(b.system).toEqual([
      { type: "text", text: "One. Two." },
      { type: "text", text: "Three." },
    ]);
    expect(b.messages).toEqual([{ role: "user", content: "hi" }]);
    expect(body({}).system).toBeUndefined();
  });

  it("translates text and image parts", () => {
    const b = body({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "data:image/JPG;name=a.jpg;base64,/9j/4AAQ" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.webp", detail: "high" } },
            { type: "text", text: "" },
          ],
        },
      ],
    });
    expect(b.messages[0]?.content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.webp" } },
    ]);
  });

  it("rejects content Anthropic cannot take, as a client error", () => {
    const bad = (content: ChatMessage): unknown => {
      try {
        anthropicMessagesBody({ model: "x", messages: [content] }, newCtx(), false);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    for (const url of ["data:image/bmp;base64,Qk0=", "data:image/png,rawbytes", "ftp://example.com/a.png"]) {
      const err = bad({ role: "user", content: [{ type: "image_url", image_url: { url } }] });
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(400);
    }
    expect((bad({ role: "user", content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }] }) as GatewayError).status).toBe(400);
    expect(() => anthropicMessagesBody({ model: "x", messages: [user("hi")], n: 2 }, newCtx(), false)).toThrow(GatewayError);
    expect(() => anthropicMessagesBody({ model: "x", messages: [user("hi")], n: 1 }, newCtx(), false)).not.toThrow();
  });

  it("turns assistant tool calls into tool_use blocks and tool messages into one user turn of tool_result blocks", () => {
    const b = body({
      tools: [weatherTool],
      messages: [
        user("Weather in Paris and Rome?"),
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [call("call_1", "get_weather", '{"city":"Paris"}'), call("functions.get_weather:1", "get_weather", "{not json")],
        },
        { role: "tool", tool_call_id: "call_1", content: "18C" },
        { role: "tool", tool_call_id: "functions.get_weather:1", content: [{ type: "text", text: "21C" }] },
        user("And tomorrow?"),
        user("Thanks."),
      ],
    });
    expect(b.messages).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
          // ids outside ^[a-zA-Z0-9_-]+$ are rewritten, consistently in tool_use and tool_result
          { type: "tool_use", id: "functions_get_weather_1", name: "get_weather", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "18C" },
          { type: "tool_result", tool_use_id: "functions_get_weather_1", content: [{ type: "text", text: "21C" }] },
          { type: "text", text: "And tomorrow?" },
          { type: "text", text: "Thanks." },
        ],
      },
    ]);
  });

  it("keeps turns alternating and tool results first in their user turn", () => {
    const b = body({
      messages: [
        user("a"),
        { role: "assistant", content: "b" },
        { role: "assistant", content: null, tool_calls: [call("t1", "f", "[1,2]")] },
        { role: "assistant", content: "" },
        user("interjection"),
        { role: "tool", tool_call_id: "t1", content: "done" },
      ],
    });
    expect(b.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(b.messages[1]?.content).toEqual([
      { type: "text", text: "b" },
      // arguments that are not a JSON object become no arguments
      { type: "tool_use", id: "t1", name: "f", input: {} },
    ]);
    expect(b.messages[2]?.content).toEqual([
      { type: "tool_result", tool_use_id: "t1", content: "done" },
      { type: "text", text: "interjection" },
    ]);
  });

  it("declares tools with an object input_schema", () => {
    const b = body({ tools: [weatherTool, { type: "function", function: { name: "ping" } }] });
    expect(b.tools).toEqual([
      { name: "get_weather", description: "Weather now", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
      { name: "ping", input_schema: { type: "object", properties: {} } },
    ]);
    expect(b.tool_choice).toBeUndefined();
    expect(body({}).tools).toBeUndefined();
  });

  it("maps tool_choice and parallel_tool_calls", () => {
    const choice = (req: Partial<ChatRequest>): unknown => body({ tools: [weatherTool], ...req }).tool_choice;
    expect(choice({ tool_choice: "auto" })).toEqual({ type: "auto" });
    expect(choice({ tool_choice: "required" })).toEqual({ type: "any" });
    expect(choice({ tool_choice: "none" })).toEqual({ type: "none" });
    expect(choice({ tool_choice: { type: "function", function: { name: "get_weather" } } })).toEqual({ type: "tool", name: "get_weather" });
    expect(choice({ parallel_tool_calls: false })).toEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(choice({ tool_choice: "required", parallel_tool_calls: false })).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(choice({ tool_choice: { type: "function", function: { name: "get_weather" } }, parallel_tool_calls: false })).toEqual({
      type: "tool",
      name: "get_weather",
      disable_parallel_tool_use: true,
    });
    expect(choice({ tool_choice: "none", parallel_tool_calls: false })).toEqual({ type: "none" });
    expect(choice({ parallel_tool_calls: true })).toBeUndefined();
    // no tools: nothing to choose from
    expect(body({ tool_choice: "required" }).tool_choice).toBeUndefined();
  });

  it("maps limits and sampling parameters", () => {
    expect(body({}).max_tokens).toBe(DEFAULT_MAX_TOKENS);
    expect(DEFAULT_MAX_TOKENS).toBe(4096);
    expect(body({ max_tokens: 100 }).max_tokens).toBe(100);
    expect(body({ max_tokens: 100, max_completion_tokens: 200 }).max_tokens).toBe(200);
    expect(body({ max_tokens: null }).max_tokens).toBe(4096);
    const b = body({ temperature: 0.2, top_p: 0.9, stop: "END", user: "user-42", seed: 7, presence_penalty: 1, metadata: { a: "b" } });
    expect(b).toMatchObject({ temperature: 0.2, top_p: 0.9, stop_sequences: ["END"], metadata: { user_id: "user-42" } });
    expect(Object.keys(b).sort()).toEqual(["max_tokens", "messages", "metadata", "model", "stop_sequences", "temperature", "top_p"]);
    expect(body({ stop: ["a", "b"] }).stop_sequences).toEqual(["a", "b"]);
    expect(body({ stop: [] }).stop_sequences).toBeUndefined();
    expect(body({ stop: null, temperature: null, top_p: null }).stop_sequences).toBeUndefined();
    // top_p 1 changes nothing, and newer Claude models refuse it next to temperature
    expect(body({ temperature: 0.5, top_p: 1 })).not.toHaveProperty("top_p");
    expect(body({ temperature: 0 }).temperature).toBe(0);
  });

  it("passes Anthropic's own top_k and thinking through, leaving room above the thinking budget", () => {
    const b = body({ top_k: 40, thinking: { type: "enabled", budget_tokens: 2000 } });
    expect(b.top_k).toBe(40);
    expect(b.thinking).toEqual({ type: "enabled", budget_tokens: 2000 });
    expect(b.max_tokens).toBe(2000 + DEFAULT_MAX_TOKENS);
    expect(body({ thinking: { type: "enabled", budget_tokens: 2000 }, max_tokens: 9000 }).max_tokens).toBe(9000);
    expect(body({ thinking: "lots" }).thinking).toBeUndefined();
  });

  it("maps response_format json_schema to a forced tool named after the schema", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    const ctx = newCtx();
    const b = body({ response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } } }, ctx);
    expect(b.tools).toEqual([{ name: "answer", description: expect.any(String) as string, input_schema: schema }]);
    expect(b.tool_choice).toEqual({ type: "tool", name: "answer" });
    expect(b.system).toBeUndefined();

    // the response translator turns that tool's input back into the message text
    const completion = anthropicCodec.chatResponse(
      {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [{ type: "tool_use", id: "toolu_1", name: "answer", input: { answer: "42" } }],
        stop_reason: "tool_use",
        usage: { input_tokens: 10, output_tokens: 5 },
      },
      ctx,
    );
    expect(completion.choices[0]?.message.content).toBe('{"answer":"42"}');
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    expect(completion.choices[0]?.finish_reason).toBe("stop");

    // a later request without response_format on the same context is not affected
    body({}, ctx);
    const plain = anthropicCodec.chatResponse({ id: "m", content: [{ type: "tool_use", id: "t", name: "answer", input: {} }], stop_reason: "tool_use" }, ctx);
    expect(plain.choices[0]?.message.tool_calls?.[0]?.function.name).toBe("answer");
  });

  it("keeps user tools callable next to the JSON tool, and json_object gets a generic object tool", () => {
    const rf = { type: "json_schema" as const, json_schema: { name: "report", schema: { type: "object" } } };
    expect(body({ tools: [weatherTool], response_format: rf }).tool_choice).toEqual({ type: "any" });
    expect(body({ tools: [weatherTool], response_format: rf }).tools?.map((t) => t.name)).toEqual(["get_weather", "report"]);
    expect(body({ tools: [weatherTool], tool_choice: "none", response_format: rf }).tool_choice).toEqual({ type: "tool", name: "report" });
    expect(body({ tools: [weatherTool], tool_choice: { type: "function", function: { name: "get_weather" } }, response_format: rf }).tool_choice).toEqual({
      type: "tool",
      name: "get_weather",
    });
    const obj = body({ response_format: { type: "json_object" } });
    expect(obj.tools).toEqual([{ name: JSON_OBJECT_TOOL, description: expect.any(String) as string, input_schema: { type: "object" } }]);
    expect(obj.tool_choice).toEqual({ type: "tool", name: JSON_OBJECT_TOOL });
    expect(body({ response_format: { type: "text" } }).tools).toBeUndefined();
    const clash = { ...weatherTool, function: { ...weatherTool.function, name: "report" } };
    expect(() => anthropicMessagesBody({ model: "x", messages: [user("hi")], tools: [clash], response_format: rf }, newCtx(), false)).toThrow(GatewayError);
  });
});

// ---- responses ------------------------------------------------------------------------------

interface FixtureMessage {
  id: string;
  model: string;
  content: Array<{ type: string; text?: string; thinking?: string; id?: string; name?: string; input?: unknown }>;
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
}

const STOP_MAP: Record<string, FinishReason> = { end_turn: "stop", stop_sequence: "stop", pause_turn: "stop", max_tokens: "length", refusal: "content_filter" };

describe("anthropic response", () => {
  const jsonFixtures = fixtureFiles.filter((f) => f.endsWith(".json"));

  it("finds the recorded responses", () => {
    expect(jsonFixtures.length).toBeGreaterThanOrEqual(30);
  });

  for (const file of jsonFixtures) {
    it(`translates ${file}`, () => {
      const m = JSON.parse(fixture(file)) as FixtureMessage;
      const c = anthropicCodec.chatResponse(m, newCtx("requested-model"));
      const choice = c.choices[0];
      expect(c.id).toBe(m.id);
      expect(c.object).toBe("chat.completion");
      expect(c.model).toBe(m.model);
      expect(Math.abs(c.created - Date.now() / 1000)).toBeLessThan(5);
      expect(c.choices).toHaveLength(1);
      expect(choice?.index).toBe(0);
      expect(choice?.logprobs).toBeNull();

      const texts = m.content.filter((b) => b.type === "text");
      expect(choice?.message.content).toBe(texts.length > 0 ? texts.map((b) => b.text).join("") : null);
      const thinking = m.content.filter((b) => b.type === "thinking").map((b) => b.thinking).join("");
      expect(choice?.message.reasoning_content).toBe(thinking || undefined);
      const uses = m.content.filter((b) => b.type === "tool_use");
      expect(choice?.message.tool_calls).toEqual(
        uses.length > 0 ? uses.map((b) => ({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input) } })) : undefined,
      );
      expect(choice?.finish_reason).toBe(m.stop_reason === "tool_use" ? "tool_calls" : STOP_MAP[m.stop_reason]);

      const cached = m.usage.cache_read_input_tokens ?? 0;
      const prompt = m.usage.input_tokens + cached + (m.usage.cache_creation_input_tokens ?? 0);
      expect(c.usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: m.usage.output_tokens, total_tokens: prompt + m.usage.output_tokens });
      expect(c.usage?.prompt_tokens_details?.cached_tokens).toBe(cached);
    });
  }

  it("translates the recorded text response exactly", () => {
    const c = anthropicCodec.chatResponse(JSON.parse(fixture("anthropic-text.json")), newCtx());
    expect(c).toEqual({
      id: "msg_01VdEjxAP5ahtHKrrRdNBteQ",
      object: "chat.completion",
      created: c.created,
      model: "claude-sonnet-4-5-20250929",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?",
            refusal: null,
          },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 29, total_tokens: 41, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it("translates a text-plus-tool response, a refusal and a thinking response", () => {
    const tool = anthropicCodec.chatResponse(JSON.parse(fixture("anthropic-tool-no-args.json")), newCtx()).choices[0];
    expect(tool?.finish_reason).toBe("tool_calls");
    expect(tool?.message.content).toMatch(/^<thinking>\nThe updateIssueList tool/);
    expect(tool?.message.tool_calls).toEqual([{ id: "toolu_01LRmxn9vGM1d2DZSDBowdZ1", type: "function", function: { name: "updateIssueList", arguments: "{}" } }]);

    for (const f of ["anthropic-refusal.json", "anthropic-refusal-no-details.json"]) {
      const r = anthropicCodec.chatResponse(JSON.parse(fixture(f)), newCtx()).choices[0];
      expect(r?.finish_reason).toBe("content_filter");
      expect(r?.message.content).toBeNull();
    }

    const thinking = anthropicCodec.chatResponse(JSON.parse(fixture("anthropic-clear-thinking.1.json")), newCtx()).choices[0];
    expect(thinking?.message.reasoning_content).toBe("925 divided by 5 = 185");
    expect(thinking?.message.content).toBe("925 ÷ 5 = 185");

    const high = anthropicCodec.chatResponse(JSON.parse(fixture("anthropic-claude-opus-5-reasoning-high.1.json")), newCtx());
    expect(high.usage?.completion_tokens_details).toEqual({ reasoning_tokens: 139 });
  });

  it("leaves server-side tool blocks out", () => {
    const m = JSON.parse(fixture("anthropic-web-search-tool.1.json")) as FixtureMessage;
    expect(m.content.some((b) => b.type === "server_tool_use" || b.type === "web_search_tool_result")).toBe(true);
    const c = anthropicCodec.chatResponse(m, newCtx()).choices[0];
    expect(c?.message.tool_calls).toBeUndefined();
    expect(c?.finish_reason).toBe("stop");
  });

  it("counts cached prompt tokens into prompt_tokens", () => {
    const c = anthropicCodec.chatResponse(
      { id: "m", model: "claude", content: [{ type: "text", text: "x" }], stop_reason: "end_turn", usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 3 } },
      newCtx(),
    );
    expect(c.usage).toEqual({ prompt_tokens: 125, completion_tokens: 3, total_tokens: 128, prompt_tokens_details: { cached_tokens: 100 } });
  });

  it("maps every SDK stop reason", () => {
    // typed by the SDK's union: a stop reason added upstream fails to compile here
    const all: Record<Anthropic.StopReason, FinishReason> = {
      end_turn: "stop",
      max_tokens: "length",
      stop_sequence: "stop",
      tool_use: "tool_calls",
      pause_turn: "stop",
      refusal: "content_filter",
      model_context_window_exceeded: "length",
    };
    for (const [stop, want] of Object.entries(all)) expect(finishReason(stop, true)).toBe(want);
    expect(finishReason("tool_use", false)).toBe("stop");
    expect(finishReason(null, false)).toBe("stop");
    expect(finishReason(null, true)).toBe("tool_calls");
  });

  it("rejects a body that is not a message", () => {
    expect(() => anthropicCodec.chatResponse({ type: "error", error: { type: "api_error", message: "x" } }, newCtx())).toThrow();
    expect(() => anthropicCodec.chatResponse(null, newCtx())).toThrow();
  });
});

// ---- streams --------------------------------------------------------------------------------

interface FixtureEvent {
  type: string;
  index?: number;
  message?: { id: string; model: string; usage: Record<string, number>; stop_reason: string | null; content: FixtureMessage["content"] };
  content_block?: { type: string; text?: string; id?: string; name?: string; input?: unknown };
  delta?: { type?: string; text?: string; thinking?: string; partial_json?: string; stop_reason?: string | null };
  usage?: Record<string, number>;
}

interface Reassembled {
  content: string;
  reasoning: string;
  tools: Array<{ id: string; name: string; args: string }>;
  finish: FinishReason | null;
  finishCount: number;
  roles: number;
}

function toEvent(line: string): StreamEvent {
  return { event: (JSON.parse(line) as FixtureEvent).type, data: line };
}

function run(lines: string[], ctx = newCtx()): { chunks: ChatCompletionChunk[]; usage: Usage | undefined } {
  const t = anthropicCodec.chatStream(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const l of lines) chunks.push(...t.push(toEvent(l)));
  chunks.push(...t.end());
  return { chunks, usage: t.usage() };
}

function reassemble(chunks: ChatCompletionChunk[]): Reassembled {
  const r: Reassembled = { content: "", reasoning: "", tools: [], finish: null, finishCount: 0, roles: 0 };
  for (const c of chunks) {
    const ch = c.choices[0];
    if (!ch) continue;
    const d = ch.delta;
    if (d.role) r.roles++;
    if (d.content) r.content += d.content;
    if (d.reasoning_content) r.reasoning += d.reasoning_content;
    for (const tc of d.tool_calls ?? []) {
      const slot = (r.tools[tc.index] ??= { id: "", name: "", args: "" });
      if (tc.id) slot.id = tc.id;
      if (tc.function?.name) slot.name = tc.function.name;
      slot.args += tc.function?.arguments ?? "";
    }
    if (ch.finish_reason) {
      r.finish = ch.finish_reason;
      r.finishCount++;
    }
  }
  return r;
}

/** What the events themselves say the answer is, read straight from the recording. */
function expected(events: FixtureEvent[]): Reassembled & { id: string; model: string; usage: Record<string, number> } {
  const start = events.find((e) => e.type === "message_start")?.message as NonNullable<FixtureEvent["message"]>;
  const r = { content: "", reasoning: "", tools: [] as Reassembled["tools"], finish: null as FinishReason | null, finishCount: 1, roles: 1 };
  const toolAt = new Map<number, Reassembled["tools"][number]>();
  const startInput = new Map<Reassembled["tools"][number], unknown>();
  let usage: Record<string, number> = { ...start.usage };
  const finish = (stop: string): FinishReason | null => (stop === "tool_use" ? (r.tools.length > 0 ? "tool_calls" : "stop") : (STOP_MAP[stop] ?? null));
  // A message_start may already hold whole blocks and its stop_reason (programmatic tool calls).
  for (const b of start.content) {
    if (b.type === "text") r.content += b.text;
    if (b.type === "tool_use") r.tools.push({ id: b.id ?? "", name: b.name ?? "", args: JSON.stringify(b.input) });
  }
  if (start.stop_reason) r.finish = finish(start.stop_reason);
  for (const e of events) {
    if (e.type === "content_block_start" && e.content_block?.type === "tool_use") {
      const t = { id: e.content_block.id ?? "", name: e.content_block.name ?? "", args: "" };
      r.tools.push(t);
      toolAt.set(e.index ?? -1, t);
      startInput.set(t, e.content_block.input);
    } else if (e.type === "content_block_delta") {
      if (e.delta?.type === "text_delta") r.content += e.delta.text;
      if (e.delta?.type === "thinking_delta") r.reasoning += e.delta.thinking;
      const t = toolAt.get(e.index ?? -1);
      if (e.delta?.type === "input_json_delta" && t) t.args += e.delta.partial_json;
    } else if (e.type === "content_block_stop") {
      const t = toolAt.get(e.index ?? -1);
      // no fragments: the input came whole with the block (calls made from code execution), or is empty
      if (t && t.args === "") t.args = JSON.stringify(startInput.get(t) ?? {});
      toolAt.delete(e.index ?? -1);
    } else if (e.type === "message_delta") {
      r.finish = finish(e.delta?.stop_reason ?? "");
      usage = { ...usage, ...e.usage };
    }
  }
  return { ...r, id: start.id, model: start.model, usage };
}

/**
 * Some recordings hold several HTTP responses back to back (each step of a tool loop): a
 * message_start after a message_stop begins the next one.
 */
function splitResponses(lines: string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let stopped = false;
  for (const l of lines) {
    const type = (JSON.parse(l) as FixtureEvent).type;
    if (type === "message_start" && stopped) {
      out.push(cur);
      cur = [];
      stopped = false;
    }
    if (type === "message_stop") stopped = true;
    cur.push(l);
  }
  out.push(cur);
  return out;
}

describe("anthropic stream", () => {
  const streamFixtures = fixtureFiles.filter((f) => f.endsWith(".chunks.txt"));

  it("finds the recorded streams", () => {
    expect(streamFixtures.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of streamFixtures.filter((f) => f !== "spliced-message-start.chunks.txt")) {
    const responses = splitResponses(fixtureLines(file));
    it(`reassembles ${file}${responses.length > 1 ? ` (${responses.length} responses)` : ""}`, () => {
      for (const lines of responses) checkStream(lines);
    });
  }

  it("delivers the first response only when a stream carries more after message_stop", () => {
    const lines = fixtureLines("anthropic-tool-search-bm25.1.chunks.txt");
    const [first] = splitResponses(lines);
    expect(reassemble(run(lines).chunks)).toEqual(reassemble(run(first as string[]).chunks));
  });

  function checkStream(lines: string[]): void {
    {
      const events = lines.map((l) => JSON.parse(l) as FixtureEvent);
      const want = expected(events);
      const { chunks, usage } = run(lines);
      const got = reassemble(chunks);

      expect(got.content).toBe(want.content);
      expect(got.reasoning).toBe(want.reasoning);
      expect(got.tools).toEqual(want.tools);
      for (const t of got.tools) expect(() => JSON.parse(t.args) as unknown).not.toThrow();
      expect(got.finish).toBe(want.finish);
      expect(got.finishCount).toBe(1);
      expect(got.roles).toBe(1);
      // the finish chunk is the last one
      expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBe(want.finish);

      const created = chunks[0]?.created;
      for (const c of chunks) {
        expect(c.id).toBe(want.id);
        expect(c.object).toBe("chat.completion.chunk");
        expect(c.model).toBe(want.model);
        expect(c.created).toBe(created);
        expect(c.choices).toHaveLength(1);
        expect(c.choices[0]?.index).toBe(0);
        expect(c.choices[0]?.logprobs).toBeNull();
      }
      expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");

      const u = want.usage;
      const cached = u.cache_read_input_tokens ?? 0;
      const prompt = (u.input_tokens ?? 0) + cached + (u.cache_creation_input_tokens ?? 0);
      expect(usage).toMatchObject({ prompt_tokens: prompt, completion_tokens: u.output_tokens, total_tokens: prompt + (u.output_tokens ?? 0) });
      expect(usage?.prompt_tokens_details?.cached_tokens).toBe(cached);
    }
  }

  it("streams the recorded text answer chunk by chunk", () => {
    const { chunks, usage } = run(fixtureLines("anthropic-text.chunks.txt"));
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "Hello" },
      { content: "! I" },
      { content: "'m doing well, thank you for asking" },
      { content: ". How are you doing today?" },
      { content: " Is" },
      { content: " there anything I can help you with?" },
      {},
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, null, null, null, null, "stop"]);
    expect(usage).toEqual({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("announces tool calls with id and name, then streams their arguments", () => {
    const { chunks } = run(fixtureLines("anthropic-tool-no-args.chunks.txt"));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: "toolu_01QE1WLsSVp5hy5Q3GmGTmjP", type: "function", function: { name: "updateIssueList", arguments: "" } },
      // no input_json_delta carried anything: the arguments are an empty object, never ""
      { index: 0, function: { arguments: "{}" } },
    ]);
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBe("tool_calls");

    // programmatic tool calling: client tools called from code arrive whole inside message_start
    const steps = splitResponses(fixtureLines("anthropic-programmatic-tool-calling.1.chunks.txt"));
    expect(steps).toHaveLength(15);
    expect(reassemble(run(steps[0] as string[]).chunks).tools).toEqual([{ id: "toolu_019jKkXz4jAdwHweHBw92CVY", name: "rollDie", args: '{"player":"player1"}' }]);
    const whole = run(steps[1] as string[]).chunks;
    expect(whole.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null },
      { index: 0, delta: { tool_calls: [{ index: 0, id: "toolu_015dGLMbwBKv1ZRQr6KdJzeH", type: "function", function: { name: "rollDie", arguments: "" } }] }, finish_reason: null, logprobs: null },
      { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"player":"player2"}' } }] }, finish_reason: null, logprobs: null },
      { index: 0, delta: {}, finish_reason: "tool_calls", logprobs: null },
    ]);
  });

  it("takes input tokens from message_delta when it reports them", () => {
    const { usage } = run(fixtureLines("anthropic-message-delta-input-tokens.chunks.txt"));
    expect(usage).toEqual({ prompt_tokens: 61, completion_tokens: 2, total_tokens: 63, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("streams thinking as reasoning_content and refusals as content_filter", () => {
    const thinking = reassemble(run(fixtureLines("anthropic-clear-thinking.1.chunks.txt")).chunks);
    expect(thinking.reasoning.length).toBeGreaterThan(10);
    expect(thinking.content.length).toBeGreaterThan(0);
    const refusal = run(fixtureLines("anthropic-refusal.chunks.txt")).chunks;
    expect(refusal.map((c) => c.choices[0]?.finish_reason)).toEqual([null, "content_filter"]);
  });

  it("ignores a repeated message_start and refuses a second message spliced into the stream", () => {
    const dup = run(fixtureLines("duplicate-message-start.chunks.txt"));
    expect(reassemble(dup.chunks)).toMatchObject({ content: "Hello, World!", roles: 1, finish: "stop" });
    expect(dup.usage?.completion_tokens).toBe(227);
    expect(dup.chunks.map((c) => c.choices[0]?.delta)).toEqual([{ role: "assistant", content: "" }, { content: "Hello, World!" }, {}]);

    const t = anthropicCodec.chatStream(newCtx());
    const lines = fixtureLines("spliced-message-start.chunks.txt");
    const second = lines.findIndex((l, i) => i > 0 && l.includes('"message_start"'));
    const before: ChatCompletionChunk[] = [];
    for (const l of lines.slice(0, second)) before.push(...t.push(toEvent(l)));
    expect(reassemble(before)).toMatchObject({ reasoning: "I will call the tool.", tools: [{ id: "toolu_first", name: "test-tool", args: '{"value":"Spark' }] });
    let err: unknown;
    try {
      t.push(toEvent(lines[second] as string));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AnthropicStreamError);
    expect((err as AnthropicStreamError).message).toContain("msg_second");
  });

  it("turns an error event into an error carrying Anthropic's message", () => {
    const t = anthropicCodec.chatStream(newCtx());
    t.push(toEvent(fixtureLines("anthropic-text.chunks.txt")[0] as string));
    const data = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" }, request_id: "req_1" });
    let err: unknown;
    try {
      t.push({ event: "error", data });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AnthropicStreamError);
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as AnthropicStreamError;
    expect(e.message).toBe("Overloaded");
    expect(e.errorType).toBe("overloaded_error");
    expect(e.code).toBe("overloaded_error");
    expect(e.retryable).toBe(true);
    const secret = JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "bad key sk-ant-abcdefghijklmnop" } });
    expect(() => anthropicCodec.chatStream(newCtx()).push({ event: "error", data: secret })).toThrow(/bad key \[REDACTED\]/);
  });

  it("reports a stream cut off before message_delta, and a malformed event", () => {
    const lines = fixtureLines("anthropic-text.chunks.txt");
    const t = anthropicCodec.chatStream(newCtx());
    for (const l of lines.slice(0, 5)) t.push(toEvent(l));
    expect(() => t.end()).toThrow(AnthropicStreamError);
    expect(() => anthropicCodec.chatStream(newCtx()).end()).toThrow(AnthropicStreamError);
    expect(() => anthropicCodec.chatStream(newCtx()).push({ event: "message_start", data: "{not json" })).toThrow(AnthropicStreamError);
    expect(anthropicCodec.chatStream(newCtx()).push({ event: "ping", data: '{"type":"ping"}' })).toEqual([]);
    expect(anthropicCodec.chatStream(newCtx()).usage()).toBeUndefined();
  });

  it("streams the JSON tool's input as content when response_format asked for JSON", () => {
    const ctx = newCtx();
    anthropicMessagesBody({ model: "x", messages: [user("weather?")], response_format: { type: "json_schema", json_schema: { name: "json" } } }, ctx, true);
    const { chunks } = run(fixtureLines("anthropic-json-tool.1.chunks.txt"), ctx);
    const got = reassemble(chunks);
    expect(got.tools).toEqual([]);
    expect(JSON.parse(got.content)).toEqual({ elements: [{ location: "San Francisco", temperature: 58, condition: "sunny" }] });
    expect(got.finish).toBe("stop");

    // the model may call a user tool instead: that one stays a tool call
    const other = reassemble(run(fixtureLines("anthropic-json-other-tool.1.chunks.txt"), ctx).chunks);
    expect(other.tools.length).toBe(1);
    expect(other.tools[0]?.name).not.toBe("json");
    expect(other.finish).toBe("tool_calls");
  });

  it("decodes SSE bytes split at arbitrary points", () => {
    const lines = fixtureLines("anthropic-tool-no-args.chunks.txt");
    const text = lines.map((l) => `event: ${(JSON.parse(l) as FixtureEvent).type}\r\ndata: ${l}\r\n\r\n`).join("");
    const bytes = new TextEncoder().encode(text);
    const decoder = createDecoder(anthropicCodec.streamFraming);
    const t = anthropicCodec.chatStream(newCtx());
    const chunks: ChatCompletionChunk[] = [];
    for (let i = 0; i < bytes.length; i += 37) for (const ev of decoder.feed(bytes.subarray(i, i + 37))) chunks.push(...t.push(ev));
    for (const ev of decoder.end()) chunks.push(...t.push(ev));
    chunks.push(...t.end());
    expect(reassemble(chunks)).toEqual(reassemble(run(lines).chunks));
  });
});

// ---- errors ---------------------------------------------------------------------------------

describe("anthropic errors", () => {
  it("reads Anthropic error bodies", () => {
    const text = JSON.stringify({ type: "error", error: { type: "not_found_error", message: "model: claude-nope" }, request_id: "req_1" });
    expect(anthropicCodec.parseError(404, text)).toEqual({ message: "model: claude-nope", type: "not_found_error", code: "not_found_error" });
    expect(anthropicCodec.parseError(400, '{"message":"bad thing"}')).toEqual({ message: "bad thing", type: undefined, code: undefined });
    expect(anthropicCodec.parseError(500, '{"type":"error","error":{"type":"api_error"}}')).toEqual({ message: "upstream returned HTTP 500", type: "api_error", code: "api_error" });
  });

  it("never echoes a long or HTML body", () => {
    const html = "<html><body>" + "x".repeat(5000) + "</body></html>";
    expect(anthropicCodec.parseError(502, html)).toEqual({ message: "upstream returned HTTP 502", type: undefined, code: undefined });
    expect(anthropicCodec.parseError(503, "y".repeat(300)).message).toBe("upstream returned HTTP 503");
    expect(anthropicCodec.parseError(503, "upstream connect error").message).toBe("upstream returned HTTP 503: upstream connect error");
    expect(anthropicCodec.parseError(500, "[1,2]").message).toBe("upstream returned HTTP 500");
    expect(anthropicCodec.parseError(502, "").message).toBe("upstream returned HTTP 502");
    expect(anthropicCodec.parseError(502, "line one\nline two").message).toBe("upstream returned HTTP 502");
  });

  it("has no embeddings", () => {
    expect(anthropicCodec.embeddingsRequest).toBeUndefined();
    expect(anthropicCodec.name).toBe("anthropic");
    expect(anthropicCodec.openaiWire).toBe(false);
    expect(anthropicCodec.streamFraming).toBe("sse");
  });
});

// ---- mock upstream --------------------------------------------------------------------------

/** The structure of a JSON value: keys in order, value kinds, arrays by their first element. */
function shape(v: unknown): unknown {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length > 0 ? [shape(v[0])] : [];
  if (typeof v === "object") return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]);
  return typeof v;
}

const textReply: MockReply = { model: "claude-sonnet-4-5-20250929", text: "Mock reply to: hello there", usage: { input: 12, output: 7 }, stop: "end" };
const toolReply: MockReply = {
  model: "claude-sonnet-4-5-20250929",
  text: "",
  toolCall: { id: "call_mock_0001", name: "get_weather", arguments: { input: "hello" } },
  usage: { input: 20, output: 12 },
  stop: "tool",
};

function parseFrames(frames: string[]): Array<{ event: string; data: FixtureEvent }> {
  return frames.map((f) => {
    const m = /^event: ([a-z_]+)\ndata: (.*)\n\n$/s.exec(f);
    if (!m) throw new Error(`bad frame ${f}`);
    return { event: m[1] as string, data: JSON.parse(m[2] as string) as FixtureEvent };
  });
}

function translateFrames(frames: string[], ctx = newCtx()): { chunks: ChatCompletionChunk[]; usage: Usage | undefined } {
  const decoder = createDecoder("sse");
  const t = anthropicCodec.chatStream(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const f of frames) for (const ev of decoder.feed(new TextEncoder().encode(f))) chunks.push(...t.push(ev));
  for (const ev of decoder.end()) chunks.push(...t.push(ev));
  chunks.push(...t.end());
  return { chunks, usage: t.usage() };
}

describe("anthropic mock upstream", () => {
  it("reads what the codec sends", () => {
    const req: ChatRequest = {
      model: "x",
      max_tokens: 50,
      stream: true,
      tools: [weatherTool],
      messages: [{ role: "system", content: "sys" }, user("hello"), { role: "assistant", content: null, tool_calls: [call("c1", "get_weather", "{}")] }, { role: "tool", tool_call_id: "c1", content: "sunny" }],
    };
    const sent = anthropicCodec.chatRequest(req, newCtx("claude-haiku-4-5"), true);
    expect(anthropicFormat.parseChat(sent.path, parseBody(sent.body) as JsonObject)).toEqual({
      model: "claude-haiku-4-5",
      stream: true,
      lastUserText: "hello",
      firstToolName: "get_weather",
      lastIsToolResult: true,
      maxTokens: 50,
    });
    const plain = anthropicCodec.chatRequest({ model: "x", messages: [user("a"), { role: "assistant", content: "b" }, user("c")] }, newCtx(), false);
    expect(anthropicFormat.parseChat(plain.path, parseBody(plain.body) as JsonObject)).toMatchObject({ stream: false, lastUserText: "c", lastIsToolResult: false, maxTokens: 4096 });
  });

  it("shapes bodies like the recorded responses", () => {
    expect(shape(JSON.parse(anthropicFormat.chatBody(textReply)))).toEqual(shape(JSON.parse(fixture("anthropic-text.json"))));
    const tool = JSON.parse(anthropicFormat.chatBody(toolReply)) as FixtureMessage;
    const recorded = JSON.parse(fixture("anthropic-tool-no-args.json")) as FixtureMessage;
    // the recorded call has no arguments; compare the block's fields, not its input
    expect(shape({ ...tool.content[0], input: {} })).toEqual(shape(recorded.content[1]));
    expect(tool.stop_reason).toBe("tool_use");
    // what the mock builds is typed against the SDK in the mock itself; its JSON is what it built
    expect(JSON.parse(anthropicFormat.chatBody(toolReply))).toEqual(mockMessage(toolReply));
  });

  it("streams events in the recorded order and shapes", () => {
    const frames = parseFrames(anthropicFormat.chatStream(textReply, 3));
    for (const f of frames) expect(f.event).toBe(f.data.type);
    const recorded = fixtureLines("anthropic-text.chunks.txt").map((l) => JSON.parse(l) as FixtureEvent);
    const collapse = (types: string[]): string[] => types.filter((t, i) => t !== "content_block_delta" || types[i - 1] !== "content_block_delta");
    expect(collapse(frames.map((f) => f.data.type))).toEqual(collapse(recorded.map((e) => e.type)));
    for (const f of frames) {
      const twin = recorded.find((e) => e.type === f.data.type);
      expect(shape(f.data)).toEqual(shape(twin));
    }
    expect(frames.filter((f) => f.data.type === "content_block_delta")).toHaveLength(3);

    const toolFrames = parseFrames(anthropicFormat.chatStream(toolReply, 2));
    const toolRecorded = fixtureLines("anthropic-tool-no-args.chunks.txt").map((l) => JSON.parse(l) as FixtureEvent);
    const start = toolFrames.find((f) => f.data.content_block?.type === "tool_use");
    expect(shape(start?.data)).toEqual(shape(toolRecorded.find((e) => e.content_block?.type === "tool_use")));
    const delta = toolFrames.find((f) => f.data.delta?.type === "input_json_delta");
    expect(shape(delta?.data)).toEqual(shape(toolRecorded.find((e) => e.delta?.type === "input_json_delta")));
    expect(mockStreamEvents(toolReply, 2).map((e) => e.type)).toEqual(toolFrames.map((f) => f.data.type));
  });

  it("non-stream bodies translate back", () => {
    const text = anthropicCodec.chatResponse(JSON.parse(anthropicFormat.chatBody(textReply)), newCtx());
    expect(text.choices[0]).toMatchObject({ message: { content: "Mock reply to: hello there" }, finish_reason: "stop" });
    expect(text.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7 });
    const cached = anthropicCodec.chatResponse(JSON.parse(anthropicFormat.chatBody({ ...textReply, usage: { input: 30, output: 2, cached: 20 } })), newCtx());
    expect(cached.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 20 } });
    const long = anthropicCodec.chatResponse(JSON.parse(anthropicFormat.chatBody({ ...textReply, stop: "length" })), newCtx());
    expect(long.choices[0]?.finish_reason).toBe("length");
    const tool = anthropicCodec.chatResponse(JSON.parse(anthropicFormat.chatBody(toolReply)), newCtx());
    expect(tool.choices[0]).toMatchObject({
      message: { content: null, tool_calls: [{ id: "call_mock_0001", type: "function", function: { name: "get_weather", arguments: '{"input":"hello"}' } }] },
      finish_reason: "tool_calls",
    });
  });

  it("streams translate back through the SSE decoder", () => {
    for (const n of [1, 4, 50]) {
      const text = translateFrames(anthropicFormat.chatStream(textReply, n));
      expect(reassemble(text.chunks)).toMatchObject({ content: "Mock reply to: hello there", finish: "stop", finishCount: 1, roles: 1 });
      expect(text.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 });
      const tool = translateFrames(anthropicFormat.chatStream(toolReply, n));
      expect(reassemble(tool.chunks)).toMatchObject({ content: "", tools: [{ id: "call_mock_0001", name: "get_weather", args: '{"input":"hello"}' }], finish: "tool_calls" });
      expect(tool.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 12 });
    }
  });

  it("answers errors in Anthropic's shape with the type for each status", () => {
    const types: Record<number, string> = {
      400: "invalid_request_error",
      401: "authentication_error",
      403: "permission_error",
      404: "not_found_error",
      413: "request_too_large",
      429: "rate_limit_error",
      500: "api_error",
      529: "overloaded_error",
      418: "invalid_request_error",
      503: "api_error",
    };
    for (const [status, type] of Object.entries(types)) {
      const text = anthropicFormat.errorBody(Number(status), "went wrong");
      expect(JSON.parse(text)).toMatchObject({ type: "error", error: { type, message: "went wrong" } });
      expect(anthropicCodec.parseError(Number(status), text)).toEqual({ message: "went wrong", type, code: type });
    }
  });
});
