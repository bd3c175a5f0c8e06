// Anthropic Message → OpenAI chat.completion. Text blocks become the content, thinking blocks the
// reasoning_content, tool_use blocks tool_calls. Server-side tool blocks (web search, code
// execution, MCP, advisor...) ran upstream and have no OpenAI counterpart: they are left out.
import type { ChatCompletion, FinishReason, ToolCall, Usage } from "../../api/types.js";
import type { CodecContext } from "../../providers/types.js";
import { jsonToolName } from "./request.js";

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

/** The fields of a content block we read; every block type shares this loose shape. */
export interface AnthropicBlock {
  type: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

export interface AnthropicMessage {
  id?: string;
  type?: string;
  model?: string;
  content?: AnthropicBlock[];
  stop_reason?: string | null;
  usage?: AnthropicUsage | null;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Maps Anthropic's stop_reason; tool_use with no client tool call left (the JSON tool) is a plain stop. */
export function finishReason(stop: string | null | undefined, toolCalls: boolean): FinishReason {
  switch (stop) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return toolCalls ? "tool_calls" : "stop";
    case "refusal":
      return "content_filter";
    default:
      return toolCalls ? "tool_calls" : "stop";
  }
}

const num = (v: number | null | undefined): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** Anthropic counts cached prompt tokens apart from input_tokens; OpenAI's prompt_tokens includes them. */
export function toUsage(u: AnthropicUsage): Usage {
  const cacheRead = num(u.cache_read_input_tokens);
  const prompt = num(u.input_tokens) + cacheRead + num(u.cache_creation_input_tokens);
  const completion = num(u.output_tokens);
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  const thinking = u.output_tokens_details?.thinking_tokens;
  if (typeof thinking === "number") usage.completion_tokens_details = { reasoning_tokens: thinking };
  return usage;
}

export function anthropicChatResponse(json: unknown, ctx: CodecContext): ChatCompletion {
  const msg = json as AnthropicMessage;
  if (typeof msg !== "object" || msg === null || !Array.isArray(msg.content)) throw new Error("Anthropic response has no content array");
  const jsonTool = jsonToolName(ctx);
  let text = "";
  let hasText = false;
  let reasoning = "";
  const toolCalls: ToolCall[] = [];
  for (const b of msg.content) {
    if (b.type === "text" && typeof b.text === "string") {
      text += b.text;
      hasText = true;
    } else if (b.type === "thinking" && typeof b.thinking === "string") {
      reasoning += b.thinking;
    } else if (b.type === "tool_use" && typeof b.name === "string") {
      const args = JSON.stringify(b.input ?? {});
      if (b.name === jsonTool) {
        // The forced response_format tool: its input is the answer.
        text += args;
        hasText = true;
      } else {
        toolCalls.push({ id: b.id ?? "", type: "function", function: { name: b.name, arguments: args } });
      }
    }
  }
  const message: ChatCompletion["choices"][number]["message"] = { role: "assistant", content: hasText ? text : null, refusal: null };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const completion: ChatCompletion = {
    id: msg.id || `chatcmpl-${ctx.requestId}`,
    object: "chat.completion",
    created: nowSeconds(),
    model: msg.model || ctx.model,
    choices: [{ index: 0, message, finish_reason: finishReason(msg.stop_reason, toolCalls.length > 0), logprobs: null }],
  };
  if (msg.usage) completion.usage = toUsage(msg.usage);
  return completion;
}
