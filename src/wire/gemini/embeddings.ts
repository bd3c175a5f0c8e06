// OpenAI embeddings ↔ Gemini batchEmbedContents (one request entry per input text).
import type { EmbeddingRequest, EmbeddingResponse } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";
import { JSON_HEADERS } from "./request.js";
import { bareModel, type GeminiEmbedRequest, type GeminiEmbedResponse } from "./types.js";

export function geminiEmbeddingsRequest(req: EmbeddingRequest, ctx: CodecContext): UpstreamRequest {
  const model = bareModel(ctx.model);
  const input = req.input;
  const texts = typeof input === "string" ? [input] : input;
  const resource = `models/${model}`;
  const body: GeminiEmbedRequest = { requests: [] };
  for (const t of texts) {
    // Gemini embeds text only; OpenAI's token-id arrays have no equivalent.
    if (typeof t !== "string") throw badRequest("Gemini embedding models accept text input only, not token arrays.", "unsupported_input", "input");
    const entry: GeminiEmbedRequest["requests"][number] = { model: resource, content: { parts: [{ text: t }] } };
    if (typeof req.dimensions === "number") entry.outputDimensionality = req.dimensions;
    body.requests.push(entry);
  }
  return { path: `/v1beta/models/${encodeURIComponent(model)}:batchEmbedContents`, method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) };
}

export function geminiEmbeddingsResponse(body: unknown, ctx: CodecContext): EmbeddingResponse {
  if (typeof body !== "object" || body === null) throw new Error("Gemini embeddings response is not an object");
  const list = (body as GeminiEmbedResponse).embeddings;
  if (!Array.isArray(list)) throw new Error("Gemini embeddings response has no embeddings");
  const data: EmbeddingResponse["data"] = [];
  // The Gemini API reports no token counts; Vertex adds statistics.tokenCount per input.
  let tokens = 0;
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    data.push({ object: "embedding", index: i, embedding: Array.isArray(e?.values) ? e.values : [] });
    const n = e?.statistics?.tokenCount;
    if (typeof n === "number") tokens += n;
  }
  return { object: "list", data, model: bareModel(ctx.model), usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
