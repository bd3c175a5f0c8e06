// A request nothing needs to change goes upstream as the client's own bytes: no second
// serialisation of a long conversation. Anything that changes it (another model name, a plugin)
// sends the changed request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

// Spacing, key order and escapes that JSON.stringify would not reproduce.
const CLIENT_TEXT = '{ "messages": [ {"role":"user", "content":"caf\\u00e9 \\/ tea"} ],\n  "temperature": 0.50, "model": "MODEL" }';

describe("request bodies forwarded as sent", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  let withPlugin: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    const env = { OPENAI_API_KEY: "sk-test-passthrough-00000000", OPENAI_BASE_URL: `${base}/v1` };
    gw = await startGateway({ aliases: { fast: "gpt-4o-mini" } }, env);
    withPlugin = await startGateway({ plugins: [{ name: "max-token", stage: "before_request", config: { max_tokens: 4096 } }] }, env);
  });
  afterAll(async () => {
    await gw.close();
    await withPlugin.close();
    await mock.close();
  });

  const send = async (g: TestGateway, text: string): Promise<string | undefined> => {
    const res = await fetch(`${g.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer x" }, body: text });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return mock.requests.at(-1)?.rawBody;
  };

  it("sends the client's bytes unchanged when the model goes upstream under the same name", async () => {
    const text = CLIENT_TEXT.replace("MODEL", "gpt-4o-mini");
    expect(await send(gw, text)).toBe(text);
  });

  it("sends the request with the upstream's model name when an alias changes it", async () => {
    const sent = await send(gw, CLIENT_TEXT.replace("MODEL", "fast"));
    expect(sent).not.toContain('"fast"');
    expect(JSON.parse(sent ?? "{}")).toEqual({ messages: [{ role: "user", content: "café / tea" }], temperature: 0.5, model: "gpt-4o-mini" });
  });

  it("serialises the request again when a plugin has seen it", async () => {
    const text = CLIENT_TEXT.replace("MODEL", "gpt-4o-mini");
    const sent = await send(withPlugin, text);
    expect(sent).not.toBe(text);
    expect(JSON.parse(sent ?? "{}")).toEqual(JSON.parse(text));
  });
});
