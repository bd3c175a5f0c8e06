// The Gemini wire codec against recorded Gemini responses (../shared/fixtures/google), the
// official @google/genai types, and the Gemini format of the mock upstream.
import { readdirSync, readFileSync } from "node:fs";
import type {
  Candidate,
  Content,
  FunctionCall,
  FunctionDeclaration,
  GenerateContentResponseUsageMetadata,
  GenerationConfig,
  PartialArg,
  Part,
} from "@google/genai";
import { BlockedReason, FinishReason as SdkFinishReason, FunctionCallingConfigMode } from "@google/genai";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk, ChatRequest, FinishReason, JsonObject } from "../../src/api/types.js";
import type { CodecContext, StreamEvent } from "../../src/providers/types.js";
import { GatewayError } from "../../src/server/errors.js";
import { createDecoder } from "../../src/wire/decode.js";
import { geminiCodec } from "../../src/wire/gemini/index.js";
import { applyPartialArg, parsePath } from "../../src/wire/gemini/partial-args.js";
import { SKIP_SIGNATURE } from "../../src/wire/gemini/request.js";
import { finishReason } from "../../src/wire/gemini/response.js";
import type {
  GeminiCandidate,
  GeminiFunctionCall,
  GeminiFunctionDeclaration,
  GeminiPart,
  GeminiPartialArg,
  GeminiRequest,
  GeminiResponse,
  GeminiUsageMetadata,
} from "../../src/wire/gemini/types.js";
import { geminiFormat } from "../mock-upstream/gemini.js";
import type { MockReply } from "../mock-upstream/format.js";
import { parseBody } from "../helpers/upstream-body.js";

