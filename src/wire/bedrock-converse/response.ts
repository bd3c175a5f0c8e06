// Bedrock Converse response -> OpenAI chat.completion.
import type { ChatCompletion, FinishReason, ToolCall, Usage } from "../../api/types.js";
import type { CodecContext } from "../../providers/types.js";
import type { ConverseResponseBody, ConverseUsage } from "./types.js";

/** Converse stopReason -> OpenAI finish_reason. */
export function finishReason(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter";
    default:
      // end_turn, stop_sequence
      return "stop";
  }
}

/**
 * Converse reports cache reads and writes apart from inputTokens (as Anthropic does); OpenAI's
 * prompt_tokens counts every input token, with the cached reads as a detail.
 */
export function converseUsage(u: ConverseUsage | undefined): Usage | undefined {
  if (!u) return undefined;
  const cacheRead = u.cacheReadInputTokens ?? 0;
  const cacheWrite = u.cacheWriteInputTokens ?? 0;
  const prompt = (u.inputTokens ?? 0) + cacheRead + cacheWrite;
  const completion = u.outputTokens ?? 0;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (u.cacheReadInputTokens !== undefined || u.cacheWriteInputTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: cacheRead };
  return usage;
}

export function responseId(ctx: CodecContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

export function converseResponse(json: unknown, ctx: CodecContext): ChatCompletion {
  const body = json as ConverseResponseBody;
  const blocks = body.output?.message?.content;
  if (!Array.isArray(blocks)) throw new Error("Converse response has no output.message.content");
  let text = "";
  let reasoning = "";
  const toolCalls: ToolCall[] = [];
  for (const b of blocks) {
    if (typeof b.text === "string") text += b.text;
    else if (b.toolUse) toolCalls.push({ id: b.toolUse.toolUseId, type: "function", function: { name: b.toolUse.name, arguments: JSON.stringify(b.toolUse.input ?? {}) } });
    else if (b.reasoningContent?.reasoningText) reasoning += b.reasoningContent.reasoningText.text;
  }
  const message: ChatCompletion["choices"][number]["message"] = {
    role: "assistant",
    content: text === "" && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoning !== "") message.reasoning_content = reasoning;
  const completion: ChatCompletion = {
    id: responseId(ctx),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: finishReason(body.stopReason), logprobs: null }],
  };
  const usage = converseUsage(body.usage);
  if (usage) completion.usage = usage;
  return completion;
}
