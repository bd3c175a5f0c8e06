// OpenAI chat request → Anthropic Messages API body (POST /v1/messages).
// Anthropic differs in ways that need real translation, not renaming: the system prompt is a
// top-level field, turns must alternate user/assistant (tool results travel in user turns, first),
// max_tokens is required, and there is no JSON mode everywhere, so response_format becomes a forced
// tool whose input the response translators turn back into message text.
import type { ChatMessage, ChatRequest, ContentPart, FunctionTool, JsonObject, JsonValue, TextPart } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";

export const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic requires max_tokens; this applies when the client sets neither limit. */
export const DEFAULT_MAX_TOKENS = 4096;
/** The forced tool standing in for response_format json_object (json_schema uses the schema's name). */
export const JSON_OBJECT_TOOL = "json_object";

const HEADERS: Readonly<Record<string, string>> = { "anthropic-version": ANTHROPIC_VERSION, "content-type": "application/json" };
/** Anthropic tool_use ids must match ^[a-zA-Z0-9_-]+$; other vendors' ids may not (e.g. "functions.x:0"). */
const INVALID_ID_CHARS = /[^a-zA-Z0-9_-]/g;

type ImageMediaType = "image/jpeg" | "image/png" | "image/gif" | "image/webp";
const IMAGE_TYPES: ReadonlyMap<string, ImageMediaType> = new Map([
  ["image/jpeg", "image/jpeg"],
  ["image/jpg", "image/jpeg"],
  ["image/png", "image/png"],
  ["image/gif", "image/gif"],
  ["image/webp", "image/webp"],
]);

export interface TextBlock {
  type: "text";
  text: string;
}
export interface ImageBlock {
  type: "image";
  source: { type: "base64"; media_type: ImageMediaType; data: string } | { type: "url"; url: string };
}
export interface ToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: JsonValue;
}
export interface ToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string | TextBlock[];
}
export type RequestBlock = TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock;

export interface AnthropicTurn {
  role: "user" | "assistant";
  content: string | RequestBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: { type: "object"; [key: string]: JsonValue };
}

