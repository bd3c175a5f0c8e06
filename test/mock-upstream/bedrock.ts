// AWS Bedrock Runtime as the real service answers (compare shared/fixtures/amazon-bedrock):
// Converse bodies with output.message.content blocks, stopReason and usage (cache counts too);
// ConverseStream as binary AWS event-stream messages (application/vnd.amazon.eventstream), each
// with :event-type / :content-type / :message-type headers and a JSON payload padded with "p";
// InvokeModel bodies for Titan and Cohere embedding models; restJson1 error bodies {"message"}.
import type { JsonObject, JsonValue } from "../../src/api/types.js";
import { encodeEvent } from "../../src/wire/bedrock-converse/eventstream.js";
import { splitText, type MockFormat, type MockReply, type ParsedChat } from "./format.js";

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse" -> "anthropic.claude-3-5-haiku-20241022-v1:0". */
export function bedrockModelFromPath(path: string): string {
  const m = /^\/model\/([^/]+)\//.exec(path);
  return m ? decodeURIComponent(m[1] ?? "") : "unknown";
}

function stopReason(reply: MockReply): string {
  return reply.stop === "tool" ? "tool_use" : reply.stop === "length" ? "max_tokens" : "end_turn";
}

function usage(reply: MockReply): JsonObject {
  const cached = reply.usage.cached ?? 0;
  return {
    cacheReadInputTokenCount: cached,
    cacheReadInputTokens: cached,
    cacheWriteInputTokenCount: 0,
    cacheWriteInputTokens: 0,
    inputTokens: reply.usage.input,
    outputTokens: reply.usage.output,
    serverToolUsage: {},
    totalTokens: reply.usage.input + cached + reply.usage.output,
  };
}

/** The stream as [event type, payload] pairs, in the order ConverseStream sends them. */
function streamEvents(reply: MockReply, chunks: number): Array<[string, JsonObject]> {
  const out: Array<[string, JsonObject]> = [["messageStart", { role: "assistant" }]];
  if (reply.toolCall) {
    const call = reply.toolCall;
    out.push(["contentBlockStart", { contentBlockIndex: 0, start: { toolUse: { toolUseId: call.id, name: call.name } } }]);
    for (const piece of splitText(JSON.stringify(call.arguments), Math.max(1, chunks - 1)))
      out.push(["contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: piece } } }]);
  } else {
    for (const piece of splitText(reply.text, chunks)) out.push(["contentBlockDelta", { contentBlockIndex: 0, delta: { text: piece } }]);
  }
  out.push(["contentBlockStop", { contentBlockIndex: 0 }]);
  out.push(["messageStop", { stopReason: stopReason(reply) }]);
  out.push(["metadata", { usage: usage(reply), metrics: { latencyMs: 42 } }]);
  return out;
}

/** Bedrock pads event payloads with a "p" field of varying length (to hide token sizes). */
function padded(payload: JsonObject, i: number): string {
  return JSON.stringify({ ...payload, p: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ".slice(0, 4 + ((i * 7) % 30)) });
}

export const bedrockFormat: MockFormat = {
  name: "bedrock",
  streamContentType: "application/vnd.amazon.eventstream",

  parseChat(path: string, body: JsonObject): ParsedChat {
    const messages = Array.isArray(body.messages) ? body.messages.filter(isObject) : [];
    let lastUserText = "";
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i] as JsonObject;
      if (m.role !== "user") continue;
      const blocks = Array.isArray(m.content) ? m.content.filter(isObject) : [];
      const texts = blocks.filter((b) => typeof b.text === "string");
      if (texts.length === 0) continue;
      lastUserText = texts.map((b) => b.text as string).join("");
      break;
    }
    const last = messages[messages.length - 1];
    const lastBlocks = last && Array.isArray(last.content) ? last.content.filter(isObject) : [];
    const toolConfig = isObject(body.toolConfig) ? body.toolConfig : undefined;
    const tools = toolConfig && Array.isArray(toolConfig.tools) ? toolConfig.tools.filter(isObject) : [];
    const firstSpec = tools[0]?.toolSpec;
    const inference = isObject(body.inferenceConfig) ? body.inferenceConfig : undefined;
    return {
      model: bedrockModelFromPath(path),
      stream: path.endsWith("/converse-stream"),
      lastUserText,
      firstToolName: isObject(firstSpec) && typeof firstSpec.name === "string" ? firstSpec.name : undefined,
      lastIsToolResult: last?.role === "user" && lastBlocks.some((b) => b.toolResult !== undefined),
      maxTokens: typeof inference?.maxTokens === "number" ? inference.maxTokens : undefined,
    };
  },

  chatBody(reply: MockReply): string {
    const content: JsonObject[] = reply.toolCall
      ? [{ toolUse: { toolUseId: reply.toolCall.id, name: reply.toolCall.name, input: reply.toolCall.arguments } }]
      : [{ text: reply.text }];
    return JSON.stringify({
      metrics: { latencyMs: 42 },
      output: { message: { content, role: "assistant" } },
      stopReason: stopReason(reply),
      usage: usage(reply),
    });
  },

  /** The decoded view, one {"eventType": payload} per line, as in the recorded fixtures. */
  chatStream(reply: MockReply, chunks: number): string[] {
    return streamEvents(reply, chunks).map(([name, payload]) => `${JSON.stringify({ [name]: payload })}\n`);
  },

  chatStreamFrames(reply: MockReply, chunks: number): Uint8Array[] {
    return streamEvents(reply, chunks).map(([name, payload], i) => encodeEvent(name, padded(payload, i)));
  },

  errorBody(_status: number, message: string): string {
    return JSON.stringify({ message });
  },

  embeddingsBody(path: string, body: JsonObject, vector: (text: string) => number[]): string {
    const model = bedrockModelFromPath(path);
    if (model.includes("cohere.embed")) {
      const texts = Array.isArray(body.texts) ? body.texts.filter((t): t is string => typeof t === "string") : [];
      return JSON.stringify({ embeddings: texts.map((t) => vector(t)), id: "mock-embed-0001", response_type: "embeddings_floats", texts });
    }
    const text = typeof body.inputText === "string" ? body.inputText : "";
    const embedding = vector(text);
    return JSON.stringify({ embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: Math.max(1, Math.ceil(text.length / 4)) });
  },
};
