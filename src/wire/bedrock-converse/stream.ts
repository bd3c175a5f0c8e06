// ConverseStream events -> OpenAI chat.completion.chunk objects. Events arrive decoded from the
// binary event stream as {event: :event-type, data: JSON payload}; a payload wrapped in its event
// name ({"contentBlockDelta": {...}}, as the SDKs and recorded fixtures show it) is accepted too.
//   messageStart {role}                         -> the role chunk
//   contentBlockStart {start.toolUse}           -> a tool call opens (id, name)
//   contentBlockDelta {delta.text|toolUse.input|reasoningContent.text}
//   contentBlockStop                            -> nothing
//   messageStop {stopReason}                    -> the finish_reason chunk
//   metadata {usage, metrics}                   -> usage (may come before or after messageStop)
//   *Exception                                  -> the stream fails with that error
import type { ChatCompletionChunk, FinishReason, ToolCallDelta, Usage } from "../../api/types.js";
import type { CodecContext, StreamEvent, StreamTranslator } from "../../providers/types.js";
import { streamException } from "./errors.js";
import { streamCutShort } from "../cut-short.js";
import { converseUsage, finishReason, responseId } from "./response.js";
import type { ConverseUsage } from "./types.js";

type Delta = ChatCompletionChunk["choices"][number]["delta"];

interface BlockDelta {
  text?: string;
  toolUse?: { input?: string };
  reasoningContent?: { text?: string; signature?: string; redactedContent?: string };
}

const EVENT_NAMES = new Set(["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]);

export class ConverseStreamTranslator implements StreamTranslator {
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private roleSent = false;
  private finished = false;
  /** contentBlockIndex -> OpenAI tool_calls index. */
  private readonly tools = new Map<number, number>();
  private lastUsage: Usage | undefined;

  constructor(private readonly ctx: CodecContext) {
    this.id = responseId(ctx);
  }

  push(ev: StreamEvent): ChatCompletionChunk[] {
    let name = ev.event;
    let payload: unknown;
    if (name !== undefined && /exception$/i.test(name)) throw streamException(name, ev.data);
    try {
      payload = JSON.parse(ev.data);
    } catch {
      return [];
    }
    if (name === undefined || !EVENT_NAMES.has(name)) {
      // The wrapped form: {"contentBlockDelta": {...}}.
      const obj = payload as Record<string, unknown>;
      const key = obj && typeof obj === "object" ? Object.keys(obj)[0] : undefined;
      if (key === undefined) return [];
      if (/exception$/i.test(key)) throw streamException(key, JSON.stringify(obj[key]));
      if (!EVENT_NAMES.has(key)) return [];
      name = key;
      payload = obj[key];
    }
    const p = (payload ?? {}) as Record<string, unknown>;
    switch (name) {
      case "messageStart":
        return this.roleSent ? [] : [this.chunk({}, null)];
      case "contentBlockStart": {
        const start = p.start as { toolUse?: { toolUseId?: string; name?: string } } | undefined;
        if (!start?.toolUse) return [];
        const index = this.tools.size;
        this.tools.set(Number(p.contentBlockIndex ?? index), index);
        const call: ToolCallDelta = { index, id: start.toolUse.toolUseId ?? `call_${index}`, type: "function", function: { name: start.toolUse.name ?? "", arguments: "" } };
        return [this.chunk({ tool_calls: [call] }, null)];
      }
      case "contentBlockDelta": {
        const delta = p.delta as BlockDelta | undefined;
        if (!delta) return [];
        if (typeof delta.text === "string") return delta.text === "" ? [] : [this.chunk({ content: delta.text }, null)];
        if (delta.toolUse) {
          const index = this.tools.get(Number(p.contentBlockIndex));
          const args = delta.toolUse.input ?? "";
          if (index === undefined || args === "") return [];
          return [this.chunk({ tool_calls: [{ index, function: { arguments: args } }] }, null)];
        }
        const reasoning = delta.reasoningContent?.text;
        if (typeof reasoning === "string" && reasoning !== "") return [this.chunk({ reasoning_content: reasoning }, null)];
        return [];
      }
      case "messageStop":
        if (this.finished) return [];
        this.finished = true;
        return [this.chunk({}, finishReason(typeof p.stopReason === "string" ? p.stopReason : undefined))];
      case "metadata":
        this.lastUsage = converseUsage(p.usage as ConverseUsage | undefined) ?? this.lastUsage;
        return [];
      default:
        return [];
    }
  }

  end(): ChatCompletionChunk[] {
    if (!this.finished) throw streamCutShort("bedrock");
    return [];
  }

  usage(): Usage | undefined {
    return this.lastUsage;
  }

  private chunk(delta: Delta, finish: FinishReason | null): ChatCompletionChunk {
    if (!this.roleSent) {
      delta = { role: "assistant", ...(finish === null && delta.content === undefined && !delta.tool_calls && !delta.reasoning_content ? { content: "" } : {}), ...delta };
      this.roleSent = true;
    }
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.ctx.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
  }
}