export type AnthropicToolChoice =
  | { type: "auto"; disable_parallel_tool_use?: boolean }
  | { type: "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

export interface AnthropicMessagesBody {
  model: string;
  max_tokens: number;
  system?: string | TextBlock[];
  messages: AnthropicTurn[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  stream?: boolean;
  metadata?: { user_id: string };
  thinking?: { type: "enabled"; budget_tokens: number } | { type: "disabled" };
}

/**
 * The forced-tool name standing in for response_format, per request. Keyed by the CodecContext
 * object, which the gateway passes to chatRequest and then to chatResponse / chatStream.
 */
const jsonTools = new WeakMap<CodecContext, string>();

/** The tool whose input is the JSON answer for this request, if response_format asked for JSON. */
export function jsonToolName(ctx: CodecContext): string | undefined {
  return jsonTools.get(ctx);
}

/** A turn being assembled; tool results are kept apart because Anthropic wants them first. */
interface Pending {
  role: "user" | "assistant";
  results: ToolResultBlock[];
  blocks: RequestBlock[];
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const p of content) if (p.type === "text") out += p.text;
  return out;
}

function textBlocks(content: string | TextPart[] | null | undefined, out: RequestBlock[]): void {
  if (typeof content === "string") {
    if (content) out.push({ type: "text", text: content });
    return;
  }
  if (!Array.isArray(content)) return;
  // Anthropic rejects empty text blocks.
  for (const p of content) if (p.type === "text" && p.text) out.push({ type: "text", text: p.text });
}

function imageBlock(url: string): ImageBlock {
  if (url.startsWith("data:")) {
    const marker = url.indexOf(";base64,");
    if (marker < 0) throw badRequest("Image data URLs must be base64-encoded.", "invalid_image_url", "messages");
    // "data:image/png;charset=x;base64,..." : the media type ends at the first parameter
    const media = IMAGE_TYPES.get(url.slice(5, url.indexOf(";", 5)).toLowerCase());
    if (!media) throw badRequest("Anthropic accepts JPEG, PNG, GIF and WebP images only.", "invalid_image_format", "messages");
    return { type: "image", source: { type: "base64", media_type: media, data: url.slice(marker + 8) } };
  }
  if (url.startsWith("https://") || url.startsWith("http://")) return { type: "image", source: { type: "url", url } };
  throw badRequest("Image URLs must be http(s) or base64 data URLs.", "invalid_image_url", "messages");
}

function userBlocks(content: string | ContentPart[], out: RequestBlock[]): void {
  if (typeof content === "string") {
    if (content) out.push({ type: "text", text: content });
    return;
  }
  for (const p of content) {
    if (p.type === "text") {
      if (p.text) out.push({ type: "text", text: p.text });
    } else if (p.type === "image_url") {
      out.push(imageBlock(p.image_url.url));
    } else {
      throw badRequest(`Anthropic does not accept ${String(p.type)} content parts.`, "unsupported_content", "messages");
    }
  }
}

function toolUseId(id: string): string {
  return id.replace(INVALID_ID_CHARS, "_");
}

function parseArguments(args: string): JsonValue {
  try {
    const v = JSON.parse(args) as JsonValue;
    // tool_use input must be an object; anything else (or invalid JSON) becomes no arguments.
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** Splits OpenAI messages into Anthropic's system prompt and alternating turns. */
function convertMessages(messages: ChatMessage[]): { system: TextBlock[]; turns: AnthropicTurn[] } {
  const system: TextBlock[] = [];
  const pending: Pending[] = [];
  const turn = (role: "user" | "assistant"): Pending => {
    const last = pending[pending.length - 1];
    if (last && last.role === role) return last;
    const p: Pending = { role, results: [], blocks: [] };
    pending.push(p);
    return p;
  };

  for (const m of messages) {
    switch (m.role) {
      case "system":
      case "developer": {
        const text = textOf(m.content);
        if (text) system.push({ type: "text", text });
        break;
      }
      case "user": {
        const blocks: RequestBlock[] = [];
        userBlocks(m.content, blocks);
        if (blocks.length > 0) turn("user").blocks.push(...blocks);
        break;
      }
      case "assistant": {
        const blocks: RequestBlock[] = [];
        textBlocks(m.content, blocks);
        if (m.tool_calls)
          for (const c of m.tool_calls)
            blocks.push({ type: "tool_use", id: toolUseId(c.id), name: c.function.name, input: parseArguments(c.function.arguments) });
        if (blocks.length > 0) turn("assistant").blocks.push(...blocks);
        break;
      }
      case "tool": {
        const content: string | TextBlock[] =
          typeof m.content === "string" ? m.content : m.content.filter((p) => p.type === "text" && p.text).map((p) => ({ type: "text", text: p.text }));
        turn("user").results.push({ type: "tool_result", tool_use_id: toolUseId(m.tool_call_id), content });
        break;
      }
    }
  }

  const turns: AnthropicTurn[] = [];
  for (const p of pending) {
    const blocks = p.results.length > 0 ? [...p.results, ...p.blocks] : p.blocks;
    const only = blocks.length === 1 ? blocks[0] : undefined;
    // A lone text block is sent as a plain string, as most Anthropic clients do.
    turns.push({ role: p.role, content: only?.type === "text" ? only.text : blocks });
  }
  return { system, turns };
}

function convertTool(t: FunctionTool): AnthropicTool {
  const params: JsonObject = t.function.parameters ?? { properties: {} };
  const tool: AnthropicTool = { name: t.function.name, input_schema: { ...params, type: "object" } };
  if (t.function.description) tool.description = t.function.description;
  return tool;
}

/** The forced tool for response_format json_schema / json_object, or undefined for text. */
function jsonTool(req: ChatRequest): AnthropicTool | undefined {
  const rf = req.response_format;
  if (!rf || rf.type === "text") return undefined;
  if (rf.type === "json_object") {
    return { name: JSON_OBJECT_TOOL, description: "Respond with a JSON object.", input_schema: { type: "object" } };
  }
  const js = rf.json_schema;
  const schema: JsonObject = js.schema ?? {};
  return {
    name: js.name,
    description: js.description ?? "Respond with a JSON object that follows this schema.",
    input_schema: { ...schema, type: "object" },
  };
}

function toolChoice(req: ChatRequest, hasUserTools: boolean, json: string | undefined): AnthropicToolChoice | undefined {
  const choice = req.tool_choice;
  const single = req.parallel_tool_calls === false;
  let out: AnthropicToolChoice;
  if (json !== undefined) {
    // The answer must come through a tool: the JSON tool itself, or a user tool the model may still call.
    if (typeof choice === "object") out = { type: "tool", name: choice.function.name };
    else if (!hasUserTools || choice === "none") out = { type: "tool", name: json };
    else out = { type: "any" };
  } else {
    if (!hasUserTools) return undefined;
    if (choice === undefined) {
      if (!single) return undefined;
      out = { type: "auto" };
    } else if (choice === "none") return { type: "none" };
    else if (choice === "auto") out = { type: "auto" };
    else if (choice === "required") out = { type: "any" };
    else out = { type: "tool", name: choice.function.name };
  }
  if (single) out.disable_parallel_tool_use = true;
  return out;
}

/** Anthropic's own extended-thinking switch, passed through when a client sends a well-formed one. */
function thinkingOf(v: unknown): AnthropicMessagesBody["thinking"] {
  if (typeof v !== "object" || v === null) return undefined;
  const t = v as { type?: unknown; budget_tokens?: unknown };
  if (t.type === "disabled") return { type: "disabled" };
  if (t.type === "enabled" && typeof t.budget_tokens === "number") return { type: "enabled", budget_tokens: t.budget_tokens };
  return undefined;
}

/** Builds the Messages API body; exported for tests, which check it against the SDK's types. */
export function anthropicMessagesBody(req: ChatRequest, ctx: CodecContext, stream: boolean): AnthropicMessagesBody {
  if (typeof req.n === "number" && req.n > 1) throw badRequest("Anthropic models return one choice per request (n must be 1).", "unsupported_parameter", "n");
  const { system, turns } = convertMessages(req.messages);
  const thinking = thinkingOf(req.thinking);
  // With extended thinking, max_tokens must exceed the thinking budget.
  const defaultMax = thinking?.type === "enabled" ? thinking.budget_tokens + DEFAULT_MAX_TOKENS : DEFAULT_MAX_TOKENS;
  const body: AnthropicMessagesBody = {
    model: ctx.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? defaultMax,
    messages: turns,
  };
  if (system.length === 1) body.system = (system[0] as TextBlock).text;
  else if (system.length > 1) body.system = system;

  const userTools = req.tools && req.tools.length > 0 ? req.tools.map(convertTool) : [];
  const json = jsonTool(req);
  if (json) {
    if (userTools.some((t) => t.name === json.name))
      throw badRequest(`response_format name "${json.name}" is also the name of a tool.`, "invalid_value", "response_format");
    jsonTools.set(ctx, json.name);
  } else {
    jsonTools.delete(ctx);
  }
  const tools = json ? [...userTools, json] : userTools;
  if (tools.length > 0) body.tools = tools;
  const choice = toolChoice(req, userTools.length > 0, json?.name);
  if (choice) body.tool_choice = choice;

  if (typeof req.temperature === "number") body.temperature = req.temperature;
  // top_p 1 is a no-op, and newer models reject temperature and top_p together.
  if (typeof req.top_p === "number" && req.top_p !== 1) body.top_p = req.top_p;
  if (typeof req.top_k === "number") body.top_k = req.top_k;
  const stop = req.stop;
  if (typeof stop === "string") body.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) body.stop_sequences = stop;
  if (stream) body.stream = true;
  if (typeof req.user === "string" && req.user) body.metadata = { user_id: req.user };
  if (thinking) body.thinking = thinking;
  return body;
}

export function anthropicChatRequest(req: ChatRequest, ctx: CodecContext, stream: boolean): UpstreamRequest {
  return { path: "/v1/messages", method: "POST", headers: HEADERS, body: JSON.stringify(anthropicMessagesBody(req, ctx, stream)), stream };
}
