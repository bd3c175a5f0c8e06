// OpenAI chat request → a Replicate prediction. Language models on Replicate take one `prompt`
// (and usually `system_prompt`), so a multi-turn conversation is rendered as a transcript.
// Tools have no equivalent in the predictions API and are refused.
import type { ChatMessage, ChatRequest, ContentPart, TextPart } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";

const VERSION_ID = /^[0-9a-f]{64}$/;

/** Where a model id is created: official models by name, community models by version. */
export function predictionTarget(model: string): { path: string; version?: string } {
  const colon = model.indexOf(":");
  if (colon > 0) return { path: "/predictions", version: model.slice(colon + 1) };
  if (VERSION_ID.test(model)) return { path: "/predictions", version: model };
  const [owner, name] = model.split("/");
  if (!owner || !name) throw badRequest(`Replicate models are addressed as owner/name or owner/name:version, got '${model}'.`, "invalid_value", "model");
  return { path: `/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/predictions` };
}

function textOf(content: string | TextPart[] | ContentPart[] | null | undefined): string {
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.map((p) => (p.type === "text" ? p.text : "")).join("");
}

function lastImage(messages: readonly ChatMessage[]): string | undefined {
  let url: string | undefined;
  for (const m of messages) {
    if (m.role !== "user" || typeof m.content === "string") continue;
    for (const p of m.content) if (p.type === "image_url") url = p.image_url.url;
  }
  return url;
}

/** System turns become system_prompt; one user turn is the prompt; longer chats become a transcript. */
export function renderPrompt(messages: readonly ChatMessage[]): { prompt: string; system: string | undefined } {
  const system: string[] = [];
  const turns: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === "system" || m.role === "developer") system.push(textOf(m.content));
    else turns.push(m);
  }
  const only = turns[0];
  if (turns.length === 1 && only?.role === "user") return { prompt: textOf(only.content), system: system.length ? system.join("\n\n") : undefined };
  const lines: string[] = [];
  for (const m of turns) {
    if (m.role === "user") lines.push(`User: ${textOf(m.content)}`);
    else if (m.role === "assistant") lines.push(`Assistant: ${textOf(m.content)}`);
    else if (m.role === "tool") lines.push(`Tool result: ${textOf(m.content)}`);
  }
  lines.push("Assistant:");
  return { prompt: lines.join("\n\n"), system: system.length ? system.join("\n\n") : undefined };
}

export function replicateInput(req: ChatRequest): Record<string, unknown> {
  if (req.tools && req.tools.length > 0) {
    throw badRequest("Replicate's predictions API has no tool calling; use a provider with tools for this request.", "unsupported_parameter", "tools");
  }
  if (typeof req.n === "number" && req.n > 1) throw badRequest("Replicate does not support n > 1.", "unsupported_parameter", "n");
  const { prompt, system } = renderPrompt(req.messages);
  const input: Record<string, unknown> = { prompt };
  if (system !== undefined) input.system_prompt = system;
  const max = req.max_completion_tokens ?? req.max_tokens;
  // Newer models read max_tokens, older ones (Llama 2 era) max_new_tokens; models ignore the other.
  if (typeof max === "number") {
    input.max_tokens = max;
    input.max_new_tokens = max;
  }
  if (typeof req.temperature === "number") input.temperature = req.temperature;
  if (typeof req.top_p === "number") input.top_p = req.top_p;
  if (typeof req.seed === "number") input.seed = req.seed;
  if (typeof req.presence_penalty === "number") input.presence_penalty = req.presence_penalty;
  if (typeof req.frequency_penalty === "number") input.frequency_penalty = req.frequency_penalty;
  if (typeof req.stop === "string") input.stop_sequences = req.stop;
  else if (Array.isArray(req.stop) && req.stop.length > 0) input.stop_sequences = req.stop.join(",");
  const image = lastImage(req.messages);
  if (image) input.image = image;
  // A client may pass model-specific inputs as `input: {...}`; they win over the mapped ones.
  const extra = req.input;
  if (extra && typeof extra === "object" && !Array.isArray(extra)) Object.assign(input, extra);
  return input;
}

export function replicateChatRequest(req: ChatRequest, ctx: CodecContext, stream: boolean): UpstreamRequest {
  const target = predictionTarget(ctx.model);
  const body: Record<string, unknown> = target.version ? { version: ctx.model.includes(":") ? ctx.model : target.version } : {};
  body.input = replicateInput(req);
  if (stream) body.stream = true;
  // Sync mode: Replicate holds the request up to 60 s and answers with the finished prediction.
  const headers: Record<string, string> = stream ? { "content-type": "application/json" } : { "content-type": "application/json", prefer: "wait" };
  return { path: target.path, method: "POST", headers, body: JSON.stringify(body), stream };
}
