// Splits an upstream byte stream into events for a StreamTranslator. SSE is parsed with
// eventsource-parser; other framings (AWS event-stream) register here as they are added.
import { createParser } from "eventsource-parser";
import type { StreamEvent, StreamFraming } from "../providers/types.js";

export interface EventDecoder {
  /** Feeds bytes; returns the complete events they finished. */
  feed(chunk: Uint8Array): StreamEvent[];
  /** The stream ended: returns a last event left unterminated, if any. */
  end(): StreamEvent[];
}

class SseDecoder implements EventDecoder {
  private readonly text = new TextDecoder();
  private pending: StreamEvent[] = [];
  private readonly parser = createParser({
    onEvent: (e) => {
      this.pending.push({ event: e.event, data: e.data });
    },
  });

  feed(chunk: Uint8Array): StreamEvent[] {
    this.parser.feed(this.text.decode(chunk, { stream: true }));
    return this.take();
  }

  end(): StreamEvent[] {
    const rest = this.text.decode();
    if (rest) this.parser.feed(rest);
    this.parser.reset({ consume: true });
    return this.take();
  }

  private take(): StreamEvent[] {
    if (this.pending.length === 0) return NONE;
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

const NONE: StreamEvent[] = [];

const decoders: Partial<Record<StreamFraming, () => EventDecoder>> = {
  sse: () => new SseDecoder(),
};

export function registerDecoder(framing: StreamFraming, make: () => EventDecoder): void {
  decoders[framing] = make;
}

export function createDecoder(framing: StreamFraming): EventDecoder {
  const make = decoders[framing];
  if (!make) throw new Error(`no decoder for ${framing} streams`);
  return make();
}
