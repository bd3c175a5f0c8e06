// Gemini GenerateContentResponse → OpenAI chat.completion. Also home of the pieces the stream
// translator shares: finish reasons, usage and tool call ids.
import type { ChatCompletion, ChatCompletionChoice, FinishReason, ToolCall, Usage } from "../../api/types.js";
import type { CodecContext } from "../../providers/types.js";
import type { GeminiCandidate, GeminiResponse, GeminiUsageMetadata } from "./types.js";

/** Gemini stop reasons that mean "output withheld by a filter". */
const FILTERED = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"]);

export function finishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (reason !== undefined && FILTERED.has(reason)) return "content_filter";
  // Gemini says STOP after function calls; OpenAI clients look for "tool_calls" to run them.
  return hasToolCalls ? "tool_calls" : "stop";
}

/** Usage in OpenAI's terms; undefined when the metadata carries no counts (Vertex stream chunks). */
export function toUsage(m: GeminiUsageMetadata | undefined): Usage | undefined {
  if (!m || (m.promptTokenCount === undefined && m.totalTokenCount === undefined && m.candidatesTokenCount === undefined)) return undefined;
  const prompt = m.promptTokenCount ?? 0;
  const thoughts = m.thoughtsTokenCount ?? 0;
  const completion = (m.candidatesTokenCount ?? 0) + thoughts;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: m.totalTokenCount ?? prompt + completion };
  if (m.cachedContentTokenCount !== undefined) usage.prompt_tokens_details = { cached_tokens: m.cachedContentTokenCount };
  if (m.thoughtsTokenCount !== undefined) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** Prefix for synthesised tool call ids: unique per request, short enough to echo back cheaply. */
export function callIdPrefix(requestId: string): string {
  return `call_${requestId.replaceAll("-", "").slice(0, 12)}_`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function geminiChatResponse(body: unknown, ctx: CodecContext): ChatCompletion {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("Gemini response is not an object");
  const res = body as GeminiResponse;
  const prefix = callIdPrefix(ctx.requestId);
  const counter = { n: 0 };
  const choices: ChatCompletionChoice[] = [];
  const candidates = Array.isArray(res.candidates) ? res.candidates : [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (c) choices.push(toChoice(c, i, prefix, counter));
  }
  if (choices.length === 0) {
    // No candidates: the prompt itself was blocked (promptFeedback), or nothing was generated.
    const blocked = res.promptFeedback?.blockReason !== undefined;
    choices.push({
      index: 0,
      message: { role: "assistant", content: null, refusal: null },
      finish_reason: blocked ? "content_filter" : "stop",
      logprobs: null,
    });
  }
  const out: ChatCompletion = {
    id: res.responseId ? res.responseId : `chatcmpl-${ctx.requestId}`,
    object: "chat.completion",
    created: nowSeconds(),
    model: res.modelVersion ? res.modelVersion : ctx.model,
    choices,
  };
  const usage = toUsage(res.usageMetadata);
  if (usage) out.usage = usage;
  return out;
}

function toChoice(c: GeminiCandidate, position: number, prefix: string, counter: { n: number }): ChatCompletionChoice {
  let text = "";
  let reasoning = "";
  const calls: ToolCall[] = [];
  const parts = c.content?.parts;
  if (Array.isArray(parts)) {
    for (const p of parts) {
      if (p.functionCall) {
        const fc = p.functionCall;
        calls.push({
          id: fc.id ? fc.id : `${prefix}${counter.n++}`,
          type: "function",
          function: { name: fc.name ?? "", arguments: JSON.stringify(fc.args ?? {}) },
        });
      } else if (typeof p.text === "string") {
        if (p.thought === true) reasoning += p.text;
        else text += p.text;
      }
    }
  }
  const finish = finishReason(c.finishReason, calls.length > 0);
  const message: ChatCompletionChoice["message"] = {
    role: "assistant",
    // OpenAI sends null content beside tool calls and when a filter withheld the output.
    content: text || (calls.length > 0 || finish === "content_filter" ? null : ""),
    refusal: null,
  };
  if (calls.length > 0) message.tool_calls = calls;
  if (reasoning) message.reasoning_content = reasoning;
  return { index: typeof c.index === "number" ? c.index : position, message, finish_reason: finish, logprobs: null };
}
