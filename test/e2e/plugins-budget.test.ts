// budget through HTTP: spend from usage × prices, rejection once spent, reserve-then-settle under
// concurrency (never more than one request's worth over), an API key's own budget and period,
// streams settled from their usage, requests cancelled while the upstream had them, and spend in
// the admin stats and the request log.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { until } from "../helpers/until.js";

const UPSTREAM_KEY = "sk-test-upstream-key-123456";
const MASTER = "fgw_0123456789abcdef0123456789abcdef";
/** $0.01 per token each way: "hi" costs 9 prompt + 5 completion tokens = $0.14 at the mock. */
const PRICES = { input_per_m_tokens: 10_000, output_per_m_tokens: 10_000 };
const COST = 0.14;

const mock = new MockUpstream({ chunks: 2 });
let base: string | undefined;
let gw: TestGateway | undefined;

async function start(config: Record<string, unknown>, gateway: (base: string) => Record<string, unknown> = () => ({})): Promise<TestGateway> {
  base ??= await mock.start();
  const cfg = { store_id: randomUUID(), ...PRICES, ...config };
  gw = await startGateway(
    {
      ...gateway(base),
      plugins: [
        { name: "budget", type: "guardrail", stage: "before_request", enabled: true, config: cfg },
        { name: "budget", type: "guardrail", stage: "after_request", enabled: true, config: cfg },
      ],
    },
    { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "silent" },
    { masterKey: MASTER },
  );
  return gw;
}

afterEach(async () => {
  await gw?.close();
  gw = undefined;
});
afterAll(() => mock.close());

const hi = (g: TestGateway, extra: Record<string, unknown> = {}, client: OpenAI = g.client, signal?: AbortSignal) =>
  client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], ...extra }, { signal });

interface BudgetStats {
  period: string;
  keys: Array<{ key_id: string; spent_usd: number; reserved_usd: number }>;
}
async function spent(g: TestGateway, keyId = "master"): Promise<number> {
  const stats = (await g.server.currentRuntime.plugins.stats()).budget as BudgetStats;
  return stats.keys.find((k) => k.key_id === keyId)?.spent_usd ?? 0;
}

/** The outcome a client sees: 200, "status code", or "aborted" when `cancel` hung up first. */
async function status(p: Promise<unknown>, cancel?: AbortController): Promise<number | string> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof OpenAI.APIUserAbortError && cancel?.signal.aborted) return "aborted";
    if (err instanceof OpenAI.APIError) return `${err.status} ${err.code}`;
    throw err;
  }
}

