// A mock upstream format: how one provider wire shapes its answers. The mock server (server.ts)
// owns HTTP, latency, pacing, failure injection and recording; each format module only builds
// bodies and stream frames that match the provider's API reference byte for byte in shape.
import type { JsonObject, JsonValue } from "../../src/api/types.js";

/** What the mock model "decided" to answer. Deterministic, derived from the request. */
export interface MockReply {
  model: string;
  /** Assistant text; empty when the reply is a tool call only. */
  text: string;
  toolCall?: { id: string; name: string; arguments: JsonObject };
  usage: { input: number; output: number; cached?: number };
  /** Why the model stopped, in neutral terms. */
  stop: "end" | "length" | "tool";
  /** OpenAI wire only: send the usage chunk at the end of a stream. */
  includeUsage?: boolean;
}

/** What the mock needs to know about an incoming chat request, read from that wire's body. */
export interface ParsedChat {
  model: string;
  stream: boolean;
  /** Text of the last user turn, joined. */
  lastUserText: string;
  /** Name of the first tool offered, if any. */
  firstToolName: string | undefined;
  /** True when the last turn carries a tool result (so the model should answer in text). */
  lastIsToolResult: boolean;
  /** Max output tokens requested, if any. */
  maxTokens: number | undefined;
  /** OpenAI wire only: stream_options.include_usage was set. */
  includeUsage?: boolean;
}

export interface MockFormat {
  readonly name: string;
  parseChat(path: string, body: JsonObject): ParsedChat;
  /** Non-streaming response body (JSON text). */
  chatBody(reply: MockReply): string;
  /**
   * Streaming response as complete wire frames (for SSE: "event: x\ndata: {...}\n\n" or
   * "data: {...}\n\n"), with the text split into `chunks` content pieces.
   */
  chatStream(reply: MockReply, chunks: number): string[];
  /** Binary-framed wires (AWS event-stream): the stream as raw frames; used instead of chatStream. */
  chatStreamFrames?(reply: MockReply, chunks: number): Uint8Array[];
  /** Content type of a streamed response (default text/event-stream). */
  readonly streamContentType?: string;
  /** The provider's error body for this status. */
  errorBody(status: number, message: string): string;
  /** Embeddings body for the given inputs, when the wire has embeddings. */
  embeddingsBody?(path: string, body: JsonObject, vector: (text: string) => number[]): string;
}

/** Splits text into n nearly equal pieces (n >= 1); used by every format's chatStream. */
export function splitText(text: string, n: number): string[] {
  if (n <= 1 || text.length <= 1) return [text];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Text of a message's content: a string, or the text parts of an array. */
export function textOf(content: JsonValue | undefined): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content.map((p) => (p && typeof p === "object" && !Array.isArray(p) && typeof p.text === "string" ? p.text : "")).join("");
  return "";
}

/** Reads a chat body whose messages and tools are OpenAI-shaped (OpenAI and Cohere v2 both are). */
export function parseOpenAIShapedChat(body: JsonObject, maxTokens: JsonValue | undefined): ParsedChat {
  const messages = Array.isArray(body.messages) ? (body.messages as JsonObject[]) : [];
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const last = messages[messages.length - 1];
  const tools = Array.isArray(body.tools) ? (body.tools as JsonObject[]) : [];
  const firstTool = tools[0]?.function as JsonObject | undefined;
  return {
    model: typeof body.model === "string" ? body.model : "unknown",
    stream: body.stream === true,
    lastUserText: textOf(lastUser?.content),
    firstToolName: typeof firstTool?.name === "string" ? firstTool.name : undefined,
    lastIsToolResult: last?.role === "tool",
    maxTokens: typeof maxTokens === "number" ? maxTokens : undefined,
  };
}
