// A finished Replicate prediction → OpenAI chat.completion. Usage comes from the prediction's
// metrics (input_token_count / output_token_count) when the model reports them.
import type { ChatCompletion, FinishReason, Usage } from "../../api/types.js";
import type { CodecContext } from "../../providers/types.js";
import type { Prediction } from "./types.js";

export function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  if (Array.isArray(output)) return output.map((t) => (typeof t === "string" ? t : "")).join("");
  return "";
}

export function predictionUsage(p: Prediction): Usage | undefined {
  const input = p.metrics?.input_token_count;
  const output = p.metrics?.output_token_count;
  if (typeof input !== "number" && typeof output !== "number") return undefined;
  return { prompt_tokens: input ?? 0, completion_tokens: output ?? 0, total_tokens: (input ?? 0) + (output ?? 0) };
}

/** Replicate reports no stop reason: a reply that used the whole token budget was cut off. */
export function predictionFinish(p: Prediction): FinishReason {
  const max = p.input?.max_tokens ?? p.input?.max_new_tokens;
  const out = p.metrics?.output_token_count;
  return typeof max === "number" && typeof out === "number" && out >= max ? "length" : "stop";
}

export function replicateChatResponse(json: unknown, ctx: CodecContext): ChatCompletion {
  const p = json as Prediction;
  if (!p || typeof p !== "object" || p.status !== "succeeded") throw new Error("not a finished Replicate prediction");
  const created = p.created_at ? Math.floor(Date.parse(p.created_at) / 1000) : NaN;
  const completion: ChatCompletion = {
    id: p.id ?? `chatcmpl-${ctx.requestId}`,
    object: "chat.completion",
    created: Number.isFinite(created) ? created : Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message: { role: "assistant", content: outputText(p.output), refusal: null }, finish_reason: predictionFinish(p), logprobs: null }],
  };
  const usage = predictionUsage(p);
  if (usage) completion.usage = usage;
  return completion;
}
