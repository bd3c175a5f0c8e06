// X-Gateway-Overhead-Ms is the gateway's own time: the upstream's wait is left out, for whole
// answers and for streams (where the header goes out with the first event).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const LATENCY_MS = 80;

describe("X-Gateway-Overhead-Ms", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream({ latencyMs: LATENCY_MS, chunkDelayMs: 10, chunks: 3 });
    const base = await mock.start();
    gw = await startGateway(
      {},
      { OPENAI_API_KEY: "sk-test-overhead-0000000000", OPENAI_BASE_URL: `${base}/v1`, REPLICATE_API_TOKEN: "r8-test-overhead-000000", REPLICATE_BASE_URL: `${base}/v1` },
    );
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("leaves out the upstream's latency on a whole answer", async () => {
    const started = performance.now();
    const raw = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }).withResponse();
    const elapsed = performance.now() - started;
    const overhead = Number(raw.response.headers.get("x-gateway-overhead-ms"));
    expect(elapsed).toBeGreaterThanOrEqual(LATENCY_MS);
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(LATENCY_MS / 2);
  });

  it("leaves out the wait for the first event on a stream", async () => {
    const raw = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true }).withResponse();
    let events = 0;
    for await (const chunk of raw.data) if (chunk.object === "chat.completion.chunk") events++;
    const overhead = Number(raw.response.headers.get("x-gateway-overhead-ms"));
    expect(events).toBeGreaterThan(0);
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(LATENCY_MS / 2);
  });

  it("leaves out every call of a multi-step exchange, not only the last (Replicate: create, then stream)", async () => {
    const before = mock.requests.length;
    const raw = await gw.client.chat.completions.create({ model: "replicate/meta/meta-llama-3-8b-instruct", messages: [{ role: "user", content: "hi" }], stream: true }).withResponse();
    for await (const chunk of raw.data) void chunk;
    // Two upstream calls, each LATENCY_MS long before its answer.
    expect(mock.requests.length - before).toBeGreaterThanOrEqual(2);
    const overhead = Number(raw.response.headers.get("x-gateway-overhead-ms"));
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(LATENCY_MS / 2);
  });
});
