// Maps an upstream HTTP error to what the client sees. The status follows what the failure means
// for the caller (a provider rejecting *our* credentials is a bad gateway, not the caller's 401),
// and the message is the upstream's own text with anything credential-like cut out.
import type { IncomingHttpHeaders } from "node:http";
import type { Provider } from "../providers/types.js";
import { AttemptError } from "../routing/attempts.js";
import { parseRetryAfterMs } from "../routing/retry.js";
import { GatewayError, redactSecrets, type ErrorType } from "../server/errors.js";

const MAX_MESSAGE = 1000;

export function upstreamHttpError(provider: Provider, status: number, headers: IncomingHttpHeaders, bodyText: string): AttemptError {
  const info = provider.codec.parseError(status, bodyText);
  const message = redactSecrets(info.message).slice(0, MAX_MESSAGE);
  const retryAfterMs = parseRetryAfterMs(headers["retry-after"]);
  let out: { status: number; type: ErrorType; code: string; text: string };
  if (status === 401 || status === 403) {
    out = { status: 502, type: "upstream_error", code: "provider_auth_error", text: `Provider ${provider.name} rejected the gateway's credentials: ${message}` };
  } else if (status === 429) {
    out = { status: 429, type: "rate_limit_error", code: info.code ?? "rate_limit_exceeded", text: message };
  } else if (status === 404) {
    out = { status: 404, type: "not_found_error", code: info.code ?? "model_not_found", text: message };
  } else if (status === 408 || status === 504) {
    out = { status: 504, type: "timeout_error", code: "upstream_timeout", text: `Provider ${provider.name} timed out: ${message}` };
  } else if (status === 413) {
    out = { status: 413, type: "invalid_request_error", code: "request_too_large", text: message };
  } else if (status >= 400 && status < 500) {
    out = { status: 400, type: "invalid_request_error", code: info.code ?? "invalid_request", text: message };
  } else {
    out = { status: 502, type: "upstream_error", code: "upstream_error", text: `Provider ${provider.name} failed (HTTP ${status}): ${message}` };
  }
  const extraHeaders = retryAfterMs !== undefined && status === 429 ? { "retry-after": String(Math.ceil(retryAfterMs / 1000)) } : undefined;
  const error = new GatewayError(out.status, out.type, out.code, out.text, { headers: extraHeaders, retryable: status >= 500 || status === 429 });
  return new AttemptError({ error, upstreamStatus: status, retryAfterMs });
}

export function transportFailure(error: GatewayError): AttemptError {
  return new AttemptError({ error, upstreamStatus: error.status === 499 ? 499 : 0, retryAfterMs: undefined });
}
