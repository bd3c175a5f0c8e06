// Usage read from a forwarded OpenAI-wire body, off the request path.
import type { Usage } from "../api/types.js";

export function usageFromBody(buf: Buffer): Usage | undefined {
  try {
    const parsed = JSON.parse(buf.toString("utf8")) as { usage?: Usage };
    return parsed.usage;
  } catch {
    return undefined;
  }
}
