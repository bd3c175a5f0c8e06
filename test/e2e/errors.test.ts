// Every failure answers in OpenAI's error shape with the right status, as the SDK sees it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { request as httpRequest } from "node:http";

const SECRET = "sk-upstream-secret-abcdef123456";

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { error?: { message: string; type: string; code: string; param: string | null } } }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: res.status, json: (await res.json()) as { error?: { message: string; type: string; code: string; param: string | null } } };
}

/** A chunked POST (no content-length) sent in pieces with pauses between them. */
function postInPieces(url: string, pieces: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    let i = 0;
    const next = (): void => {
      if (i === pieces.length) {
        req.end();
        return;
      }
      req.write(pieces[i++]);
      setTimeout(next, 20);
    };
    next();
  });
}

describe("error handling", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  const chat = (model = "gpt-4o-mini"): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming => ({ model, messages: [{ role: "user", content: "hi" }] });

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    gw = await startGateway({ max_request_bytes: 4096 }, { OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: `${base}/v1`, OPENAI_TIMEOUT_MS: "" });
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("rejects malformed JSON with 400 invalid_json", async () => {
    const r = await post(`${gw.url}/v1/chat/completions`, "{not json");
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
  });

  it("names the missing field", async () => {
    const r = await post(`${gw.url}/v1/chat/completions`, JSON.stringify({ model: "gpt-4o-mini" }));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "missing_required_parameter", param: "messages" });
    const r2 = await post(`${gw.url}/v1/chat/completions`, JSON.stringify({ messages: [{ role: "user", content: "x" }] }));
    expect(r2.json.error?.param).toBe("model");
    const r3 = await post(`${gw.url}/v1/chat/completions`, JSON.stringify({ model: "gpt-4o", messages: [{ role: "wizard", content: "x" }] }));
    expect(r3.json.error?.param).toBe("messages[0].role");
  });

  it("answers 404 model_not_found for a model nobody serves", async () => {
    const err = await gw.client.chat.completions.create(chat("no-such-model-xyz")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });

  it("answers 413 for a body over the limit", async () => {
    const big = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x".repeat(10_000) }] });
    const r = await post(`${gw.url}/v1/chat/completions`, big);
    expect(r.status).toBe(413);
    expect(r.json.error?.code).toBe("request_too_large");
  });

  it("reads a body that arrives in pieces, and refuses one that grows past the limit without a length", async () => {
    const whole = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "in pieces" }] });
    const ok = await postInPieces(`${gw.url}/v1/chat/completions`, [whole.slice(0, 10), whole.slice(10, 30), whole.slice(30)]);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ object: "chat.completion" });
    const huge = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "y".repeat(6000) }] });
    const refused = await postInPieces(`${gw.url}/v1/chat/completions`, [huge.slice(0, 3000), huge.slice(3000)]);
    expect(refused.status).toBe(413);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "request_too_large" } });
  });

  it("answers 400 for an empty body", async () => {
    const r = await post(`${gw.url}/v1/chat/completions`, "");
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: "invalid_json" });
  });

  it("maps a provider auth failure to 502 without leaking the key", async () => {
    mock.enqueue({ status: 401, message: `Incorrect API key provided: ${SECRET}` });
    const err = (await gw.client.chat.completions.create(chat()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect(err.code).toBe("provider_auth_error");
    expect(JSON.stringify(err.error)).not.toContain(SECRET);
    expect(err.message).toContain("[REDACTED]");
  });

  it("maps upstream 5xx to 502 and 429 to 429 with Retry-After", async () => {
    mock.enqueue({ status: 500, message: "boom" });
    const e1 = (await gw.client.chat.completions.create(chat()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(e1.status).toBe(502);
    expect(e1.error).toMatchObject({ type: "upstream_error" });

    mock.enqueue({ status: 429, message: "slow down", headers: { "retry-after": "7" } });
    const e2 = (await gw.client.chat.completions.create(chat()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e2).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e2.headers?.get("retry-after")).toBe("7");
  });

  it("passes an upstream 400 through as 400 with its message", async () => {
    mock.enqueue({ status: 400, message: "Invalid value for 'temperature'" });
    const err = (await gw.client.chat.completions.create(chat()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain("temperature");
  });

  it("answers 502 when the upstream resets the connection", async () => {
    // Twice: a reused connection lost before any byte of the answer is tried once more (below).
    mock.enqueue({ reset: true }, { reset: true });
    const err = (await gw.client.chat.completions.create(chat()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(502);
    expect(err.code).toBe("upstream_unreachable");
  });

  it("sends a request again when the upstream drops a reused connection before answering", async () => {
    await gw.client.chat.completions.create(chat());
    const before = mock.requests.length;
    mock.enqueue({ reset: true });
    const reply = await gw.client.chat.completions.create(chat());
    expect(reply.choices[0]?.message.content).toBe("Mock reply to: hi");
    expect(mock.requests.length - before).toBe(2);
    await expect.poll(() => gw.finished.at(-1)?.status).toBe(200);
    expect(gw.finished.at(-1)?.attempts).toBe(1);
  });

  it("answers unknown routes with 404 in the error shape", async () => {
    const res = await fetch(`${gw.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
  });
});

describe("upstream timeout", () => {
  it("answers 504 when the provider does not answer within its timeout", async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const gw = await startGateway({ providers: { openai: { timeout: "200ms" } } }, { OPENAI_API_KEY: "sk-x-1234567890", OPENAI_BASE_URL: `${base}/v1` });
    try {
      mock.enqueue({ delayMs: 1000 });
      const err = (await gw.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<
        typeof OpenAI.APIError
      >;
      expect(err.status).toBe(504);
      expect(err.code).toBe("upstream_timeout");
    } finally {
      await gw.close();
      await mock.close();
    }
  });
});

describe("authentication", () => {
  it("requires the master key once one is set", async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const gw = await startGateway({}, { OPENAI_API_KEY: "sk-x-1234567890", OPENAI_BASE_URL: `${base}/v1` }, { masterKey: "fgw_0123456789abcdef0123456789abcdef" });
    try {
      const ok = await gw.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
      expect(ok.choices[0]?.message.content).toContain("x");
      const anon = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "wrong", maxRetries: 0 });
      const err = await anon.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    } finally {
      await gw.close();
      await mock.close();
    }
  });
});
