// Where a caller's key is read from: `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key`
// (Anthropic-style clients).
import type { IncomingHttpHeaders } from "node:http";

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice(7).trim();
  const apiKey = headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey : undefined;
}
