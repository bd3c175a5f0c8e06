// Gemini streamGenerateContent (alt=sse) → OpenAI chat.completion.chunk objects. Every SSE event
// is a whole GenerateContentResponse holding only the new parts. Function calls normally arrive
// whole; Vertex can also stream their arguments (name + willContinue, then partialArgs fragments,
// then a part without willContinue), which are reassembled and sent when complete.
import type { ChatCompletionChunk, FinishReason, JsonObject, ToolCallDelta, Usage } from "../../api/types.js";
import type { CodecContext, StreamEvent, StreamTranslator } from "../../providers/types.js";
import { GatewayError, redactSecrets } from "../../server/errors.js";
import { streamCutShort } from "../cut-short.js";
import { applyPartialArg } from "./partial-args.js";
import { callIdPrefix, finishReason, nowSeconds, toUsage } from "./response.js";
import type { GeminiCandidate, GeminiFunctionCall, GeminiResponse, GeminiUsageMetadata } from "./types.js";

type Delta = ChatCompletionChunk["choices"][number]["delta"];

/** A call whose arguments are still streaming in. */
interface PendingCall {
  index: number;
  args: JsonObject;
}

/** Per-choice progress: one per candidate index. */
interface ChoiceState {
  started: boolean;
  finished: boolean;
  /** Next OpenAI tool_calls index for this choice. */
  toolIndex: number;
  pending: PendingCall | undefined;
}

const NONE: ChatCompletionChunk[] = [];
/** OpenAI's upper bound for n. */
const MAX_CHOICES = 128;

export class GeminiStreamTranslator implements StreamTranslator {
  private readonly created = nowSeconds();
  private readonly callPrefix: string;
  private id: string;
  private idFromUpstream = false;
  private model: string;
  private callCount = 0;
  private readonly choices: ChoiceState[] = [];
  private lastMeta: GeminiUsageMetadata | undefined;

  constructor(ctx: CodecContext) {
    this.id = `chatcmpl-${ctx.requestId}`;
    this.model = ctx.model;
    this.callPrefix = callIdPrefix(ctx.requestId);
  }

