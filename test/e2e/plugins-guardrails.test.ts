// Guardrail plugins through HTTP with the official SDK: word-filter (input, output, streams),
// max-token, pii-guard (redact and block), and the request-logger observing.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { setRequestLogDestination } from "../../src/plugins/request-logger.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const UPSTREAM_KEY = "sk-test-upstream-key-123456";
/** Built at run time: an address literal in source gets mangled by some tooling. */
const EMAIL = ["jane.doe", "example.com"].join(String.fromCharCode(64));

async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error("expected the request to fail");
}

async function streamText(client: OpenAI, body: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, "stream">): Promise<{ text: string; finish: string | null; chunks: string[] }> {
  const stream = await client.chat.completions.create({ ...body, stream: true });
  let text = "";
  let finish: string | null = null;
  const chunks: string[] = [];
  for await (const chunk of stream) {
    const c = chunk.choices[0]?.delta.content ?? "";
    chunks.push(c);
    text += c;
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, finish, chunks };
}

async function start(mock: MockUpstream, plugins: unknown[], opts: { masterKey?: string } = {}): Promise<TestGateway> {
  const base = await mock.start();
  return startGateway({ plugins }, { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "silent" }, opts);
}

describe("word-filter and max-token", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 3 });
    gw = await start(mock, [
      { name: "word-filter", type: "guardrail", stage: "before_request", enabled: true, config: { blocked_words: ["password", "top secret"], case_sensitive: false } },
      { name: "max-token", type: "guardrail", stage: "before_request", enabled: true, config: { max_tokens: 100, max_messages: 3, max_input_length: 200 } },
    ]);
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("rejects a blocked word with 400 content_policy_violation, case-insensitively, without calling the provider", async () => {
    const before = mock.requests.length;
    const err = await failure(gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "my PassWord is hunter2" }] }));
    expect(err.status).toBe(400);
    expect(err.code).toBe("content_policy_violation");
    expect(err.type).toBe("invalid_request_error");
    expect(err.message).toContain("Request blocked by content policy.");
    expect(err.message).not.toContain("password");
    expect(err.param).toBe("messages[0]");
    const phrase = await failure(
      gw.client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "system", content: "be nice" },
          { role: "user", content: [{ type: "text", text: "this is TOP SECRET stuff" }] },
        ],
      }),
    );
    expect(phrase.code).toBe("content_policy_violation");
    expect(phrase.param).toBe("messages[1]");
    expect(mock.requests.length).toBe(before);
  });

  it("lets clean requests through unchanged", async () => {
    const res = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "a passable secretary" }] });
    expect(res.choices[0]?.message.content).toBe("Mock reply to: a passable secretary");
  });

  it("max-token rejects max_tokens, too many messages and long input with their own codes", async () => {
    const tokens = await failure(gw.client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 500, messages: [{ role: "user", content: "hi" }] }));
    expect(tokens.status).toBe(400);
    expect(tokens.code).toBe("max_tokens_exceeded");
    expect(tokens.param).toBe("max_tokens");
    expect(tokens.message).toContain("limit of 100");
    const mct = await failure(gw.client.chat.completions.create({ model: "gpt-4o-mini", max_completion_tokens: 101, messages: [{ role: "user", content: "hi" }] }));
    expect(mct.param).toBe("max_completion_tokens");
    const many = await failure(
      gw.client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "user", content: "1" },
          { role: "assistant", content: "2" },
          { role: "user", content: "3" },
          { role: "user", content: "4" },
        ],
      }),
    );
    expect(many.code).toBe("too_many_messages");
    const long = await failure(gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x".repeat(201) }] }));
    expect(long.code).toBe("input_too_long");
    const ok = await gw.client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: "x".repeat(200) }] });
    expect(ok.choices[0]?.message.content).toContain("Mock reply");
  });
});