const FIXTURES = new URL("../../../shared/fixtures/google/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), "utf8");
const fixtureJson = (name: string): GeminiResponse => JSON.parse(fixture(name)) as GeminiResponse;
const fixtureLines = (name: string): string[] => fixture(name).split("\n").filter((l) => l.trim().length > 0);

const ctx: CodecContext = { model: "gemini-2.5-flash", requestId: "3f1c2a9e-7b4d-4e2a-9c1d-000000000001" };

// Compile-time checks against the official SDK: our request shapes must be accepted by it, and
// what it can return must fit our response shapes. A drift fails `tsc`, not production.
export function requestFitsSdk(r: GeminiRequest): void {
  const contents: Content[] = r.contents;
  const system: Content | undefined = r.systemInstruction;
  const config: GenerationConfig | undefined = r.generationConfig;
  const decl: FunctionDeclaration = {} as Omit<GeminiFunctionDeclaration, "parameters">;
  void [contents, system, config, decl];
}
export function responseFitsOurs(
  u: GenerateContentResponseUsageMetadata,
  f: FunctionCall,
  a: PartialArg,
  p: Pick<Part, "text" | "thought" | "thoughtSignature" | "functionCall">,
  c: Omit<Candidate, "content">,
): [GeminiUsageMetadata, GeminiFunctionCall, GeminiPartialArg, GeminiPart, Omit<GeminiCandidate, "content">] {
  return [u, f, a, p, c];
}

function chat(req: Partial<ChatRequest>): ChatRequest {
  return { model: "gemini-2.5-flash", messages: [{ role: "user", content: "hi" }], ...req };
}
function body(req: Partial<ChatRequest>, stream = false): GeminiRequest {
  return parseBody(geminiCodec.chatRequest(chat(req), ctx, stream).body) as GeminiRequest;
}

interface Assembled {
  content: string;
  reasoning: string;
  calls: Array<{ id: string | undefined; name: string | undefined; args: string }>;
  finishes: Array<FinishReason | null>;
  roleChunks: number;
  ids: Set<string>;
  models: Set<string>;
}

/** Reassembles chunks the way an OpenAI client does, keeping what the assertions need. */
function assemble(chunks: ChatCompletionChunk[]): Assembled {
  const out: Assembled = { content: "", reasoning: "", calls: [], finishes: [], roleChunks: 0, ids: new Set(), models: new Set() };
  for (const c of chunks) {
    out.ids.add(c.id);
    out.models.add(c.model);
    for (const choice of c.choices) {
      const d = choice.delta;
      if (d.role) out.roleChunks++;
      if (d.content) out.content += d.content;
      if (d.reasoning_content) out.reasoning += d.reasoning_content;
      for (const tc of d.tool_calls ?? []) {
        const call = (out.calls[tc.index] ??= { id: undefined, name: undefined, args: "" });
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name = tc.function.name;
        if (tc.function?.arguments) call.args += tc.function.arguments;
      }
      if (choice.finish_reason !== null) out.finishes.push(choice.finish_reason);
    }
  }
  return out;
}

function translate(lines: string[]): { chunks: ChatCompletionChunk[]; usage: ReturnType<ReturnType<typeof geminiCodec.chatStream>["usage"]> } {
  const t = geminiCodec.chatStream(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const data of lines) chunks.push(...t.push({ event: undefined, data }));
  chunks.push(...t.end());
  return { chunks, usage: t.usage() };
}

describe("gemini request", () => {
  it("builds the generateContent and streamGenerateContent paths", () => {
    const plain = geminiCodec.chatRequest(chat({}), ctx, false);
    expect(plain.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(plain.method).toBe("POST");
    expect(plain.headers).toEqual({ "content-type": "application/json" });
    expect(geminiCodec.chatRequest(chat({}), ctx, true).path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(geminiCodec.chatRequest(chat({}), { ...ctx, model: "models/gemini-2.0-flash" }, false).path).toBe("/v1beta/models/gemini-2.0-flash:generateContent");
    expect(geminiCodec.chatRequest(chat({}), { ...ctx, model: "my model?x" }, false).path).toBe("/v1beta/models/my%20model%3Fx:generateContent");
  });

  it("moves system and developer messages to systemInstruction", () => {
    const b = body({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use " }, { type: "text", text: "French." }] },
        { role: "user", content: "Hello" },
      ],
    });
    expect(b.systemInstruction).toEqual({ parts: [{ text: "Be brief." }, { text: "Use French." }] });
    expect(b.contents).toEqual([{ role: "user", parts: [{ text: "Hello" }] }]);
    expect(body({}).systemInstruction).toBeUndefined();
  });

  it("translates images, audio and text parts", () => {
    const b = body({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.WEBP?size=large#top" } },
            { type: "image_url", image_url: { url: "https://example.com/photo" } },
            { type: "image_url", image_url: { url: "data:text/plain,hello%20world" } },
            { type: "input_audio", input_audio: { data: "UklGRg==", format: "mp3" } },
          ],
        },
      ],
    });
    expect(b.contents[0]?.parts).toEqual([
      { text: "What is this?" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { fileData: { mimeType: "image/webp", fileUri: "https://example.com/cat.WEBP?size=large#top" } },
      { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/photo" } },
      { inlineData: { mimeType: "text/plain", data: Buffer.from("hello world").toString("base64") } },
      { inlineData: { mimeType: "audio/mp3", data: "UklGRg==" } },
    ]);
  });

  it("maps assistant tool calls and tool results, looking up the function name by call id", () => {
    const b = body({
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "call_b", type: "function", function: { name: "get_time", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "call_a", content: '{"temp":21,"unit":"C"}' },
        { role: "tool", tool_call_id: "call_b", content: [{ type: "text", text: "noon" }] },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(b.contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Paris and Rome?" }] },
      {
        role: "model",
        parts: [
          { text: "Checking." },
          { functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: SKIP_SIGNATURE },
          { functionCall: { name: "get_time", args: {} } },
        ],
      },
      {
        // Consecutive tool results and the next user message form one user turn.
        role: "user",
        parts: [
          { functionResponse: { name: "get_weather", response: { content: { temp: 21, unit: "C" } } } },
          { functionResponse: { name: "get_time", response: { content: { result: "noon" } } } },
          { text: "Thanks" },
        ],
      },
    ]);
  });

  it("merges consecutive turns of the same role and skips empty ones", () => {
    const b = body({
      messages: [
        { role: "user", content: "one" },
        { role: "user", content: "two" },
        { role: "assistant", content: "" },
        { role: "assistant", content: "three" },
        { role: "assistant", content: null },
      ],
    });
    expect(b.contents).toEqual([
      { role: "user", parts: [{ text: "one" }, { text: "two" }] },
      { role: "model", parts: [{ text: "three" }] },
    ]);
  });

  it("declares tools with schemas Gemini accepts", () => {
    const b = body({
      tools: [
        {
          type: "function",
          function: {
            name: "search",
            description: "Search things",
            strict: true,
            parameters: {
              $schema: "http://json-schema.org/draft-07/schema#",
              type: "object",
              additionalProperties: false,
              properties: {
                query: { type: "string" },
                strict: { type: "boolean", description: "a property that happens to be called strict" },
                filters: {
                  type: "array",
                  items: { type: "object", additionalProperties: false, properties: { tag: { type: ["string", "null"] } } },
                },
                mode: { anyOf: [{ type: "object", additionalProperties: true, properties: { a: { type: "number" } } }, { type: "string" }] },
              },
              required: ["query"],
            },
          },
        },
        { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } },
      ],
    });
    expect(b.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "search",
            description: "Search things",
            parameters: {
              type: "object",
              properties: {
                query: { type: "string" },
                strict: { type: "boolean", description: "a property that happens to be called strict" },
                filters: { type: "array", items: { type: "object", properties: { tag: { type: "string", nullable: true } } } },
                mode: { anyOf: [{ type: "object", properties: { a: { type: "number" } } }, { type: "string" }] },
              },
              required: ["query"],
            },
          },
          { name: "now" },
        ],
      },
    ]);
  });

  it("maps tool_choice to functionCallingConfig", () => {
    const tools: ChatRequest["tools"] = [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { x: { type: "string" } } } } }];
    expect(body({ tools, tool_choice: "auto" }).toolConfig).toEqual({ functionCallingConfig: { mode: "AUTO" } });
    expect(body({ tools, tool_choice: "none" }).toolConfig).toEqual({ functionCallingConfig: { mode: "NONE" } });
    expect(body({ tools, tool_choice: "required" }).toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
    expect(body({ tools, tool_choice: { type: "function", function: { name: "f" } } }).toolConfig).toEqual({
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["f"] },
    });
    expect(body({ tools }).toolConfig).toBeUndefined();
    expect(body({ tool_choice: "required" }).toolConfig).toBeUndefined();
    for (const mode of ["AUTO", "NONE", "ANY"]) expect(Object.values(FunctionCallingConfigMode)).toContain(mode);
  });

  it("maps sampling parameters to generationConfig", () => {
    const b = body({
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 100,
      max_completion_tokens: 200,
      stop: "END",
      seed: 7,
      n: 2,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
    });
    expect(b.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      maxOutputTokens: 200,
      stopSequences: ["END"],
      seed: 7,
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
    });
    expect(body({ max_tokens: 50, stop: ["a", "b"] }).generationConfig).toEqual({ maxOutputTokens: 50, stopSequences: ["a", "b"] });
    expect(body({ temperature: null, stop: null }).generationConfig).toBeUndefined();
  });

  it("asks for JSON output for json_object and json_schema", () => {
    expect(body({ response_format: { type: "json_object" } }).generationConfig).toEqual({ responseMimeType: "application/json" });
    const schema: JsonObject = { type: "object", properties: { a: { type: "integer" } }, required: ["a"], additionalProperties: false };
    expect(body({ response_format: { type: "json_schema", json_schema: { name: "out", schema, strict: true } } }).generationConfig).toEqual({
      responseMimeType: "application/json",
      responseJsonSchema: schema,
    });
    expect(body({ response_format: { type: "text" } }).generationConfig).toBeUndefined();
  });
});

