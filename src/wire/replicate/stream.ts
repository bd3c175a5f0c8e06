// A prediction's event stream (SSE at urls.stream) → OpenAI chunks. Events: `output` (plain text,
// one token or chunk; multi-line data is joined with "\n" by the SSE parser), `error` (JSON with
// `detail`), `done` (JSON: {} on success, or a `reason` of "canceled" / "error").
import type { ChatCompletionChunk, Usage } from "../../api/types.js";
import type { CodecContext, StreamEvent, StreamTranslator } from "../../providers/types.js";
import { GatewayError } from "../../server/errors.js";
import { streamCutShort } from "../cut-short.js";

type Delta = ChatCompletionChunk["choices"][number]["delta"];

/** The prediction failed mid-stream; the client gets it as an upstream error. */
export class ReplicateStreamError extends GatewayError {
  constructor(message: string) {
    super(502, "upstream_error", "upstream_error", `Provider replicate failed: ${message}`, { retryable: true });
  }
}

function detailOf(data: string, fallback: string): string {
  try {
    const parsed = JSON.parse(data) as { detail?: unknown; error?: unknown; reason?: unknown };
    if (typeof parsed.detail === "string") return parsed.detail;
    if (typeof parsed.error === "string") return parsed.error;
    if (typeof parsed.reason === "string") return `prediction ${parsed.reason}`;
  } catch {
    if (data) return data;
  }
  return fallback;
}

export class ReplicateStreamTranslator implements StreamTranslator {
  private readonly id: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private started = false;
  private finished = false;

  constructor(private readonly ctx: CodecContext) {
    this.id = `chatcmpl-${ctx.requestId}`;
  }

  push(event: StreamEvent): ChatCompletionChunk[] {
    switch (event.event) {
      case "output":
        return event.data ? this.emit({ content: event.data }) : [];
      case "error":
        throw new ReplicateStreamError(detailOf(event.data, "the prediction failed"));
      case "done": {
        const reason = detailOf(event.data, "");
        if (reason === "prediction canceled" || reason === "prediction error") throw new ReplicateStreamError(reason);
        return this.finish();
      }
      default:
        return [];
    }
  }

  end(): ChatCompletionChunk[] {
    if (!this.finished) throw streamCutShort("replicate");
    return [];
  }

  /** The event stream carries no token counts. */
  usage(): Usage | undefined {
    return undefined;
  }

  private finish(): ChatCompletionChunk[] {
    if (this.finished) return [];
    this.finished = true;
    const out = this.open();
    out.push(this.chunk({}, "stop"));
    return out;
  }

  private open(): ChatCompletionChunk[] {
    if (this.started) return [];
    this.started = true;
    return [this.chunk({ role: "assistant", content: "" }, null)];
  }

  private emit(delta: Delta): ChatCompletionChunk[] {
    const out = this.open();
    out.push(this.chunk(delta, null));
    return out;
  }

  private chunk(delta: Delta, finish: ChatCompletionChunk["choices"][number]["finish_reason"]): ChatCompletionChunk {
    return { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.ctx.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
