// Outbound auth of the cloud providers, checked the way the services check it: SigV4 against
// AWS's published test-suite vectors and re-verified server-side from the received request; the
// Vertex service-account JWT verified with the key's public half; Azure's URL, query and headers.
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportPKCS8, generateKeyPair, jwtVerify, type CryptoKey } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../src/api/types.js";
import { configSchema } from "../../src/config/schema.js";
import { createSigV4Signer } from "../../src/providers/aws-sigv4.js";
import { GoogleTokenSource, parseGoogleCredentials, type ServiceAccountKey } from "../../src/providers/google-oauth.js";
import { buildProviders } from "../../src/providers/registry.js";
import type { Provider } from "../../src/providers/types.js";
import { GatewayError } from "../../src/server/errors.js";
import { Cancellation } from "../../src/server/cancellation.js";
import { sendUpstream } from "../../src/upstream/send.js";
import { tokenResponse } from "../mock-upstream/vertex.js";

// ---- a recording upstream -------------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

class Recorder {
  readonly seen: Seen[] = [];
  tokenStatus = 200;
  tokenExpiresIn = 3599;
  issued = 0;
  private server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      this.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url === "/token") {
        const t =
          this.tokenStatus === 200
            ? tokenResponse(Object.fromEntries(new URLSearchParams(body)), ++this.issued, this.tokenExpiresIn)
            : { status: this.tokenStatus, body: JSON.stringify({ error: "invalid_grant", error_description: "Invalid JWT Signature." }) };
        res.writeHead(t.status, { "content-type": "application/json" }).end(t.body);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  url = "";
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  last(): Seen {
    const s = this.seen.at(-1);
    if (!s) throw new Error("no request recorded");
    return s;
  }
}

function providers(env: NodeJS.ProcessEnv, raw: unknown = {}): Map<string, Provider> {
  const set = buildProviders(configSchema.parse(raw), env);
  return new Map(set.byName);
}

function provider(env: NodeJS.ProcessEnv, name: string, raw: unknown = {}): Provider {
  const p = providers(env, raw).get(name);
  if (!p) throw new Error(`provider ${name} not built: ${JSON.stringify(buildProviders(configSchema.parse(raw), env).warnings)}`);
  return p;
}

async function send(p: Provider, req: ChatRequest, model: string, stream = false): Promise<void> {
  const up = p.codec.chatRequest(req, { model, requestId: "r1" }, stream);
  const res = await sendUpstream(p, up, new Cancellation());
  await res.body.text();
}

const chat: ChatRequest = { model: "m", messages: [{ role: "user", content: "hello" }], max_tokens: 20 };

// ---- SigV4 ------------------------------------------------------------------------------------

