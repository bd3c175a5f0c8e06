// Replicate's predictions API as a chat wire: a prediction per request (see exchange.ts for the
// create → poll / stream flow), output tokens joined into one assistant message.
import type { UpstreamErrorInfo, WireCodec } from "../../providers/types.js";
import { replicateExchange } from "./exchange.js";
import { replicateChatRequest } from "./request.js";
import { replicateChatResponse } from "./response.js";
import { ReplicateStreamTranslator } from "./stream.js";

/** Replicate errors are problem details ({"title","detail","status"}); older ones {"detail"}. */
export function parseReplicateError(status: number, text: string): UpstreamErrorInfo {
  try {
    const parsed = JSON.parse(text) as { detail?: unknown; title?: unknown; error?: unknown };
    const detail = typeof parsed.detail === "string" ? parsed.detail : typeof parsed.error === "string" ? parsed.error : undefined;
    const title = typeof parsed.title === "string" ? parsed.title : undefined;
    if (detail || title) return { message: detail ?? title ?? "", type: undefined, code: status === 429 ? "rate_limit_exceeded" : undefined };
  } catch {
    // not JSON: the raw text is never echoed
  }
  return { message: `upstream returned HTTP ${status}`, type: undefined, code: undefined };
}

export const replicateCodec: WireCodec = {
  name: "replicate",
  tools: false,
  openaiWire: false,
  streamFraming: "sse",
  chatRequest: replicateChatRequest,
  chatResponse: replicateChatResponse,
  chatStream: (ctx) => new ReplicateStreamTranslator(ctx),
  parseError: parseReplicateError,
  exchange: replicateExchange,
};
