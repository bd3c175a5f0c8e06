// Anthropic Messages SSE stream → OpenAI chat.completion.chunk objects. Anthropic streams blocks
// (message_start, content_block_start/delta/stop, message_delta, message_stop); every block is
// tracked by its index so input_json_delta fragments reach the right tool call. Server-side tool
// blocks and deltas we have no field for (signatures, citations, compaction) are skipped.
import type { ChatCompletionChunk, FinishReason, Usage } from "../../api/types.js";
import type { CodecContext, StreamEvent, StreamTranslator } from "../../providers/types.js";
import { AnthropicStreamError, errorFields } from "./errors.js";
import { jsonToolName } from "./request.js";
import { finishReason, nowSeconds, toUsage, type AnthropicBlock, type AnthropicMessage, type AnthropicUsage } from "./response.js";

type Delta = ChatCompletionChunk["choices"][number]["delta"];

/** What a content block turns into. */
const SKIP = 0;
const TOOL = 1;
/** The forced response_format tool: its input streams out as content. */
const JSON_ANSWER = 2;

interface BlockState {
  kind: typeof SKIP | typeof TOOL | typeof JSON_ANSWER;
  /** OpenAI tool_calls index (TOOL blocks). */
  toolIndex: number;
  /** Argument characters sent so far; none at content_block_stop means "send the start input". */
  sent: number;
  input: unknown;
}

interface StreamPayload {
  type?: string;
  index?: number;
  message?: AnthropicMessage;
  content_block?: AnthropicBlock;
  delta?: { type?: string; text?: string; thinking?: string; partial_json?: string; stop_reason?: string | null };
  usage?: AnthropicUsage;
  error?: unknown;
}

const NONE: ChatCompletionChunk[] = [];
const SKIPPED: BlockState = { kind: SKIP, toolIndex: -1, sent: 0, input: undefined };

export class AnthropicStreamTranslator implements StreamTranslator {
  private readonly created = nowSeconds();
  private readonly jsonTool: string | undefined;
  private id: string;
  private model: string;
  private messageId: string | undefined;
  private roleSent = false;
  private finished = false;
  /** message_stop seen: the response is complete. */
  private closed = false;
  private toolCount = 0;
  private readonly blocks: BlockState[] = [];
  /** Latest usage counts; message_delta's cumulative values replace message_start's. */
  private readonly counts: AnthropicUsage = {};
  private sawUsage = false;

  constructor(ctx: CodecContext) {
    this.id = `chatcmpl-${ctx.requestId}`;
    this.model = ctx.model;
    this.jsonTool = jsonToolName(ctx);
  }

  push(event: StreamEvent): ChatCompletionChunk[] {
    const data = event.data;
    if (data.length === 0) return NONE;
    let ev: StreamPayload;
    try {
      ev = JSON.parse(data) as StreamPayload;
    } catch {
      throw new AnthropicStreamError("protocol_error", "Anthropic sent a stream event that is not JSON.");
    }
    // Anything after message_stop belongs to no response we can still deliver (a proxy
    // appending another generation): the client already has a complete answer.
    if (this.closed) return NONE;
    switch (ev.type) {
      case "message_start":
        return this.messageStart(ev.message);
      case "content_block_start":
        return this.blockStart(ev.index, ev.content_block);
      case "content_block_delta":
        return this.blockDelta(ev.index, ev.delta);
      case "content_block_stop":
        return this.blockStop(ev.index);
      case "message_delta":
        return this.messageDelta(ev);
      case "message_stop":
        this.closed = true;
        return NONE;
      case "error": {
        const f = errorFields(ev);
        throw new AnthropicStreamError(f?.type ?? "api_error", f?.message ?? "Anthropic reported an error in the stream.");
      }
      default:
        // ping, and event types added after this was written
        return NONE;
    }
  }

  end(): ChatCompletionChunk[] {
    // Anthropic always closes a message with message_delta; without it the answer was cut short.
    if (!this.finished) throw new AnthropicStreamError("protocol_error", "Anthropic stream ended before the message was complete.");
    return NONE;
  }

  usage(): Usage | undefined {
    return this.sawUsage ? toUsage(this.counts) : undefined;
  }

  private messageStart(message: AnthropicMessage | undefined): ChatCompletionChunk[] {
    const id = message?.id;
    if (this.messageId !== undefined) {
      // Some proxies repeat the frame (same id): harmless. A different id means a second
      // generation was spliced into this response; merging the two would corrupt the answer.
      if (id === this.messageId) return NONE;
      throw new AnthropicStreamError("protocol_error", `Anthropic stream started message ${String(id)} while message ${this.messageId} was open.`);
    }
    this.messageId = id ?? "";
    if (id) this.id = id;
    if (message?.model) this.model = message.model;
    if (message?.usage) this.addUsage(message.usage);
    const out = [this.chunk({ content: "" }, null)];
    // Usually empty; a client tool called from programmatic code execution arrives whole here,
    // with its stop_reason and no message_delta to follow.
    const content = message?.content;
    if (Array.isArray(content))
      for (let i = 0; i < content.length; i++) {
        for (const c of this.blockStart(i, content[i])) out.push(c);
        for (const c of this.blockStop(i)) out.push(c);
      }
    const stop = message?.stop_reason;
    if (stop !== undefined && stop !== null) out.push(this.finish(stop));
    return out;
  }

