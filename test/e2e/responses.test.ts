// OpenAI's Responses API through the gateway, driven by the official openai SDK: create (JSON and
// streamed), routed by model and priced from its usage; the stored-response routes pinned to
// responses_target; and rate limits holding on it as on chat.
import { describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { TestGateway } from "../helpers/gateway.js";
import { clientWithKey, MASTER, openaiSuite, UPSTREAM_KEY } from "../helpers/openai-suite.js";
import { until } from "../helpers/until.js";

const suite = openaiSuite({ chunks: 3 });
const { mock } = suite;
const start = (config: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> => suite.start({ responses_target: "openai", ...config }, env);

describe("Responses API", () => {
  it("creates a response: routed by model, passed through, priced from its usage", async () => {
    const g = await start();
    const res = await g.client.responses.create({ model: "gpt-4o-mini", input: "Hello there", instructions: "Be brief.", reasoning: { effort: "low" } });
    expect(res.object).toBe("response");
    expect(res.output_text).toBe("Mock reply to: Hello there");
    expect(res.usage).toMatchObject({ input_tokens: 11, output_tokens: 7, total_tokens: 18 });
    const sent = mock.requests[0];
    expect(sent).toMatchObject({ method: "POST", path: "/v1/responses" });
    expect(sent?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    // The client's own JSON goes upstream, fields the gateway does not know included.
    expect(sent?.rawBody).toBe(JSON.stringify({ model: "gpt-4o-mini", input: "Hello there", instructions: "Be brief.", reasoning: { effort: "low" } }));
    await until("the request is logged", () => g.finished.length === 1);
    const ctx = g.finished[0];
    expect(ctx).toMatchObject({ operation: "responses", provider: "openai", model: "gpt-4o-mini", status: 200 });
    expect(ctx?.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    expect(ctx?.costUsd).toBeGreaterThan(0);
  });

  it("streams the provider's typed events unchanged, and reads the usage from response.completed", async () => {
    const g = await start();
    const stream = await g.client.responses.create({ model: "gpt-4o-mini", input: [{ role: "user", content: "stream please" }], stream: true });
    const types: string[] = [];
    let text = "";
    let usage: unknown;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") usage = ev.response.usage;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types.filter((t) => t === "response.output_text.delta").length).toBeGreaterThan(1);
    expect(text).toBe("Mock reply to: stream please");
    expect(usage).toMatchObject({ input_tokens: 12, output_tokens: 7 });
    await until("the request is logged", () => g.finished.length === 1);
    expect(g.finished[0]).toMatchObject({ operation: "responses", stream: true });
    expect(g.finished[0]?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7 });

    // On the wire: each event with its `event:` line, as OpenAI sends it.
    const raw = await fetch(`${g.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", input: "raw", stream: true }),
    });
    expect(raw.headers.get("content-type")).toContain("text/event-stream");
    expect(await raw.text()).toMatch(/^event: response\.created\ndata: \{"type":"response\.created","sequence_number":0,/);
  });

  it("serves a stored response's routes from responses_target", async () => {
    const g = await start();
    const created = await g.client.responses.create({ model: "gpt-4o-mini", input: "remember me" });
    const got = await g.client.responses.retrieve(created.id);
    expect(got).toMatchObject({ id: created.id, status: "completed", output_text: "Mock reply to: remember me" });
    const items = [];
    for await (const item of g.client.responses.inputItems.list(created.id)) items.push(item);
    expect(items).toMatchObject([{ type: "message", role: "user", content: [{ type: "input_text", text: "remember me" }] }]);
    expect((await g.client.responses.cancel(created.id)).status).toBe("cancelled");
    await g.client.responses.delete(created.id);
    const gone = await g.client.responses.retrieve(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect((gone as InstanceType<typeof OpenAI.NotFoundError>).message).toContain(`No response found with id '${created.id}'`);
    expect(mock.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /v1/responses",
      `GET /v1/responses/${created.id}`,
      `GET /v1/responses/${created.id}/input_items`,
      `POST /v1/responses/${created.id}/cancel`,
      `DELETE /v1/responses/${created.id}`,
      `GET /v1/responses/${created.id}`,
    ]);
  });

  it("answers 501 for the stored-response routes without responses_target, and 404 for routes that do not exist", async () => {
    const g = await start({ responses_target: undefined });
    const err = await g.client.responses.retrieve("resp_abc").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 501, code: "not_implemented" });
    const odd = await fetch(`${g.url}/v1/responses/resp_abc/unknown`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(odd.status).toBe(404);
    expect(await odd.json()).toMatchObject({ error: { code: "route_not_found" } });
    // Creating still works.
    expect((await g.client.responses.create({ model: "gpt-4o-mini", input: "x" })).status).toBe("completed");
  });

  it("refuses a model no Responses-capable provider serves, without calling one", async () => {
    const g = await start({ targets: [{ virtual_key: "openai" }, { virtual_key: "anthropic" }], strategy: { mode: "fallback" } }, { ANTHROPIC_API_KEY: "sk-ant-test-000000000000", ANTHROPIC_BASE_URL: suite.base });
    const err = await g.client.responses.create({ model: "claude-sonnet-4-5", input: "hi" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect(mock.requests).toHaveLength(0);
    const bad = await g.client.responses.create({ model: "" as string, input: "hi" }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: "missing_required_parameter", param: "model" });
  });

  it("reads the real usage whatever the client echoes: data: in the text, a metadata key named usage", async () => {
    const budget = { store_id: "responses-usage", spend_limit_usd: 1000, input_per_m_tokens: 1_000_000, output_per_m_tokens: 1_000_000 };
    const g = await start({
      plugins: [
        { name: "budget", type: "guardrail", stage: "before_request", enabled: true, config: budget },
        { name: "budget", type: "guardrail", stage: "after_request", enabled: true, config: budget },
      ],
    });
    const spent = async (): Promise<number> => ((await g.server.currentRuntime.plugins.stats()).budget as { keys: Array<{ key_id: string; spent_usd: number }> }).keys.find((k) => k.key_id === "master")?.spent_usd ?? 0;
    // A streamed answer whose text holds "data:" (the mock echoes the input into it).
    const question = "kind: ConfigMap\ndata:\n  key: value";
    const stream = await g.client.responses.create({ model: "gpt-4o-mini", input: question, stream: true });
    for await (const _ of stream);
    const input = Math.ceil(question.length / 4) + 8;
    const output = Math.ceil(`Mock reply to: ${question}`.length / 4);
    await until("the stream is logged", () => g.finished.length === 1);
    expect(g.finished[0]?.usage).toMatchObject({ prompt_tokens: input, completion_tokens: output });
    expect(await spent()).toBeCloseTo(input + output, 6);
    // A non-streamed one whose metadata (echoed after the usage) pretends to be a usage.
    const res = await g.client.responses.create({ model: "gpt-4o-mini", input: "hi", metadata: { usage: '{"input_tokens":1,"output_tokens":1}' } });
    expect(res.metadata).toEqual({ usage: '{"input_tokens":1,"output_tokens":1}' });
    const real = (res.usage?.input_tokens ?? 0) + (res.usage?.output_tokens ?? 0);
    expect(real).toBeGreaterThan(2);
    await until("it is logged", () => g.finished.length === 2);
    expect(g.finished[1]?.usage).toMatchObject({ prompt_tokens: res.usage?.input_tokens, completion_tokens: res.usage?.output_tokens });
    expect(await spent()).toBeCloseTo(input + output + real, 6);
  });

  it("ends a stream that breaks mid-way with the Responses API's own error event", async () => {
    const g = await start();
    // Paced, so the first events reach the gateway before the connection is reset.
    mock.options.chunkDelayMs = 20;
    mock.enqueue({ resetAfterFrames: 4 });
    let text: string;
    try {
      const raw = await fetch(`${g.url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${MASTER}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", input: "break", stream: true }),
      });
      text = await raw.text();
    } finally {
      mock.options.chunkDelayMs = 0;
    }
    expect(text.startsWith("event: response.created\n")).toBe(true);
    expect(text).toMatch(/event: error\ndata: \{"type":"error","code":"upstream_unreachable","message":"[^"]+","param":null\}\n\n$/);
    expect(text).not.toContain("[DONE]");
  });

  it("keeps a key limited to some models away from stored responses, which carry no model", async () => {
    const g = await start();
    const created = await g.client.responses.create({ model: "gpt-4o-mini", input: "mine" });
    const limited = await clientWithKey(g, { name: "limited", allowed_models: ["gpt-4o-mini"] });
    const err = await limited.responses.retrieve(created.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: "model_not_allowed" });
    expect((await limited.responses.create({ model: "gpt-4o-mini", input: "allowed" })).status).toBe("completed");
    const stream = await fetch(`${g.url}/v1/responses/${created.id}?stream=True`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(stream.status).toBe(400);
  });

  it("counts against the same per-key rate limit as chat", async () => {
    const g = await start({ plugins: [{ name: "rate-limit", type: "guardrail", stage: "before_request", enabled: true, config: { key_rpm: 2 } }] });
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    await g.client.responses.create({ model: "gpt-4o-mini", input: "one" });
    const calls = mock.requests.length;
    const err = await g.client.responses.create({ model: "gpt-4o-mini", input: "two" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(mock.requests.length).toBe(calls);
  });
});