  push(event: StreamEvent): ChatCompletionChunk[] {
    const data = event.data;
    if (data.length === 0 || data === "[DONE]") return NONE;
    const res = JSON.parse(data) as GeminiResponse & { error?: { message?: unknown; status?: unknown } };
    if (res.error) throw streamError(res.error);
    if (!this.idFromUpstream && res.responseId) {
      this.id = res.responseId;
      this.idFromUpstream = true;
    }
    if (res.modelVersion) this.model = res.modelVersion;
    // Kept raw and converted on demand: most events carry the running counts.
    const meta = res.usageMetadata;
    if (meta && (meta.totalTokenCount !== undefined || meta.promptTokenCount !== undefined)) this.lastMeta = meta;

    const out: ChatCompletionChunk[] = [];
    const candidates = res.candidates;
    if (Array.isArray(candidates) && candidates.length > 0) {
      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i];
        if (c) this.candidate(c, choiceIndex(c.index, i), out);
      }
    } else if (res.promptFeedback?.blockReason !== undefined) {
      // The prompt was blocked: there will be no candidates at all.
      this.finish(this.state(0), 0, "content_filter", out);
    }
    return out;
  }

  end(): ChatCompletionChunk[] {
    // Gemini ends every candidate with a finishReason (a blocked prompt finishes choice 0).
    if (this.choices.length === 0 || this.choices.some((s) => !s.finished)) throw streamCutShort("gemini");
    return NONE;
  }

  usage(): Usage | undefined {
    return toUsage(this.lastMeta);
  }

  private state(index: number): ChoiceState {
    let s = this.choices[index];
    if (!s) {
      s = { started: false, finished: false, toolIndex: 0, pending: undefined };
      this.choices[index] = s;
    }
    return s;
  }

  private candidate(c: GeminiCandidate, index: number, out: ChatCompletionChunk[]): void {
    const s = this.state(index);
    if (s.finished) return;
    let content = "";
    let reasoning = "";
    let calls: ToolCallDelta[] | undefined;
    const parts = c.content?.parts;
    if (Array.isArray(parts)) {
      for (const p of parts) {
        if (p.functionCall) calls = this.functionCall(s, p.functionCall, calls);
        else if (typeof p.text === "string" && p.text.length > 0) {
          if (p.thought === true) reasoning += p.text;
          else content += p.text;
        }
      }
    }
    if (c.finishReason && s.pending) (calls ??= []).push(this.closePending(s));
    if (content || reasoning || calls) {
      const delta: Delta = {};
      if (reasoning) delta.reasoning_content = reasoning;
      if (content) delta.content = content;
      if (calls) delta.tool_calls = calls;
      this.emit(s, index, delta, out);
    }
    if (c.finishReason) this.finish(s, index, finishReason(c.finishReason, s.toolIndex > 0), out);
  }

  /** Handles one functionCall part; returns the tool call deltas it produced, appended to `calls`. */
  private functionCall(s: ChoiceState, fc: GeminiFunctionCall, calls: ToolCallDelta[] | undefined): ToolCallDelta[] | undefined {
    if (typeof fc.name === "string" && fc.name.length > 0) {
      if (s.pending) (calls ??= []).push(this.closePending(s));
      const index = s.toolIndex++;
      const id = fc.id ? fc.id : `${this.callPrefix}${this.callCount++}`;
      if (fc.willContinue === true) {
        // Arguments follow in later parts: announce the call now, send them once complete.
        const pending: PendingCall = { index, args: (fc.args as JsonObject | undefined) ?? {} };
        if (fc.partialArgs) for (const a of fc.partialArgs) applyPartialArg(pending.args, a);
        s.pending = pending;
        (calls ??= []).push({ index, id, type: "function", function: { name: fc.name, arguments: "" } });
      } else {
        (calls ??= []).push({ index, id, type: "function", function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) } });
      }
      return calls;
    }
    const pending = s.pending;
    if (!pending) return calls; // a continuation with no call open: nothing to attach it to
    if (fc.partialArgs) for (const a of fc.partialArgs) applyPartialArg(pending.args, a);
    if (fc.willContinue !== true) (calls ??= []).push(this.closePending(s));
    return calls;
  }

  private closePending(s: ChoiceState): ToolCallDelta {
    const p = s.pending as PendingCall;
    s.pending = undefined;
    return { index: p.index, function: { arguments: JSON.stringify(p.args) } };
  }

  private emit(s: ChoiceState, index: number, delta: Delta, out: ChatCompletionChunk[]): void {
    if (!s.started) {
      s.started = true;
      // role first in the object, as OpenAI orders it
      delta = { role: "assistant", ...delta };
    }
    out.push(this.chunk(index, delta, null));
  }

  private finish(s: ChoiceState, index: number, reason: FinishReason, out: ChatCompletionChunk[]): void {
    if (s.finished) return;
    s.finished = true;
    const delta: Delta = {};
    if (!s.started) {
      s.started = true;
      delta.role = "assistant";
    }
    out.push(this.chunk(index, delta, reason));
  }

  private chunk(index: number, delta: Delta, finish: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index, delta, finish_reason: finish, logprobs: null }],
    };
  }
}

/** The candidate's own index when plausible (choices are kept in an array indexed by it). */
function choiceIndex(index: number | undefined, position: number): number {
  return typeof index === "number" && Number.isInteger(index) && index >= 0 && index < MAX_CHOICES ? index : position;
}

function streamError(err: { message?: unknown; status?: unknown }): GatewayError {
  const message = typeof err.message === "string" ? redactSecrets(err.message) : "upstream stream error";
  const code = typeof err.status === "string" ? err.status.toLowerCase() : "upstream_error";
  return new GatewayError(502, "upstream_error", code, message);
}
