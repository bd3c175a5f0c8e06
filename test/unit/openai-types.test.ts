// Our OpenAI wire types against the official SDK's: what we send clients must be assignable to the
// SDK's response types, and what clients send must fit our request types. A drift fails `tsc`
// (run by `npm test`) before it can fail a user.
import { describe, expect, it } from "vitest";
import type OpenAI from "openai";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingResponse, ModelInfo } from "../../src/api/types.js";
import { validateChat } from "../../src/api/validate.js";

type Assignable<A, B> = [A] extends [B] ? true : false;
const check = <T extends true>(v: T): T => v;

describe("OpenAI wire types", () => {
  it("our responses are the SDK's responses", () => {
    expect(check<Assignable<ChatCompletion, OpenAI.Chat.ChatCompletion>>(true)).toBe(true);
    expect(check<Assignable<ChatCompletionChunk, OpenAI.Chat.ChatCompletionChunk>>(true)).toBe(true);
    expect(check<Assignable<EmbeddingResponse["usage"], OpenAI.CreateEmbeddingResponse["usage"]>>(true)).toBe(true);
    expect(check<Assignable<ModelInfo, OpenAI.Models.Model>>(true)).toBe(true);
  });

  it("an SDK request body passes our validation unchanged", () => {
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: "gpt-4o",
      messages: [
        { role: "developer", content: "be terse" },
        { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: "42" },
      ],
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } }],
      tool_choice: { type: "function", function: { name: "f" } },
      response_format: { type: "json_schema", json_schema: { name: "out", schema: { type: "object" }, strict: true } },
      max_completion_tokens: 64,
      stop: ["\n"],
      seed: 1,
      n: 1,
      logprobs: true,
      top_logprobs: 2,
    };
    const ours: ChatRequest = validateChat(structuredClone(body));
    expect(ours).toEqual(body);
  });
});
