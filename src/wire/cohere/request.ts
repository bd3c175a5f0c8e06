// OpenAI chat request → Cohere v2 /v2/chat request.
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, JsonObject, TextPart } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";
import type { CohereChatRequest, CohereMessage, CohereTool, CohereUserContent } from "./types.js";

export const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };

/** Cohere-native request fields a client may send alongside OpenAI's; forwarded unchanged. */
const NATIVE_FIELDS = ["documents", "citation_options", "safety_mode", "thinking", "k", "strict_tools", "priority"] as const;

export function cohereChatRequest(req: ChatRequest, ctx: CodecContext, stream: boolean): UpstreamRequest {
  return { path: "/v2/chat", method: "POST", headers: JSON_HEADERS, body: JSON.stringify(toCohereRequest(req, ctx.model, stream)) };
}

export function toCohereRequest(req: ChatRequest, model: string, stream: boolean): CohereChatRequest {
  if (typeof req.n === "number" && req.n > 1) throw badRequest("Cohere does not support n > 1.", "unsupported_parameter", "n");
  const body: CohereChatRequest = { model, messages: req.messages.map(toMessage) };
  if (stream) body.stream = true;

  let tools = req.tools ?? [];
  const choice = req.tool_choice;
  if (choice && typeof choice === "object") {
    // Cohere cannot name the tool to call: offer only that one, and require a call.
    tools = tools.filter((t) => t.function.name === choice.function.name);
    body.tool_choice = "REQUIRED";
  } else if (choice === "required") body.tool_choice = "REQUIRED";
  else if (choice === "none") body.tool_choice = "NONE";
  if (tools.length > 0) {
    body.tools = tools.map(toTool);
    if (tools.some((t) => t.function.strict === true)) body.strict_tools = true;
  } else delete body.tool_choice;

  const max = req.max_completion_tokens ?? req.max_tokens;
  if (typeof max === "number") body.max_tokens = max;
  if (typeof req.stop === "string") body.stop_sequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) body.stop_sequences = req.stop;
  if (typeof req.temperature === "number") body.temperature = req.temperature;
  if (typeof req.top_p === "number") body.p = req.top_p;
  if (typeof req.seed === "number") body.seed = req.seed;
  if (typeof req.frequency_penalty === "number") body.frequency_penalty = req.frequency_penalty;
  if (typeof req.presence_penalty === "number") body.presence_penalty = req.presence_penalty;
  if (req.logprobs === true) body.logprobs = true;

  const rf = req.response_format;
  if (rf?.type === "json_object") body.response_format = { type: "json_object" };
  else if (rf?.type === "json_schema") {
    body.response_format = rf.json_schema.schema ? { type: "json_object", json_schema: rf.json_schema.schema } : { type: "json_object" };
  }
  const native: Record<string, unknown> = body;
  for (const key of NATIVE_FIELDS) if (req[key] !== undefined) native[key] = req[key];
  return body;
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.map((p) => p.text).join("");
}

function userContent(content: string | ContentPart[]): string | CohereUserContent[] {
  if (typeof content === "string") return content;
  const out: CohereUserContent[] = [];
  for (const part of content) {
    if (part.type === "text") out.push({ type: "text", text: part.text });
    else if (part.type === "image_url") {
      const image: CohereUserContent = { type: "image_url", image_url: { url: part.image_url.url } };
      if (part.image_url.detail) image.image_url.detail = part.image_url.detail;
      out.push(image);
    } else throw badRequest("Cohere does not accept audio input.", "unsupported_content", "messages");
  }
  return out;
}

function toMessage(m: ChatMessage): CohereMessage {
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content: textOf(m.content) };
    case "user":
      return { role: "user", content: userContent(m.content) };
    case "assistant": {
      const text = textOf(m.content);
      if (m.tool_calls && m.tool_calls.length > 0) {
        // Cohere carries the text that precedes tool calls as the tool plan.
        const out: CohereMessage = {
          role: "assistant",
          tool_calls: m.tool_calls.map((c) => ({ id: c.id, type: "function", function: { name: c.function.name, arguments: c.function.arguments } })),
        };
        if (text) out.tool_plan = text;
        return out;
      }
      return { role: "assistant", content: text };
    }
    case "tool":
      return { role: "tool", tool_call_id: m.tool_call_id, content: textOf(m.content) };
  }
}

function toTool(t: FunctionTool): CohereTool {
  const parameters: JsonObject = t.function.parameters ?? { type: "object", properties: {} };
  const fn: CohereTool["function"] = { name: t.function.name, parameters };
  if (t.function.description) fn.description = t.function.description;
  return { type: "function", function: fn };
}
