// OpenAI chat request -> Bedrock Converse / ConverseStream request.
// POST /model/{modelId}/converse (or /converse-stream): messages alternate user/assistant, system
// prompts go to `system`, tool results travel as user turns, tools as toolConfig.toolSpec.
import type { ChatMessage, ChatRequest, ContentPart, JsonObject, JsonValue, TextPart } from "../../api/types.js";
import type { CodecContext, UpstreamRequest } from "../../providers/types.js";
import { badRequest } from "../../server/errors.js";
import type { ConverseContentBlock, ConverseImageBlock, ConverseMessage, ConverseRequestBody, ConverseToolChoice, ConverseToolSpec } from "./types.js";

const IMAGE_FORMATS: Readonly<Record<string, ConverseImageBlock["format"]>> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

/** Bedrock-native request fields a client may send as extra body fields; forwarded unchanged. */
const PASSTHROUGH = ["additionalModelRequestFields", "additionalModelResponseFieldPaths", "guardrailConfig", "performanceConfig"] as const;

/** Thinking budgets for Claude models when the client sends OpenAI's reasoning_effort. */
const THINKING_BUDGET: Readonly<Record<string, number>> = { minimal: 1024, low: 1024, medium: 4096, high: 16384 };

/** The modelId path label, encoded as the AWS SDKs do (":" and "/" of ARNs and versions escaped). */
export function modelPath(model: string, action: "converse" | "converse-stream" | "invoke"): string {
  return `/model/${encodeURIComponent(model)}/${action}`;
}

function textOf(content: string | TextPart[] | null | undefined): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((p) => p.text).join("");
}

function imageBlock(url: string, param: string): ConverseContentBlock {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!m) throw badRequest("Bedrock accepts images only as base64 data URLs (data:image/png;base64,...).", "invalid_value", param);
  const format = IMAGE_FORMATS[(m[1] ?? "").toLowerCase()];
  if (!format) throw badRequest(`Bedrock does not accept images of type ${m[1]}; use png, jpeg, gif or webp.`, "invalid_value", param);
  return { image: { format, source: { bytes: m[2] ?? "" } } };
}

function userBlocks(content: string | ContentPart[], param: string): ConverseContentBlock[] {
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  const out: ConverseContentBlock[] = [];
  content.forEach((part, i) => {
    if (part.type === "text") {
      if (part.text !== "") out.push({ text: part.text });
    } else if (part.type === "image_url") out.push(imageBlock(part.image_url.url, `${param}[${i}].image_url.url`));
    else throw badRequest("Bedrock Converse does not accept audio input.", "invalid_value", `${param}[${i}]`);
  });
  return out;
}

function parseArguments(args: string): JsonValue {
  if (args.trim() === "") return {};
  try {
    return JSON.parse(args) as JsonValue;
  } catch {
    return {};
  }
}

function push(messages: ConverseMessage[], role: "user" | "assistant", blocks: ConverseContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  // Converse wants strictly alternating turns: consecutive same-role messages are merged.
  if (last && last.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

export function converseMessages(input: readonly ChatMessage[]): { system: Array<{ text: string }>; messages: ConverseMessage[] } {
  const system: Array<{ text: string }> = [];
  const messages: ConverseMessage[] = [];
  input.forEach((m, i) => {
    switch (m.role) {
      case "system":
      case "developer": {
        const text = textOf(m.content);
        if (text !== "") system.push({ text });
        break;
      }
      case "user":
        push(messages, "user", userBlocks(m.content, `messages[${i}].content`));
        break;
      case "assistant": {
        const blocks: ConverseContentBlock[] = [];
        const text = textOf(m.content);
        if (text !== "") blocks.push({ text });
        for (const call of m.tool_calls ?? [])
          blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: parseArguments(call.function.arguments) } });
        push(messages, "assistant", blocks);
        break;
      }
      case "tool":
        push(messages, "user", [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text: textOf(m.content) }] } }]);
        break;
    }
  });
  return { system, messages };
}

function hasToolBlocks(messages: readonly ConverseMessage[]): boolean {
  return messages.some((m) => m.content.some((b) => b.toolUse !== undefined || b.toolResult !== undefined));
}

function toolConfig(req: ChatRequest, messages: readonly ConverseMessage[]): ConverseRequestBody["toolConfig"] {
  const tools: ConverseToolSpec[] = (req.tools ?? []).map((t) => ({
    toolSpec: {
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      inputSchema: { json: t.function.parameters ?? { type: "object", properties: {} } },
    },
  }));
  if (tools.length === 0) return undefined;
  const choice = req.tool_choice;
  // Converse has no "none": leave the tools out, unless the history uses them (then Bedrock
  // requires the toolConfig) and the model is left to decide.
  if (choice === "none") return hasToolBlocks(messages) ? { tools } : undefined;
  let toolChoice: ConverseToolChoice | undefined;
  if (choice === "auto") toolChoice = { auto: {} };
  else if (choice === "required") toolChoice = { any: {} };
  else if (choice && typeof choice === "object") toolChoice = { tool: { name: choice.function.name } };
  return toolChoice ? { tools, toolChoice } : { tools };
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function converseBody(req: ChatRequest, model: string): ConverseRequestBody {
  const { system, messages } = converseMessages(req.messages);
  const body: ConverseRequestBody = { messages };
  if (system.length > 0) body.system = system;

  const inference: NonNullable<ConverseRequestBody["inferenceConfig"]> = {};
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (typeof maxTokens === "number") inference.maxTokens = maxTokens;
  if (typeof req.temperature === "number") inference.temperature = req.temperature;
  if (typeof req.top_p === "number") inference.topP = req.top_p;
  if (typeof req.stop === "string") inference.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) inference.stopSequences = req.stop;

  const tools = toolConfig(req, messages);
  if (tools) body.toolConfig = tools;

  for (const key of PASSTHROUGH) if (req[key] !== undefined && req[key] !== null) (body as unknown as Record<string, unknown>)[key] = req[key];
  if (req.metadata && Object.keys(req.metadata).length > 0) body.requestMetadata = req.metadata;

  // OpenAI's reasoning_effort becomes extended thinking on Anthropic models (the only Converse
  // family with a documented thinking switch); max tokens must exceed the thinking budget.
  const effort = req.reasoning_effort;
  const budget = typeof effort === "string" ? THINKING_BUDGET[effort] : undefined;
  if (budget !== undefined && model.includes("anthropic.claude")) {
    const extra = isObject(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
    if (extra.thinking === undefined) {
      body.additionalModelRequestFields = { ...extra, thinking: { type: "enabled", budget_tokens: budget } };
      if (inference.maxTokens === undefined || inference.maxTokens <= budget) inference.maxTokens = budget + (inference.maxTokens ?? 4096);
      delete inference.temperature;
      delete inference.topP;
    }
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  return body;
}

export function converseRequest(req: ChatRequest, ctx: CodecContext, stream: boolean): UpstreamRequest {
  return {
    path: modelPath(ctx.model, stream ? "converse-stream" : "converse"),
    method: "POST",
    headers: { "content-type": "application/json", accept: stream ? "application/vnd.amazon.eventstream" : "application/json" },
    body: JSON.stringify(converseBody(req, ctx.model)),
  };
}
