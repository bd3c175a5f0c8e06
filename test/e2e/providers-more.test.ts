// The providers added for the product brief's list, end to end: the official openai SDK -> the
// gateway -> the mock upstream speaking each provider's wire. Cohere (native v2), Replicate
// (predictions: create, poll, stream), and every OpenAI-compatible row (new: AI21, Cloudflare
// Workers AI, Databricks, Hugging Face, Ollama Cloud; and the existing rows, checked again):
// non-stream, stream, tool call and error for each, plus the outbound request (URL, auth header,
// body) each one sends, checked against its documented shape without a network.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../src/api/types.js";
import { validateConfig } from "../../src/config/load.js";
import { buildProviders } from "../../src/providers/registry.js";
import type { Provider } from "../../src/providers/types.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { drain, streamFailure, weatherTool } from "../helpers/sdk.js";
import { parseBody } from "../helpers/upstream-body.js";


/** OpenAI-compatible rows: kind, a model it serves, the env var prefix, and its documented chat URL. */
const COMPAT: ReadonlyArray<{ kind: string; model: string; prefix: string; chatUrl: string; keyVar?: string }> = [
  { kind: "openrouter", model: "openai/gpt-4o-mini", prefix: "OPENROUTER", chatUrl: "https://openrouter.ai/api/v1/chat/completions" },
  { kind: "deepseek", model: "deepseek-chat", prefix: "DEEPSEEK", chatUrl: "https://api.deepseek.com/v1/chat/completions" },
  { kind: "perplexity", model: "sonar", prefix: "PERPLEXITY", chatUrl: "https://api.perplexity.ai/chat/completions" },
  { kind: "xai", model: "grok-4", prefix: "XAI", chatUrl: "https://api.x.ai/v1/chat/completions" },
  { kind: "mistral", model: "mistral-small-latest", prefix: "MISTRAL", chatUrl: "https://api.mistral.ai/v1/chat/completions" },
  { kind: "groq", model: "llama-3.3-70b-versatile", prefix: "GROQ", chatUrl: "https://api.groq.com/openai/v1/chat/completions" },
  { kind: "together", model: "meta-llama/Llama-3.3-70B-Instruct-Turbo", prefix: "TOGETHER", chatUrl: "https://api.together.xyz/v1/chat/completions" },
  { kind: "fireworks", model: "accounts/fireworks/models/llama-v3p1-8b-instruct", prefix: "FIREWORKS", chatUrl: "https://api.fireworks.ai/inference/v1/chat/completions" },
  { kind: "deepinfra", model: "meta-llama/Meta-Llama-3.1-8B-Instruct", prefix: "DEEPINFRA", chatUrl: "https://api.deepinfra.com/v1/openai/chat/completions" },
  { kind: "nvidia-nim", model: "meta/llama-3.1-8b-instruct", prefix: "NVIDIA_NIM", chatUrl: "https://integrate.api.nvidia.com/v1/chat/completions" },
  { kind: "sambanova", model: "Meta-Llama-3.3-70B-Instruct", prefix: "SAMBANOVA", chatUrl: "https://api.sambanova.ai/v1/chat/completions" },
  { kind: "novita", model: "meta-llama/llama-3.1-8b-instruct", prefix: "NOVITA", chatUrl: "https://api.novita.ai/v3/openai/chat/completions" },
  { kind: "cerebras", model: "gpt-oss-120b", prefix: "CEREBRAS", chatUrl: "https://api.cerebras.ai/v1/chat/completions" },
  { kind: "moonshot", model: "kimi-k2-0905-preview", prefix: "MOONSHOT", chatUrl: "https://api.moonshot.ai/v1/chat/completions" },
  { kind: "qwen", model: "qwen-plus", prefix: "QWEN", chatUrl: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions" },
  { kind: "ai21", model: "jamba-large", prefix: "AI21", chatUrl: "https://api.ai21.com/studio/v1/chat/completions" },
  { kind: "cloudflare", model: "@cf/meta/llama-3.1-8b-instruct", prefix: "CLOUDFLARE", chatUrl: "https://api.cloudflare.com/client/v4/accounts/acct-42/ai/v1/chat/completions", keyVar: "CLOUDFLARE_API_TOKEN" },
  { kind: "databricks", model: "databricks-meta-llama-3-3-70b-instruct", prefix: "DATABRICKS", chatUrl: "https://adb-1234.5.azuredatabricks.net/serving-endpoints/chat/completions", keyVar: "DATABRICKS_TOKEN" },
  { kind: "hugging-face", model: "meta-llama/Llama-3.1-8B-Instruct:cerebras", prefix: "HUGGING_FACE", chatUrl: "https://router.huggingface.co/v1/chat/completions", keyVar: "HF_TOKEN" },
  { kind: "ollama-cloud", model: "gpt-oss:120b", prefix: "OLLAMA_CLOUD", chatUrl: "https://ollama.com/v1/chat/completions", keyVar: "OLLAMA_API_KEY" },
  { kind: "ollama", model: "llama3.2:1b", prefix: "OLLAMA", chatUrl: "http://localhost:11434/v1/chat/completions" },
];

const keyOf = (kind: string): string => `key-${kind}-0123456789`;

describe("outbound requests: URL, auth and body per documented shape (no network)", () => {
  const env: NodeJS.ProcessEnv = {
    CLOUDFLARE_ACCOUNT_ID: "acct-42",
    DATABRICKS_HOST: "https://adb-1234.5.azuredatabricks.net/",
    COHERE_API_KEY: keyOf("cohere"),
    REPLICATE_API_TOKEN: keyOf("replicate"),
  };
  for (const row of COMPAT) {
    if (row.kind === "ollama") env.OLLAMA_BASE_URL = "http://localhost:11434/v1";
    else env[row.keyVar ?? `${row.prefix}_API_KEY`] = keyOf(row.kind);
  }
  const loaded = validateConfig({}, env);
  if (!loaded.ok) throw new Error("config");
  const providers = buildProviders(loaded.config, env).byName;
  const get = (name: string): Provider => {
    const p = providers.get(name);
    if (!p) throw new Error(`provider ${name} not built`);
    return p;
  };
  const url = (p: Provider, path: string): string => `${p.baseUrl.href.replace(/\/$/, "")}${path}`;
  const req: ChatRequest = {
    model: "x",
    messages: [{ role: "user", content: "hi" }],
    max_completion_tokens: 64,
    stream_options: { include_usage: true },
    logprobs: true,
    frequency_penalty: 0.1,
    parallel_tool_calls: false,
    seed: 3,
  };

  for (const row of COMPAT) {
    it(`${row.kind}: ${row.chatUrl}`, () => {
      const p = get(row.kind);
      const out = p.codec.chatRequest(req, { model: row.model, requestId: "r" }, true);
      expect(url(p, out.path)).toBe(row.chatUrl);
      if (row.kind === "ollama") expect(p.headers.authorization).toBeUndefined();
      else expect(p.headers.authorization).toBe(`Bearer ${keyOf(row.kind)}`);
      const body = parseBody(out.body) as Record<string, unknown>;
      expect(body.model).toBe(row.model);
      expect(body.messages).toEqual([{ role: "user", content: "hi" }]);
    });
  }

  it("quirks: renamed and dropped parameters per vendor docs", () => {
    const body = (kind: string): Record<string, unknown> => parseBody(get(kind).codec.chatRequest(req, { model: "m", requestId: "r" }, true).body) as Record<string, unknown>;
    // Groq: logprobs, top_logprobs, logit_bias are 400s.
    expect(body("groq")).not.toHaveProperty("logprobs");
    expect(body("groq").max_completion_tokens).toBe(64);
    // Cerebras: frequency/presence penalties, logit_bias, parallel_tool_calls, service_tier are 400s.
    expect(body("cerebras")).not.toHaveProperty("frequency_penalty");
    expect(body("cerebras")).not.toHaveProperty("parallel_tool_calls");
    // AI21 Jamba: only its documented fields; max_tokens, not max_completion_tokens.
    const ai21 = body("ai21");
    expect(ai21.max_tokens).toBe(64);
    for (const k of ["max_completion_tokens", "stream_options", "logprobs", "seed", "parallel_tool_calls", "frequency_penalty"]) expect(ai21).not.toHaveProperty(k);
    // Mistral: seed is random_seed.
    expect(body("mistral").random_seed).toBe(3);
    // Legacy vendors read max_tokens.
    expect(body("together").max_tokens).toBe(64);
  });

  it("cohere: POST https://api.cohere.com/v2/chat, Bearer COHERE_API_KEY (or CO_API_KEY)", () => {
    const p = get("cohere");
    const out = p.codec.chatRequest(req, { model: "command-a-03-2025", requestId: "r" }, true);
    expect(url(p, out.path)).toBe("https://api.cohere.com/v2/chat");
    expect(p.headers.authorization).toBe(`Bearer ${keyOf("cohere")}`);
    expect(parseBody(out.body)).toMatchObject({ model: "command-a-03-2025", stream: true, max_tokens: 64, seed: 3, messages: [{ role: "user", content: "hi" }] });
    const emb = p.codec.embeddingsRequest?.({ model: "embed-v4.0", input: "x" }, { model: "embed-v4.0", requestId: "r" });
    expect(emb && url(p, emb.path)).toBe("https://api.cohere.com/v2/embed");
    const alias = buildProviders(loaded.config, { CO_API_KEY: "co-key" }).byName.get("cohere");
    expect(alias?.headers.authorization).toBe("Bearer co-key");
  });

  it("replicate: POST /v1/models/{owner}/{name}/predictions with Prefer: wait, or /v1/predictions for a version", () => {
    const p = get("replicate");
    expect(p.headers.authorization).toBe(`Bearer ${keyOf("replicate")}`);
    const sync = p.codec.chatRequest({ ...req, messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "hi" }] }, { model: "meta/meta-llama-3-8b-instruct", requestId: "r" }, false);
    expect(url(p, sync.path)).toBe("https://api.replicate.com/v1/models/meta/meta-llama-3-8b-instruct/predictions");
    expect(sync.headers.prefer).toBe("wait");
    expect(parseBody(sync.body)).toEqual({
      input: { prompt: "hi", system_prompt: "Be kind.", max_tokens: 64, max_new_tokens: 64, seed: 3, frequency_penalty: 0.1 },
    });
    const streamed = p.codec.chatRequest(req, { model: "replicate/hello-world:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa", requestId: "r" }, true);
    expect(url(p, streamed.path)).toBe("https://api.replicate.com/v1/predictions");
    expect(streamed.headers.prefer).toBeUndefined();
    expect(parseBody(streamed.body)).toMatchObject({ version: "replicate/hello-world:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa", stream: true });
    const alias = buildProviders(loaded.config, { REPLICATE_API_KEY: "r8-key" }).byName.get("replicate");
    expect(alias?.headers.authorization).toBe("Bearer r8-key");
  });

  it("templated base URLs need their variables; OLLAMA_API_KEY alone does not enable local Ollama", () => {
    const set = buildProviders(loaded.config, { CLOUDFLARE_API_KEY: "k", DATABRICKS_TOKEN: "t", OLLAMA_API_KEY: "o" });
    expect(set.byName.has("cloudflare")).toBe(false);
    expect(set.byName.has("databricks")).toBe(false);
    expect(set.byName.has("ollama")).toBe(false);
    expect(set.byName.get("ollama-cloud")?.headers.authorization).toBe("Bearer o");
    const wanted = validateConfig({ targets: [{ virtual_key: "cloudflare" }] }, {});
    if (!wanted.ok) throw new Error("config");
    expect(buildProviders(wanted.config, { CLOUDFLARE_API_KEY: "k" }).warnings.join()).toMatch(/CLOUDFLARE_ACCOUNT_ID/);
  });
});

