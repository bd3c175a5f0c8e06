// A whole (non-streamed) chat completion read from an upstream's body, in OpenAI's shape.
import type { ChatCompletion } from "../api/types.js";
import type { CodecContext, Provider } from "../providers/types.js";
import { invalidUpstreamBody } from "./upstream-call.js";

/** An OpenAI-wire body; undefined when it is not a completion (no choices, not JSON). */
export function parseCompletion(buf: Buffer): ChatCompletion | undefined {
  try {
    const parsed = JSON.parse(buf.toString("utf8")) as ChatCompletion;
    return Array.isArray(parsed.choices) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Any wire's body, translated; one that cannot be read is a transport failure (retryable). */
export function decodeCompletion(provider: Provider, codecCtx: CodecContext, buf: Buffer): ChatCompletion {
  if (provider.codec.openaiWire) return parseCompletion(buf) ?? invalidUpstreamBody(provider);
  try {
    return provider.codec.chatResponse(JSON.parse(buf.toString("utf8")), codecCtx);
  } catch {
    invalidUpstreamBody(provider);
  }
}
