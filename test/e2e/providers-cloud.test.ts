// The cloud providers end to end: the official openai SDK -> the gateway -> the mock upstream
// speaking Bedrock (Converse, binary event-stream), Azure OpenAI, Azure AI Foundry and Vertex AI
// (OAuth token endpoint, Gemini and Claude publishers). Each: non-stream, stream, tool call, error.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportPKCS8, generateKeyPair } from "jose";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { drain, weatherTool } from "../helpers/sdk.js";
import { encodeEvent } from "../../src/wire/bedrock-converse/eventstream.js";


describe("cloud providers through the openai SDK", () => {
  let mock: MockUpstream;
  let gw: TestGateway;
  let base: string;

  beforeAll(async () => {
    mock = new MockUpstream({ chunks: 3 });
    base = await mock.start();
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const serviceAccount = {
      type: "service_account",
      project_id: "ferro-test",
      private_key_id: "k1",
      private_key: await exportPKCS8(privateKey),
      client_email: "gateway@ferro-test.iam.gserviceaccount.com",
      token_uri: `${base}/token`,
    };
    gw = await startGateway(
      {},
      {
        AWS_ACCESS_KEY_ID: "AKIAMOCKMOCKMOCK",
        AWS_SECRET_ACCESS_KEY: "mock-secret",
        AWS_REGION: "us-west-2",
        BEDROCK_BASE_URL: base,
        AZURE_OPENAI_API_KEY: "azure-mock-key",
        AZURE_OPENAI_ENDPOINT: base,
        AZURE_FOUNDRY_API_KEY: "foundry-mock-key",
        AZURE_FOUNDRY_ENDPOINT: `${base}/models`,
        VERTEX_CREDENTIALS_JSON: JSON.stringify(serviceAccount),
        VERTEX_LOCATION: "us-east5",
        VERTEX_BASE_URL: base,
      },
    );
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  const lastUpstream = (): (typeof mock.requests)[number] => {
    const r = [...mock.requests].reverse().find((x) => x.format !== "oauth-token");
    if (!r) throw new Error("no upstream request");
    return r;
  };

  describe("AWS Bedrock", () => {
    const model = "anthropic.claude-3-5-haiku-20241022-v1:0";

    it("answers a chat completion through Converse, signed with SigV4", async () => {
      const raw = await gw.client.chat.completions
        .create({ model, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello bedrock" }], max_tokens: 200, temperature: 0.1 })
        .withResponse();
      const res = raw.data;
      expect(res.object).toBe("chat.completion");
      expect(res.model).toBe(model);
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello bedrock");
      expect(res.choices[0]?.finish_reason).toBe("stop");
      expect(res.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
      expect(raw.response.headers.get("x-ferro-provider")).toBe("bedrock");
      const sent = lastUpstream();
      expect(sent.path).toBe("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
      expect(sent.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAMOCKMOCKMOCK\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
      expect(sent.body).toEqual({
        messages: [{ role: "user", content: [{ text: "hello bedrock" }] }],
        system: [{ text: "Be brief." }],
        inferenceConfig: { maxTokens: 200, temperature: 0.1 },
      });
    });

    it("streams through ConverseStream's binary event stream, with usage when asked", async () => {
      const res = await drain(
        await gw.client.chat.completions.create({ model: `bedrock/${model}`, messages: [{ role: "user", content: "stream me" }], stream: true, stream_options: { include_usage: true } }),
      );
      expect(res.text).toBe("Mock reply to: stream me");
      expect(res.finish).toBe("stop");
      expect(res.chunks).toBeGreaterThanOrEqual(4);
      expect(res.usage?.completion_tokens).toBeGreaterThan(0);
      expect(lastUpstream().path).toBe("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream");
    });

    it("returns tool calls (non-stream and stream) and sends tool results back as toolResult blocks", async () => {
      const res = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "weather in Paris" }], tools: [weatherTool], tool_choice: "auto" });
      const call = res.choices[0]?.message.tool_calls?.[0];
      expect(res.choices[0]?.finish_reason).toBe("tool_calls");
      if (call?.type !== "function") throw new Error("expected a function call");
      expect(call.function.name).toBe("get_weather");
      expect(JSON.parse(call.function.arguments)).toEqual({ input: "weather in Paris" });
      expect(lastUpstream().body?.toolConfig).toEqual({
        tools: [{ toolSpec: { name: "get_weather", description: "Weather for a city", inputSchema: { json: { type: "object", properties: { input: { type: "string" } } } } } }],
        toolChoice: { auto: {} },
      });

      const streamed = await drain(await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "weather in Rome" }], tools: [weatherTool], stream: true }));
      expect(streamed.toolName).toBe("get_weather");
      expect(JSON.parse(streamed.toolArgs)).toEqual({ input: "weather in Rome" });
      expect(streamed.toolId).toBe("call_mock_0001");
      expect(streamed.finish).toBe("tool_calls");

      const followUp = await gw.client.chat.completions.create({
        model,
        tools: [weatherTool],
        messages: [
          { role: "user", content: "weather in Paris" },
          { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: call.function }] },
          { role: "tool", tool_call_id: call.id, content: "18C, sunny" },
        ],
      });
      expect(followUp.choices[0]?.message.content).toBe("Mock reply to: weather in Paris");
      const messages = lastUpstream().body?.messages;
      expect(messages).toEqual([
        { role: "user", content: [{ text: "weather in Paris" }] },
        { role: "assistant", content: [{ toolUse: { toolUseId: call.id, name: "get_weather", input: { input: "weather in Paris" } } }] },
        { role: "user", content: [{ toolResult: { toolUseId: call.id, content: [{ text: "18C, sunny" }] } }] },
      ]);
    });

    it("maps Bedrock errors to OpenAI's (throttling -> 429, validation -> 400, access denied -> 502)", async () => {
      mock.enqueue({ status: 429, message: "Too many requests, please wait before trying again." });
      const throttled = (await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(throttled).toBeInstanceOf(OpenAI.RateLimitError);
      expect(throttled.message).toContain("Too many requests, please wait before trying again.");

      mock.enqueue({ status: 400, message: "The model returned the following errors: messages.0.content: blank text" });
      const invalid = (await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }], stream: true }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
      expect(invalid.message).toContain("blank text");

      mock.enqueue({ status: 403, message: "The security token included in the request is invalid." });
      const denied = (await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(denied.status).toBe(502);
      expect(denied.code).toBe("provider_auth_error");
    });

    it("embeds with Titan and Cohere through InvokeModel", async () => {
      const titan = await gw.client.embeddings.create({ model: "amazon.titan-embed-text-v2:0", input: "embed me", encoding_format: "float" });
      expect(titan.data).toHaveLength(1);
      expect(titan.data[0]?.embedding).toHaveLength(8);
      expect(titan.usage.prompt_tokens).toBeGreaterThan(0);
      expect(lastUpstream().path).toBe("/model/amazon.titan-embed-text-v2%3A0/invoke");
      expect(lastUpstream().body).toEqual({ inputText: "embed me", normalize: true });

      const cohere = await gw.client.embeddings.create({ model: "cohere.embed-english-v3", input: ["a", "bb"] });
      expect(cohere.data.map((d) => d.index)).toEqual([0, 1]);
      expect(cohere.data[0]?.embedding).toHaveLength(8); // the SDK decodes the base64 it asked for
      expect(lastUpstream().body).toEqual({ texts: ["a", "bb"], input_type: "search_document" });
    });
  });

  it("Bedrock: an exception inside a ConverseStream ends the stream with an error event", async () => {
    // A raw upstream: two events, then Bedrock's throttlingException message, as the service sends it.
    const raw = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream" });
      res.write(encodeEvent("messageStart", JSON.stringify({ role: "assistant", p: "abcd" })));
      res.write(encodeEvent("contentBlockDelta", JSON.stringify({ contentBlockIndex: 0, delta: { text: "partial " }, p: "ab" })));
      setTimeout(() => res.end(encodeEvent("throttlingException", JSON.stringify({ message: "Too many tokens per minute." }), "exception")), 20);
    });
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
    const rawGw = await startGateway({}, { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", BEDROCK_BASE_URL: `http://127.0.0.1:${(raw.address() as AddressInfo).port}` });
    try {
      let text = "";
      const err = await (async () => {
        const stream = await rawGw.client.chat.completions.create({ model: "amazon.nova-lite-v1:0", messages: [{ role: "user", content: "x" }], stream: true });
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      })().catch((e: unknown) => e);
      expect(text).toBe("partial ");
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as Error).message).toContain("Too many tokens per minute.");
    } finally {
      await rawGw.close();
      raw.closeAllConnections();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  describe("Azure OpenAI", () => {
    it("answers, streams and calls tools on a deployment", async () => {
      const res = await gw.client.chat.completions.create({ model: "azure-openai/prod-gpt4o", messages: [{ role: "user", content: "hello azure" }] });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello azure");
      const sent = lastUpstream();
      expect(sent.path).toBe("/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21");
      expect(sent.headers["api-key"]).toBe("azure-mock-key");

      const streamed = await drain(await gw.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "stream azure" }], stream: true }));
      expect(streamed.text).toBe("Mock reply to: stream azure");
      expect(streamed.finish).toBe("stop");
      expect(lastUpstream().path).toBe("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");

      const tool = await gw.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "weather?" }], tools: [weatherTool] });
      expect(tool.choices[0]?.message.tool_calls?.[0]?.type).toBe("function");
      expect(tool.choices[0]?.finish_reason).toBe("tool_calls");
    });

    it("embeds through the deployment's embeddings route, and passes errors on", async () => {
      const emb = await gw.client.embeddings.create({ model: "text-embedding-3-small", input: ["x", "y"] });
      expect(emb.data).toHaveLength(2);
      expect(lastUpstream().path).toBe("/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21");

      mock.enqueue({ status: 429, message: "Requests to the ChatCompletions_Create Operation have exceeded call rate limit.", headers: { "retry-after": "7" } });
      const err = (await gw.client.chat.completions.create({ model: "azure-openai/prod-gpt4o", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.headers?.get("retry-after")).toBe("7");
    });
  });

  describe("Azure AI Foundry", () => {
    it("answers, streams, calls tools and maps errors via the model inference API", async () => {
      const res = await gw.client.chat.completions.create({ model: "azure-foundry/Phi-4", messages: [{ role: "user", content: "hello foundry" }] });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello foundry");
      const sent = lastUpstream();
      expect(sent.path).toBe("/models/chat/completions?api-version=2024-05-01-preview");
      expect(sent.headers["api-key"]).toBe("foundry-mock-key");
      expect(sent.body?.model).toBe("Phi-4");

      const streamed = await drain(await gw.client.chat.completions.create({ model: "azure-foundry/Mistral-Large-2411", messages: [{ role: "user", content: "s" }], stream: true }));
      expect(streamed.text).toBe("Mock reply to: s");

      const tool = await gw.client.chat.completions.create({ model: "azure-foundry/Phi-4", messages: [{ role: "user", content: "weather?" }], tools: [weatherTool] });
      expect(tool.choices[0]?.finish_reason).toBe("tool_calls");

      mock.enqueue({ status: 404, message: "The deployment 'Phi-9' does not exist." });
      const err = (await gw.client.chat.completions.create({ model: "azure-foundry/Phi-9", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err.message).toContain("does not exist");
    });
  });

  describe("Google Vertex AI", () => {
    const prefix = "/v1/projects/ferro-test/locations/us-east5/publishers";

    it("gets an OAuth token once and answers Gemini requests", async () => {
      const res = await gw.client.chat.completions.create({ model: "vertex-ai/gemini-2.5-flash", messages: [{ role: "user", content: "hello vertex" }] });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello vertex");
      const sent = lastUpstream();
      expect(sent.path).toBe(`${prefix}/google/models/gemini-2.5-flash:generateContent`);
      expect(sent.headers.authorization).toMatch(/^Bearer ya29\.mock-access-token-\d+$/);

      const streamed = await drain(await gw.client.chat.completions.create({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "stream gemini" }], stream: true }));
      expect(streamed.text).toBe("Mock reply to: stream gemini");
      expect(streamed.finish).toBe("stop");
      expect(lastUpstream().path).toBe(`${prefix}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`);

      const tool = await gw.client.chat.completions.create({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "weather?" }], tools: [weatherTool] });
      expect(tool.choices[0]?.finish_reason).toBe("tool_calls");
      expect(tool.choices[0]?.message.tool_calls?.[0]?.type).toBe("function");
      expect(mock.requests.filter((r) => r.format === "oauth-token")).toHaveLength(1);
    });

    it("answers Claude through rawPredict / streamRawPredict", async () => {
      const model = "claude-sonnet-4-5@20250929";
      const res = await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "hello claude" }], max_tokens: 100 });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: hello claude");
      const sent = lastUpstream();
      expect(sent.path).toBe(`${prefix}/anthropic/models/${model}:rawPredict`);
      expect(sent.body?.anthropic_version).toBe("vertex-2023-10-16");
      expect(sent.body?.model).toBeUndefined();

      const streamed = await drain(await gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "weather in Oslo" }], tools: [weatherTool], stream: true }));
      expect(streamed.toolName).toBe("get_weather");
      expect(JSON.parse(streamed.toolArgs)).toEqual({ input: "weather in Oslo" });
      expect(streamed.finish).toBe("tool_calls");
      expect(lastUpstream().path).toBe(`${prefix}/anthropic/models/${model}:streamRawPredict`);
    });

    it("embeds through :predict and maps errors", async () => {
      const emb = await gw.client.embeddings.create({ model: "vertex-ai/text-embedding-005", input: ["one", "two"], encoding_format: "float" });
      expect(emb.data.map((d) => d.embedding.length)).toEqual([8, 8]);
      expect(lastUpstream().path).toBe(`${prefix}/google/models/text-embedding-005:predict`);
      expect(lastUpstream().body).toEqual({ instances: [{ content: "one" }, { content: "two" }] });

      mock.enqueue({ status: 429, message: "Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute." });
      const err = (await gw.client.chat.completions.create({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.message).toContain("Quota exceeded");
    });
  });
});
