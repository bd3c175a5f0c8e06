// API keys end to end through HTTP: create → use → revoke → 401, expiry, model allowlists,
// admin-only access, and the key never stored or shown again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const MASTER = "fgw_00112233445566778899aabbccddeeff";

async function admin(gw: TestGateway, method: string, path: string, body?: unknown, key = MASTER): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const ask = (client: OpenAI, model = "gpt-4o-mini") => client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });

describe("API keys", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    gw = await startGateway({ aliases: { smart: "gpt-4o" } }, { OPENAI_API_KEY: "sk-upstream-000000000000", OPENAI_BASE_URL: `${base}/v1` }, { masterKey: MASTER });
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  const clientWith = (key: string): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });

  it("create → use → revoke → 401", async () => {
    const created = await admin(gw, "POST", "/admin/keys", { name: "ci" });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    expect(key).toMatch(/^sk-ferro-[A-Za-z0-9_-]{43}$/);
    expect(created.json.key_prefix).toBe(key.slice(0, 12));

    const res = await ask(clientWith(key));
    expect(res.choices[0]?.message.content).toContain("hi");

    // Listed without the secret or its hash.
    const list = await admin(gw, "GET", "/admin/keys");
    const text = JSON.stringify(list.json);
    expect(text).toContain(created.json.id as string);
    expect(text).not.toContain(key);
    expect(text).not.toMatch(/key_?hash/i);

    const revoked = await admin(gw, "POST", `/admin/keys/${created.json.id as string}/revoke`);
    expect(revoked.json.revoked_at).toBeTruthy();
    const err = await ask(clientWith(key)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toContain("revoked");
  });

  it("rejects an expired key", async () => {
    const created = await admin(gw, "POST", "/admin/keys", { name: "short", expires_at: Date.now() + 300 });
    const key = created.json.key as string;
    await new Promise((r) => setTimeout(r, 400));
    const err = await ask(clientWith(key)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as Error).message).toContain("expired");
  });

  it("enforces the model allowlist, including through aliases and in /v1/models", async () => {
    const created = await admin(gw, "POST", "/admin/keys", { name: "mini-only", allowed_models: ["gpt-4o-mini"] });
    const client = clientWith(created.json.key as string);
    await expect(ask(client, "gpt-4o-mini")).resolves.toBeDefined();
    const denied = await ask(client, "gpt-4o").catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((denied as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe("model_not_allowed");
    const viaAlias = await ask(client, "smart").catch((e: unknown) => e);
    expect(viaAlias).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["gpt-4o-mini"]);
  });

  it("rotates a key: the old secret stops working, the new one works", async () => {
    const created = await admin(gw, "POST", "/admin/keys", { name: "rotating" });
    const rotated = await admin(gw, "POST", `/admin/keys/${created.json.id as string}/rotate`);
    expect(rotated.json.id).toBe(created.json.id);
    await expect(ask(clientWith(rotated.json.key as string))).resolves.toBeDefined();
    await expect(ask(clientWith(created.json.key as string))).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("keeps the admin API to the master key", async () => {
    const created = await admin(gw, "POST", "/admin/keys", { name: "not-admin" });
    const asKey = await admin(gw, "GET", "/admin/keys", undefined, created.json.key as string);
    expect(asKey.status).toBe(403);
    const anon = await fetch(`${gw.url}/admin/keys`);
    expect(anon.status).toBe(401);
    const bad = await admin(gw, "POST", "/admin/keys", { name: "" });
    expect(bad.status).toBe(400);
    expect((bad.json.error as { param: string }).param).toBe("name");
  });

  it("rejects requests without a key once keys exist", async () => {
    const err = await ask(clientWith("sk-ferro-" + "x".repeat(43))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
