// OpenTelemetry tracing end to end: the gateway exports its spans over OTLP (http/protobuf and
// grpc) to a stand-in collector, driven by the official openai SDK.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { validateConfig } from "../../src/config/load.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { startMcpHttpServer, type TestMcpServer } from "../helpers/mcp-server.js";
import { startGrpcCollector, startHttpCollector, type CollectedSpan, type Collector } from "../helpers/otlp-collector.js";

const UPSTREAM_KEY = "sk-test-upstream-key-123456";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const mock = new MockUpstream({ chunks: 2 });
let base = "";
let tools: TestMcpServer;

beforeAll(async () => {
  base = await mock.start();
  tools = await startMcpHttpServer((server) => {
    server.registerTool("lookup", { inputSchema: { input: z.string() } }, ({ input }) => ({ content: [{ type: "text", text: `found ${input}` }] }));
  });
});
afterAll(async () => {
  await tools.close();
  await mock.close();
});

const open: TestGateway[] = [];

async function gateway(tracing: Record<string, unknown>, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  const gw = await startGateway({ observability: { tracing: { enabled: true, ...tracing } }, ...extra }, { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${base}/v1`, ...env });
  open.push(gw);
  await gw.server.currentRuntime.tracing?.ready();
  await gw.server.currentRuntime.mcp?.settled();
  return gw;
}

afterEach(async () => {
  for (const gw of open.splice(0)) await gw.close().catch(() => undefined);
});

/** Closing the gateway flushes the exporter's queue. */
async function spansAfterClose(gw: TestGateway, collector: Collector): Promise<CollectedSpan[]> {
  open.splice(open.indexOf(gw), 1);
  await gw.close();
  return collector.spans;
}

describe("tracing", () => {
  it("exports one server span per request over http/protobuf, child of the caller's traceparent, with GenAI attributes", async () => {
    const collector = await startHttpCollector();
    try {
      // A bare host:port is plaintext, and v1/traces is appended to it.
      const gw = await gateway({ endpoint: collector.endpoint.replace("http://", ""), protocol: "http/protobuf", service_name: "ferrogw-test", headers: { "x-collector-token": "${OTLP_TOKEN}" } }, {}, { OTLP_TOKEN: "tok-otlp" });
      const started = Date.now();
      await gw.client.chat.completions.create(
        { model: "gpt-4o-mini", messages: [{ role: "user", content: "trace me" }] },
        { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } },
      );
      await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "no parent" }], stream: true }).then(async (s) => {
        for await (const _ of s);
      });
      const spans = await spansAfterClose(gw, collector);
      expect(collector.paths.every((p) => p === "/v1/traces")).toBe(true);
      expect(collector.lastHeaders["x-collector-token"]).toBe("tok-otlp");
      expect(spans).toHaveLength(2);
      const [child, root] = spans;
      expect(child).toMatchObject({ name: "chat gpt-4o-mini", kind: 2, traceId: TRACE_ID, parentSpanId: PARENT_ID, statusCode: 0, resource: { "service.name": "ferrogw-test" } });
      expect(child?.attributes).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 6,
        "http.response.status_code": 200,
        "ferrogw.stream": false,
        "ferrogw.attempts": 1,
      });
      // Its time is the request's: started after the test did, lasting a positive time.
      expect(Number((child as CollectedSpan).startNs / 1_000_000n)).toBeGreaterThanOrEqual(started - 5);
      expect((child as CollectedSpan).endNs).toBeGreaterThan((child as CollectedSpan).startNs);
      expect(root).toMatchObject({ parentSpanId: "", attributes: { "ferrogw.stream": true } });
      expect(root?.traceId).not.toBe(TRACE_ID);
    } finally {
      await collector.close();
    }
  });

  it("exports over grpc, marks a failed request's span as an error, and adds a span per MCP tool call", async () => {
    const collector = await startGrpcCollector();
    try {
      const gw = await gateway({ endpoint: collector.endpoint, protocol: "grpc", headers: { "x-collector-token": "tok-grpc" } }, { mcp_servers: [{ name: "finder", url: tools.url }] });
      await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "find x" }] });
      mock.enqueue({ status: 500 });
      await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "fail" }] }).catch(() => undefined);
      const spans = await spansAfterClose(gw, collector);
      expect(collector.lastHeaders["x-collector-token"]).toBe("tok-grpc");
      const request = spans.find((s) => s.kind === 2 && s.attributes["http.response.status_code"] === 200);
      const tool = spans.find((s) => s.name === "execute_tool lookup");
      expect(tool).toMatchObject({ kind: 1, traceId: request?.traceId, parentSpanId: request?.spanId, attributes: { "gen_ai.tool.name": "lookup", "ferrogw.mcp_server": "finder", "ferrogw.tool_status": "ok" } });
      const failed = spans.find((s) => s.kind === 2 && s.attributes["http.response.status_code"] === 502);
      expect(failed).toMatchObject({ statusCode: 2, attributes: { "error.type": "upstream_error" } });
    } finally {
      await collector.close();
    }
  });

  it("samples by sample_ratio but always follows a sampled parent, and records no model or usage at privacy_level none", async () => {
    const collector = await startHttpCollector();
    try {
      const gw = await gateway({ endpoint: collector.endpoint, protocol: "http/protobuf", sample_ratio: 0, privacy_level: "none" });
      for (let i = 0; i < 3; i++) await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "unsampled" }] });
      await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "sampled" }] }, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
      const spans = await spansAfterClose(gw, collector);
      expect(spans).toHaveLength(1);
      expect(spans[0]).toMatchObject({ name: "chat", traceId: TRACE_ID });
      expect(Object.keys(spans[0]?.attributes ?? {}).sort()).toEqual(["ferrogw.request_id", "gen_ai.operation.name", "http.request.method", "http.response.status_code"]);
    } finally {
      await collector.close();
    }
  });

  it("is off without an endpoint, and an OTEL_EXPORTER_OTLP_TRACES_ENDPOINT turns it on and wins", async () => {
    const off = await gateway({ endpoint: "" });
    expect(off.server.currentRuntime.tracing).toBeUndefined();
    const collector = await startHttpCollector();
    try {
      // The variable is the signal's own URL, used as written; the config's endpoint is ignored.
      const gw = await gateway({ enabled: false, endpoint: "127.0.0.1:9", protocol: "http/protobuf" }, {}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.endpoint}/custom/traces` });
      await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "env" }] });
      const spans = await spansAfterClose(gw, collector);
      expect(collector.paths).toEqual(["/custom/traces"]);
      expect(spans.map((s) => s.name)).toEqual(["chat gpt-4o-mini"]);
    } finally {
      await collector.close();
    }
  });

  it("refuses an endpoint it cannot read, at load", () => {
    const bad = validateConfig({ observability: { tracing: { enabled: true, endpoint: "ftp://collector:21", protocol: "http/protobuf" } } }, {});
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues).toEqual([{ path: "observability.tracing.endpoint", message: '"ftp://collector:21": the scheme must be http or https' }]);
  });
});
