// rate-limit through HTTP: per-key RPM (and a key record's own rate_limit_rpm), per-user RPM
// from the `user` field or X-Ferro-User, the global RPS with burst, tokens per minute, and the
// 429 with Retry-After and OpenAI's x-ratelimit-* headers.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const UPSTREAM_KEY = "sk-test-upstream-key-123456";
const MASTER = "fgw_0123456789abcdef0123456789abcdef";

const mock = new MockUpstream({ chunks: 2 });
let base: string | undefined;
let gw: TestGateway | undefined;

async function start(config: Record<string, unknown>, opts: { masterKey?: string } = {}): Promise<TestGateway> {
  base ??= await mock.start();
  gw = await startGateway(
    { plugins: [{ name: "rate-limit", type: "guardrail", stage: "before_request", enabled: true, config }] },
    { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "silent" },
    opts,
  );
  return gw;
}

afterEach(async () => {
  await gw?.close();
  gw = undefined;
});
afterAll(() => mock.close());

async function post(g: TestGateway, body: Record<string, unknown> = {}, headers: Record<string, string> = {}, key = MASTER): Promise<Response> {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], ...body }),
  });
}

describe("rate-limit", () => {
  it("counts embeddings and legacy completions against the same per-key limit as chat", async () => {
    const g = await start({ key_rpm: 3 }, { masterKey: MASTER });
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    const emb = await g.client.embeddings.create({ model: "text-embedding-3-small", input: "hello" }).withResponse();
    expect(emb.response.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    await g.client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "say hi" });
    const calls = mock.requests.length;
    const err = await g.client.embeddings.create({ model: "text-embedding-3-small", input: "again" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("rate_limit_exceeded");
    expect(mock.requests.length).toBe(calls);
    const completion = await g.client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "x" }).catch((e: unknown) => e);
    expect(completion).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("per-key RPM: the key gets its requests, then 429 with Retry-After and x-ratelimit-* headers", async () => {
    const g = await start({ key_rpm: 3 }, { masterKey: MASTER });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }).withResponse();
      expect(r.response.headers.get("x-ratelimit-limit-requests")).toBe("3");
      remaining.push(r.response.headers.get("x-ratelimit-remaining-requests") ?? "");
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const calls = mock.requests.length;
    let err: unknown;
    try {
      await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.code).toBe("rate_limit_exceeded");
    expect(e.type).toBe("rate_limit_error");
    expect(e.message).toContain("3 requests per minute for this API key");
    const retryAfter = Number(e.headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(e.headers?.get("x-ratelimit-limit-requests")).toBe("3");
    expect(e.headers?.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(e.headers?.get("x-ratelimit-reset-requests")).toMatch(/^(\d+m)?\d+s$/);
    expect(mock.requests.length).toBe(calls);
  });

  it("a config reload keeps what callers have used of their allowance", async () => {
    const g = await start({ key_rpm: 2 }, { masterKey: MASTER });
    const status = async (): Promise<number> => (await post(g)).status;
    expect([await status(), await status(), await status()]).toEqual([200, 200, 429]);
    // Any change to the config builds a new runtime (and plugin pipeline); the buckets stay.
    const raw = g.app.configManager.currentRaw as Record<string, unknown>;
    expect(await g.app.configManager.apply({ ...raw, aliases: { fast: "gpt-4o-mini" } }, "test")).toMatchObject({ ok: true });
    expect(await status()).toBe(429);
  });

  it("an API key's own rate_limit_rpm wins over key_rpm, and keys are limited separately", async () => {
    const g = await start({ key_rpm: 100 }, { masterKey: MASTER });
    const limited = await g.app.keys.create({ name: "limited", rateLimitRpm: 2 });
    const other = await g.app.keys.create({ name: "other" });
    expect((await post(g, {}, {}, limited.key)).status).toBe(200);
    const second = await post(g, {}, {}, limited.key);
    expect(second.status).toBe(200);
    expect(second.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect((await post(g, {}, {}, limited.key)).status).toBe(429);
    const r = await post(g, {}, {}, other.key);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-ratelimit-limit-requests")).toBe("100");
    expect(r.headers.get("x-ratelimit-remaining-requests")).toBe("99");
  });

  it("per-user RPM from the user field or the X-Ferro-User header", async () => {
    const g = await start({ user_rpm: 2 });
    expect((await post(g, { user: "alice" })).status).toBe(200);
    expect((await post(g, {}, { "x-ferro-user": "alice" })).status).toBe(200);
    const third = await post(g, { user: "alice" });
    expect(third.status).toBe(429);
    const body = (await third.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("rate_limit_exceeded");
    expect(body.error.message).toContain("per minute for this user");
    expect((await post(g, { user: "bob" })).status).toBe(200);
    // No user: not limited per user.
    for (let i = 0; i < 3; i++) expect((await post(g)).status).toBe(200);
  });

  it("per-user RPM counts each API key's users apart: another tenant's 'alice' is not this one's", async () => {
    const g = await start({ user_rpm: 1 }, { masterKey: MASTER });
    const created = await fetch(`${g.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "tenant-b" }),
    });
    const other = ((await created.json()) as { key: string }).key;
    expect((await post(g, { user: "alice" }, {}, other)).status).toBe(200);
    expect((await post(g, { user: "alice" }, {}, other)).status).toBe(429);
    expect((await post(g, { user: "alice" })).status).toBe(200);
  });

  it("global requests per second with a burst; a refused request consumes nothing else", async () => {
    // One request every 2 s, two at once.
    const g = await start({ requests_per_second: 0.5, burst: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(g)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const r = await post(g);
    expect(r.status).toBe(429);
    const waitMs = Number(r.headers.get("retry-after-ms"));
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(2000);
    expect(r.headers.get("retry-after")).toBe(String(Math.ceil(waitMs / 1000)));
    await new Promise((res) => setTimeout(res, waitMs + 20));
    expect((await post(g)).status).toBe(200);
  });

  it("tokens per minute: counted from usage; refused once the minute's tokens are used", async () => {
    const g = await start({ tokens_per_minute: 30 }, { masterKey: MASTER });
    const first = await post(g, { messages: [{ role: "user", content: "count my tokens please" }] });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("30");
    const used = ((await first.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    expect(used).toBeGreaterThan(20);
    const second = await post(g);
    expect(second.status).toBe(200);
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThanOrEqual(30 - used);
    const third = await post(g);
    expect(third.status).toBe(429);
    expect(third.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
    expect(((await third.json()) as { error: { message: string } }).error.message).toContain("tokens per minute");
  });

  it("rejects a rate of zero at load, with the path", async () => {
    await expect(start({ key_rpm: 0 })).rejects.toThrow(/plugins\[0\]\.config\.key_rpm/);
  });
});