describe("gemini response", () => {
  it("translates the recorded text and reasoning responses", () => {
    for (const name of ["google-text.json", "google-reasoning.json", "google-reasoning-gemini3.json"]) {
      const raw = fixtureJson(name);
      const out = geminiCodec.chatResponse(raw, ctx);
      const part = raw.candidates?.[0]?.content?.parts?.[0];
      const meta = raw.usageMetadata as GeminiUsageMetadata;
      expect(out.object).toBe("chat.completion");
      expect(out.id).toBe(raw.responseId);
      expect(out.model).toBe(raw.modelVersion);
      expect(out.choices).toEqual([
        { index: 0, message: { role: "assistant", content: part?.text, refusal: null }, finish_reason: "stop", logprobs: null },
      ]);
      expect(out.usage).toEqual({
        prompt_tokens: meta.promptTokenCount,
        completion_tokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
        total_tokens: meta.totalTokenCount,
        completion_tokens_details: { reasoning_tokens: meta.thoughtsTokenCount },
      });
    }
  });

  it("translates the recorded tool calls", () => {
    for (const name of ["google-tool-call.json", "google-tool-call-gemini3.json"]) {
      const out = geminiCodec.chatResponse(fixtureJson(name), ctx);
      const choice = out.choices[0];
      expect(choice?.finish_reason).toBe("tool_calls");
      expect(choice?.message.content).toBeNull();
      expect(choice?.message.tool_calls).toHaveLength(1);
      const call = choice?.message.tool_calls?.[0];
      expect(call?.id).toBe("call_3f1c2a9e7b4d_0");
      expect(call?.type).toBe("function");
      expect(call?.function.name).toBe("weather");
      expect(JSON.parse(call?.function.arguments ?? "")).toEqual({ location: "San Francisco" });
    }
  });

  it("separates thoughts, keeps upstream call ids and numbers candidates", () => {
    const out = geminiCodec.chatResponse(
      {
        candidates: [
          {
            content: { role: "model", parts: [{ text: "Let me think.", thought: true }, { text: "Answer" }, { text: " here." }] },
            finishReason: "MAX_TOKENS",
            index: 0,
          },
          {
            content: { role: "model", parts: [{ functionCall: { id: "fc-9", name: "lookup", args: { q: 1 } } }, { functionCall: { name: "other" } }] },
            finishReason: "STOP",
            index: 1,
          },
          { finishReason: "SAFETY", index: 2 },
        ],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6, totalTokenCount: 10, cachedContentTokenCount: 2 },
      },
      ctx,
    );
    expect(out.id).toBe(`chatcmpl-${ctx.requestId}`);
    expect(out.model).toBe(ctx.model);
    expect(out.choices[0]).toEqual({
      index: 0,
      message: { role: "assistant", content: "Answer here.", refusal: null, reasoning_content: "Let me think." },
      finish_reason: "length",
      logprobs: null,
    });
    expect(out.choices[1]?.message.tool_calls).toEqual([
      { id: "fc-9", type: "function", function: { name: "lookup", arguments: '{"q":1}' } },
      { id: "call_3f1c2a9e7b4d_0", type: "function", function: { name: "other", arguments: "{}" } },
    ]);
    expect(out.choices[1]?.finish_reason).toBe("tool_calls");
    expect(out.choices[2]).toMatchObject({ index: 2, message: { content: null }, finish_reason: "content_filter" });
    expect(out.usage).toEqual({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10, prompt_tokens_details: { cached_tokens: 2 } });
  });

  it("answers a prompt blocked before generation with one filtered choice", () => {
    const out = geminiCodec.chatResponse({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 } }, ctx);
    expect(out.choices).toEqual([{ index: 0, message: { role: "assistant", content: null, refusal: null }, finish_reason: "content_filter", logprobs: null }]);
    expect(out.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 0, total_tokens: 8 });
    expect(Object.values(BlockedReason)).toContain("PROHIBITED_CONTENT");
  });

  it("maps every SDK finish reason to an OpenAI one", () => {
    const expected: Record<string, FinishReason> = { STOP: "stop", MAX_TOKENS: "length", SAFETY: "content_filter", RECITATION: "content_filter", BLOCKLIST: "content_filter", PROHIBITED_CONTENT: "content_filter", SPII: "content_filter", OTHER: "stop", MALFORMED_FUNCTION_CALL: "stop" };
    for (const reason of Object.values(SdkFinishReason)) {
      const mapped = finishReason(reason, false);
      expect(["stop", "length", "content_filter"]).toContain(mapped);
      if (expected[reason]) expect(mapped).toBe(expected[reason]);
    }
    expect(finishReason("STOP", true)).toBe("tool_calls");
    expect(finishReason("MAX_TOKENS", true)).toBe("length");
  });

  it("rejects a body that is not a response object", () => {
    expect(() => geminiCodec.chatResponse("nope", ctx)).toThrow();
    expect(() => geminiCodec.chatResponse(null, ctx)).toThrow();
  });
});