/** Server-side SigV4 verification, written from AWS's specification (not with the signer under test). */
function verifySigV4(seen: Seen, secret: string): { ok: boolean; signedHeaders: string[]; scope: string } {
  const auth = String(seen.headers.authorization ?? "");
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, signedHeaders: [], scope: "" };
  const [, , date, region, service, signedList, signature] = m as unknown as string[];
  const signedHeaders = (signedList ?? "").split(";");
  const sha = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");
  const hmac = (key: Buffer | string, s: string): Buffer => createHmac("sha256", key).update(s, "utf8").digest();
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const [rawPath = "/", rawQuery = ""] = seen.url.split("?");
  // Non-S3 services: every path segment is URI-encoded once more than it was sent.
  const canonicalPath = rawPath.split("/").map(enc).join("/");
  const canonicalQuery = rawQuery
    .split("&")
    .filter(Boolean)
    .map((kv) => kv.split("=").map((x) => enc(decodeURIComponent(x ?? ""))) as [string, string])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v ?? ""}`)
    .join("&");
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(seen.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [seen.method, canonicalPath, canonicalQuery, canonicalHeaders, signedList, sha(seen.body)].join("\n");
  const amzDate = String(seen.headers["x-amz-date"]);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date ?? ""), region ?? ""), service ?? ""), "aws4_request");
  return { ok: hmac(key, stringToSign).toString("hex") === signature, signedHeaders, scope };
}

describe("SigV4 signing", () => {
  const testSuite = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
  const when = new Date("2015-08-30T12:36:00Z");

  it("reproduces AWS's published test vectors (aws-sig-v4-test-suite get-vanilla, post-vanilla)", async () => {
    const sign = createSigV4Signer({ service: "service", region: "us-east-1", credentials: testSuite, contentSha256: false });
    const url = new URL("https://example.amazonaws.com/");
    const get = await sign({ method: "GET", url, headers: {}, body: "" }, when);
    expect(get).toEqual({
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
      "x-amz-date": "20150830T123600Z",
    });
    const post = await sign({ method: "POST", url, headers: {}, body: "" }, when);
    expect(post.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    );
  });

  it("signs a Bedrock request: scope, signed headers, content hash, session token", async () => {
    const sign = createSigV4Signer({ service: "bedrock", region: "eu-west-1", credentials: { ...testSuite, sessionToken: "SESSION/TOKEN==" } });
    const body = '{"messages":[]}';
    const h = await sign(
      { method: "POST", url: new URL("https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-v2%3A1/converse"), headers: { "content-type": "application/json" }, body },
      when,
    );
    expect(h.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(h["x-amz-date"]).toBe("20150830T123600Z");
    expect(h["x-amz-security-token"]).toBe("SESSION/TOKEN==");
    expect(h["x-amz-content-sha256"]).toBe(createHash("sha256").update(body).digest("hex"));
    // Deterministic: the same input signs the same way.
    const again = await sign({ method: "POST", url: new URL("https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-v2%3A1/converse"), headers: { "content-type": "application/json" }, body }, when);
    expect(again).toEqual(h);
  });
});

describe("outbound requests of the cloud providers", () => {
  const rec = new Recorder();
  beforeAll(() => rec.start());
  afterAll(() => rec.close());

  it("Bedrock: SigV4-signed Converse request that verifies server-side", async () => {
    const secret = "bedrock/secret+KEY";
    const p = provider(
      { AWS_ACCESS_KEY_ID: "AKIATESTKEY", AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: "tok-123", AWS_REGION: "eu-central-1", BEDROCK_BASE_URL: rec.url },
      "bedrock",
    );
    await send(p, chat, "eu.anthropic.claude-3-7-sonnet-20250219-v1:0");
    const seen = rec.last();
    expect(seen.url).toBe("/model/eu.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse");
    expect(JSON.parse(seen.body)).toEqual({ messages: [{ role: "user", content: [{ text: "hello" }] }], inferenceConfig: { maxTokens: 20 } });
    expect(seen.headers["x-amz-security-token"]).toBe("tok-123");
    expect(seen.headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    const v = verifySigV4(seen, secret);
    expect(v.scope).toMatch(/^\d{8}\/eu-central-1\/bedrock\/aws4_request$/);
    expect(v.signedHeaders).toEqual(expect.arrayContaining(["host", "content-type", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]));
    expect(v.ok).toBe(true);
    // A tampered body no longer verifies.
    expect(verifySigV4({ ...seen, body: seen.body.replace("hello", "hellO") }, secret).ok).toBe(false);
  });

  it("Bedrock: streams via converse-stream, and signs with config headers included", async () => {
    const secret = "s3cr3t";
    const p = provider({ AWS_ACCESS_KEY_ID: "AKIA2", AWS_SECRET_ACCESS_KEY: secret, BEDROCK_BASE_URL: rec.url }, "bedrock", { providers: { bedrock: { headers: { "X-Team": "ml" } } } });
    await send(p, chat, "amazon.nova-lite-v1:0", true);
    const seen = rec.last();
    expect(seen.url).toBe("/model/amazon.nova-lite-v1%3A0/converse-stream");
    expect(seen.headers.accept).toBe("application/vnd.amazon.eventstream");
    expect(seen.headers["x-amz-security-token"]).toBeUndefined();
    const v = verifySigV4(seen, secret);
    expect(v.scope).toMatch(/\/us-east-1\/bedrock\/aws4_request$/);
    expect(v.signedHeaders).toContain("x-team");
    expect(v.ok).toBe(true);
  });

  it("Bedrock: a Bedrock API key is sent as a bearer token instead of signing", async () => {
    const p = provider({ AWS_BEARER_TOKEN_BEDROCK: "bedrock-api-key-abc", AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "x", BEDROCK_BASE_URL: rec.url }, "bedrock");
    await send(p, chat, "amazon.nova-lite-v1:0");
    expect(rec.last().headers.authorization).toBe("Bearer bedrock-api-key-abc");
    expect(rec.last().headers["x-amz-date"]).toBeUndefined();
  });

  it("Bedrock: default host from the region, and not configured without credentials", () => {
    const p = provider({ AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "x", AWS_DEFAULT_REGION: "ap-northeast-1" }, "bedrock");
    expect(p.baseUrl.href).toBe("https://bedrock-runtime.ap-northeast-1.amazonaws.com/");
    expect(providers({}).has("bedrock")).toBe(false);
    const set = buildProviders(configSchema.parse({ targets: [{ virtual_key: "bedrock" }] }), {});
    expect(set.warnings.join()).toMatch(/no AWS credentials/);
  });

  it("Azure OpenAI: deployment path, api-version query, api-key header", async () => {
    const p = provider({ AZURE_OPENAI_API_KEY: "azure-key-1", AZURE_OPENAI_ENDPOINT: `${rec.url}/` }, "azure-openai");
    await send(p, chat, "my-gpt4o-deployment");
    const seen = rec.last();
    expect(seen.url).toBe("/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21");
    expect(seen.headers["api-key"]).toBe("azure-key-1");
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.parse(seen.body)).toMatchObject({ model: "my-gpt4o-deployment", messages: [{ role: "user", content: "hello" }], max_tokens: 20 });

    const emb = p.codec.embeddingsRequest?.({ model: "e", input: "x" }, { model: "emb-deploy", requestId: "r" });
    expect(emb?.path).toBe("/openai/deployments/emb-deploy/embeddings?api-version=2024-10-21");
  });

  it("Azure OpenAI: an Entra ID token, a pinned API version, and the v1 GA surface", async () => {
    const ad = provider({ AZURE_OPENAI_AD_TOKEN: "eyJ.entra.token", AZURE_OPENAI_ENDPOINT: rec.url, AZURE_OPENAI_API_VERSION: "2025-04-01-preview" }, "azure-openai");
    await send(ad, chat, "dep");
    expect(rec.last().url).toBe("/openai/deployments/dep/chat/completions?api-version=2025-04-01-preview");
    expect(rec.last().headers.authorization).toBe("Bearer eyJ.entra.token");

    const v1 = provider({ AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_BASE_URL: `${rec.url}/openai/v1` }, "azure-openai");
    await send(v1, chat, "dep");
    expect(rec.last().url).toBe("/openai/v1/chat/completions");
    expect(JSON.parse(rec.last().body).model).toBe("dep");
  });

  it("Azure AI Foundry: /models route with api-version, api-key header, model in the body", async () => {
    const p = provider({ AZURE_FOUNDRY_API_KEY: "foundry-key", AZURE_FOUNDRY_ENDPOINT: `${rec.url}/models` }, "azure-foundry");
    await send(p, chat, "Phi-4");
    const seen = rec.last();
    expect(seen.url).toBe("/models/chat/completions?api-version=2024-05-01-preview");
    expect(seen.headers["api-key"]).toBe("foundry-key");
    expect(JSON.parse(seen.body).model).toBe("Phi-4");
    const resource = provider({ AZURE_FOUNDRY_API_KEY: "k", AZURE_FOUNDRY_ENDPOINT: "https://my-res.services.ai.azure.com" }, "azure-foundry");
    expect(resource.baseUrl.href).toBe("https://my-res.services.ai.azure.com/models");
  });
});

// ---- Vertex service-account OAuth ---------------------------------------------------------------

describe("Vertex AI service-account tokens", () => {
  const rec = new Recorder();
  let publicKey: CryptoKey;
  let sa: ServiceAccountKey;

  beforeAll(async () => {
    await rec.start();
    const pair = await generateKeyPair("RS256", { extractable: true });
    publicKey = pair.publicKey;
    sa = {
      type: "service_account",
      project_id: "proj-123",
      private_key_id: "key-id-1",
      private_key: await exportPKCS8(pair.privateKey),
      client_email: "gw@proj-123.iam.gserviceaccount.com",
      token_uri: `${rec.url}/token`,
    };
  });
  afterAll(() => rec.close());
  beforeEach(() => {
    rec.seen.length = 0;
    rec.tokenStatus = 200;
  });

  it("exchanges an RS256 JWT signed by the service account for an access token", async () => {
    const src = new GoogleTokenSource(sa);
    expect(await src.token()).toBe(`ya29.mock-access-token-${rec.issued}`);
    const seen = rec.last();
    expect(seen.method).toBe("POST");
    expect(seen.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(seen.body);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const { payload, protectedHeader } = await jwtVerify(form.get("assertion") ?? "", publicKey, { issuer: sa.client_email, audience: `${rec.url}/token` });
    expect(protectedHeader).toEqual({ alg: "RS256", typ: "JWT", kid: "key-id-1" });
    expect(payload.scope).toBe("https://www.googleapis.com/auth/cloud-platform");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it("caches the token, shares one exchange between concurrent callers, refreshes before expiry", async () => {
    let now = 1_800_000_000_000;
    const src = new GoogleTokenSource(sa, { now: () => now });
    const tokens = await Promise.all(Array.from({ length: 8 }, () => src.token()));
    expect(new Set(tokens).size).toBe(1);
    expect(rec.seen.filter((s) => s.url === "/token")).toHaveLength(1);
    now += 50 * 60_000; // 50 min: still valid (expires in ~60)
    expect(await src.token()).toBe(tokens[0]);
    expect(rec.seen).toHaveLength(1);
    now += 6 * 60_000; // 56 min: inside the refresh margin
    const fresh = await src.token();
    expect(fresh).not.toBe(tokens[0]);
    expect(rec.seen).toHaveLength(2);
  });

  it("fails with a provider_auth_error and retries the exchange on the next call", async () => {
    const src = new GoogleTokenSource(sa);
    rec.tokenStatus = 400;
    const err = await src.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 502, code: "provider_auth_error" });
    expect((err as Error).message).toContain("Invalid JWT Signature.");
    rec.tokenStatus = 200;
    expect(await src.token()).toMatch(/^ya29\./);
  });

  it("parses credentials files and refuses unusable ones", () => {
    expect(parseGoogleCredentials("{nope")).toBe("credentials are not valid JSON");
    expect(parseGoogleCredentials('{"type":"external_account"}')).toMatch(/unsupported credentials type/);
    expect(parseGoogleCredentials(JSON.stringify(sa))).toMatchObject({ client_email: sa.client_email });
  });

  it("sends Gemini and Claude requests to the publisher paths with the bearer token", async () => {
    const env = { VERTEX_CREDENTIALS_JSON: JSON.stringify(sa), VERTEX_LOCATION: "europe-west4", VERTEX_BASE_URL: rec.url };
    const p = provider(env, "vertex-ai");
    expect(p.baseUrl.href).toBe(`${rec.url}/v1/projects/proj-123/locations/europe-west4`);
    await send(p, chat, "gemini-2.5-flash");
    const gemini = rec.last();
    expect(gemini.url).toBe("/v1/projects/proj-123/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent");
    expect(gemini.headers.authorization).toMatch(/^Bearer ya29\.mock-access-token-\d+$/);
    expect(JSON.parse(gemini.body)).toMatchObject({ contents: [{ role: "user", parts: [{ text: "hello" }] }] });

    await send(p, chat, "gemini-2.5-flash", true);
    expect(rec.last().url).toBe("/v1/projects/proj-123/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse");

    await send(p, chat, "claude-sonnet-4-5@20250929", true);
    const claude = rec.last();
    expect(claude.url).toBe("/v1/projects/proj-123/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict");
    const body = JSON.parse(claude.body) as Record<string, unknown>;
    expect(body.anthropic_version).toBe("vertex-2023-10-16");
    expect(body.model).toBeUndefined();
    expect(body).toMatchObject({ max_tokens: 20, stream: true, messages: [{ role: "user" }] });
    expect(claude.headers["anthropic-version"]).toBeUndefined();
    // One token for all three calls.
    expect(rec.seen.filter((s) => s.url === "/token")).toHaveLength(1);
  });

  it("reads GOOGLE_APPLICATION_CREDENTIALS and reports a missing project or key", () => {
    const { project_id: _p, ...noProject } = sa;
    const set = buildProviders(configSchema.parse({ targets: [{ virtual_key: "vertex-ai" }] }), { VERTEX_CREDENTIALS_JSON: JSON.stringify(noProject) });
    expect(set.warnings.join()).toMatch(/no project/);
    const missing = buildProviders(configSchema.parse({ targets: [{ virtual_key: "vertex-ai" }] }), { GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json" });
    expect(missing.warnings.join()).toMatch(/cannot read GOOGLE_APPLICATION_CREDENTIALS \(ENOENT\)/);
  });
});
