// Google OAuth 2.0 access tokens for Vertex AI, from a service-account key (a JWT signed with
// RS256 and exchanged at the token URI, RFC 7523) or an authorized-user file (refresh token).
// Tokens are cached until shortly before they expire; concurrent requests share one refresh.
// jose is loaded on first use, so gateways without Vertex never load it.
import type { importPKCS8 } from "jose";
import { GatewayError } from "../server/errors.js";

type JoseKey = Awaited<ReturnType<typeof importPKCS8>>;

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Refresh this long before expiry, so a token never expires in flight. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const TOKEN_TIMEOUT_MS = 15_000;

export interface ServiceAccountKey {
  type: "service_account";
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

export interface AuthorizedUserKey {
  type: "authorized_user";
  client_id: string;
  client_secret: string;
  refresh_token: string;
  quota_project_id?: string;
}

export type GoogleCredentials = ServiceAccountKey | AuthorizedUserKey;

/** Parses a credentials JSON file's text; returns why it is unusable as a string. */
export function parseGoogleCredentials(text: string): GoogleCredentials | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "credentials are not valid JSON";
  }
  if (!raw || typeof raw !== "object") return "credentials are not a JSON object";
  const o = raw as Record<string, unknown>;
  if (o.type === "service_account") {
    if (typeof o.client_email !== "string" || typeof o.private_key !== "string") return "service account key lacks client_email or private_key";
    return o as unknown as ServiceAccountKey;
  }
  if (o.type === "authorized_user") {
    if (typeof o.client_id !== "string" || typeof o.client_secret !== "string" || typeof o.refresh_token !== "string")
      return "authorized_user credentials lack client_id, client_secret or refresh_token";
    return o as unknown as AuthorizedUserKey;
  }
  return `unsupported credentials type ${JSON.stringify(o.type)} (use a service_account key)`;
}

export interface TokenSourceOptions {
  /** Overrides the key's token_uri (tests, private endpoints). */
  tokenUrl?: string;
  scope?: string;
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export class GoogleTokenSource {
  private cached: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;
  private keyPromise: Promise<JoseKey> | undefined;
  private readonly tokenUrl: string;
  private readonly scope: string;
  private readonly now: () => number;

  constructor(
    private readonly credentials: GoogleCredentials,
    opts: TokenSourceOptions = {},
  ) {
    const fromKey = credentials.type === "service_account" ? credentials.token_uri : undefined;
    this.tokenUrl = opts.tokenUrl ?? fromKey ?? GOOGLE_TOKEN_URL;
    this.scope = opts.scope ?? CLOUD_PLATFORM_SCOPE;
    this.now = opts.now ?? Date.now;
  }

  /** A valid access token: the cached one, or a fresh one (one exchange for all waiters). */
  async token(): Promise<string> {
    const c = this.cached;
    if (c && this.now() < c.expiresAt - REFRESH_MARGIN_MS) return c.value;
    if (!this.inflight) {
      this.inflight = this.fetchToken().then(
        (t) => {
          this.cached = t;
          this.inflight = undefined;
          return t;
        },
        (err: unknown) => {
          this.inflight = undefined;
          throw err;
        },
      );
    }
    return (await this.inflight).value;
  }

  /** The signed JWT assertion for a service account (exposed for tests). */
  async assertion(): Promise<string> {
    const sa = this.credentials;
    if (sa.type !== "service_account") throw new Error("only service accounts sign assertions");
    const { importPKCS8, SignJWT } = await import("jose");
    this.keyPromise ??= importPKCS8(sa.private_key, "RS256");
    const iat = Math.floor(this.now() / 1000);
    const header: { alg: "RS256"; typ: "JWT"; kid?: string } = { alg: "RS256", typ: "JWT" };
    if (sa.private_key_id) header.kid = sa.private_key_id;
    return new SignJWT({ scope: this.scope })
      .setProtectedHeader(header)
      .setIssuer(sa.client_email)
      .setAudience(this.tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(await this.keyPromise);
  }

  private async fetchToken(): Promise<CachedToken> {
    const c = this.credentials;
    const form =
      c.type === "service_account"
        ? new URLSearchParams({ grant_type: JWT_BEARER, assertion: await this.assertion() })
        : new URLSearchParams({ grant_type: "refresh_token", client_id: c.client_id, client_secret: c.client_secret, refresh_token: c.refresh_token });
    const started = this.now();
    let res: Response;
    try {
      res = await fetch(this.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (err) {
      throw authError(`token endpoint unreachable (${(err as Error).name})`);
    }
    const text = await res.text().catch(() => "");
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // handled below
    }
    if (!res.ok || typeof body.access_token !== "string") {
      const why = typeof body.error_description === "string" ? body.error_description : typeof body.error === "string" ? body.error : `HTTP ${res.status}`;
      throw authError(`token exchange failed: ${why}`);
    }
    const expiresIn = typeof body.expires_in === "number" ? body.expires_in : Number(body.expires_in ?? 3600);
    return { value: body.access_token, expiresAt: started + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000 };
  }
}

function authError(detail: string): GatewayError {
  return new GatewayError(502, "upstream_error", "provider_auth_error", `Could not obtain a Google Cloud access token: ${detail}.`, { retryable: true });
}
