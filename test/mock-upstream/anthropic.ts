// Anthropic's Messages API as api.anthropic.com answers (compare the fixtures in
// shared/fixtures/anthropic): a Message body, or a stream of named SSE events: message_start,
// content_block_start, ping, content_block_delta..., content_block_stop, message_delta,
// message_stop. Tool calls are tool_use blocks whose input streams as input_json_delta fragments.
import type Anthropic from "@anthropic-ai/sdk";
import type { JsonObject, JsonValue } from "../../src/api/types.js";
import { splitText, type MockFormat, type MockReply, type ParsedChat } from "./format.js";

const MESSAGE_ID = "msg_01MockAnthropic0000000001";
const REQUEST_ID = "req_01MockAnthropic0000000001";

// The SDK's response types also list fields the live API leaves out of these responses (see the
// fixtures): those are optional here, everything else is checked against the SDK.
type Opt<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
export type WireTextBlock = Opt<Anthropic.TextBlock, "citations">;
export type WireToolUseBlock = Opt<Anthropic.ToolUseBlock, "caller">;
export type WireUsage = Opt<Anthropic.Usage, "output_tokens_details" | "server_tool_use" | "speed">;
export type WireMessage = Opt<Omit<Anthropic.Message, "content" | "usage">, "container" | "diagnostics" | "stop_details"> & {
  content: Array<WireTextBlock | WireToolUseBlock>;
  usage: WireUsage;
};
export type WireStreamEvent =
  | { type: "message_start"; message: WireMessage }
  | { type: "content_block_start"; index: number; content_block: WireTextBlock | WireToolUseBlock }
  | { type: "ping" }
  | Anthropic.RawContentBlockDeltaEvent
  | Anthropic.RawContentBlockStopEvent
  | {
      type: "message_delta";
      delta: Opt<Anthropic.RawMessageDeltaEvent.Delta, "container" | "stop_details">;
      usage: Opt<Anthropic.MessageDeltaUsage, "output_tokens_details" | "server_tool_use">;
    }
  | Anthropic.RawMessageStopEvent;

/** Anthropic's error.type for each HTTP status (docs: "HTTP errors"). */
const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function blocksOf(content: JsonValue | undefined): JsonObject[] {
  return Array.isArray(content) ? content.filter(isObject) : [];
}

/** Text of a user turn: the string content, or its text blocks joined. */
function textOf(content: JsonValue | undefined): string {
  if (typeof content === "string") return content;
  return blocksOf(content)
    .map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : ""))
    .join("");
}

function stopReason(reply: MockReply): Anthropic.StopReason {
  return reply.stop === "tool" ? "tool_use" : reply.stop === "length" ? "max_tokens" : "end_turn";
}

/** Anthropic's input_tokens excludes cached tokens, which it reports apart. */
function usage(reply: MockReply, output: number): WireUsage {
  const cached = reply.usage.cached ?? 0;
  return {
    input_tokens: reply.usage.input - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    service_tier: "standard",
    inference_geo: "not_available",
  };
}

function content(reply: MockReply): Array<WireTextBlock | WireToolUseBlock> {
  const call = reply.toolCall;
  if (call) return [{ type: "tool_use", id: call.id, name: call.name, input: call.arguments }];
  return [{ type: "text", text: reply.text }];
}

/** The whole Message object, as the non-streaming API returns it. */
export function mockMessage(reply: MockReply): WireMessage {
  return {
    model: reply.model,
    id: MESSAGE_ID,
    type: "message",
    role: "assistant",
    content: content(reply),
    stop_reason: stopReason(reply),
    stop_sequence: null,
    usage: usage(reply, reply.usage.output),
  };
}

/** The stream's events in order, as parsed objects. */
export function mockStreamEvents(reply: MockReply, chunks: number): WireStreamEvent[] {
  // message_start carries an empty message and the prompt usage; output so far is 1 token.
  const start: WireMessage = { ...mockMessage(reply), content: [], stop_reason: null, usage: usage(reply, 1) };
  const events: WireStreamEvent[] = [{ type: "message_start", message: start }];
  const call = reply.toolCall;
  if (call) {
    events.push({ type: "content_block_start", index: 0, content_block: { type: "tool_use", id: call.id, name: call.name, input: {} } });
    events.push({ type: "ping" });
    // The live API opens every tool input with an empty fragment.
    events.push({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "" } });
    for (const piece of splitText(JSON.stringify(call.arguments), Math.max(1, chunks)))
      events.push({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: piece } });
  } else {
    events.push({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    events.push({ type: "ping" });
    for (const piece of splitText(reply.text, chunks))
      if (piece) events.push({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } });
  }
  events.push({ type: "content_block_stop", index: 0 });
  const u = usage(reply, reply.usage.output);
  events.push({
    type: "message_delta",
    delta: { stop_reason: stopReason(reply), stop_sequence: null },
    usage: {
      input_tokens: u.input_tokens,
      cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens,
      output_tokens: u.output_tokens,
    },
  });
  events.push({ type: "message_stop" });
  return events;
}

export const anthropicFormat: MockFormat = {
  name: "anthropic",
  parseChat(_path: string, body: JsonObject): ParsedChat {
    const messages = Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
    // Tool results travel in user turns too: the last user turn that has text is the prompt.
    let lastUserText = "";
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i] as JsonObject;
      if (m.role !== "user") continue;
      const text = textOf(m.content);
      if (!text) continue;
      lastUserText = text;
      break;
    }
    const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
    const firstTool = tools[0];
    const last = messages[messages.length - 1];
    return {
      model: typeof body.model === "string" ? body.model : "unknown",
      stream: body.stream === true,
      lastUserText,
      firstToolName: typeof firstTool?.name === "string" ? firstTool.name : undefined,
      lastIsToolResult: last?.role === "user" && blocksOf(last.content).some((b) => b.type === "tool_result"),
      maxTokens: typeof body.max_tokens === "number" ? body.max_tokens : undefined,
    };
  },

  chatBody(reply: MockReply): string {
    return JSON.stringify(mockMessage(reply));
  },

  chatStream(reply: MockReply, chunks: number): string[] {
    return mockStreamEvents(reply, chunks).map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  },

  errorBody(status: number, message: string): string {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    return JSON.stringify({ type: "error", error: { type, message }, request_id: REQUEST_ID });
  },
};
