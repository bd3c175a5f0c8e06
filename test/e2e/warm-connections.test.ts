// Upstream connections opened before the first request: when the gateway starts serving and when
// a new config version adds a provider. FERROGW_WARM_CONNECTIONS says how many per provider (one
// by default, 0 for none); the first request then goes out on one of them.
import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { openaiFormat } from "../mock-upstream/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { until } from "../helpers/until.js";

const BODY = openaiFormat.chatBody({ model: "gpt-4o-mini", text: "warm", usage: { input: 3, output: 1 }, stop: "end" });

interface Upstream {
  base: string;
  /** TCP connections accepted so far. */
  connections: number;
  requests: number;
}

const opened: Array<{ close(): Promise<unknown> | void }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function upstream(): Promise<Upstream> {
  const up: Upstream = { base: "", connections: 0, requests: 0 };
  const server = createServer((req, res) => {
    up.requests++;
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(BODY));
  });
  server.on("connection", () => up.connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  up.base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  opened.push({
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  });
  return up;
}

async function gateway(env: NodeJS.ProcessEnv, config: Record<string, unknown> = {}): Promise<TestGateway> {
  // The test helper turns warming off; unset, the gateway's default applies.
  const gw = await startGateway(config, { LOG_LEVEL: "silent", FERROGW_WARM_CONNECTIONS: undefined, ...env });
  opened.push(gw);
  return gw;
}

const hi = (gw: TestGateway, model = "gpt-4o-mini") => gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });

describe("warm upstream connections", () => {
  it("opens one connection per provider when it starts serving, and the first request goes out on it", async () => {
    const up = await upstream();
    const gw = await gateway({ OPENAI_API_KEY: "sk-test-0123456789", OPENAI_BASE_URL: up.base });
    await until("the warm connection", () => up.connections === 1);
    expect(up.requests).toBe(0);
    expect((await hi(gw)).choices[0]?.message.content).toBe("warm");
    expect(up.connections).toBe(1);
  });

  it("FERROGW_WARM_CONNECTIONS sets how many; 0 opens none", async () => {
    const three = await upstream();
    await gateway({ OPENAI_API_KEY: "sk-test-0123456789", OPENAI_BASE_URL: three.base, FERROGW_WARM_CONNECTIONS: "3" });
    await until("three warm connections", () => three.connections === 3);

    const none = await upstream();
    const gw = await gateway({ OPENAI_API_KEY: "sk-test-0123456789", OPENAI_BASE_URL: none.base, FERROGW_WARM_CONNECTIONS: "0" });
    await new Promise((r) => setTimeout(r, 200));
    expect(none.connections).toBe(0);
    await hi(gw);
    expect(none.connections).toBe(1);
  });

  it("refuses a FERROGW_WARM_CONNECTIONS that is not a whole number from 0 to 64", async () => {
    for (const bad of ["-1", "2.5", "lots", "65"]) {
      await expect(startGateway({}, { LOG_LEVEL: "silent", FERROGW_WARM_CONNECTIONS: bad })).rejects.toThrow(`FERROGW_WARM_CONNECTIONS must be a whole number from 0 to 64, not "${bad}"`);
    }
  });

  it("a provider a new config version adds is connected to before its first request", async () => {
    const first = await upstream();
    const added = await upstream();
    const gw = await gateway({ OPENAI_API_KEY: "sk-test-0123456789", OPENAI_BASE_URL: first.base });
    await until("the first provider's warm connection", () => first.connections === 1);
    expect(added.connections).toBe(0);
    const applied = await gw.app.configManager.apply({ providers: { extra: { type: "openai", base_url: added.base, api_key: "sk-test-extra-0123456789" } } }, "test");
    expect(applied.ok).toBe(true);
    await until("the added provider's warm connection", () => added.connections === 1);
    expect(added.requests).toBe(0);
    expect((await hi(gw, "extra/gpt-4o-mini")).choices[0]?.message.content).toBe("warm");
    expect(added.connections).toBe(1);
  });
});