/** What each recorded stream must reassemble to, beyond the text (read from the fixture itself). */
const STREAM_CALLS: Record<string, Array<{ name: string; args: JsonObject }>> = {
  "google-text.chunks.txt": [],
  "google-reasoning.chunks.txt": [],
  "google-reasoning-gemini3.chunks.txt": [],
  "google-tool-call.chunks.txt": [{ name: "weather", args: { location: "San Francisco" } }],
  "google-tool-call-gemini3.chunks.txt": [{ name: "weather", args: { location: "San Francisco" } }],
  "google-stream-tool-call-arguments.chunks.txt": [
    { name: "getWeather", args: { location: "Boston" } },
    { name: "getWeather", args: { location: "San Francisco" } },
  ],
  "google-stream-no-args-tool-call.chunks.txt": [
    { name: "read_theme", args: {} },
    { name: "read_screen", args: { id: "A" } },
    { name: "read_screen", args: { id: "B" } },
    { name: "read_screen", args: { id: "C" } },
  ],
  "google-stream-tool-call-array-arguments-missing-terminal-function-call.chunks.txt": [
    {
      name: "writeItems",
      args: {
        operations: [
          { action: "add", description: "Fresh red apple", itemid: "apple_001", price: 0.5 },
          { action: "add", description: "Ripe yellow banana", itemid: "banana_001", price: 0.3 },
        ],
      },
    },
  ],
};

