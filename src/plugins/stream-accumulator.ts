// Streams ⇄ completions: assembles chat.completion.chunk objects into one chat.completion (so a
// streamed answer can be cached or logged), and replays a completion as a well-formed stream (so
// a cached answer can be served to a streaming request).
import type { ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, FinishReason, ToolCall, Usage } from "../api/types.js";

interface ChoiceState {
  content: string;
  sawContent: boolean;
  refusal: string | null;
  reasoning: string;
  toolCalls: ToolCall[];
  finish: FinishReason | null;
}

export class StreamAccumulator {
  private id = "";
  private created = 0;
  private model = "";
  private fingerprint: string | null | undefined;
  private usage: Usage | undefined;
  private readonly choices = new Map<number, ChoiceState>();

  push(chunk: ChatCompletionChunk): void {
    if (!this.id && chunk.id) this.id = chunk.id;
    if (!this.created && chunk.created) this.created = chunk.created;
    if (!this.model && chunk.model) this.model = chunk.model;
    if (chunk.system_fingerprint) this.fingerprint = chunk.system_fingerprint;
    if (chunk.usage) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const c of chunk.choices) {
      let s = this.choices.get(c.index);
      if (!s) {
        s = { content: "", sawContent: false, refusal: null, reasoning: "", toolCalls: [], finish: null };
        this.choices.set(c.index, s);
      }
      const d = c.delta;
      if (d) {
        if (typeof d.content === "string" && d.content !== "") {
          s.content += d.content;
          s.sawContent = true;
        }
        if (typeof d.refusal === "string") s.refusal = (s.refusal ?? "") + d.refusal;
        if (typeof d.reasoning_content === "string") s.reasoning += d.reasoning_content;
        if (d.tool_calls) {
          for (const t of d.tool_calls) {
            let call = s.toolCalls[t.index];
            if (!call) {
              call = { id: t.id ?? "", type: "function", function: { name: "", arguments: "" } };
              s.toolCalls[t.index] = call;
            }
            if (t.id) call.id = t.id;
            if (t.function?.name) call.function.name += t.function.name;
            if (t.function?.arguments) call.function.arguments += t.function.arguments;
          }
        }
      }
      if (c.finish_reason) s.finish = c.finish_reason;
    }
  }

  /** Every choice ended with a finish_reason: not a stream cut short or ended by an error event. */
  complete(): boolean {
    if (this.choices.size === 0) return false;
    for (const s of this.choices.values()) if (s.finish === null) return false;
    return true;
  }

  finish(fallbackUsage?: Usage): ChatCompletion {
    const choices: ChatCompletionChoice[] = [];
    for (const [index, s] of [...this.choices].sort((a, b) => a[0] - b[0])) {
      const toolCalls = s.toolCalls.filter(Boolean);
      const message: ChatCompletionChoice["message"] = {
        role: "assistant",
        content: s.sawContent || toolCalls.length === 0 ? s.content : null,
        refusal: s.refusal,
      };
      if (toolCalls.length > 0) message.tool_calls = toolCalls;
      if (s.reasoning) message.reasoning_content = s.reasoning;
      choices.push({ index, message, finish_reason: s.finish ?? "stop", logprobs: null });
    }
    const out: ChatCompletion = { id: this.id, object: "chat.completion", created: this.created, model: this.model, choices };
    const usage = this.usage ?? fallbackUsage;
    if (usage) out.usage = usage;
    if (this.fingerprint) out.system_fingerprint = this.fingerprint;
    return out;
  }
}

/** Replays a completion as chunks: role, content, tool calls, finish, and usage when asked. */
export function completionToChunks(c: ChatCompletion, includeUsage: boolean): ChatCompletionChunk[] {
  const base = { id: c.id, object: "chat.completion.chunk" as const, created: c.created, model: c.model, ...(c.system_fingerprint ? { system_fingerprint: c.system_fingerprint } : {}) };
  const out: ChatCompletionChunk[] = [];
  for (const choice of c.choices) {
    const m = choice.message;
    out.push({ ...base, choices: [{ index: choice.index, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }] });
    if (m.reasoning_content) out.push({ ...base, choices: [{ index: choice.index, delta: { reasoning_content: m.reasoning_content }, finish_reason: null, logprobs: null }] });
    if (typeof m.content === "string" && m.content !== "")
      out.push({ ...base, choices: [{ index: choice.index, delta: { content: m.content }, finish_reason: null, logprobs: null }] });
    if (m.refusal) out.push({ ...base, choices: [{ index: choice.index, delta: { refusal: m.refusal }, finish_reason: null, logprobs: null }] });
    if (m.tool_calls) {
      m.tool_calls.forEach((t, i) => {
        out.push({
          ...base,
          choices: [
            {
              index: choice.index,
              delta: { tool_calls: [{ index: i, id: t.id, type: "function", function: { name: t.function.name, arguments: t.function.arguments } }] },
              finish_reason: null,
              logprobs: null,
            },
          ],
        });
      });
    }
    out.push({ ...base, choices: [{ index: choice.index, delta: {}, finish_reason: choice.finish_reason, logprobs: null }] });
  }
  if (includeUsage && c.usage) out.push({ ...base, choices: [], usage: c.usage });
  return out;
}