describe("word-filter on the output", () => {
  const reply = "Here is the top secret plan, shh. Nothing else.";
  let mock: MockUpstream;
  let block: TestGateway;
  let redact: TestGateway;
  let mock2: MockUpstream;

  beforeAll(async () => {
    // Eight chunks: "top secret" is split across chunk boundaries.
    mock = new MockUpstream({ chunks: 8, text: reply });
    mock2 = new MockUpstream({ chunks: 8, text: reply });
    block = await start(mock, [{ name: "word-filter", stage: "before_request", enabled: true, config: { blocked_words: ["top secret"], check_output: true } }]);
    redact = await start(mock2, [
      { name: "word-filter", stage: "before_request", enabled: true, config: { blocked_words: ["top secret", "shh"], check_output: true, output_action: "redact" } },
      { name: "word-filter", stage: "after_response", enabled: true, config: { blocked_words: ["top secret", "shh"], check_output: true, output_action: "redact" } },
    ]);
  });
  afterAll(async () => {
    await block.close();
    await redact.close();
    await mock.close();
    await mock2.close();
  });

  it("block: cuts the answer before the word with finish_reason content_filter", async () => {
    const res = await block.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "plan?" }] });
    expect(res.choices[0]?.message.content).toBe("Here is the ");
    expect(res.choices[0]?.finish_reason).toBe("content_filter");
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("block: a stream stops before the word even when it is split across chunks", async () => {
    const { text, finish, chunks } = await streamText(block.client, { model: "gpt-4o-mini", messages: [{ role: "user", content: "plan?" }] });
    expect(text).toBe("Here is the ");
    expect(finish).toBe("content_filter");
    expect(chunks.join("|")).not.toMatch(/top|secret/);
  });

  it("redact: masks the words, streaming and not, with identical text", async () => {
    const res = await redact.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "plan?" }] });
    expect(res.choices[0]?.message.content).toBe("Here is the *** plan, ***. Nothing else.");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    const s = await streamText(redact.client, { model: "gpt-4o-mini", messages: [{ role: "user", content: "plan?" }], stream_options: { include_usage: true } });
    expect(s.text).toBe("Here is the *** plan, ***. Nothing else.");
    expect(s.finish).toBe("stop");
  });

  it("filters a translated (Anthropic-wire) stream the same way", async () => {
    const anthropicMock = new MockUpstream({ chunks: 8, text: reply });
    const base = await anthropicMock.start();
    const g = await startGateway(
      { plugins: [{ name: "word-filter", stage: "after_response", enabled: true, config: { blocked_words: ["top secret", "shh"], output_action: "redact" } }] },
      { ANTHROPIC_API_KEY: "sk-ant-test-key-123456", ANTHROPIC_BASE_URL: base, LOG_LEVEL: "silent" },
    );
    try {
      const s = await streamText(g.client, { model: "claude-3-5-sonnet-20241022", messages: [{ role: "user", content: "plan?" }] });
      expect(s.text).toBe("Here is the *** plan, ***. Nothing else.");
      const res = await g.client.chat.completions.create({ model: "claude-3-5-sonnet-20241022", messages: [{ role: "user", content: "plan?" }] });
      expect(res.choices[0]?.message.content).toBe("Here is the *** plan, ***. Nothing else.");
    } finally {
      await g.close();
      await anthropicMock.close();
    }
  });

  it("a decoded stream is still well-formed SSE ending in [DONE]", async () => {
    const r = await fetch(`${redact.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "plan?" }] }),
    });
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    const body = await r.text();
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(body.match(/data: \[DONE\]/g)?.length).toBe(1);
    for (const frame of body.split("\n\n").filter((f) => f && f !== "data: [DONE]")) expect(() => JSON.parse(frame.slice(6)) as unknown).not.toThrow();
  });
});

describe("pii-guard", () => {
  let mock: MockUpstream;
  let redact: TestGateway;
  let mockB: MockUpstream;
  let block: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 3 });
    mockB = new MockUpstream({ chunks: 3 });
    redact = await start(mock, [{ name: "pii-guard", stage: "before_request", enabled: true, config: { action: "redact" } }]);
    block = await start(mockB, [{ name: "pii-guard", stage: "before_request", enabled: true, config: { detect: ["email", "card"] } }]);
  });
  afterAll(async () => {
    await redact.close();
    await block.close();
    await mock.close();
    await mockB.close();
  });

  it("redacts e-mails, cards, phone numbers and API keys before the request goes upstream", async () => {
    const text = `mail ${EMAIL}, card 4111 1111 1111 1111, call +1 415 555 0132, key sk-proj-abcdefghijklmnop1234, order 1234-5678`;
    const res = await redact.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: text }] });
    const sent = mock.requests.at(-1)?.body?.messages as Array<{ content: string }>;
    const upstreamText = sent[0]?.content ?? "";
    expect(upstreamText).toBe("mail [REDACTED_EMAIL], card [REDACTED_CARD], call [REDACTED_PHONE], key [REDACTED_API_KEY], order 1234-5678");
    expect(res.choices[0]?.message.content).toBe(`Mock reply to: ${upstreamText}`);
  });

  it("leaves numbers that are not card numbers alone (Luhn)", async () => {
    await redact.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "invoice 4111 1111 1111 1112" }] });
    const sent = mock.requests.at(-1)?.body?.messages as Array<{ content: string }>;
    expect(sent[0]?.content).toBe("invoice 4111 1111 1111 1112");
  });

  it("block mode refuses with 400 pii_detected naming the kind, not the data", async () => {
    const err = await failure(block.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `reach me at ${EMAIL}` }] }));
    expect(err.status).toBe(400);
    expect(err.code).toBe("pii_detected");
    expect(err.message).toContain("an email address");
    expect(err.message).not.toContain(EMAIL);
    const ok = await block.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "call +1 415 555 0132" }] });
    expect(ok.choices[0]?.message.content).toContain("+1 415 555 0132");
  });
});

describe("request-logger", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    setRequestLogDestination(
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const l of chunk.toString("utf8").split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
          cb();
        },
      }),
    );
    mock = new MockUpstream({ chunks: 3 });
    const cfg = { level: "info", persist: true, log_bodies: true };
    gw = await start(
      mock,
      [
        { name: "request-logger", type: "logging", stage: "before_request", enabled: true, config: cfg },
        { name: "word-filter", stage: "before_request", enabled: true, config: { blocked_words: ["forbidden"] } },
        { name: "request-logger", type: "logging", stage: "after_request", enabled: true, config: cfg },
        { name: "request-logger", type: "logging", stage: "on_error", enabled: true, config: cfg },
      ],
      { masterKey: "fgw_0123456789abcdef0123456789abcdef" },
    );
    setRequestLogDestination(undefined);
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  const waitFor = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it("logs the request, the response with tokens and latency, and failures with their reason", async () => {
    const raw = await gw.client.chat.completions
      .create({ model: "gpt-4o-mini", user: "alice", messages: [{ role: "user", content: `hello, my mail is ${EMAIL}` }] })
      .withResponse();
    const id = raw.response.headers.get("x-request-id");
    await waitFor(() => lines.some((l) => l.request_id === id && l.event === "response"));
    const req = lines.find((l) => l.request_id === id && l.event === "request");
    const resp = lines.find((l) => l.request_id === id && l.event === "response");
    expect(req).toMatchObject({ level: 30, key_id: "master", user: "alice", model: "gpt-4o-mini", messages: 1 });
    expect(resp).toMatchObject({ level: 30, provider: "openai", status: 200, prompt_tokens: raw.data.usage?.prompt_tokens, total_tokens: raw.data.usage?.total_tokens });
    expect(typeof resp?.latency_ms).toBe("number");
    expect(String(resp?.response_body)).toContain("Mock reply to");
    expect(String(req?.request_body)).not.toContain(EMAIL);

    const err = await failure(gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "forbidden words" }] }));
    expect(err.status).toBe(400);
    await waitFor(() => lines.some((l) => l.event === "error"));
    expect(lines.find((l) => l.event === "error")).toMatchObject({ level: 50, status: 400, error: "content_policy_violation" });
  });

  it("persist + log_bodies: the request log row carries the redacted bodies", async () => {
    const raw = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "card 4111111111111111 please" }] }).withResponse();
    const id = raw.response.headers.get("x-request-id") ?? "";
    let row: { requestBody: string | null; responseBody: string | null } | undefined;
    for (let i = 0; i < 100 && !row; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await gw.app.logWriter.flush();
      row = (await gw.app.stores.logs.query({})).rows.find((r) => r.id === id);
    }
    expect(row?.requestBody).toContain("[REDACTED]");
    expect(row?.requestBody).not.toContain("4111111111111111");
    expect(row?.responseBody).toContain("Mock reply to");
  });
});
