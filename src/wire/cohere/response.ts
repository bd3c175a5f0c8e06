// Cohere v2 chat response → OpenAI chat.completion; finish reasons and usage shared with the stream.
import type { ChatCompletion, FinishReason, ToolCall, Usage } from "../../api/types.js";
import type { CodecContext } from "../../providers/types.js";
import type { CohereChatResponse, CohereUsage } from "./types.js";

export function cohereFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case "MAX_TOKENS":
    case "ERROR_LIMIT":
      return "length";
    case "TOOL_CALL":
      return "tool_calls";
    case "CONTENT_BLOCKED":
    case "ERROR_TOXIC":
      return "content_filter";
    default:
      // COMPLETE, STOP_SEQUENCE, ERROR and anything newer.
      return hasToolCalls ? "tool_calls" : "stop";
  }
}

/**
 * Cohere bills `billed_units`; `tokens` also counts the prompt template Cohere adds, and
 * `cached_tokens` is measured in those raw tokens. Usage reports what is billed, so cost and budgets
 * agree with the invoice; the raw counts are used only when billed units are missing. Cached tokens
 * are reported only alongside raw counts (Cohere has no cached-token price to apply them to).
 */
export function cohereUsage(u: CohereUsage | undefined): Usage | undefined {
  if (!u) return undefined;
  const billedIn = u.billed_units?.input_tokens;
  const billedOut = u.billed_units?.output_tokens;
  if (typeof billedIn === "number" || typeof billedOut === "number") {
    const prompt = billedIn ?? 0;
    const completion = billedOut ?? 0;
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }
  const prompt = u.tokens?.input_tokens ?? 0;
  const completion = u.tokens?.output_tokens ?? 0;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (typeof u.cached_tokens === "number" && u.cached_tokens > 0) usage.prompt_tokens_details = { cached_tokens: Math.min(u.cached_tokens, prompt) };
  return usage;
}

/** Cohere sends "null" or "" for a call without arguments; OpenAI clients parse arguments as an object. */
export function normaliseArguments(args: string | undefined): string {
  if (args === undefined) return "{}";
  const trimmed = args.trim();
  return trimmed === "" || trimmed === "null" ? "{}" : args;
}

export function cohereChatResponse(json: unknown, ctx: CodecContext): ChatCompletion {
  const body = json as CohereChatResponse;
  if (!body || typeof body !== "object" || !body.message) throw new Error("not a Cohere chat response");
  const msg = body.message;
  let text = "";
  let thinking = "";
  for (const part of msg.content ?? []) {
    if (part.type === "text" && typeof part.text === "string") text += part.text;
    else if (part.type === "thinking" && typeof part.thinking === "string") thinking += part.thinking;
  }
  const toolCalls: ToolCall[] = (msg.tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}`,
    type: "function",
    function: { name: c.function?.name ?? "", arguments: normaliseArguments(c.function?.arguments) },
  }));
  // The tool plan is the model's reasoning before it calls tools: reported as reasoning, not content.
  if (msg.tool_plan) thinking = thinking ? `${thinking}\n${msg.tool_plan}` : msg.tool_plan;
  const message: ChatCompletion["choices"][number]["message"] = { role: "assistant", content: text || (toolCalls.length > 0 ? null : ""), refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thinking) message.reasoning_content = thinking;
  const completion: ChatCompletion = {
    id: body.id ?? `chatcmpl-${ctx.requestId}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: cohereFinishReason(body.finish_reason, toolCalls.length > 0), logprobs: null }],
  };
  const usage = cohereUsage(body.usage);
  if (usage) completion.usage = usage;
  return completion;
}
