// Cohere v2 chat stream (SSE; each frame's JSON names its event in `type`) → OpenAI chunks.
// Events: message-start, content-start/-delta/-end (text or thinking), tool-plan-delta,
// tool-call-start/-delta/-end, citation-start/-end, message-end (finish_reason, usage).
import type { ChatCompletionChunk, ToolCallDelta, Usage } from "../../api/types.js";
import type { CodecContext, StreamEvent, StreamTranslator } from "../../providers/types.js";
import { GatewayError } from "../../server/errors.js";
import { streamCutShort } from "../cut-short.js";
import { cohereFinishReason, cohereUsage } from "./response.js";
import type { CohereStreamEvent } from "./types.js";

type Delta = ChatCompletionChunk["choices"][number]["delta"];

/** Cohere reported a failed generation in the stream; the client gets it as an upstream error. */
export class CohereStreamError extends GatewayError {
  constructor(message: string) {
    super(502, "upstream_error", "upstream_error", `Provider cohere failed: ${message}`, { retryable: true });
  }
}

export class CohereStreamTranslator implements StreamTranslator {
  private id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private started = false;
  private finished = false;
  private lastUsage: Usage | undefined;
  /** Cohere's tool-call index → OpenAI's, and whether any argument text arrived for it. */
  private readonly calls = new Map<number, { index: number; sawArgs: boolean }>();

  constructor(private readonly ctx: CodecContext) {
    this.id = `chatcmpl-${ctx.requestId}`;
  }

  push(event: StreamEvent): CohereChunk[] {
    let ev: CohereStreamEvent;
    try {
      ev = JSON.parse(event.data) as CohereStreamEvent;
    } catch {
      return [];
    }
    const type = ev.type ?? event.event;
    const msg = ev.delta?.message;
    switch (type) {
      case "message-start":
        if (ev.id) this.id = ev.id;
        return this.open();
      case "content-delta": {
        const c = msg?.content;
        if (typeof c?.text === "string" && c.text) return this.emit({ content: c.text });
        if (typeof c?.thinking === "string" && c.thinking) return this.emit({ reasoning_content: c.thinking });
        return [];
      }
      case "tool-plan-delta":
        return msg?.tool_plan ? this.emit({ reasoning_content: msg.tool_plan }) : [];
      case "tool-call-start": {
        const call = msg?.tool_calls;
        const index = this.calls.size;
        const args = call?.function?.arguments ?? "";
        this.calls.set(ev.index ?? index, { index, sawArgs: args !== "" });
        const d: ToolCallDelta = { index, id: call?.id ?? `call_${index}`, type: "function", function: { name: call?.function?.name ?? "", arguments: args } };
        return this.emit({ tool_calls: [d] });
      }
      case "tool-call-delta": {
        const piece = msg?.tool_calls?.function?.arguments;
        const call = this.calls.get(ev.index ?? this.calls.size - 1);
        if (!call || !piece) return [];
        call.sawArgs = true;
        return this.emit({ tool_calls: [{ index: call.index, function: { arguments: piece } }] });
      }
      case "tool-call-end": {
        // A call without arguments streams none: send "{}" so clients can parse it.
        const call = this.calls.get(ev.index ?? this.calls.size - 1);
        if (!call || call.sawArgs) return [];
        call.sawArgs = true;
        return this.emit({ tool_calls: [{ index: call.index, function: { arguments: "{}" } }] });
      }
      case "message-end": {
        if (ev.delta?.error) throw new CohereStreamError(ev.delta.error);
        this.lastUsage = cohereUsage(ev.delta?.usage);
        this.finished = true;
        const out = this.open();
        out.push(this.chunk({}, cohereFinishReason(ev.delta?.finish_reason, this.calls.size > 0)));
        return out;
      }
      default:
        // content-start/-end, citation-start/-end, debug: nothing to forward.
        return [];
    }
  }

  end(): CohereChunk[] {
    if (!this.finished) throw streamCutShort("cohere");
    return [];
  }

  usage(): Usage | undefined {
    return this.lastUsage;
  }

  private open(): CohereChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: "assistant", content: "" }, null)];
  }

  private emit(delta: Delta): CohereChunk[] {
    const out = this.open();
    out.push(this.chunk(delta, null));
    return out;
  }

  private chunk(delta: Delta, finish: ChatCompletionChunk["choices"][number]["finish_reason"]): CohereChunk {
    return { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.ctx.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}

type CohereChunk = ChatCompletionChunk;
