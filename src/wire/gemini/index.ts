// Google's Gemini API wire (generativelanguage v1beta): chat, streaming chat and embeddings.
import type { WireCodec } from "../../providers/types.js";
import { geminiEmbeddingsRequest, geminiEmbeddingsResponse } from "./embeddings.js";
import { parseGeminiError } from "./errors.js";
import { geminiChatRequest } from "./request.js";
import { geminiChatResponse } from "./response.js";
import { GeminiStreamTranslator } from "./stream.js";

export const geminiCodec: WireCodec = {
  name: "gemini",
  openaiWire: false,
  streamFraming: "sse",
  chatRequest: geminiChatRequest,
  chatResponse: geminiChatResponse,
  chatStream: (ctx) => new GeminiStreamTranslator(ctx),
  embeddingsRequest: geminiEmbeddingsRequest,
  embeddingsResponse: geminiEmbeddingsResponse,
  parseError: parseGeminiError,
};
