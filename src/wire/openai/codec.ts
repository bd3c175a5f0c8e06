// OpenAI's chat wire, spoken by OpenAI and by the many OpenAI-compatible vendors. The gateway
// forwards these responses byte for byte, so the translation here is only the outbound body and
// the vendor's quirks (parameters it renames or rejects), declared as data per vendor.
import type { ChatCompletion, ChatRequest, EmbeddingResponse, JsonObject } from "../../api/types.js";
import type { CodecContext, StreamTranslator, UpstreamErrorInfo, UpstreamRequest, WireCodec } from "../../providers/types.js";
import { OpenAIStreamTranslator } from "./stream.js";

export interface OpenAIQuirks {
  /** Parameters the vendor rejects: removed from the outbound body. */
  drop?: readonly string[];
  /** Parameters the vendor spells differently: renamed in the outbound body. */
  rename?: Readonly<Record<string, string>>;
  /** Paths relative to the base URL, when the vendor does not use OpenAI's. */
  chatPath?: string;
  completionsPath?: string;
  embeddingsPath?: string;
  responsesPath?: string;
}

// Frozen: the sender caches its merge with the provider's headers (src/upstream/send.ts).
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" });

export function createOpenAICodec(quirks: OpenAIQuirks = {}): WireCodec {
  const drop = quirks.drop ?? [];
  const rename = Object.entries(quirks.rename ?? {});
  const chatPath = quirks.chatPath ?? "/chat/completions";
  const completionsPath = quirks.completionsPath ?? "/completions";
  const embeddingsPath = quirks.embeddingsPath ?? "/embeddings";
  const responsesPath = quirks.responsesPath ?? "/responses";
  const hasQuirks = drop.length > 0 || rename.length > 0;

  // The common case (no quirks, model unchanged) sends the client's own JSON when the gateway has
  // it: serialising a long conversation again costs tens of microseconds.
  function body(req: Record<string, unknown>, ctx: CodecContext): string | Uint8Array {
    const model = ctx.model;
    if (!hasQuirks && req.model === model) return ctx.clientBody ?? JSON.stringify(req);
    const out: Record<string, unknown> = { ...req, model };
    for (const key of drop) delete out[key];
    for (const [from, to] of rename) {
      if (from in out) {
        if (!(to in out)) out[to] = out[from];
        delete out[from];
      }
    }
    return JSON.stringify(out);
  }

  return {
    name: "openai",
    openaiWire: true,
    streamFraming: "sse",
    chatRequest(req: ChatRequest, ctx: CodecContext): UpstreamRequest {
      return { path: chatPath, method: "POST", headers: JSON_HEADERS, body: body(req, ctx) };
    },
    chatResponse(json: unknown): ChatCompletion {
      return json as ChatCompletion;
    },
    chatStream(ctx: CodecContext): StreamTranslator {
      return new OpenAIStreamTranslator(ctx);
    },
    completionRequest(req, ctx): UpstreamRequest {
      return { path: completionsPath, method: "POST", headers: JSON_HEADERS, body: body(req, ctx) };
    },
    embeddingsRequest(req, ctx): UpstreamRequest {
      return { path: embeddingsPath, method: "POST", headers: JSON_HEADERS, body: body(req, ctx) };
    },
    embeddingsResponse(json: unknown): EmbeddingResponse {
      return json as EmbeddingResponse;
    },
    responsesRequest(req, ctx): UpstreamRequest {
      return { path: responsesPath, method: "POST", headers: JSON_HEADERS, body: body(req, ctx) };
    },
    parseError: parseOpenAIError,
  };
}

export function parseOpenAIError(status: number, text: string): UpstreamErrorInfo {
  try {
    const parsed = JSON.parse(text) as JsonObject | JsonObject[];
    // Some vendors wrap the error in an array or return {"error": "string"}.
    const root = Array.isArray(parsed) ? parsed[0] : parsed;
    const err = root?.error;
    if (typeof err === "string") return { message: err, type: undefined, code: undefined };
    if (err && typeof err === "object" && !Array.isArray(err)) {
      const message = typeof err.message === "string" ? err.message : `upstream error ${status}`;
      const type = typeof err.type === "string" ? err.type : undefined;
      const code = typeof err.code === "string" ? err.code : typeof err.code === "number" ? String(err.code) : undefined;
      return { message, type, code };
    }
    if (root && typeof root.message === "string") return { message: root.message, type: undefined, code: undefined };
    if (root && typeof root.detail === "string") return { message: root.detail, type: undefined, code: undefined };
  } catch {
    // not JSON: fall through to a generic message; raw upstream text is never echoed
  }
  return { message: `upstream returned HTTP ${status}`, type: undefined, code: undefined };
}
