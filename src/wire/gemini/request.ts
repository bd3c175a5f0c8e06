// OpenAI chat request → Gemini generateContent request (v1beta REST, camelCase fields).
import type { AssistantMessage, ChatMessage, ChatRequest, ContentPart, FunctionTool, JsonObject, TextPart, ToolChoice } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { functionParameters } from "./schema.js";
import {
  bareModel,
  type GeminiContent,
  type GeminiFunctionDeclaration,
  type GeminiGenerationConfig,
  type GeminiPart,
  type GeminiRequest,
} from "./types.js";

export const JSON_HEADERS: Readonly<Record<string, string>> = { "content-type": "application/json" };

/**
 * Gemini 3 rejects a replayed functionCall part without the thoughtSignature it was sent with,
 * and OpenAI's message shape cannot carry it back. Google documents this sentinel for history
 * that comes from elsewhere; older models accept the field and ignore it.
 */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";

const MIME_BY_EXT: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
};

export function chatPath(model: string, stream: boolean): string {
  const m = encodeURIComponent(bareModel(model));
  return stream ? `/v1beta/models/${m}:streamGenerateContent?alt=sse` : `/v1beta/models/${m}:generateContent`;
}

export function geminiChatRequest(req: ChatRequest, ctx: CodecContext, stream: boolean): UpstreamRequest {
  return { path: chatPath(ctx.model, stream), method: "POST", headers: JSON_HEADERS, body: JSON.stringify(toGeminiRequest(req)) };
}

export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  const system: GeminiPart[] = [];
  const contents = toContents(req.messages, system);
  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const decls = declarations(req.tools);
  if (decls.length > 0) {
    body.tools = [{ functionDeclarations: decls }];
    const mode = toolChoice(req.tool_choice);
    if (mode) body.toolConfig = { functionCallingConfig: mode };
  }
  const config = generationConfig(req);
  if (config) body.generationConfig = config;
  return body;
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const p of content) if (p && typeof p.text === "string") out += p.text;
  return out;
}

/** Appends a turn, merging it into the previous one when the role repeats (Gemini wants alternation). */
function append(contents: GeminiContent[], role: "user" | "model", parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last && last.role === role && last.parts) last.parts.push(...parts);
  else contents.push({ role, parts });
}

function toContents(messages: readonly ChatMessage[], system: GeminiPart[]): GeminiContent[] {
  const contents: GeminiContent[] = [];
  // tool_call_id → function name: Gemini pairs a functionResponse with its call by name.
  const names = new Map<string, string>();
  for (const m of messages) {
    switch (m.role) {
      case "system":
      case "developer": {
        const text = textOf(m.content);
        if (text) system.push({ text });
        break;
      }
      case "user":
        append(contents, "user", userParts(m.content));
        break;
      case "assistant":
        append(contents, "model", assistantParts(m, names));
        break;
      case "tool":
        append(contents, "user", [functionResponse(names.get(m.tool_call_id) ?? m.tool_call_id, textOf(m.content))]);
        break;
      default: {
        // Legacy {role:"function", name, content} results, still accepted by validation.
        const legacy = m as { role: string; name?: unknown; content?: unknown };
        if (legacy.role === "function" && typeof legacy.name === "string")
          append(contents, "user", [functionResponse(legacy.name, typeof legacy.content === "string" ? legacy.content : "")]);
      }
    }
  }
  return contents;
}

function userParts(content: string | ContentPart[]): GeminiPart[] {
  if (typeof content === "string") return content ? [{ text: content }] : [];
  const parts: GeminiPart[] = [];
  if (!Array.isArray(content)) return parts;
  for (const p of content) {
    if (!p || typeof p !== "object") continue;
    if (p.type === "text") {
      if (typeof p.text === "string" && p.text) parts.push({ text: p.text });
    } else if (p.type === "image_url") {
      const url = typeof p.image_url === "string" ? p.image_url : p.image_url?.url;
      if (typeof url === "string" && url) parts.push(imagePart(url));
    } else if (p.type === "input_audio" && p.input_audio) {
      parts.push({ inlineData: { mimeType: `audio/${p.input_audio.format === "mp3" ? "mp3" : "wav"}`, data: p.input_audio.data } });
    }
  }
  return parts;
}

