// Every failure leaves the gateway in OpenAI's error shape: {"error":{"message","type","code","param"}}.
// The OpenAI SDKs map the status to an exception class, so the status matters as much as the body.

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "api_error"
  | "upstream_error"
  | "timeout_error";

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  /** Extra response headers, e.g. Retry-After on a 429. */
  readonly headers: Record<string, string> | undefined;
  /** True when the same request may succeed on another attempt or another target. */
  readonly retryable: boolean;

  constructor(
    status: number,
    type: ErrorType,
    code: string,
    message: string,
    opts: { param?: string | null; headers?: Record<string, string>; retryable?: boolean } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = opts.param ?? null;
    this.headers = opts.headers;
    this.retryable = opts.retryable ?? false;
  }

  toJSON(): { error: { message: string; type: ErrorType; code: string; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export const badRequest = (message: string, code = "invalid_request", param: string | null = null): GatewayError =>
  new GatewayError(400, "invalid_request_error", code, message, { param });

export const notFound = (message: string, code = "not_found"): GatewayError =>
  new GatewayError(404, "not_found_error", code, message);

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(404, "not_found_error", "model_not_found", `The model '${model}' is not served by any configured provider.`, {
    param: "model",
  });

export const unauthorized = (message = "Missing or invalid API key."): GatewayError =>
  new GatewayError(401, "authentication_error", "invalid_api_key", message);

export const internalError = (message = "Internal gateway error."): GatewayError =>
  new GatewayError(500, "api_error", "internal_error", message);

/** Strings that look like credentials are cut out of anything we echo from an upstream. */
const SECRET_PATTERN =
  /(sk-[A-Za-z0-9_-]{8,}|sk-ant-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,}|fgw_[0-9a-f]{8,}|gsk_[A-Za-z0-9]{8,}|xai-[A-Za-z0-9]{8,}|Bearer\s+[A-Za-z0-9._~+/-]+=*|AKIA[0-9A-Z]{16})/g;

export function redactSecrets(text: string): string {
  return text.replace(SECRET_PATTERN, "[REDACTED]");
}
