// Cohere's v2 wire (https://docs.cohere.com/reference/chat): the shapes this codec reads and
// writes, checked against the official cohere-typescript SDK types and the recorded fixtures.
import type { JsonObject } from "../../api/types.js";

export type CohereRole = "system" | "user" | "assistant" | "tool";

export interface CohereTextContent {
  type: "text";
  text: string;
}
export interface CohereImageContent {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}
export type CohereUserContent = CohereTextContent | CohereImageContent;

export interface CohereToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export type CohereMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | CohereUserContent[] }
  | { role: "assistant"; content?: string; tool_plan?: string; tool_calls?: CohereToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

export interface CohereTool {
  type: "function";
  function: { name: string; description?: string; parameters: JsonObject };
}

export interface CohereChatRequest {
  model: string;
  messages: CohereMessage[];
  stream?: boolean;
  tools?: CohereTool[];
  strict_tools?: boolean;
  tool_choice?: "REQUIRED" | "NONE";
  response_format?: { type: "json_object"; json_schema?: JsonObject } | { type: "text" };
  max_tokens?: number;
  stop_sequences?: string[];
  temperature?: number;
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  p?: number;
  k?: number;
  logprobs?: boolean;
  [native: string]: unknown;
}

/** usage on a chat response or a message-end event. */
export interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
  cached_tokens?: number;
}

export interface CohereResponseContent {
  type: string;
  text?: string;
  thinking?: string;
}

export interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: {
    role?: string;
    content?: CohereResponseContent[];
    tool_plan?: string;
    tool_calls?: Array<Partial<CohereToolCall> & { function?: { name?: string; arguments?: string } }>;
  };
  usage?: CohereUsage;
}

/** One streamed event (the JSON payload of an SSE frame; its `type` names the event). */
export interface CohereStreamEvent {
  type?: string;
  id?: string;
  index?: number;
  delta?: {
    message?: {
      content?: { type?: string; text?: string; thinking?: string };
      tool_plan?: string;
      tool_calls?: { id?: string; type?: string; function?: { name?: string; arguments?: string } };
    };
    finish_reason?: string;
    usage?: CohereUsage;
    error?: string;
  };
}

export interface CohereEmbedResponse {
  id?: string;
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number } };
}
