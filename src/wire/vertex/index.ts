// Google Vertex AI: one provider, two publishers' wires, chosen by model name.
//  - Gemini (publishers/google): the Gemini codec's bodies, at
//    {base}/publishers/google/models/{model}:generateContent | :streamGenerateContent?alt=sse
//  - Claude (publishers/anthropic): the Anthropic Messages codec's bodies with
//    anthropic_version "vertex-2023-10-16" and no `model` field, at
//    {base}/publishers/anthropic/models/{model}:rawPredict | :streamRawPredict
//  - Embeddings (text-embedding-*, gemini-embedding-*): {base}/publishers/google/models/{model}:predict
// The provider's base URL carries /v1/projects/{project}/locations/{location}, so the codec only
// builds the part below it.
import type { EmbeddingRequest, EmbeddingResponse } from "../../api/types.js";
import type { CodecContext, UpstreamErrorInfo, UpstreamRequest, WireCodec } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";
import { anthropicCodec } from "../anthropic/index.js";
import { geminiCodec } from "../gemini/index.js";
import { bodyText } from "../../providers/request-body.js";

export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

export function isVertexClaude(model: string): boolean {
  return model.startsWith("claude-") || model.includes("claude");
}

function modelLabel(model: string): string {
  return encodeURIComponent(model).replace(/%40/g, "@");
}

/** Keeps the Gemini codec's method (":generateContent", ":streamGenerateContent?alt=sse") and moves it under the publisher path. */
function geminiOnVertex(r: UpstreamRequest, model: string): UpstreamRequest {
  const m = /:([A-Za-z]+)(\?.*)?$/.exec(r.path);
  if (!m) throw new Error(`unexpected Gemini request path ${r.path}`);
  return { ...r, path: `/publishers/google/models/${modelLabel(model)}:${m[1]}${m[2] ?? ""}` };
}

function anthropicOnVertex(r: UpstreamRequest, model: string, stream: boolean): UpstreamRequest {
  const body = JSON.parse(bodyText(r.body)) as Record<string, unknown>;
  delete body.model;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (k.toLowerCase() !== "anthropic-version") headers[k] = v;
  return {
    ...r,
    headers,
    path: `/publishers/anthropic/models/${modelLabel(model)}:${stream ? "streamRawPredict" : "rawPredict"}`,
    body: JSON.stringify({ anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body }),
  };
}

function embeddingsRequest(req: EmbeddingRequest, ctx: CodecContext): UpstreamRequest {
  const input = req.input;
  const texts = typeof input === "string" ? [input] : Array.isArray(input) && input.every((x): x is string => typeof x === "string") ? input : undefined;
  if (!texts) throw badRequest("Vertex AI embeddings take text input (a string or an array of strings).", "invalid_value", "input");
  const taskType = typeof req.task_type === "string" ? req.task_type : undefined;
  const body: Record<string, unknown> = { instances: texts.map((content) => (taskType ? { content, task_type: taskType } : { content })) };
  if (typeof req.dimensions === "number") body.parameters = { outputDimensionality: req.dimensions };
  return {
    path: `/publishers/google/models/${modelLabel(ctx.model)}:predict`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

interface PredictBody {
  predictions?: Array<{ embeddings?: { values?: number[]; statistics?: { token_count?: number } } }>;
}

function embeddingsResponse(json: unknown, ctx: CodecContext): EmbeddingResponse {
  const predictions = (json as PredictBody).predictions;
  if (!Array.isArray(predictions)) throw new Error("Vertex predict response has no predictions");
  let tokens = 0;
  const data = predictions.map((p, index) => {
    tokens += p.embeddings?.statistics?.token_count ?? 0;
    return { object: "embedding" as const, index, embedding: p.embeddings?.values ?? [] };
  });
  return { object: "list", data, model: ctx.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function parseError(status: number, text: string): UpstreamErrorInfo {
  // Claude on Vertex answers model errors in Anthropic's shape ({"type":"error",...}); the
  // platform itself (auth, quota, unknown model) answers in Google's ({"error":{"code",...}}).
  if (/"type"\s*:\s*"error"/.test(text)) return anthropicCodec.parseError(status, text);
  return geminiCodec.parseError(status, text);
}

export const vertexCodec: WireCodec = {
  name: "vertex",
  openaiWire: false,
  streamFraming: "sse",
  chatRequest(req, ctx, stream) {
    if (isVertexClaude(ctx.model)) return anthropicOnVertex(anthropicCodec.chatRequest(req, ctx, stream), ctx.model, stream);
    return geminiOnVertex(geminiCodec.chatRequest(req, ctx, stream), ctx.model);
  },
  chatResponse: (body, ctx) => (isVertexClaude(ctx.model) ? anthropicCodec : geminiCodec).chatResponse(body, ctx),
  chatStream: (ctx) => (isVertexClaude(ctx.model) ? anthropicCodec : geminiCodec).chatStream(ctx),
  embeddingsRequest,
  embeddingsResponse,
  parseError,
};
