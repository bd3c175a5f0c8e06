// Anthropic's Messages API wire, spoken by Anthropic itself and, with their own envelopes, by
// Claude on Vertex AI (see ../vertex). Chat only: Anthropic has no embeddings endpoint.
import type { WireCodec } from "../../providers/types.js";
import { parseAnthropicError } from "./errors.js";
import { anthropicChatRequest } from "./request.js";
import { anthropicChatResponse } from "./response.js";
import { AnthropicStreamTranslator } from "./stream.js";

export { AnthropicStreamError } from "./errors.js";
export { ANTHROPIC_VERSION } from "./request.js";

export const anthropicCodec: WireCodec = {
  name: "anthropic",
  openaiWire: false,
  streamFraming: "sse",
  chatRequest: anthropicChatRequest,
  chatResponse: anthropicChatResponse,
  chatStream: (ctx) => new AnthropicStreamTranslator(ctx),
  parseError: parseAnthropicError,
};
