// Cohere's v2 wire, as api.cohere.com sends it (compare shared/fixtures/cohere): /v2/chat bodies
// with message.content[] or message.tool_plan + tool_calls, finish_reason in capitals, usage with
// billed_units and tokens; SSE streams of typed events ("event: content-delta\ndata: {...}");
// /v2/embed with embeddings.float; errors as {"id","message"}.
import type { JsonObject } from "../../src/api/types.js";
import { parseOpenAIShapedChat, splitText, type MockFormat, type MockReply, type ParsedChat } from "./format.js";

const ID = "7c3f2e1a-5b4d-4c6e-9f8a-0b1c2d3e4f5a";

function finishReason(reply: MockReply): string {
  return reply.stop === "tool" ? "TOOL_CALL" : reply.stop === "length" ? "MAX_TOKENS" : "COMPLETE";
}

function usage(reply: MockReply): JsonObject {
  // Cohere's raw token counts include its own prompt template; billed units do not.
  return {
    billed_units: { input_tokens: reply.usage.input, output_tokens: reply.usage.output },
    tokens: { input_tokens: reply.usage.input + 500, output_tokens: reply.usage.output + 3 },
    cached_tokens: reply.usage.cached ?? 0,
  };
}

function toolPlan(reply: MockReply): string {
  return `I will use the ${reply.toolCall?.name ?? "tool"} tool.`;
}

const frame = (event: JsonObject): string => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;

export const cohereFormat: MockFormat = {
  name: "cohere",
  parseChat(_path: string, body: JsonObject): ParsedChat {
    return parseOpenAIShapedChat(body, body.max_tokens);
  },


  chatBody(reply: MockReply): string {
    const message: JsonObject = reply.toolCall
      ? {
          role: "assistant",
          tool_plan: toolPlan(reply),
          tool_calls: [{ id: reply.toolCall.id, type: "function", function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments) } }],
        }
      : { role: "assistant", content: [{ type: "text", text: reply.text }] };
    return JSON.stringify({ id: ID, message, finish_reason: finishReason(reply), usage: usage(reply) });
  },

  chatStream(reply: MockReply, chunks: number): string[] {
    const out = [frame({ id: ID, type: "message-start", delta: { message: { role: "assistant", content: [], tool_plan: "", tool_calls: [], citations: [] } } })];
    if (reply.toolCall) {
      out.push(frame({ type: "tool-plan-delta", delta: { message: { tool_plan: toolPlan(reply) } } }));
      out.push(
        frame({
          type: "tool-call-start",
          index: 0,
          delta: { message: { tool_calls: { id: reply.toolCall.id, type: "function", function: { name: reply.toolCall.name, arguments: "" } } } },
        }),
      );
      for (const piece of splitText(JSON.stringify(reply.toolCall.arguments), Math.max(1, chunks)))
        out.push(frame({ type: "tool-call-delta", index: 0, delta: { message: { tool_calls: { function: { arguments: piece } } } } }));
      out.push(frame({ type: "tool-call-end", index: 0 }));
    } else {
      out.push(frame({ type: "content-start", index: 0, delta: { message: { content: { type: "text", text: "" } } } }));
      for (const piece of splitText(reply.text, chunks)) out.push(frame({ type: "content-delta", index: 0, delta: { message: { content: { text: piece } } } }));
      out.push(frame({ type: "content-end", index: 0 }));
    }
    out.push(frame({ type: "message-end", delta: { finish_reason: finishReason(reply), usage: usage(reply) } }));
    return out;
  },

  errorBody(_status: number, message: string): string {
    return JSON.stringify({ id: ID, message });
  },

  embeddingsBody(_path: string, body: JsonObject, vector: (text: string) => number[]): string {
    const texts = Array.isArray(body.texts) ? body.texts.map((t) => (typeof t === "string" ? t : "")) : [];
    const tokens = texts.reduce((n, t) => n + Math.max(1, Math.ceil(t.length / 4)), 0);
    return JSON.stringify({
      id: ID,
      texts,
      embeddings: { float: texts.map((t) => vector(t)) },
      meta: { api_version: { version: "2" }, billed_units: { input_tokens: tokens } },
      response_type: "embeddings_by_type",
    });
  },
};
