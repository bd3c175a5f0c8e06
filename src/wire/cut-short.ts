// A translated stream whose upstream ended before its own end-of-answer event (Gemini's
// finishReason, Cohere's message-end, Replicate's done, Bedrock's messageStop) was cut short: a dropped connection, a
// proxy's timeout. Making up a finish_reason would tell the client, and the response cache, that
// a partial answer was whole; an error lets the client retry, and before the first byte the
// gateway fails over.
import { GatewayError } from "../server/errors.js";

export function streamCutShort(provider: string): GatewayError {
  return new GatewayError(502, "upstream_error", "incomplete_stream", `Provider ${provider} ended the stream before the answer was complete.`, {
    retryable: true,
  });
}
