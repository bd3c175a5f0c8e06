// Request facts the rule-based strategies (content-based, conditional) and ab-test stickiness
// match on. Read lazily and only what a rule asks for.
import type { IncomingHttpHeaders } from "node:http";

/** A header's value as one string (repeated headers joined the way Node joins them). */
export function headerValue(headers: IncomingHttpHeaders, lowerName: string): string | undefined {
  const v = headers[lowerName];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(", ") : v;
}

/** A string value from the request's `metadata` object. */
export function metadataValue(body: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const md = body.metadata;
  if (!md || typeof md !== "object") return undefined;
  const v = (md as Record<string, unknown>)[key];
  return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

function partsText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const part of content as unknown[]) {
    if (typeof part === "string") out += out ? `\n${part}` : part;
    else if (part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") {
      const text = (part as { text: string }).text;
      out += out ? `\n${text}` : text;
    }
  }
  return out;
}

/**
 * The text of every user message (a completion's prompt or an embedding's input as one): the
 * prompt rules look at all of them, as the reference does, not only at the latest turn.
 */
export function userTexts(body: Readonly<Record<string, unknown>>): string[] {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    const out: string[] = [];
    for (const m of messages as Array<{ role?: unknown; content?: unknown } | undefined>) if (m?.role === "user") out.push(partsText(m.content));
    return out;
  }
  if (body.prompt !== undefined) return [partsText(body.prompt)];
  return [partsText(body.input)];
}
