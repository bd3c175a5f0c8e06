// The Bedrock Converse wire shapes we read and write (API reference: bedrock-runtime Converse,
// ConverseStream, ContentBlock, TokenUsage). Only the fields the gateway uses are modelled.
import type { JsonObject, JsonValue } from "../../api/types.js";

export interface ConverseImageBlock {
  format: "png" | "jpeg" | "gif" | "webp";
  source: { bytes: string };
}

export interface ConverseToolUse {
  toolUseId: string;
  name: string;
  input: JsonValue;
}

export interface ConverseToolResult {
  toolUseId: string;
  content: Array<{ text: string } | { json: JsonValue }>;
  status?: "success" | "error";
}

export interface ConverseReasoning {
  reasoningText?: { text: string; signature?: string };
  redactedContent?: string;
}

/** A ContentBlock is a union: exactly one member is set. */
export interface ConverseContentBlock {
  text?: string;
  image?: ConverseImageBlock;
  toolUse?: ConverseToolUse;
  toolResult?: ConverseToolResult;
  reasoningContent?: ConverseReasoning;
}

export interface ConverseMessage {
  role: "user" | "assistant";
  content: ConverseContentBlock[];
}

export interface ConverseToolSpec {
  toolSpec: { name: string; description?: string; inputSchema: { json: JsonObject } };
}

export type ConverseToolChoice = { auto: JsonObject } | { any: JsonObject } | { tool: { name: string } };

export interface ConverseRequestBody {
  messages: ConverseMessage[];
  system?: Array<{ text: string }>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: ConverseToolSpec[]; toolChoice?: ConverseToolChoice };
  additionalModelRequestFields?: JsonValue;
  additionalModelResponseFieldPaths?: string[];
  guardrailConfig?: JsonValue;
  performanceConfig?: JsonValue;
  requestMetadata?: Record<string, string>;
}

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ConverseResponseBody {
  output?: { message?: { role?: string; content?: ConverseContentBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
  metrics?: { latencyMs?: number };
}
