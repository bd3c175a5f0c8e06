// Embeddings through InvokeModel (POST /model/{modelId}/invoke), in each model family's own body:
//  - Amazon Titan Text Embeddings (amazon.titan-embed-text-v1, -v2:0): one text per call,
//    {inputText, dimensions?, normalize?} -> {embedding, inputTextTokenCount}
//  - Cohere Embed (cohere.embed-english-v3, cohere.embed-multilingual-v3, cohere.embed-v4:0):
//    {texts, input_type, embedding_types?} -> {embeddings: [[...]] | {float: [[...]]}, ...}
import type { EmbeddingRequest, EmbeddingResponse } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";
import { modelPath } from "./request.js";

type Family = "titan" | "cohere";

function family(model: string): Family {
  if (model.includes("cohere.embed")) return "cohere";
  if (model.includes("amazon.titan-embed")) return "titan";
  throw badRequest(`Bedrock embeddings support Amazon Titan and Cohere Embed models, not ${model}.`, "invalid_value", "model");
}

function texts(req: EmbeddingRequest): string[] {
  const input = req.input;
  if (typeof input === "string") return [input];
  if (Array.isArray(input) && input.every((x): x is string => typeof x === "string")) return input;
  throw badRequest("Bedrock embeddings take text input (a string or an array of strings), not token ids.", "invalid_value", "input");
}

export function bedrockEmbeddingsRequest(req: EmbeddingRequest, ctx: CodecContext): UpstreamRequest {
  const inputs = texts(req);
  let body: Record<string, unknown>;
  if (family(ctx.model) === "titan") {
    if (inputs.length !== 1) throw badRequest("Amazon Titan embedding models take one input per request.", "invalid_value", "input");
    body = { inputText: inputs[0] };
    // v1 (G1) accepts inputText only; v2 adds dimensions and normalize.
    if (!ctx.model.includes("titan-embed-text-v1")) {
      if (typeof req.dimensions === "number") body.dimensions = req.dimensions;
      body.normalize = true;
    }
  } else {
    const inputType = typeof req.input_type === "string" ? req.input_type : "search_document";
    body = { texts: inputs, input_type: inputType };
    if (typeof req.truncate === "string") body.truncate = req.truncate;
    if (typeof req.dimensions === "number") body.output_dimension = req.dimensions;
  }
  return { path: modelPath(ctx.model, "invoke"), method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) };
}

interface TitanBody {
  embedding?: number[];
  inputTextTokenCount?: number;
}
interface CohereBody {
  embeddings?: number[][] | { float?: number[][] };
}

export function bedrockEmbeddingsResponse(json: unknown, ctx: CodecContext): EmbeddingResponse {
  const body = json as TitanBody & CohereBody;
  let vectors: number[][];
  let tokens = 0;
  if (Array.isArray(body.embedding)) {
    vectors = [body.embedding];
    tokens = body.inputTextTokenCount ?? 0;
  } else if (Array.isArray(body.embeddings)) vectors = body.embeddings;
  else if (body.embeddings && Array.isArray(body.embeddings.float)) vectors = body.embeddings.float;
  else throw new Error("unrecognised Bedrock embeddings body");
  return {
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