describe("budget", () => {
  it("charges embeddings and legacy completions to the key's budget, and refuses them once it is spent", async () => {
    const g = await start({ spend_limit_usd: 0.5 });
    // The mock counts ceil(chars / 4) tokens per input: 2 + 2 prompt tokens, $0.01 each.
    const emb = await g.client.embeddings.create({ model: "text-embedding-3-small", input: ["hello", "world"] });
    expect(emb.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(await spent(g)).toBeCloseTo(0.04, 6);
    // The mock's legacy completion reports 3 prompt + 4 completion tokens.
    await g.client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "say hi", max_tokens: 5 });
    expect(await spent(g)).toBeCloseTo(0.11, 6);
    for (let i = 0; i < 3; i++) await hi(g);
    expect(await spent(g)).toBeCloseTo(0.11 + 3 * COST, 6);
    const calls = mock.requests.length;
    expect(await status(g.client.embeddings.create({ model: "text-embedding-3-small", input: "more" }))).toBe("429 budget_exceeded");
    expect(await status(g.client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "more", max_tokens: 5 }))).toBe("429 budget_exceeded");
    expect(mock.requests.length).toBe(calls);
  });

  it("charges usage × price and rejects with 429 budget_exceeded once the limit is spent", async () => {
    const g = await start({ spend_limit_usd: 0.5 });
    for (let i = 1; i <= 4; i++) {
      const res = await hi(g);
      expect(res.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 5 });
      expect(await spent(g)).toBeCloseTo(COST * i, 6);
    }
    let err: unknown;
    try {
      await hi(g);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.code).toBe("budget_exceeded");
    expect(e.message).toContain("Budget exceeded for this API key: spent $0.5600 of $0.50");
    expect(await spent(g)).toBeCloseTo(0.56, 6);

    // Spend is visible in the admin API.
    const admin = await fetch(`${g.url}/admin/plugins`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(admin.status).toBe(200);
    const report = (await admin.json()) as { data: Array<{ name: string; enabled: boolean; stages: string[]; stats?: BudgetStats }> };
    const budget = report.data.find((p) => p.name === "budget");
    expect(budget).toMatchObject({ enabled: true, stages: ["before_request", "after_response"] });
    expect(budget?.stats?.keys.find((k) => k.key_id === "master")?.spent_usd).toBeCloseTo(0.56, 6);
    expect(report.data.find((p) => p.name === "word-filter")?.enabled).toBe(false);

    // The request log rows carry a cost (the model catalog's price when it knows the model).
    await new Promise((r) => setTimeout(r, 20));
    await g.app.logWriter.flush();
    const rows = (await g.app.stores.logs.query({ keyId: "master" })).rows;
    expect(rows.filter((r) => r.status === 200).every((r) => r.costUsd > 0)).toBe(true);
  });

  it("concurrent requests overspend by at most one request's worth (reserve, then settle)", async () => {
    const limit = 1;
    const g = await start({ spend_limit_usd: limit });
    const results = await Promise.all(Array.from({ length: 25 }, () => status(hi(g, { max_tokens: 10 }))));
    const ok = results.filter((r) => r === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(results.every((r) => r === 200 || r === "429 budget_exceeded")).toBe(true);
    expect(await spent(g)).toBeLessThanOrEqual(limit + COST + 1e-9);
    // Spend up to the limit; it never ends more than one request over.
    let last: number | string = 200;
    for (let i = 0; i < 20 && last === 200; i++) last = await status(hi(g, { max_tokens: 10 }));
    expect(last).toBe("429 budget_exceeded");
    const total = await spent(g);
    expect(total).toBeGreaterThanOrEqual(limit);
    expect(total).toBeLessThanOrEqual(limit + COST + 1e-9);
    const stats = (await g.server.currentRuntime.plugins.stats()).budget as BudgetStats;
    expect(stats.keys.find((k) => k.key_id === "master")?.reserved_usd).toBe(0);
  });

  // No prices in the config: gpt-4o-mini costs what the model catalog says, once routed. The
  // reservation must price it before routing too, or concurrent requests all pass the limit.
  it.each([
    ["a bare model name, at its dearest price", "gpt-4o-mini"],
    ["provider-name/model, as its provider's kind", "openai-eu/gpt-4o-mini"],
    ["an alias, as the model it stands for", "fast"],
  ])("with the catalog's prices, %s is reserved, so concurrency cannot overspend", async (_what, model) => {
    const limit = 0.00001;
    const g = await start({ spend_limit_usd: limit, input_per_m_tokens: undefined, output_per_m_tokens: undefined }, (b) => ({
      providers: { "openai-eu": { type: "openai", base_url: `${b}/v1`, api_key: UPSTREAM_KEY } },
      aliases: { fast: "gpt-4o-mini" },
    }));
    const results = await Promise.all(Array.from({ length: 25 }, () => status(hi(g, { model, max_tokens: 10 }))));
    const ok = results.filter((r) => r === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(results.every((r) => r === 200 || r === "429 budget_exceeded")).toBe(true);
    // The limit is overrun by at most one request (each costs the same here); with nothing
    // reserved, requests that checked the limit before the first settled all went through.
    const total = await spent(g);
    const each = total / ok;
    expect(total, `${ok} requests passed`).toBeLessThanOrEqual(limit + each + 1e-12);
    const stats = (await g.server.currentRuntime.plugins.stats()).budget as BudgetStats;
    expect(stats.keys.find((k) => k.key_id === "master")?.reserved_usd).toBe(0);
  });

  it("an API key's own budget and period win over the config", async () => {
    const g = await start({ spend_limit_usd: 100, period: "monthly" });
    const created = await g.app.keys.create({ name: "small", budgetUsd: 0.2, budgetPeriod: "daily" });
    const client = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: created.key, maxRetries: 0 });
    expect(await status(hi(g, {}, client))).toBe(200);
    expect(await status(hi(g, {}, client))).toBe(200);
    let message = "";
    try {
      await hi(g, {}, client);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("of $0.20 (daily)");
    // Other keys are not affected.
    expect(await status(hi(g))).toBe(200);
  });

  it("streams settle from their usage; without usage the reservation is charged", async () => {
    const g = await start({ spend_limit_usd: 10 });
    const stream = await g.client.chat.completions.create({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    for await (const _ of stream) void _;
    await new Promise((r) => setTimeout(r, 20));
    expect(await spent(g)).toBeCloseTo(COST, 6);
    const plain = await g.client.chat.completions.create({ model: "gpt-4o-mini", stream: true, max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    for await (const _ of plain) void _;
    await new Promise((r) => setTimeout(r, 20));
    // Reservation: 9 prompt tokens (estimate) + 10 max_tokens = $0.19.
    expect(await spent(g)).toBeCloseTo(COST + 0.19, 6);
  });

  async function reservedNow(g: TestGateway): Promise<number> {
    const stats = (await g.server.currentRuntime.plugins.stats()).budget as BudgetStats;
    return stats.keys.find((k) => k.key_id === "master")?.reserved_usd ?? 0;
  }

  // Providers bill a request they received, whether or not anyone reads the answer. Charging
  // nothing here let a client spend past its budget by hanging up on every request.
  it("a request cancelled while the upstream has it is charged its reservation", async () => {
    const g = await start({ spend_limit_usd: 10 });
    const seen = mock.requests.length;
    mock.enqueue({ delayMs: 5_000 });
    const cancel = new AbortController();
    const pending = status(hi(g, { max_tokens: 10 }, g.client, cancel.signal), cancel);
    await until("the upstream to receive the request", () => mock.requests.length > seen);
    cancel.abort();
    expect(await pending).toBe("aborted");
    await until("the reservation to settle", async () => (await reservedNow(g)) === 0);
    // Reservation: 9 prompt tokens (estimate) + 10 max_tokens = $0.19.
    expect(await spent(g)).toBeCloseTo(0.19, 6);
    await g.app.logWriter.flush();
    const rows = (await g.app.stores.logs.query({ keyId: "master" })).rows;
    expect(rows[0]).toMatchObject({ status: 499 });
    expect(rows[0]?.costUsd).toBeCloseTo(0.19, 6);
  });

  it("a request cut off by request_timeout while the upstream has it is charged its reservation", async () => {
    const g = await start({ spend_limit_usd: 10 }, () => ({ strategy: { mode: "single" }, targets: [{ virtual_key: "openai" }], request_timeout: "200ms" }));
    mock.enqueue({ delayMs: 5_000 });
    expect(await status(hi(g, { max_tokens: 10 }, g.client.withOptions({ maxRetries: 0 })))).toBe("504 request_timeout");
    await until("the reservation to settle", async () => (await reservedNow(g)) === 0);
    expect(await spent(g)).toBeCloseTo(0.19, 6);
  });

  it("a Replicate prediction cancelled while the gateway waits to poll it is charged its reservation", async () => {
    const g = await start({ spend_limit_usd: 10 }, (b) => ({ providers: { replicate: { type: "replicate", base_url: `${b}/v1`, api_key: "r8_test_key_0123456789" } } }));
    mock.replicate.pendingPolls = 100;
    try {
      const seen = mock.requests.length;
      const cancel = new AbortController();
      const pending = status(hi(g, { model: "replicate/meta/meta-llama-3-8b-instruct", max_tokens: 10 }, g.client, cancel.signal), cancel);
      await until("the prediction to be created", () => mock.requests.length > seen);
      // The create was answered with a running prediction; the first poll is 250 ms away.
      await new Promise((r) => setTimeout(r, 50));
      cancel.abort();
      expect(await pending).toBe("aborted");
      await until("the reservation to settle", async () => (await reservedNow(g)) === 0);
      expect(await spent(g)).toBeCloseTo(0.19, 6);
    } finally {
      mock.replicate.pendingPolls = 0;
    }
  });

  it("a request cancelled before it reached an upstream costs nothing", async () => {
    const g = await start({ spend_limit_usd: 10 }, () => ({
      strategy: { mode: "single" },
      targets: [{ virtual_key: "openai", concurrency: { max_concurrency: 1, queue_size: 1 } }],
    }));
    mock.enqueue({ delayMs: 1_000 });
    const seen = mock.requests.length;
    const first = hi(g, { max_tokens: 10 });
    // The first request holds the target's one slot before the second arrives.
    await until("the first request to reach the upstream", () => mock.requests.length > seen);
    const cancel = new AbortController();
    // Waits in the target's queue behind the first request, then its client gives up.
    const queued = status(hi(g, { max_tokens: 10 }, g.client, cancel.signal), cancel);
    await until("the second request to queue", async () => (await reservedNow(g)) > 0.3);
    cancel.abort();
    expect(await queued).toBe("aborted");
    await first;
    await until("both reservations to settle", async () => (await reservedNow(g)) === 0);
    expect(await spent(g)).toBeCloseTo(COST, 6);
  });

  it("a failed request releases its reservation and costs nothing", async () => {
    const g = await start({ spend_limit_usd: 10 });
    mock.enqueue({ status: 400, message: "bad request" });
    expect(await status(hi(g))).toBe("400 invalid_request");
    await new Promise((r) => setTimeout(r, 20));
    const stats = (await g.server.currentRuntime.plugins.stats()).budget as BudgetStats;
    expect(stats.keys.find((k) => k.key_id === "master")).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
  });
});