  private blockStart(index: number | undefined, block: AnthropicBlock | undefined): ChatCompletionChunk[] {
    if (typeof index !== "number" || !block) return NONE;
    switch (block.type) {
      case "text":
        this.blocks[index] = SKIPPED;
        return block.text ? [this.chunk({ content: block.text }, null)] : NONE;
      case "thinking":
        this.blocks[index] = SKIPPED;
        return block.thinking ? [this.chunk({ reasoning_content: block.thinking }, null)] : NONE;
      case "tool_use": {
        const name = block.name ?? "";
        if (name === this.jsonTool) {
          this.blocks[index] = { kind: JSON_ANSWER, toolIndex: -1, sent: 0, input: block.input };
          return NONE;
        }
        const toolIndex = this.toolCount++;
        this.blocks[index] = { kind: TOOL, toolIndex, sent: 0, input: block.input };
        return [this.chunk({ tool_calls: [{ index: toolIndex, id: block.id ?? "", type: "function", function: { name, arguments: "" } }] }, null)];
      }
      default:
        // server_tool_use, *_tool_result, mcp_*, redacted_thinking, compaction, fallback...
        this.blocks[index] = SKIPPED;
        return NONE;
    }
  }

  private blockDelta(index: number | undefined, delta: StreamPayload["delta"]): ChatCompletionChunk[] {
    if (!delta) return NONE;
    switch (delta.type) {
      case "text_delta":
        return delta.text ? [this.chunk({ content: delta.text }, null)] : NONE;
      case "thinking_delta":
        return delta.thinking ? [this.chunk({ reasoning_content: delta.thinking }, null)] : NONE;
      case "input_json_delta": {
        const part = delta.partial_json;
        if (typeof index !== "number" || !part) return NONE;
        const b = this.blocks[index];
        if (!b || b.kind === SKIP) return NONE;
        b.sent += part.length;
        if (b.kind === JSON_ANSWER) return [this.chunk({ content: part }, null)];
        return [this.chunk({ tool_calls: [{ index: b.toolIndex, function: { arguments: part } }] }, null)];
      }
      default:
        // signature_delta, citations_delta, compaction_delta...
        return NONE;
    }
  }

  private blockStop(index: number | undefined): ChatCompletionChunk[] {
    if (typeof index !== "number") return NONE;
    const b = this.blocks[index];
    if (!b || b.kind === SKIP || b.sent > 0) return NONE;
    // No input_json_delta carried anything (a tool without arguments): send the start block's
    // input, "{}" at least, so clients never have to parse an empty arguments string.
    const args = JSON.stringify(b.input ?? {});
    b.sent = args.length;
    if (b.kind === JSON_ANSWER) return [this.chunk({ content: args }, null)];
    return [this.chunk({ tool_calls: [{ index: b.toolIndex, function: { arguments: args } }] }, null)];
  }

  private messageDelta(ev: StreamPayload): ChatCompletionChunk[] {
    if (ev.usage) this.addUsage(ev.usage);
    const stop = ev.delta?.stop_reason;
    if (this.finished || stop === undefined || stop === null) return NONE;
    return [this.finish(stop)];
  }

  private finish(stop: string): ChatCompletionChunk {
    this.finished = true;
    return this.chunk({}, finishReason(stop, this.toolCount > 0));
  }

  private addUsage(u: AnthropicUsage): void {
    const c = this.counts;
    if (typeof u.input_tokens === "number") c.input_tokens = u.input_tokens;
    if (typeof u.output_tokens === "number") c.output_tokens = u.output_tokens;
    if (typeof u.cache_read_input_tokens === "number") c.cache_read_input_tokens = u.cache_read_input_tokens;
    if (typeof u.cache_creation_input_tokens === "number") c.cache_creation_input_tokens = u.cache_creation_input_tokens;
    if (u.output_tokens_details) c.output_tokens_details = u.output_tokens_details;
    this.sawUsage = true;
  }

  private chunk(delta: Delta, finish: FinishReason | null): ChatCompletionChunk {
    if (!this.roleSent) {
      this.roleSent = true;
      // role first in the object, as OpenAI orders it
      delta = { role: "assistant", ...delta };
    }
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
  }
}
