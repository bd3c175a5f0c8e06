// OpenAI embeddings ↔ Cohere v2 /v2/embed (float vectors only; input_type defaults to
// "search_document", or the request's own `input_type`; `dimensions` → output_dimension).
import type { EmbeddingRequest, EmbeddingResponse } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";
import { JSON_HEADERS } from "./request.js";
import type { CohereEmbedResponse } from "./types.js";

const INPUT_TYPES = new Set(["search_document", "search_query", "classification", "clustering"]);

export function cohereEmbeddingsRequest(req: EmbeddingRequest, ctx: CodecContext): UpstreamRequest {
  const input = req.input;
  const texts = typeof input === "string" ? [input] : Array.isArray(input) && input.every((x) => typeof x === "string") ? (input as string[]) : undefined;
  if (!texts) throw badRequest("Cohere embeds text only: 'input' must be a string or an array of strings.", "invalid_value", "input");
  const inputType = typeof req.input_type === "string" && INPUT_TYPES.has(req.input_type) ? req.input_type : "search_document";
  const body: Record<string, unknown> = { model: ctx.model, texts, input_type: inputType, embedding_types: ["float"] };
  if (typeof req.dimensions === "number") body.output_dimension = req.dimensions;
  if (typeof req.truncate === "string") body.truncate = req.truncate;
  return { path: "/v2/embed", method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) };
}

export function cohereEmbeddingsResponse(json: unknown, ctx: CodecContext): EmbeddingResponse {
  const body = json as CohereEmbedResponse;
  const vectors = body?.embeddings?.float;
  if (!Array.isArray(vectors)) throw new Error("not a Cohere embed response");
  const tokens = body.meta?.billed_units?.input_tokens ?? 0;
  return {
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
