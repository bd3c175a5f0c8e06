// Shared pieces for tests that drive the gateway through the openai SDK.
import OpenAI from "openai";

export const weatherTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: "function",
  function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { input: { type: "string" } } } },
};

export interface Drained {
  text: string;
  finish: string | null;
  usage: OpenAI.CompletionUsage | undefined;
  chunks: number;
  role: string | undefined;
  toolName: string;
  toolArgs: string;
  toolId: string | undefined;
}

/** Reads a whole SDK stream and reassembles what a client would: text, first tool call, finish, usage. */
export async function drain(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): Promise<Drained> {
  const out: Drained = { text: "", finish: null, usage: undefined, chunks: 0, role: undefined, toolName: "", toolArgs: "", toolId: undefined };
  for await (const chunk of stream) {
    out.chunks++;
    const c = chunk.choices[0];
    out.role ??= c?.delta.role;
    out.text += c?.delta.content ?? "";
    const t = c?.delta.tool_calls?.[0];
    if (t?.id) out.toolId = t.id;
    out.toolName += t?.function?.name ?? "";
    out.toolArgs += t?.function?.arguments ?? "";
    out.finish = c?.finish_reason ?? out.finish;
    if (chunk.usage) out.usage = chunk.usage;
  }
  return out;
}

/**
 * The error a streaming request ends in: thrown by create() when it failed before the first
 * byte, or while reading when the stream broke after it. Fails the test when it does not fail.
 */
export async function streamFailure(stream: Promise<AsyncIterable<OpenAI.Chat.ChatCompletionChunk>>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await stream.then((s) => drain(s)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw new Error(`expected the stream to fail with an APIError, got ${String(err)}`);
  return err;
}
