// Decodes an OpenAI-wire stream. The gateway forwards OpenAI-wire bytes unchanged; this translator
// is used where the chunks themselves are needed (usage accounting, chunk-aware plugins, cache).
import type { ChatCompletionChunk, Usage } from "../../api/types.js";
import type { CodecContext, StreamEvent, StreamTranslator } from "../../providers/types.js";

export class OpenAIStreamTranslator implements StreamTranslator {
  private lastUsage: Usage | undefined;

  constructor(_ctx: CodecContext) {}

  push(event: StreamEvent): ChatCompletionChunk[] {
    if (event.data === "[DONE]") return [];
    const chunk = JSON.parse(event.data) as ChatCompletionChunk;
    if (chunk.usage) this.lastUsage = chunk.usage;
    return [chunk];
  }

  end(): ChatCompletionChunk[] {
    return [];
  }

  usage(): Usage | undefined {
    return this.lastUsage;
  }
}
