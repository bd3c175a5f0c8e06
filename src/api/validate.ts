// Request validation on the hot path: hand-written checks of what the gateway itself relies on,
// each failure naming the field. Everything else is the upstream's to judge, so unknown fields
// and vendor parameters pass through untouched.
import { badRequest } from "../server/errors.js";
import type { ChatRequest, CompletionRequest, EmbeddingRequest, ResponsesRequest } from "./types.js";

const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function requireModel(body: Record<string, unknown>): void {
  if (typeof body.model !== "string" || body.model.length === 0)
    throw badRequest("'model' is required and must be a non-empty string.", "missing_required_parameter", "model");
}

function optionalNumber(body: Record<string, unknown>, field: string, min: number, max: number): void {
  const v = body[field];
  if (v === undefined || v === null) return;
  if (typeof v !== "number" || Number.isNaN(v) || v < min || v > max)
    throw badRequest(`'${field}' must be a number between ${min} and ${max}.`, "invalid_value", field);
}

export function validateChat(body: unknown): ChatRequest {
  if (!isObject(body)) throw badRequest("Request body must be a JSON object.", "invalid_request");
  requireModel(body);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw badRequest("'messages' is required and must be a non-empty array.", "missing_required_parameter", "messages");
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isObject(m)) throw badRequest(`'messages[${i}]' must be an object.`, "invalid_type", `messages[${i}]`);
    if (typeof m.role !== "string" || !ROLES.has(m.role))
      throw badRequest(`'messages[${i}].role' must be one of system, developer, user, assistant, tool.`, "invalid_value", `messages[${i}].role`);
    const c = m.content;
    const contentOk = typeof c === "string" || Array.isArray(c) || ((c === null || c === undefined) && m.role === "assistant");
    if (!contentOk) throw badRequest(`'messages[${i}].content' must be a string or an array of content parts.`, "invalid_type", `messages[${i}].content`);
    if (m.role === "tool" && typeof m.tool_call_id !== "string")
      throw badRequest(`'messages[${i}].tool_call_id' is required for tool messages.`, "missing_required_parameter", `messages[${i}].tool_call_id`);
  }
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean")
    throw badRequest("'stream' must be a boolean.", "invalid_type", "stream");
  optionalNumber(body, "temperature", 0, 2);
  optionalNumber(body, "top_p", 0, 1);
  optionalNumber(body, "max_tokens", 1, Number.MAX_SAFE_INTEGER);
  optionalNumber(body, "max_completion_tokens", 1, Number.MAX_SAFE_INTEGER);
  optionalNumber(body, "n", 1, 128);
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw badRequest("'tools' must be an array.", "invalid_type", "tools");
    body.tools.forEach((t: unknown, i: number) => {
      if (!isObject(t) || t.type !== "function" || !isObject(t.function) || typeof t.function.name !== "string")
        throw badRequest(`'tools[${i}]' must be {"type":"function","function":{"name":...}}.`, "invalid_value", `tools[${i}]`);
    });
  }
  return body as ChatRequest;
}

export function validateCompletion(body: unknown): CompletionRequest {
  if (!isObject(body)) throw badRequest("Request body must be a JSON object.", "invalid_request");
  requireModel(body);
  if (typeof body.prompt !== "string" && !Array.isArray(body.prompt))
    throw badRequest("'prompt' is required and must be a string or an array.", "missing_required_parameter", "prompt");
  return body as CompletionRequest;
}

export function validateResponses(body: unknown): ResponsesRequest {
  if (!isObject(body)) throw badRequest("Request body must be a JSON object.", "invalid_request");
  requireModel(body);
  const input = body.input;
  if (input !== undefined && typeof input !== "string" && !Array.isArray(input)) throw badRequest("'input' must be a string or an array of input items.", "invalid_type", "input");
  optionalNumber(body, "max_output_tokens", 1, Number.MAX_SAFE_INTEGER);
  return body as ResponsesRequest;
}

export function validateEmbeddings(body: unknown): EmbeddingRequest {
  if (!isObject(body)) throw badRequest("Request body must be a JSON object.", "invalid_request");
  requireModel(body);
  const input = body.input;
  const ok = typeof input === "string" || (Array.isArray(input) && input.length > 0);
  if (!ok) throw badRequest("'input' is required and must be a string or a non-empty array.", "missing_required_parameter", "input");
  return body as EmbeddingRequest;
}
