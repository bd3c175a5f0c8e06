// OpenAI's chat completions wire, as api.openai.com sends it (compare the fixtures in
// shared/fixtures/openai): chat.completion bodies, chat.completion.chunk SSE frames ending in
// "data: [DONE]", usage in a last chunk with empty choices when stream_options.include_usage is set.
import type { JsonObject, JsonValue } from "../../src/api/types.js";
import { parseOpenAIShapedChat, splitText, type MockFormat, type MockReply, type ParsedChat } from "./format.js";

const CREATED = 1_732_000_000;

/** OpenAI's base64 embeddings are little-endian float32 arrays. */
function toBase64(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString("base64");
}

function finishReason(reply: MockReply): string {
  return reply.stop === "tool" ? "tool_calls" : reply.stop === "length" ? "length" : "stop";
}

function usage(reply: MockReply): JsonObject {
  return {
    prompt_tokens: reply.usage.input,
    completion_tokens: reply.usage.output,
    total_tokens: reply.usage.input + reply.usage.output,
    prompt_tokens_details: { cached_tokens: reply.usage.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

const ERROR_TYPES: Record<number, [string, string | null]> = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  403: ["invalid_request_error", "unsupported_country_region_territory"],
  404: ["invalid_request_error", "model_not_found"],
  429: ["requests", "rate_limit_exceeded"],
  500: ["server_error", null],
  503: ["server_error", null],
};

export const openaiFormat: MockFormat = {
  name: "openai",
  parseChat(_path: string, body: JsonObject): ParsedChat {
    const opts = body.stream_options as JsonObject | undefined;
    return { ...parseOpenAIShapedChat(body, body.max_completion_tokens ?? body.max_tokens), includeUsage: opts?.include_usage === true };
  },


  chatBody(reply: MockReply): string {
    const message: JsonObject = { role: "assistant", content: reply.toolCall ? null : reply.text, refusal: null, annotations: [] };
    if (reply.toolCall)
      message.tool_calls = [{ id: reply.toolCall.id, type: "function", function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments) } }];
    return JSON.stringify({
      id: "chatcmpl-mock0001",
      object: "chat.completion",
      created: CREATED,
      model: reply.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
      usage: usage(reply),
      service_tier: "default",
      system_fingerprint: "fp_mock",
    });
  },

  chatStream(reply: MockReply, chunks: number): string[] {
    const withUsage = reply.includeUsage === true;
    const base = { id: "chatcmpl-mock0001", object: "chat.completion.chunk", created: CREATED, model: reply.model, service_tier: "default", system_fingerprint: "fp_mock" };
    const frame = (choices: JsonValue[], extra: JsonObject = {}): string =>
      `data: ${JSON.stringify({ ...base, choices, ...(withUsage ? { usage: null } : {}), ...extra })}\n\n`;
    const out: string[] = [frame([{ index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null }])];
    if (reply.toolCall) {
      const args = JSON.stringify(reply.toolCall.arguments);
      out.push(
        frame([
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, id: reply.toolCall.id, type: "function", function: { name: reply.toolCall.name, arguments: "" } }] },
            logprobs: null,
            finish_reason: null,
          },
        ]),
      );
      for (const piece of splitText(args, Math.max(1, chunks - 1)))
        out.push(frame([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, logprobs: null, finish_reason: null }]));
    } else {
      for (const piece of splitText(reply.text, chunks)) out.push(frame([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]));
    }
    out.push(frame([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason(reply) }]));
    if (withUsage) out.push(`data: ${JSON.stringify({ ...base, choices: [], usage: usage(reply) })}\n\n`);
    out.push("data: [DONE]\n\n");
    return out;
  },

  errorBody(status: number, message: string): string {
    const [type, code] = ERROR_TYPES[status] ?? (status >= 500 ? ["server_error", null] : ["invalid_request_error", null]);
    return JSON.stringify({ error: { message, type, param: null, code } });
  },

  embeddingsBody(_path: string, body: JsonObject, vector: (text: string) => number[]): string {
    const input = body.input;
    const texts = typeof input === "string" ? [input] : Array.isArray(input) ? input.map((x) => (typeof x === "string" ? x : JSON.stringify(x))) : [];
    const tokens = texts.reduce((n, t) => n + Math.max(1, Math.ceil(t.length / 4)), 0);
    return JSON.stringify({
      object: "list",
      data: texts.map((t, index) => ({ object: "embedding", index, embedding: body.encoding_format === "base64" ? toBase64(vector(t)) : vector(t) })),
      model: typeof body.model === "string" ? body.model : "unknown",
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  },
};
