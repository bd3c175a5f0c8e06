// Bedrock errors. HTTP errors are restJson1: the exception name travels in the X-Amzn-ErrorType
// header (and sometimes `__type` in the body), the text in `message` (older services: `Message`).
// Inside a ConverseStream an error arrives as an event-stream message whose :message-type is
// "exception" and whose :exception-type names the exception (throttlingException, ...).
import type { UpstreamErrorInfo } from "../../providers/types.js";
import { GatewayError } from "../../server/errors.js";

const BY_STATUS: Readonly<Record<number, string>> = {
  400: "ValidationException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  408: "ModelTimeoutException",
  424: "ModelErrorException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};

/** "com.amazon.coral.validate#ValidationException" or "ValidationException:http://..." -> "ValidationException". */
export function exceptionName(raw: string): string {
  const afterHash = raw.slice(raw.lastIndexOf("#") + 1);
  const colon = afterHash.indexOf(":");
  return colon < 0 ? afterHash : afterHash.slice(0, colon);
}

export function parseBedrockError(status: number, text: string): UpstreamErrorInfo {
  let message: string | undefined;
  let type: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.Message === "string") message = body.Message;
    if (typeof body.__type === "string") type = exceptionName(body.__type);
  } catch {
    // not JSON: a generic message below; raw upstream text is never echoed
  }
  return { message: message ?? `upstream returned HTTP ${status}`, type: type ?? BY_STATUS[status], code: undefined };
}

/** An exception delivered inside a ConverseStream, as the error the client sees. */
export function streamException(eventType: string, payload: string): GatewayError {
  let message = `Bedrock stream failed: ${eventType}`;
  try {
    const body = JSON.parse(payload) as Record<string, unknown>;
    if (typeof body.message === "string") message = body.message;
    else if (typeof body.Message === "string") message = body.Message;
  } catch {
    // keep the generic message
  }
  const name = eventType.toLowerCase();
  if (name.startsWith("throttling")) return new GatewayError(429, "rate_limit_error", "rate_limit_exceeded", message, { retryable: true });
  if (name.startsWith("validation")) return new GatewayError(400, "invalid_request_error", "invalid_request", message);
  if (name.startsWith("modeltimeout")) return new GatewayError(504, "timeout_error", "upstream_timeout", message, { retryable: true });
  return new GatewayError(502, "upstream_error", "upstream_error", message, { retryable: true });
}
