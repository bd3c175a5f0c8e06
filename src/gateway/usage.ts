// Usage read from a forwarded OpenAI-wire body, off the request path. Only the `usage` object is
// parsed: it is a few dozen bytes at the end of the body, and parsing the whole completion (the
// answer text included) just to read it was 1.8% of the gateway's CPU at 1000 connections.
import type { Usage } from "../api/types.js";

const KEY = Buffer.from('"usage"');
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const QUOTE = 0x22;

/** The object that starts at `from` (a '{'), as a slice; undefined when it does not end. */
function objectAt(buf: Buffer, from: number): Buffer | undefined {
  let depth = 0;
  let inString = false;
  for (let i = from; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) depth++;
    else if (c === CLOSE && --depth === 0) return buf.subarray(from, i + 1);
  }
  return undefined;
}

/** The body's top-level usage, parsing it all: for bodies that echo client data after it (Responses' metadata). */
export function usageFromWholeBody(buf: Buffer): Usage | undefined {
  return parseWhole(buf);
}

function parseWhole(buf: Buffer): Usage | undefined {
  try {
    return (JSON.parse(buf.toString("utf8")) as { usage?: Usage }).usage ?? undefined;
  } catch {
    return undefined;
  }
}

export function usageFromBody(buf: Buffer): Usage | undefined {
  const at = buf.lastIndexOf(KEY);
  // No usage key, or one that may sit inside a string (an escaped quote before it): parse it all.
  if (at <= 0 || buf[at - 1] === BACKSLASH) return parseWhole(buf);
  let i = at + KEY.length;
  while (i < buf.length && buf[i] !== OPEN && buf[i] !== 0x6e /* null */) i++;
  if (buf[i] !== OPEN) return parseWhole(buf);
  const slice = objectAt(buf, i);
  if (!slice) return parseWhole(buf);
  try {
    return JSON.parse(slice.toString("utf8")) as Usage;
  } catch {
    return parseWhole(buf);
  }
}

/** Responses API usage (input/output tokens) and embeddings' (no completion tokens) as chat usage. */
interface AnyUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number };
  output_tokens_details?: { reasoning_tokens?: number };
  prompt_tokens_details?: Usage["prompt_tokens_details"];
  completion_tokens_details?: Usage["completion_tokens_details"];
}

/** Any OpenAI usage object as chat usage, which pricing, budgets and the request log read. */
export function normalizeUsage(raw: unknown): Usage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const u = raw as AnyUsage;
  if (typeof u.prompt_tokens === "number") {
    if (typeof u.completion_tokens === "number" && typeof u.total_tokens === "number") return u as Usage;
    const completion = u.completion_tokens ?? 0;
    return { ...(u as Usage), completion_tokens: completion, total_tokens: u.total_tokens ?? u.prompt_tokens + completion };
  }
  if (typeof u.input_tokens !== "number") return undefined;
  const output = u.output_tokens ?? 0;
  const out: Usage = { prompt_tokens: u.input_tokens, completion_tokens: output, total_tokens: u.total_tokens ?? u.input_tokens + output };
  const cached = u.input_tokens_details?.cached_tokens;
  if (typeof cached === "number") out.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = u.output_tokens_details?.reasoning_tokens;
  if (typeof reasoning === "number") out.completion_tokens_details = { reasoning_tokens: reasoning };
  return out;
}