function imagePart(url: string): GeminiPart {
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    const header = url.slice(5, comma < 0 ? url.length : comma);
    const semi = header.indexOf(";");
    const mimeType = (semi < 0 ? header : header.slice(0, semi)) || "image/jpeg";
    const payload = comma < 0 ? "" : url.slice(comma + 1);
    // A data: URL without ";base64" is percent-encoded text; Gemini wants base64 either way.
    const data = header.endsWith(";base64") ? payload : Buffer.from(decodeURIComponent(payload), "utf8").toString("base64");
    return { inlineData: { mimeType, data } };
  }
  return { fileData: { mimeType: guessMime(url), fileUri: url } };
}

function guessMime(url: string): string {
  let end = url.length;
  const q = url.indexOf("?");
  if (q >= 0) end = q;
  const h = url.indexOf("#");
  if (h >= 0 && h < end) end = h;
  const path = url.slice(0, end);
  const dot = path.lastIndexOf(".");
  if (dot < 0 || dot < path.lastIndexOf("/")) return "image/jpeg";
  return MIME_BY_EXT[path.slice(dot + 1).toLowerCase()] ?? "image/jpeg";
}

function assistantParts(m: AssistantMessage, names: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const text = textOf(m.content);
  if (text) parts.push({ text });
  if (!Array.isArray(m.tool_calls)) return parts;
  let first = true;
  for (const call of m.tool_calls) {
    const name = call.function?.name;
    if (typeof name !== "string") continue;
    names.set(call.id, name);
    const part: GeminiPart = { functionCall: { name, args: parseArgs(call.function.arguments) } };
    // Only the first call of a step carries a signature (parallel calls share it).
    if (first) part.thoughtSignature = SKIP_SIGNATURE;
    first = false;
    parts.push(part);
  }
  return parts;
}

/** Gemini needs args as an object; history with empty or broken arguments must still be sendable. */
function parseArgs(text: string | undefined): JsonObject {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : { value: v as JsonObject };
  } catch {
    return {};
  }
}

function functionResponse(name: string, text: string): GeminiPart {
  let content: JsonObject | undefined;
  const t = text.trimStart();
  if (t.startsWith("{")) {
    try {
      const v: unknown = JSON.parse(t);
      if (typeof v === "object" && v !== null && !Array.isArray(v)) content = v as JsonObject;
    } catch {
      // not JSON: sent as text below
    }
  }
  return { functionResponse: { name, response: { content: content ?? { result: text } } } };
}

function declarations(tools: readonly FunctionTool[] | undefined): GeminiFunctionDeclaration[] {
  const out: GeminiFunctionDeclaration[] = [];
  if (!Array.isArray(tools)) return out;
  for (const t of tools) {
    if (t.type !== "function" || !t.function) continue;
    const d: GeminiFunctionDeclaration = { name: t.function.name };
    if (t.function.description) d.description = t.function.description;
    const params = functionParameters(t.function.parameters);
    if (params) d.parameters = params;
    out.push(d);
  }
  return out;
}

function toolChoice(choice: ToolChoice | undefined): { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] } | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "none") return { mode: "NONE" };
  if (choice === "required") return { mode: "ANY" };
  if (typeof choice === "object" && typeof choice.function?.name === "string") return { mode: "ANY", allowedFunctionNames: [choice.function.name] };
  return undefined;
}

function generationConfig(req: ChatRequest): GeminiGenerationConfig | undefined {
  const g: GeminiGenerationConfig = {};
  if (typeof req.temperature === "number") g.temperature = req.temperature;
  if (typeof req.top_p === "number") g.topP = req.top_p;
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (typeof max === "number") g.maxOutputTokens = max;
  const stop = typeof req.stop === "string" ? [req.stop] : Array.isArray(req.stop) ? req.stop.filter((s) => typeof s === "string" && s) : [];
  if (stop.length > 0) g.stopSequences = stop;
  if (typeof req.seed === "number") g.seed = req.seed;
  if (typeof req.n === "number") g.candidateCount = req.n;
  if (typeof req.presence_penalty === "number") g.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === "number") g.frequencyPenalty = req.frequency_penalty;
  const rf = req.response_format;
  if (rf && (rf.type === "json_object" || rf.type === "json_schema")) {
    g.responseMimeType = "application/json";
    // responseJsonSchema takes standard JSON Schema, unlike the OpenAPI-subset responseSchema.
    if (rf.type === "json_schema" && rf.json_schema?.schema) g.responseJsonSchema = rf.json_schema.schema;
  }
  return Object.keys(g).length > 0 ? g : undefined;
}