/** The oracle for text: every text part of every event, split by the thought flag. */
function fixtureText(lines: string[]): { content: string; reasoning: string; last: GeminiUsageMetadata | undefined; responseId: string | undefined; modelVersion: string | undefined } {
  let content = "";
  let reasoning = "";
  let last: GeminiUsageMetadata | undefined;
  let responseId: string | undefined;
  let modelVersion: string | undefined;
  for (const l of lines) {
    const r = JSON.parse(l) as GeminiResponse;
    responseId ??= r.responseId;
    modelVersion = r.modelVersion ?? modelVersion;
    if (r.usageMetadata?.totalTokenCount !== undefined) last = r.usageMetadata;
    for (const p of r.candidates?.[0]?.content?.parts ?? []) {
      if (typeof p.text !== "string") continue;
      if (p.thought) reasoning += p.text;
      else content += p.text;
    }
  }
  return { content, reasoning, last, responseId, modelVersion };
}

describe("gemini stream", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".chunks.txt"));

  it("has an expectation for every recorded stream", () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) if (!f.startsWith("google-vertex-")) expect(Object.keys(STREAM_CALLS)).toContain(f);
  });

  for (const file of files) {
    it(`reassembles ${file}`, () => {
      const lines = fixtureLines(file);
      const oracle = fixtureText(lines);
      const { chunks, usage } = translate(lines);
      const got = assemble(chunks);

      expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
      expect(got.roleChunks).toBe(1);
      expect(got.content).toBe(oracle.content);
      expect(got.reasoning).toBe(oracle.reasoning);
      expect(got.ids).toEqual(new Set([oracle.responseId]));
      expect(got.models).toEqual(new Set([oracle.modelVersion]));

      const expectedCalls = STREAM_CALLS[file];
      if (expectedCalls) {
        expect(got.calls.map((c) => ({ name: c.name, args: JSON.parse(c.args) as unknown }))).toEqual(expectedCalls);
      }
      expect(new Set(got.calls.map((c) => c.id)).size).toBe(got.calls.length);
      for (const c of got.calls) expect(c.id).toMatch(/^call_3f1c2a9e7b4d_\d+$/);
      expect(got.finishes).toEqual([got.calls.length > 0 ? "tool_calls" : "stop"]);
      expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).not.toBeNull();

      const m = oracle.last as GeminiUsageMetadata;
      expect(usage).toEqual({
        prompt_tokens: m.promptTokenCount,
        completion_tokens: (m.candidatesTokenCount ?? 0) + (m.thoughtsTokenCount ?? 0),
        total_tokens: m.totalTokenCount,
        completion_tokens_details: { reasoning_tokens: m.thoughtsTokenCount },
      });
    });
  }

  it("rebuilds deeply nested streamed arguments (Vertex)", () => {
    const { chunks } = translate(fixtureLines("google-vertex-stream-tool-call-arguments-nested.1.chunks.txt"));
    const got = assemble(chunks);
    expect(got.calls).toHaveLength(1);
    expect(got.calls[0]?.name).toBe("cookRecipe");
    const args = JSON.parse(got.calls[0]?.args ?? "") as { recipe: { name: string; ingredients: Array<{ amount: string; name: string }>; steps: string[] } };
    expect(args.recipe.name).toBe("Lasagna");
    expect(args.recipe.ingredients).toHaveLength(10);
    expect(args.recipe.ingredients[0]).toEqual({ amount: "16 oz", name: "Lasagna noodles" });
    expect(args.recipe.ingredients[9]).toEqual({ amount: "1/2 tsp", name: "Pepper" });
    expect(args.recipe.steps).toHaveLength(10);
    expect(args.recipe.steps[1]).toBe("Cook lasagna noodles according to package directions, drain and set aside.");
    expect(args.recipe.steps[4]).toBe("In a 9x13 baking dish, spread a thin layer of meat sauce.");
  });

  it("announces a streamed call by name before its arguments are complete", () => {
    const lines = fixtureLines("google-stream-tool-call-arguments.chunks.txt");
    const t = geminiCodec.chatStream(ctx);
    const first = t.push({ event: undefined, data: lines[0] as string });
    expect(first).toHaveLength(1);
    expect(first[0]?.choices[0]?.delta).toEqual({
      role: "assistant",
      tool_calls: [{ index: 0, id: "call_3f1c2a9e7b4d_0", type: "function", function: { name: "getWeather", arguments: "" } }],
    });
    expect(t.push({ event: undefined, data: lines[1] as string })).toEqual([]);
  });

  it("decodes CRLF-framed SSE bytes split at arbitrary points", () => {
    const lines = fixtureLines("google-text.chunks.txt");
    const bytes = Buffer.from(lines.map((l) => `data: ${l}\r\n\r\n`).join(""), "utf8");
    const decoder = createDecoder(geminiCodec.streamFraming);
    const t = geminiCodec.chatStream(ctx);
    const chunks: ChatCompletionChunk[] = [];
    const feed = (events: StreamEvent[]): void => {
      for (const e of events) chunks.push(...t.push(e));
    };
    for (let i = 0; i < bytes.length; i += 37) feed(decoder.feed(bytes.subarray(i, i + 37)));
    feed(decoder.end());
    chunks.push(...t.end());
    expect(assemble(chunks).content).toBe(fixtureText(lines).content);
    expect(assemble(chunks).finishes).toEqual(["stop"]);
  });

  it("fails a stream that ended before a candidate's finishReason instead of inventing one", () => {
    const t = geminiCodec.chatStream(ctx);
    const a = t.push({ event: undefined, data: JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: "Hi" }] } }] }) });
    expect(assemble(a)).toMatchObject({ content: "Hi", finishes: [] });
    expect(() => t.end()).toThrow(expect.objectContaining({ status: 502, code: "incomplete_stream", retryable: true }));

    // An open streamed call, and a stream with no event at all, are cut short too.
    const open = geminiCodec.chatStream(ctx);
    open.push({ event: undefined, data: JSON.stringify({ candidates: [{ content: { parts: [{ functionCall: { name: "f", willContinue: true } }] } }] }) });
    expect(() => open.end()).toThrow(/ended the stream before the answer was complete/);
    expect(() => geminiCodec.chatStream(ctx).end()).toThrow(/ended the stream before the answer was complete/);

    // Every candidate must finish: the second one here never did.
    const two = geminiCodec.chatStream(ctx);
    two.push({ event: undefined, data: JSON.stringify({ candidates: [{ index: 0, content: { parts: [{ text: "a" }] }, finishReason: "STOP" }, { index: 1, content: { parts: [{ text: "b" }] } }] }) });
    expect(() => two.end()).toThrow(/before the answer was complete/);

    const done = geminiCodec.chatStream(ctx);
    done.push({ event: undefined, data: JSON.stringify({ candidates: [{ content: { parts: [{ text: "x" }] }, finishReason: "MAX_TOKENS" }] }) });
    expect(done.end()).toEqual([]);
    const blocked = geminiCodec.chatStream(ctx);
    expect(assemble(blocked.push({ event: undefined, data: JSON.stringify({ promptFeedback: { blockReason: "SAFETY" } }) })).finishes).toEqual(["content_filter"]);
    expect(blocked.end()).toEqual([]);
  });

  it("closes a streamed call before the finish chunk when finishReason arrives first", () => {
    const { chunks } = translate([
      JSON.stringify({ candidates: [{ content: { parts: [{ functionCall: { name: "f", willContinue: true } }] } }] }),
      JSON.stringify({ candidates: [{ content: { parts: [{ functionCall: { partialArgs: [{ jsonPath: "$.ok", boolValue: true }], willContinue: true } }] } }] }),
      JSON.stringify({ candidates: [{ content: { parts: [{ text: "" }] }, finishReason: "STOP" }] }),
    ]);
    const last = chunks[chunks.length - 1];
    expect(last?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks[chunks.length - 2]?.choices[0]?.delta.tool_calls).toEqual([{ index: 0, function: { arguments: '{"ok":true}' } }]);
  });

  it("reports a blocked prompt as content_filter", () => {
    const { chunks } = translate([JSON.stringify({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } })]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.choices[0]).toEqual({ index: 0, delta: { role: "assistant" }, finish_reason: "content_filter", logprobs: null });
  });

  it("turns an error event into a gateway error", () => {
    const t = geminiCodec.chatStream(ctx);
    let caught: unknown;
    try {
      t.push({ event: undefined, data: JSON.stringify({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect(caught).toMatchObject({ status: 502, code: "unavailable", message: "The model is overloaded." });
  });
});

describe("gemini partial arguments", () => {
  it("parses JSON paths", () => {
    expect(parsePath("$.a.b[0].c")).toEqual(["a", "b", 0, "c"]);
    expect(parsePath("$['x y'][\"z\"][12]")).toEqual(["x y", "z", 12]);
    expect(parsePath("$")).toEqual([]);
    expect(parsePath("a.b")).toBeUndefined();
    expect(parsePath("$.a[-1]")).toBeUndefined();
    expect(parsePath("$..a")).toBeUndefined();
  });

  it("appends string fragments and sets other values", () => {
    const root: JsonObject = {};
    applyPartialArg(root, { jsonPath: "$.s", stringValue: "ab", willContinue: true });
    applyPartialArg(root, { jsonPath: "$.s", stringValue: "cd" });
    applyPartialArg(root, { jsonPath: "$.list[1].ok", boolValue: true });
    applyPartialArg(root, { jsonPath: "$.none", nullValue: "NULL_VALUE" });
    applyPartialArg(root, { jsonPath: "bad", numberValue: 1 });
    expect(JSON.stringify(root)).toBe('{"s":"abcd","list":[null,{"ok":true}],"none":null}');
  });

  it("keeps __proto__ as plain data", () => {
    const root: JsonObject = {};
    applyPartialArg(root, { jsonPath: "$.__proto__.polluted", stringValue: "yes" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(root)).toBe('{"__proto__":{"polluted":"yes"}}');
  });
});

describe("gemini embeddings and errors", () => {
  it("builds batchEmbedContents and reads the vectors back", () => {
    const req = geminiCodec.embeddingsRequest?.({ model: "x", input: ["a", "bc"], dimensions: 256 }, { ...ctx, model: "models/gemini-embedding-001" });
    expect(req?.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(parseBody(req?.body ?? "")).toEqual({
      requests: [
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "a" }] }, outputDimensionality: 256 },
        { model: "models/gemini-embedding-001", content: { parts: [{ text: "bc" }] }, outputDimensionality: 256 },
      ],
    });
    const single = geminiCodec.embeddingsRequest?.({ model: "x", input: "solo" }, { ...ctx, model: "text-embedding-004" });
    expect(parseBody(single?.body ?? "")).toEqual({ requests: [{ model: "models/text-embedding-004", content: { parts: [{ text: "solo" }] } }] });

    const out = geminiCodec.embeddingsResponse?.({ embeddings: [{ values: [0.1, 0.2] }, { values: [0.3] }] }, { ...ctx, model: "gemini-embedding-001" });
    expect(out).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.1, 0.2] },
        { object: "embedding", index: 1, embedding: [0.3] },
      ],
      model: "gemini-embedding-001",
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
    expect(() => geminiCodec.embeddingsResponse?.({ error: {} }, ctx)).toThrow();
  });

  it("refuses token-array input", () => {
    expect(() => geminiCodec.embeddingsRequest?.({ model: "x", input: [1, 2, 3] }, ctx)).toThrow(GatewayError);
  });

  it("parses Google error bodies", () => {
    expect(geminiCodec.parseError(429, fixture("google-429-retry-info.json"))).toEqual({
      message: "You exceeded your current quota, please check your plan.",
      type: "RESOURCE_EXHAUSTED",
      code: "resource_exhausted",
    });
    expect(geminiCodec.parseError(400, '[{"error":{"code":400,"message":"Bad field","status":"INVALID_ARGUMENT"}}]')).toEqual({
      message: "Bad field",
      type: "INVALID_ARGUMENT",
      code: "invalid_argument",
    });
    expect(geminiCodec.parseError(502, "<html>Bad Gateway</html>")).toEqual({ message: "upstream returned HTTP 502", type: undefined, code: undefined });
    expect(geminiCodec.parseError(500, '{"unexpected":true}')).toEqual({ message: "upstream returned HTTP 500", type: undefined, code: undefined });
  });
});

