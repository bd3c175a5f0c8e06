// Lean copies of the Gemini REST (v1beta) shapes the codec reads and writes. The unit tests check
// them against the official @google/genai types, so a drift shows up as a compile error.
import type { JsonObject, JsonValue } from "../../api/types.js";

export interface GeminiPartialArg {
  /** RFC 9535 JSON path into the arguments, e.g. "$.recipe.steps[0]". */
  jsonPath?: string;
  stringValue?: string;
  numberValue?: number;
  boolValue?: boolean;
  nullValue?: "NULL_VALUE";
  /** More pieces of the same path follow (strings arrive in fragments). */
  willContinue?: boolean;
}

export interface GeminiFunctionCall {
  id?: string;
  name?: string;
  args?: Record<string, unknown>;
  /** Vertex only: arguments streamed piecewise (functionCallingConfig.streamFunctionCallArguments). */
  partialArgs?: GeminiPartialArg[];
  willContinue?: boolean;
}

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: { id?: string; name: string; response: JsonObject };
}

export interface GeminiContent {
  role?: string;
  parts?: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: JsonObject;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  candidateCount?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseJsonSchema?: JsonValue;
}

export type GeminiCallingMode = "AUTO" | "ANY" | "NONE";

export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: Array<{ functionDeclarations: GeminiFunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: GeminiCallingMode; allowedFunctionNames?: string[] } };
  generationConfig?: GeminiGenerationConfig;
}

export interface GeminiCandidate {
  content?: GeminiContent;
  finishReason?: string;
  finishMessage?: string;
  index?: number;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

export interface GeminiEmbedRequest {
  requests: Array<{ model: string; content: { parts: Array<{ text: string }> }; outputDimensionality?: number }>;
}

export interface GeminiEmbedResponse {
  embeddings?: Array<{ values?: number[]; statistics?: { tokenCount?: number } }>;
}

/** Model ids may arrive as "models/gemini-x" (the REST resource name) or bare. */
export function bareModel(model: string): string {
  return model.startsWith("models/") ? model.slice(7) : model;
}
