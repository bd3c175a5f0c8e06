// Anthropic errors: HTTP bodies {"type":"error","error":{"type","message"},"request_id"} and the
// same object sent as an `error` event inside a 200 stream. Only message and type reach the client.
import type { UpstreamErrorInfo } from "../../providers/types.js";
import { GatewayError, redactSecrets } from "../../server/errors.js";

/** A plain-text body this short (a proxy's "upstream connect error", say) is shown; longer ones never are. */
const MAX_PLAIN_TEXT = 200;

/** Error types worth another attempt when the stream failed before anything reached the client. */
const RETRYABLE = new Set(["overloaded_error", "api_error", "rate_limit_error", "timeout_error"]);

interface AnthropicErrorBody {
  type?: unknown;
  error?: { type?: unknown; message?: unknown } | string | null;
  message?: unknown;
}

/** An `error` event in an Anthropic stream (or a stream that broke the protocol). */
export class AnthropicStreamError extends GatewayError {
  /** Anthropic's error type, e.g. "overloaded_error"; "protocol_error" for a malformed stream. */
  readonly errorType: string;

  constructor(errorType: string, message: string) {
    super(502, "upstream_error", errorType, redactSecrets(message), { retryable: RETRYABLE.has(errorType) });
    this.name = "AnthropicStreamError";
    this.errorType = errorType;
  }
}

/** Reads the error object of an error body or event; undefined when it is not Anthropic's shape. */
export function errorFields(body: unknown): { type: string | undefined; message: string | undefined } | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as AnthropicErrorBody;
  const err = b.error;
  if (typeof err === "string") return { type: undefined, message: err };
  if (typeof err === "object" && err !== null) {
    return {
      type: typeof err.type === "string" && err.type ? err.type : undefined,
      message: typeof err.message === "string" && err.message ? err.message : undefined,
    };
  }
  // Some Anthropic-compatible hosts answer {"message": "..."} without the envelope.
  if (typeof b.message === "string" && b.message) return { type: undefined, message: b.message };
  return undefined;
}

export function parseAnthropicError(status: number, text: string): UpstreamErrorInfo {
  const generic = `upstream returned HTTP ${status}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: a short plain-text line can help (proxies); HTML pages and long bodies never pass.
    const t = text.trim();
    const plain = t.length > 0 && t.length <= MAX_PLAIN_TEXT && !t.includes("<") && !t.includes("\n");
    return { message: plain ? `${generic}: ${t}` : generic, type: undefined, code: undefined };
  }
  const fields = errorFields(parsed);
  if (!fields) return { message: generic, type: undefined, code: undefined };
  return { message: fields.message ?? generic, type: fields.type, code: fields.type };
}
