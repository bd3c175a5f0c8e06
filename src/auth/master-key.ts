// Auth on the data plane. With no master key (and, later, no API keys) the gateway runs open and
// says so at start-up; once one is configured, every /v1 request must carry a valid key.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { unauthorized } from "../server/errors.js";

export interface Authenticator {
  readonly open: boolean;
  /** Returns the caller's key id, or throws a 401 GatewayError. */
  authenticate(headers: IncomingHttpHeaders): string | undefined;
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice(7).trim();
  const apiKey = headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey : undefined;
}

export function masterKeyAuthenticator(masterKey: string | undefined): Authenticator {
  if (!masterKey) return { open: true, authenticate: () => undefined };
  // Compare digests so the comparison is constant-time regardless of the presented length.
  const expected = sha256(masterKey);
  return {
    open: false,
    authenticate(headers) {
      const token = bearerToken(headers);
      if (!token) throw unauthorized("Missing API key: send it as 'Authorization: Bearer <key>'.");
      if (!timingSafeEqual(sha256(token), expected)) throw unauthorized("Invalid API key.");
      return "master";
    },
  };
}
