// A request nothing needs to change goes upstream as the client's own bytes: no second
// serialisation of a long conversation. Plugins that only read the request keep it so; anything
// that changes it (another model name, a plugin that rewrites) sends the changed request.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { setRequestLogDestination } from "../../src/plugins/request-logger.js";

// Spacing, key order and escapes that JSON.stringify would not reproduce.
const CLIENT_TEXT = '{ "messages": [ {"role":"user", "content":"caf\\u00e9 \\/ tea"} ],\n  "temperature": 0.50, "model": "MODEL" }';

describe("request bodies forwarded as sent", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  let readers: TestGateway;
  let rewriter: TestGateway;
  let retrying: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    const env = { OPENAI_API_KEY: "sk-test-passthrough-00000000", OPENAI_BASE_URL: `${base}/v1` };
    gw = await startGateway({ aliases: { fast: "gpt-4o-mini" } }, env);
    // The product brief's plugin set: they check the request, none changes it.
    setRequestLogDestination(new Writable({ write: (_c, _e, cb) => cb() }));
    readers = await startGateway(
      {
        plugins: [
          { name: "word-filter", stage: "before_request", enabled: true, config: { blocked_words: ["secret"] } },
          { name: "max-token", stage: "before_request", enabled: true, config: { max_tokens: 4096 } },
          { name: "rate-limit", stage: "before_request", enabled: true, config: { requests_per_second: 1000 } },
          { name: "request-logger", stage: "before_request", enabled: true, config: { level: "info" } },
        ],
      },
      env,
    );
    setRequestLogDestination(undefined);
    rewriter = await startGateway({ plugins: [{ name: "pii-guard", stage: "before_request", enabled: true, config: { detect: ["email"], action: "redact" } }] }, env);
    retrying = await startGateway({ targets: [{ virtual_key: "openai", retry: { attempts: 2, initial_backoff_ms: 1, on_status_codes: [503] } }] }, env);
  });
  afterAll(async () => {
    await gw.close();
    await readers.close();
    await rewriter.close();
    await retrying.close();
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

  // Past a few KB the head and the client's bytes leave in one writev instead of one copied buffer.
  it("sends a long conversation's bytes unchanged, multi-byte characters included", async () => {
    const turn = (i: number): string => `{"role":"${i % 2 ? "assistant" : "user"}", "content":"turn ${i}: naïve café 日本語 🚀 \\u00e9 ${"x".repeat(400)}"}`;
    const text = `{"model":"gpt-4o-mini",  "messages":[${Array.from({ length: 200 }, (_, i) => turn(i)).join(",\n")}]}`;
    expect(Buffer.byteLength(text)).toBeGreaterThan(64 * 1024);
    expect(await send(gw, text)).toBe(text);
    const short = CLIENT_TEXT.replace("MODEL", "gpt-4o-mini").replace("tea", "日本語 🚀");
    expect(await send(gw, short)).toBe(short);
  });

  it("sends the same bytes again on a retry", async () => {
    const text = CLIENT_TEXT.replace("MODEL", "gpt-4o-mini").replace("tea", `tea ${"y".repeat(8000)}`);
    const before = mock.requests.length;
    mock.enqueue({ status: 503 });
    expect(await send(retrying, text)).toBe(text);
    expect(mock.requests.slice(before).map((r) => r.rawBody)).toEqual([text, text]);
  });

  it("sends the request with the upstream's model name when an alias changes it", async () => {
    const sent = await send(gw, CLIENT_TEXT.replace("MODEL", "fast"));
    expect(sent).not.toContain('"fast"');
    expect(JSON.parse(sent ?? "{}")).toEqual({ messages: [{ role: "user", content: "café / tea" }], temperature: 0.5, model: "gpt-4o-mini" });
  });

  it("keeps the client's bytes through plugins that only read the request", async () => {
    const text = CLIENT_TEXT.replace("MODEL", "gpt-4o-mini");
    expect(await send(readers, text)).toBe(text);
  });

  it("sends the rewritten request when a plugin may change it, even if it changed nothing", async () => {
    const clean = CLIENT_TEXT.replace("MODEL", "gpt-4o-mini");
    const sentClean = await send(rewriter, clean);
    expect(sentClean).not.toBe(clean);
    expect(JSON.parse(sentClean ?? "{}")).toEqual(JSON.parse(clean));
    const sent = await send(rewriter, clean.replace("tea", "mail bob@example.com"));
    expect(sent).not.toContain("bob@example.com");
    expect(sent).toContain("[REDACTED_EMAIL]");
  });
});
