// Google Vertex AI: the OAuth token endpoint a service account exchanges its signed JWT at
// (RFC 7523: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>), Claude at
// publishers/anthropic (Anthropic's Messages bodies; the model is in the path, not the body), and
// text embeddings through :predict. Gemini models reuse geminiFormat unchanged.
import type { JsonObject, JsonValue } from "../../src/api/types.js";
import { anthropicFormat } from "./anthropic.js";
import type { MockFormat, ParsedChat } from "./format.js";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** ".../publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict" -> "claude-sonnet-4-5@20250929". */
function modelFromPath(path: string): string {
  const at = path.indexOf("/models/");
  if (at < 0) return "unknown";
  const rest = path.slice(at + 8);
  const colon = rest.lastIndexOf(":");
  return decodeURIComponent(colon < 0 ? rest : rest.slice(0, colon));
}

export const vertexAnthropicFormat: MockFormat = {
  ...anthropicFormat,
  name: "vertex-anthropic",
  parseChat(path: string, body: JsonObject): ParsedChat {
    return { ...anthropicFormat.parseChat(path, body), model: modelFromPath(path), stream: path.endsWith(":streamRawPredict") };
  },
};

export const vertexPredictFormat: MockFormat = {
  name: "vertex-predict",
  parseChat: () => {
    throw new Error(":predict serves embeddings only");
  },
  chatBody: () => "{}",
  chatStream: () => [],
  errorBody(status: number, message: string): string {
    return JSON.stringify({ error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT" } });
  },
  embeddingsBody(_path: string, body: JsonObject, vector: (text: string) => number[]): string {
    const instances = Array.isArray(body.instances) ? body.instances : [];
    const predictions = instances.map((inst: JsonValue) => {
      const content = inst && typeof inst === "object" && !Array.isArray(inst) && typeof inst.content === "string" ? inst.content : "";
      return { embeddings: { statistics: { truncated: false, token_count: Math.max(1, Math.ceil(content.length / 4)) }, values: vector(content) } };
    });
    return JSON.stringify({ predictions, metadata: { billableCharacterCount: 0 } });
  },
};

function decodeSegment(seg: string | undefined): Record<string, unknown> | undefined {
  if (!seg) return undefined;
  try {
    return JSON.parse(Buffer.from(seg, "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Answers a token request as oauth2.googleapis.com does. The assertion's claims are checked here;
 * its RS256 signature is checked by the tests, which hold the public key.
 */
export function tokenResponse(form: Record<string, string>, serial: number, expiresIn: number, now = Date.now()): { status: number; body: string } {
  const fail = (error: string, description: string): { status: number; body: string } => ({ status: 400, body: JSON.stringify({ error, error_description: description }) });
  if (form.grant_type !== JWT_BEARER_GRANT) return fail("unsupported_grant_type", "Invalid grant_type.");
  const parts = (form.assertion ?? "").split(".");
  const header = decodeSegment(parts[0]);
  const claims = decodeSegment(parts[1]);
  if (parts.length !== 3 || !header || !claims) return fail("invalid_grant", "Invalid JWT.");
  if (header.alg !== "RS256") return fail("invalid_grant", "Invalid JWT signature algorithm.");
  const t = Math.floor(now / 1000);
  if (typeof claims.iss !== "string" || typeof claims.scope !== "string" || typeof claims.aud !== "string")
    return fail("invalid_grant", "Invalid JWT: missing iss, scope or aud.");
  if (typeof claims.iat !== "number" || typeof claims.exp !== "number" || claims.exp <= t || claims.exp - claims.iat > 3600)
    return fail("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
  return { status: 200, body: JSON.stringify({ access_token: `ya29.mock-access-token-${serial}`, expires_in: expiresIn, token_type: "Bearer" }) };
}