describe("more providers through the openai SDK", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 3 });
    const base = await mock.start();
    const env: NodeJS.ProcessEnv = {
      COHERE_API_KEY: keyOf("cohere"),
      COHERE_BASE_URL: base,
      REPLICATE_API_TOKEN: keyOf("replicate"),
      REPLICATE_BASE_URL: `${base}/v1`,
    };
    for (const row of COMPAT) {
      if (row.kind !== "ollama") env[row.keyVar ?? `${row.prefix}_API_KEY`] = keyOf(row.kind);
      env[`${row.prefix}_BASE_URL`] = `${base}/${row.kind}/v1`;
    }
    gw = await startGateway({ catalog: { models: { "ai21/jamba-large": { input_per_m: 2, output_per_m: 8, context_window: 256000, max_output: 4096 } } } }, env);
  });
  afterAll(async () => {
    await gw?.close();
    await mock?.close();
  });

  describe("Cohere (native v2)", () => {
    it("chat: v2 request out, OpenAI completion back, cost from the catalog", async () => {
      const raw = await gw.client.chat.completions
        .create({ model: "cohere/command-a-03-2025", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello cohere" }], max_tokens: 100 })
        .withResponse();
      const res = raw.data;
      expect(res.object).toBe("chat.completion");
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello cohere");
      expect(res.choices[0]?.finish_reason).toBe("stop");
      expect(res.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(raw.response.headers.get("x-ferro-provider")).toBe("cohere");
      const sent = mock.requests.at(-1);
      expect(sent?.path).toBe("/v2/chat");
      expect(sent?.headers.authorization).toBe(`Bearer ${keyOf("cohere")}`);
      expect(sent?.body).toEqual({ model: "command-a-03-2025", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello cohere" }], max_tokens: 100 });
      await new Promise((r) => setTimeout(r, 50));
      const ctx = gw.finished.find((c) => c.provider === "cohere" && !c.stream);
      const usage = res.usage;
      if (!usage) throw new Error("usage");
      expect(ctx?.costUsd).toBeCloseTo((usage.prompt_tokens * 2.5 + usage.completion_tokens * 10) / 1e6, 12);
    });

    it("streams text, with a usage chunk when asked", async () => {
      const out = await drain(
        await gw.client.chat.completions.create({ model: "command-r-plus-08-2024", messages: [{ role: "user", content: "stream cohere" }], stream: true, stream_options: { include_usage: true } }),
      );
      expect(out.text).toBe("Mock reply to: stream cohere");
      expect(out.finish).toBe("stop");
      expect(out.chunks).toBeGreaterThanOrEqual(4);
      expect(out.usage?.completion_tokens).toBeGreaterThan(0);
      expect(mock.requests.at(-1)?.body?.stream).toBe(true);
    });

    it("tool calls, non-streaming and streaming; tool results go back as role tool", async () => {
      const res = await gw.client.chat.completions.create({ model: "cohere/command-a-03-2025", messages: [{ role: "user", content: "weather in Paris" }], tools: [weatherTool] });
      const call = res.choices[0]?.message.tool_calls?.[0];
      expect(res.choices[0]?.finish_reason).toBe("tool_calls");
      if (call?.type !== "function") throw new Error("expected a function call");
      expect(call.function.name).toBe("get_weather");
      expect(JSON.parse(call.function.arguments)).toEqual({ input: "weather in Paris" });
      expect(mock.requests.at(-1)?.body?.tools).toEqual([{ type: "function", function: weatherTool.function }]);

      const out = await drain(await gw.client.chat.completions.create({ model: "cohere/command-a-03-2025", messages: [{ role: "user", content: "weather in Rome" }], tools: [weatherTool], stream: true }));
      expect(out.toolName).toBe("get_weather");
      expect(JSON.parse(out.toolArgs)).toEqual({ input: "weather in Rome" });
      expect(out.finish).toBe("tool_calls");

      const followUp = await gw.client.chat.completions.create({
        model: "cohere/command-a-03-2025",
        messages: [
          { role: "user", content: "weather in Paris" },
          { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: call.function }] },
          { role: "tool", tool_call_id: call.id, content: '{"temp":21}' },
        ],
        tools: [weatherTool],
      });
      expect(followUp.choices[0]?.message.content).toBe("Mock reply to: weather in Paris");
      const sentMessages = mock.requests.at(-1)?.body?.messages;
      expect(sentMessages).toEqual([
        { role: "user", content: "weather in Paris" },
        { role: "assistant", tool_calls: [{ id: call.id, type: "function", function: call.function }] },
        { role: "tool", tool_call_id: call.id, content: '{"temp":21}' },
      ]);
    });

    it("a stream cut short before message-end is an error, not a finished answer", async () => {
      mock.enqueue({ endAfterFrames: 3 });
      const err = await streamFailure(gw.client.chat.completions.create({ model: "cohere/command-a-03-2025", messages: [{ role: "user", content: "cut cohere short" }], stream: true }));
      expect(err.message).toContain("ended the stream before the answer was complete");
    });

    it("errors: Cohere's {message} reaches the SDK with the right class", async () => {
      mock.enqueue({ status: 429, message: "You are using a Trial key, which is limited", headers: { "retry-after": "2" } });
      const err = await gw.client.chat.completions.create({ model: "cohere/command-a-03-2025", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect((err as InstanceType<typeof OpenAI.RateLimitError>).message).toContain("Trial key");
      mock.enqueue({ status: 400, message: "invalid request: temperature must be between 0 and 1.0 inclusive." });
      const bad = await gw.client.chat.completions.create({ model: "cohere/command-a-03-2025", messages: [{ role: "user", content: "x" }], temperature: 1.5 }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
      expect((bad as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("temperature must be between");
    });

    it("embeddings through /v2/embed, float and base64", async () => {
      const emb = await gw.client.embeddings.create({ model: "cohere/embed-v4.0", input: ["sunny day", "rainy day"] });
      expect(emb.data).toHaveLength(2);
      expect(emb.data[0]?.embedding.length).toBe(8);
      const sent = mock.requests.at(-1);
      expect(sent?.path).toBe("/v2/embed");
      expect(sent?.body).toEqual({ model: "embed-v4.0", texts: ["sunny day", "rainy day"], input_type: "search_document", embedding_types: ["float"] });
      const floats = await gw.client.embeddings.create({ model: "cohere/embed-v4.0", input: "x", encoding_format: "float" });
      expect(Array.isArray(floats.data[0]?.embedding)).toBe(true);
    });
  });

  describe("Replicate (predictions)", () => {
    const model = "replicate/meta/meta-llama-3-8b-instruct";

    it("sync prediction (Prefer: wait): output tokens joined, usage from metrics", async () => {
      const res = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "hello replicate" }], max_tokens: 200 });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello replicate");
      expect(res.choices[0]?.finish_reason).toBe("stop");
      expect(res.usage?.completion_tokens).toBeGreaterThan(0);
      const sent = mock.requests.at(-1);
      expect(sent?.path).toBe("/v1/models/meta/meta-llama-3-8b-instruct/predictions");
      expect(sent?.headers.prefer).toBe("wait");
      expect(sent?.headers.authorization).toBe(`Bearer ${keyOf("replicate")}`);
      expect(sent?.body).toEqual({ input: { prompt: "hello replicate", max_tokens: 200, max_new_tokens: 200 } });
    });

    it("polls urls.get when Prefer: wait returns a running prediction", async () => {
      mock.replicate.pendingPolls = 2;
      const before = mock.requests.length;
      try {
        const res = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "slow one" }] });
        expect(res.choices[0]?.message.content).toBe("Mock reply to: slow one");
      } finally {
        mock.replicate.pendingPolls = 0;
      }
      const calls = mock.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/mockpred\d+/, "ID")}`);
      expect(calls).toEqual([
        "POST /v1/models/meta/meta-llama-3-8b-instruct/predictions",
        "GET /v1/predictions/ID",
        "GET /v1/predictions/ID",
        "GET /v1/predictions/ID",
      ]);
    });

    it("streams from urls.stream (output / done events)", async () => {
      const before = mock.requests.length;
      const out = await drain(await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "stream replicate" }], stream: true }));
      expect(out.text).toBe("Mock reply to: stream replicate");
      expect(out.finish).toBe("stop");
      expect(out.chunks).toBeGreaterThanOrEqual(4);
      const calls = mock.requests.slice(before);
      expect(calls[0]?.body).toMatchObject({ stream: true });
      expect(calls[1]?.path).toMatch(/^\/v1\/streams\/mockpred\d+$/);
      expect(calls[1]?.headers.accept).toBe("text/event-stream");
    });

    it("a stream error event ends the stream with an error", async () => {
      mock.replicate.streamOverride = ["event: output\ndata: partial\n\n", 'event: error\ndata: {"detail": "CUDA out of memory"}\n\n'];
      // Before the first byte it is a 502; after it, a final error event: either way the SDK throws.
      const err = await streamFailure(gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], stream: true }));
      expect(err.message).toContain("CUDA out of memory");
    });

    it("a stream that ends without its done event is an error, not a finished answer", async () => {
      mock.replicate.streamOverride = ["event: output\ndata: partial\n\n"];
      const err = await streamFailure(gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], stream: true }));
      expect(err.message).toContain("ended the stream before the answer was complete");
    });

    it("tool calls are refused (the predictions API has none)", async () => {
      const err = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], tools: [weatherTool] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unsupported_parameter");
    });

    it("errors: problem details and failed predictions", async () => {
      mock.enqueue({ status: 422, message: "Invalid input: prompt is required" });
      const bad = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
      expect((bad as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("prompt is required");

      mock.replicate.failNext("CUDA out of memory");
      const failed = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(OpenAI.APIError);
      expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((failed as InstanceType<typeof OpenAI.APIError>).message).toContain("CUDA out of memory");
    });
  });

  describe("OpenAI-compatible rows", () => {
    for (const row of COMPAT) {
      describe(row.kind, () => {
        const model = `${row.kind}/${row.model}`;
        const path = `/${row.kind}/v1/chat/completions`;

        it("non-stream: forwarded with its auth, model prefix stripped", async () => {
          const res = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: `hi ${row.kind}` }] });
          expect(res.choices[0]?.message.content).toBe(`Mock reply to: hi ${row.kind}`);
          const sent = mock.requests.at(-1);
          expect(sent?.path).toBe(path);
          expect(sent?.body?.model).toBe(row.model);
          if (row.kind === "ollama") expect(sent?.headers.authorization).toBeUndefined();
          else expect(sent?.headers.authorization).toBe(`Bearer ${keyOf(row.kind)}`);
        });

        it("stream", async () => {
          const out = await drain(await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "stream" }], stream: true }));
          expect(out.text).toBe("Mock reply to: stream");
          expect(out.finish).toBe("stop");
        });

        it("tool call", async () => {
          const res = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "weather" }], tools: [weatherTool] });
          const call = res.choices[0]?.message.tool_calls?.[0];
          expect(res.choices[0]?.finish_reason).toBe("tool_calls");
          if (call?.type !== "function") throw new Error("expected a function call");
          expect(call.function.name).toBe("get_weather");
        });

        it("error", async () => {
          mock.enqueue({ status: 404, message: `model ${row.model} not found` });
          const err = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(OpenAI.NotFoundError);
          expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain("not found");
        });
      });
    }
  });

  describe("catalog in the gateway", () => {
    it("GET /v1/models lists catalog models per configured provider, with limits and prices", async () => {
      const list = await gw.client.models.list();
      const byId = new Map(list.data.map((m) => [m.id, m as OpenAI.Models.Model & { context_window?: number; max_output_tokens?: number; pricing?: Record<string, number> }]));
      expect(list.data.length).toBeGreaterThan(1000);
      const cmd = byId.get("command-a");
      expect(cmd?.owned_by).toBe("cohere");
      expect(cmd?.pricing).toMatchObject({ input_per_m: 2.5, output_per_m: 10 });
      const jamba = byId.get("jamba-large");
      expect(jamba).toMatchObject({ owned_by: "ai21", context_window: 256000, max_output_tokens: 4096, pricing: { input_per_m: 2, output_per_m: 8 } });
      const one = await gw.client.models.retrieve("llama-3.3-70b-versatile");
      expect((one as { context_window?: number }).context_window).toBeGreaterThan(100_000);
    });

    it("a model only the catalog knows routes to its provider; config prices set the cost", async () => {
      // "r1-1776" matches no prefix rule: Perplexity serves it because the catalog lists it there.
      const raw = await gw.client.chat.completions.create({ model: "r1-1776", messages: [{ role: "user", content: "x" }] }).withResponse();
      expect(raw.response.headers.get("x-ferro-provider")).toBe("perplexity");

      const res = await gw.client.chat.completions.create({ model: "ai21/jamba-large", messages: [{ role: "user", content: "priced" }] });
      await new Promise((r) => setTimeout(r, 50));
      const ctx = [...gw.finished].reverse().find((c) => c.provider === "ai21");
      const u = res.usage;
      if (!u) throw new Error("usage");
      expect(ctx?.upstreamModel).toBe("jamba-large");
      expect(ctx?.costUsd).toBeCloseTo((u.prompt_tokens * 2 + u.completion_tokens * 8) / 1e6, 12);
    });
  });
});
