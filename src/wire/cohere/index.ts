// Cohere's native v2 wire: /v2/chat (streaming and not, tools, reasoning) and /v2/embed.
import type { UpstreamErrorInfo, WireCodec } from "../../providers/types.js";
import { parseOpenAIError } from "../openai/codec.js";
import { cohereEmbeddingsRequest, cohereEmbeddingsResponse } from "./embed.js";
import { cohereChatRequest } from "./request.js";
import { cohereChatResponse } from "./response.js";
import { CohereStreamTranslator } from "./stream.js";

/** Cohere errors are {"id"?: "...", "message": "..."}; the message is what the client may see. */
export function parseCohereError(status: number, text: string): UpstreamErrorInfo {
  const info = parseOpenAIError(status, text);
  if (info.code === undefined && status === 429) return { ...info, code: "rate_limit_exceeded" };
  return info;
}

export const cohereCodec: WireCodec = {
  name: "cohere",
  openaiWire: false,
  streamFraming: "sse",
  chatRequest: cohereChatRequest,
  chatResponse: cohereChatResponse,
  chatStream: (ctx) => new CohereStreamTranslator(ctx),
  embeddingsRequest: cohereEmbeddingsRequest,
  embeddingsResponse: cohereEmbeddingsResponse,
  parseError: parseCohereError,
};
