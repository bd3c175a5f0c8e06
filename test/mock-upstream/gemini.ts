// Google's Gemini API (generativelanguage v1beta) as the real service answers (compare the
// fixtures in shared/fixtures/google): pretty-printed JSON bodies, and for streamGenerateContent
// with alt=sse one GenerateContentResponse per "data:" frame, CRLF-terminated, each carrying the
// usage so far, the finishReason on the last one. Function calls arrive whole, never as deltas.
import type { JsonObject, JsonValue } from "../../src/api/types.js";
import { splitText, type MockFormat, type MockReply, type ParsedChat } from "./format.js";

const RESPONSE_ID = "mockGeminiResp0001";

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function partsOf(content: JsonValue | undefined): JsonObject[] {
  return isObject(content) && Array.isArray(content.parts) ? content.parts.filter(isObject) : [];
}

/** "/v1beta/models/gemini-2.5-flash:generateContent" → "gemini-2.5-flash". */
function modelFromPath(path: string): string {
  const at = path.indexOf("/models/");
  if (at < 0) return "unknown";
  const rest = path.slice(at + 8);
  const colon = rest.indexOf(":");
  return decodeURIComponent(colon < 0 ? rest : rest.slice(0, colon));
}

function finishReason(reply: MockReply): string {
  return reply.stop === "length" ? "MAX_TOKENS" : "STOP";
}

function usage(reply: MockReply, output = reply.usage.output): JsonObject {
  const u: JsonObject = {
    promptTokenCount: reply.usage.input,
    candidatesTokenCount: output,
    totalTokenCount: reply.usage.input + output,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: reply.usage.input }],
  };
  if (reply.usage.cached) {
    u.cachedContentTokenCount = reply.usage.cached;
    u.cacheTokensDetails = [{ modality: "TEXT", tokenCount: reply.usage.cached }];
  }
  return u;
}

function functionCallPart(reply: MockReply): JsonObject {
  const call = reply.toolCall;
  return { functionCall: { name: call?.name ?? "", args: call?.arguments ?? {} } };
}

function response(reply: MockReply, candidate: JsonObject, usageMetadata: JsonObject): JsonObject {
  return { candidates: [candidate], usageMetadata, modelVersion: reply.model, responseId: RESPONSE_ID };
}

export const geminiFormat: MockFormat = {
  name: "gemini",
  parseChat(path: string, body: JsonObject): ParsedChat {
    const contents = Array.isArray(body.contents) ? body.contents.filter(isObject) : [];
    // The last user turn with text: tool results also travel as user turns, as functionResponse parts.
    let lastUserText = "";
    for (let i = contents.length - 1; i >= 0; i--) {
      const c = contents[i] as JsonObject;
      if (c.role !== undefined && c.role !== "user") continue;
      const texts = partsOf(c).filter((p) => typeof p.text === "string");
      if (texts.length === 0) continue;
      lastUserText = texts.map((p) => p.text as string).join("");
      break;
    }
    let firstToolName: string | undefined;
    for (const tool of Array.isArray(body.tools) ? body.tools.filter(isObject) : []) {
      const decls = Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations.filter(isObject) : [];
      if (decls[0] && typeof decls[0].name === "string") {
        firstToolName = decls[0].name;
        break;
      }
    }
    const last = contents[contents.length - 1];
    const config = isObject(body.generationConfig) ? body.generationConfig : {};
    return {
      model: modelFromPath(path),
      stream: path.includes("streamGenerateContent"),
      lastUserText,
      firstToolName,
      lastIsToolResult: partsOf(last).some((p) => isObject(p.functionResponse)),
      maxTokens: typeof config.maxOutputTokens === "number" ? config.maxOutputTokens : undefined,
    };
  },

  chatBody(reply: MockReply): string {
    const parts: JsonObject[] = reply.toolCall ? [functionCallPart(reply)] : [{ text: reply.text }];
    const candidate: JsonObject = { content: { parts, role: "model" }, finishReason: finishReason(reply), index: 0 };
    if (reply.toolCall) candidate.finishMessage = "Model generated function call(s).";
    return JSON.stringify(response(reply, candidate, usage(reply)), null, 2);
  },

  chatStream(reply: MockReply, chunks: number): string[] {
    const frame = (o: JsonObject): string => `data: ${JSON.stringify(o)}\r\n\r\n`;
    if (reply.toolCall) {
      // As recorded: the call whole in one event, then an empty text part with finishReason.
      return [
        frame(response(reply, { content: { parts: [functionCallPart(reply)], role: "model" }, index: 0 }, usage(reply))),
        frame(response(reply, { content: { parts: [{ text: "" }], role: "model" }, finishReason: finishReason(reply), index: 0 }, usage(reply))),
      ];
    }
    const pieces = splitText(reply.text, chunks);
    return pieces.map((text, i) => {
      const lastOne = i === pieces.length - 1;
      const candidate: JsonObject = { content: { parts: [{ text }], role: "model" }, index: 0 };
      if (lastOne) candidate.finishReason = finishReason(reply);
      // Each event reports the output counted so far; only the last one is final.
      const output = lastOne ? reply.usage.output : Math.max(1, Math.floor((reply.usage.output * (i + 1)) / pieces.length));
      return frame(response(reply, candidate, usage(reply, output)));
    });
  },

  errorBody(status: number, message: string): string {
    const name = STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT");
    return JSON.stringify({ error: { code: status, message, status: name } }, null, 2);
  },

  embeddingsBody(path: string, body: JsonObject, vector: (text: string) => number[]): string {
    const textOf = (content: JsonValue | undefined): string =>
      partsOf(content)
        .map((p) => (typeof p.text === "string" ? p.text : ""))
        .join("");
    if (path.includes(":embedContent")) return JSON.stringify({ embedding: { values: vector(textOf(body.content)) } }, null, 2);
    const requests = Array.isArray(body.requests) ? body.requests.filter(isObject) : [];
    return JSON.stringify({ embeddings: requests.map((r) => ({ values: vector(textOf(r.content)) })) }, null, 2);
  },
};