describe("gemini mock upstream round trip", () => {
  const textReply: MockReply = { model: "gemini-2.5-flash", text: "Mock reply to: hello there", usage: { input: 10, output: 7 }, stop: "end" };
  const toolReply: MockReply = {
    model: "gemini-2.5-flash",
    text: "",
    toolCall: { id: "call_mock_0001", name: "get_weather", arguments: { input: "hello" } },
    usage: { input: 10, output: 12 },
    stop: "tool",
  };

  it("reads what the codec sends", () => {
    const tools: ChatRequest["tools"] = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const first = geminiCodec.chatRequest(chat({ messages: [{ role: "user", content: "hello there" }], tools, max_tokens: 64 }), ctx, true);
    expect(geminiFormat.parseChat(first.path.split("?")[0] as string, parseBody(first.body) as JsonObject)).toEqual({
      model: "gemini-2.5-flash",
      stream: true,
      lastUserText: "hello there",
      firstToolName: "get_weather",
      lastIsToolResult: false,
      maxTokens: 64,
    });
    const second = geminiCodec.chatRequest(
      chat({
        messages: [
          { role: "user", content: "hello there" },
          { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "c1", content: "sunny" },
        ],
        tools,
      }),
      ctx,
      false,
    );
    expect(geminiFormat.parseChat(second.path, parseBody(second.body) as JsonObject)).toMatchObject({ stream: false, lastUserText: "hello there", lastIsToolResult: true });
  });

  it("shapes bodies like the recorded responses", () => {
    const text = JSON.parse(geminiFormat.chatBody(textReply)) as JsonObject;
    const recorded = JSON.parse(fixture("google-text.json")) as JsonObject;
    expect(Object.keys(text).sort()).toEqual(Object.keys(recorded).sort());
    const cand = (o: JsonObject): string[] => Object.keys((o.candidates as JsonObject[])[0] as JsonObject).sort();
    expect(cand(text)).toEqual(cand(recorded));
    const tool = JSON.parse(geminiFormat.chatBody(toolReply)) as JsonObject;
    expect(cand(tool)).toEqual(cand(JSON.parse(fixture("google-tool-call.json")) as JsonObject));
    expect(geminiFormat.chatStream(textReply, 3).every((f) => f.startsWith("data: {") && f.endsWith("}\r\n\r\n"))).toBe(true);
  });

  it("non-stream bodies translate back", () => {
    const out = geminiCodec.chatResponse(JSON.parse(geminiFormat.chatBody(textReply)), ctx);
    expect(out.choices[0]?.message.content).toBe(textReply.text);
    expect(out.choices[0]?.finish_reason).toBe("stop");
    expect(out.usage).toEqual({ prompt_tokens: 10, completion_tokens: 7, total_tokens: 17 });

    const tool = geminiCodec.chatResponse(JSON.parse(geminiFormat.chatBody(toolReply)), ctx);
    expect(tool.choices[0]?.finish_reason).toBe("tool_calls");
    expect(tool.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: "get_weather", arguments: '{"input":"hello"}' });

    const cut = geminiCodec.chatResponse(JSON.parse(geminiFormat.chatBody({ ...textReply, stop: "length", usage: { input: 10, output: 2, cached: 4 } })), ctx);
    expect(cut.choices[0]?.finish_reason).toBe("length");
    expect(cut.usage?.prompt_tokens_details).toEqual({ cached_tokens: 4 });
  });

  it("streams translate back through the SSE decoder", () => {
    for (const [reply, expectText, expectFinish] of [
      [textReply, textReply.text, "stop"],
      [toolReply, "", "tool_calls"],
    ] as const) {
      const frames = geminiFormat.chatStream(reply, 4);
      const decoder = createDecoder("sse");
      const t = geminiCodec.chatStream(ctx);
      const chunks: ChatCompletionChunk[] = [];
      for (const f of frames) for (const e of decoder.feed(Buffer.from(f))) chunks.push(...t.push(e));
      for (const e of decoder.end()) chunks.push(...t.push(e));
      chunks.push(...t.end());
      const got = assemble(chunks);
      expect(got.content).toBe(expectText);
      expect(got.finishes).toEqual([expectFinish]);
      expect(t.usage()).toEqual({ prompt_tokens: 10, completion_tokens: reply.usage.output, total_tokens: 10 + reply.usage.output });
      if (reply.toolCall) expect(got.calls.map((c) => [c.name, c.args])).toEqual([["get_weather", '{"input":"hello"}']]);
      else expect(frames.length).toBe(4);
    }
  });

  it("errors and embeddings parse back", () => {
    for (const [status, name] of [
      [400, "INVALID_ARGUMENT"],
      [401, "UNAUTHENTICATED"],
      [403, "PERMISSION_DENIED"],
      [404, "NOT_FOUND"],
      [429, "RESOURCE_EXHAUSTED"],
      [500, "INTERNAL"],
      [503, "UNAVAILABLE"],
      [504, "DEADLINE_EXCEEDED"],
    ] as const) {
      expect(geminiCodec.parseError(status, geminiFormat.errorBody(status, `boom ${status}`))).toEqual({ message: `boom ${status}`, type: name, code: name.toLowerCase() });
    }
    const req = geminiCodec.embeddingsRequest?.({ model: "e", input: ["alpha", "beta"] }, { ...ctx, model: "gemini-embedding-001" });
    const vector = (s: string): number[] => [s.length, s.charCodeAt(0)];
    const mockBody = geminiFormat.embeddingsBody?.(req?.path ?? "", parseBody(req?.body ?? "") as JsonObject, vector) ?? "";
    const out = geminiCodec.embeddingsResponse?.(JSON.parse(mockBody), ctx);
    expect(out?.data.map((d) => d.embedding)).toEqual([vector("alpha"), vector("beta")]);
  });
});
