// Redaction for the optional prompt/response bodies in the request log. Bodies are logged only
// when configured; what is logged has credentials (the same patterns as upstream error messages,
// see redactSecrets), e-mail addresses and payment card numbers replaced by [REDACTED], and is cut
// to a size limit.
import { redactSecrets } from "../server/errors.js";

export const REDACTED = "[REDACTED]";

/** Tokens redactSecrets does not know: GitHub, Slack, JWTs. */
const EXTRA_TOKENS = /(gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g;
/** `api_key: "…"`, `password=…` (also inside JSON-escaped text): the value goes, the name stays. */
const KEY_VALUE = /\b(api[_-]?key|secret|password|passwd|access[_-]?token)(\\?["']?\s*[:=]\s*\\?["']?)([^\s"'\\,;}&]{6,})/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** 13–19 digits, optionally grouped by spaces or dashes; only Luhn-valid numbers are redacted. */
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function redactText(text: string): string {
  return redactSecrets(text)
    .replace(EXTRA_TOKENS, REDACTED)
    .replace(KEY_VALUE, `$1$2${REDACTED}`)
    .replace(EMAIL, REDACTED)
    .replace(CARD, (m) => {
      const digits = m.replace(/[ -]/g, "");
      return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? REDACTED : m;
    });
}

export interface BodyLogOptions {
  /** Off by default: bodies are logged only when configured. */
  enabled: boolean;
  /** Cut after this many characters (default 16 384). */
  maxChars?: number;
}

/** The body as it may be stored: redacted and truncated, or null when body logging is off. */
export function captureBody(body: unknown, opts: BodyLogOptions): string | null {
  if (!opts.enabled || body === undefined || body === null) return null;
  let text: string;
  if (typeof body === "string") text = body;
  else if (Buffer.isBuffer(body)) text = body.toString("utf8");
  else {
    try {
      text = JSON.stringify(body);
    } catch {
      return null;
    }
  }
  const redacted = redactText(text);
  const max = opts.maxChars ?? 16_384;
  return redacted.length > max ? `${redacted.slice(0, max)}…[truncated ${redacted.length - max} chars]` : redacted;
}
