// Redis-backed plugin state, shared by two gateway instances on one real Redis
// (FERROGW_TEST_REDIS_URL; CI sets redis://127.0.0.1:6379): a 10 RPM key gets exactly 10
// successes across both instances under concurrent load, a cache entry stored by one instance
// is a hit on the other, and a budget spent through one is enforced by the other.
// Every key this file writes has a prefix unique to the run, and is deleted at the end.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { RedisBudgetStore, RedisConnections } from "../../src/state/redis.js";

const REDIS_URL = process.env.FERROGW_TEST_REDIS_URL;
const SKIP = !REDIS_URL && !process.env.CI;
if (SKIP) console.log("plugins-redis: skipped — set FERROGW_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run the Redis-backed plugin tests");

const UPSTREAM_KEY = "sk-test-upstream-key-123456";
const MASTER = "fgw_0123456789abcdef0123456789abcdef";
const PREFIX = `ferrogw-test:${randomUUID()}:`;

describe.skipIf(SKIP)("plugins on a shared Redis, two gateway instances", () => {
  let redis: Redis;
  let mock: MockUpstream;
  let base: string;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    if (!REDIS_URL) throw new Error("FERROGW_TEST_REDIS_URL is not set: CI must provide a Redis for the Redis-backed plugin tests");
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true, retryStrategy: () => null });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe("PONG");
    } catch (err) {
      throw new Error(`FERROGW_TEST_REDIS_URL=${REDIS_URL} is not reachable: ${(err as Error).message}`);
    }
    mock = new MockUpstream({ chunks: 3 });
    base = await mock.start();
  });

  afterAll(async () => {
    for (const g of gateways) await g.close();
    if (redis?.status === "ready") {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      const [, left] = await redis.scan("0", "MATCH", `${PREFIX}*`, "COUNT", 1000);
      expect(left).toEqual([]);
      redis.disconnect();
    }
    await mock?.close();
  });

  async function pair(plugins: unknown[]): Promise<[TestGateway, TestGateway]> {
    const env = { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "silent" };
    const a = await startGateway({ plugins }, env, { masterKey: MASTER });
    const b = await startGateway({ plugins }, env, { masterKey: MASTER });
    gateways.push(a, b);
    return [a, b];
  }

  const redisState = (extra: Record<string, unknown>) => ({ backend: "redis", redis_url: REDIS_URL, key_prefix: `${PREFIX}${randomUUID()}:`, ...extra });

  it("a 10 RPM key gets exactly 10 successes across both instances under concurrent load", async () => {
    const [a, b] = await pair([{ name: "rate-limit", stage: "before_request", enabled: true, config: redisState({ key_rpm: 10 }) }]);
    const calls = mock.requests.length;
    const send = (gw: TestGateway, i: number) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${MASTER}` },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${i}` }] }),
      });
    // One request through each instance first: both serve from the shared bucket.
    const first = [await send(a, 0), await send(b, 1)];
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    // Then a concurrent burst over both. Which instance wins the remaining eight is a race (each
    // pipelines its Redis calls); how many win is not.
    const burst = await Promise.all(Array.from({ length: 38 }, (_, i) => send(i % 2 ? a : b, i + 2)));
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    expect(mock.requests.length - calls).toBe(10);
    const refused = burst.find((r) => r.status === 429);
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused?.headers.get("x-ratelimit-limit-requests")).toBe("10");
    expect(refused?.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    // Both instances now refuse: the bucket they share is empty.
    const after = [await send(a, 40), await send(b, 41)];
    expect(after.map((r) => r.status)).toEqual([429, 429]);
    for (const r of [...first, ...burst, ...after]) await r.body?.cancel();
  });

  it("an answer cached by one instance is a hit on the other, streaming too", async () => {
    const cfg = redisState({ max_age: 60 });
    const [a, b] = await pair([
      { name: "response-cache", stage: "before_request", enabled: true, config: cfg },
      { name: "response-cache", stage: "after_request", enabled: true, config: cfg },
    ]);
    const req = { model: "gpt-4o-mini", temperature: 0, messages: [{ role: "user" as const, content: `shared ${randomUUID()}` }] };
    const first = await a.client.chat.completions.create(req).withResponse();
    expect(first.response.headers.get("x-ferro-cache")).toBe("miss");
    let second = await b.client.chat.completions.create(req).withResponse();
    // The store is written right after the first response left; allow it a moment to land.
    for (let i = 0; i < 20 && second.response.headers.get("x-ferro-cache") !== "hit"; i++) {
      await new Promise((r) => setTimeout(r, 25));
      second = await b.client.chat.completions.create(req).withResponse();
    }
    expect(second.response.headers.get("x-ferro-cache")).toBe("hit");
    expect(second.data).toEqual(first.data);
    const calls = mock.requests.length;
    const stream = await b.client.chat.completions.create({ ...req, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(first.data.choices[0]?.message.content);
    expect(mock.requests.length).toBe(calls);
    const keys = await redis.keys(`${cfg.key_prefix}cache:*`);
    expect(keys.length).toBe(1);
    expect(await redis.pttl(keys[0] as string)).toBeGreaterThan(50_000);
  });

  it("a budget reservation nobody settles stops holding budget on its own, however busy the key stays", async () => {
    const connections = new RedisConnections();
    const store = new RedisBudgetStore(connections.get(REDIS_URL as string), `${PREFIX}${randomUUID()}:`, 400);
    try {
      // Reserved, never settled (its instance died, or its reserve timed out on our side).
      expect((await store.reserve("k", 500, 1000)).ok).toBe(true);
      // Other requests keep reserving and settling on the same key meanwhile.
      const until = Date.now() + 700;
      while (Date.now() < until) {
        const r = await store.reserve("k", 100, 0);
        await store.settle("k", 100, 10, 0, r.hold);
        await new Promise((done) => setTimeout(done, 50));
      }
      const after = await store.get("k");
      expect(after.reserved).toBe(0);
      expect(after.spent).toBeGreaterThan(0);
      // A settle releases exactly its own reservation, and only once.
      const one = await store.reserve("k", 300, 0);
      const two = await store.reserve("k", 200, 0);
      await store.settle("k", 300, 0, 0, one.hold);
      await store.settle("k", 300, 0, 0, one.hold);
      expect((await store.get("k")).reserved).toBe(200);
      await store.settle("k", 200, 0, 0, two.hold);
      expect((await store.get("k")).reserved).toBe(0);
      // An estimate far past what a double holds exactly (a client's huge max_tokens) is capped,
      // and released in full.
      const huge = await store.reserve("k", 1e21, 0);
      expect(huge.reserved).toBe(1e15);
      await store.settle("k", 1e21, 0, 0, huge.hold);
      expect((await store.get("k")).reserved).toBe(0);
      expect((await store.reserve("k", 100, 1000)).ok).toBe(true);
    } finally {
      await connections.closeAll();
    }
  });

  it("a budget settle is charged once, even when sent again or after its reservation lapsed", async () => {
    const connections = new RedisConnections();
    const prefix = `${PREFIX}${randomUUID()}:`;
    const store = new RedisBudgetStore(connections.get(REDIS_URL as string), prefix, 300);
    try {
      // ioredis sends a command again after a reconnect when the first may have run.
      const r = await store.reserve("k", 500, 0);
      await store.settle("k", 500, 40, 0, r.hold);
      await store.settle("k", 500, 40, 0, r.hold);
      expect(await store.get("k")).toEqual({ spent: 40, reserved: 0 });
      // A request that outlived its reservation is still charged, once.
      const slow = await store.reserve("k", 500, 0);
      await new Promise((done) => setTimeout(done, 400));
      expect(await store.get("k")).toEqual({ spent: 40, reserved: 0 });
      await store.settle("k", 500, 25, 0, slow.hold);
      await store.settle("k", 500, 25, 0, slow.hold);
      expect(await store.get("k")).toEqual({ spent: 65, reserved: 0 });
      // Without a hold (nothing was reserved) every settle charges.
      await store.settle("k", 0, 5, 0);
      expect((await store.get("k")).spent).toBe(70);
      // A reserve sent again holds once, and is admitted again rather than refused by its own hold.
      const redis = connections.get(REDIS_URL as string);
      const keys = [`${prefix}{again}:spent`, `${prefix}{again}:holds`, `${prefix}{again}:held`, `${prefix}{again}:lapsed`] as const;
      const first = await redis.ferroBudgetReserve(...keys, "hold-1:600", "1000", 60_000);
      const resent = await redis.ferroBudgetReserve(...keys, "hold-1:600", "1000", 60_000);
      expect(first).toEqual([1, 0, 600]);
      expect(resent).toEqual([1, 0, 600]);
      await store.settle("again", 600, 100, 0, "hold-1:600");
      expect(await store.get("again")).toEqual({ spent: 100, reserved: 0 });
    } finally {
      await connections.closeAll();
    }
  });

  it("a budget spent through one instance is enforced by the other, and concurrency cannot overspend it", async () => {
    // $0.01 per token: "hi" costs $0.14 at the mock; reservation with max_tokens 10: $0.19.
    const cfg = redisState({ store_id: randomUUID(), spend_limit_usd: 1, input_per_m_tokens: 10_000, output_per_m_tokens: 10_000 });
    const [a, b] = await pair([
      { name: "budget", stage: "before_request", enabled: true, config: cfg },
      { name: "budget", stage: "after_request", enabled: true, config: cfg },
    ]);
    const outcome = async (g: TestGateway): Promise<string> => {
      try {
        await g.client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
        return "ok";
      } catch (err) {
        if (err instanceof OpenAI.APIError) return String(err.code);
        throw err;
      }
    };
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => outcome(i % 2 ? a : b)));
    expect(burst.filter((o) => o === "ok").length).toBeGreaterThan(0);
    expect(burst.every((o) => o === "ok" || o === "budget_exceeded")).toBe(true);
    let last = "ok";
    for (let i = 0; i < 20 && last === "ok"; i++) last = await outcome(i % 2 ? a : b);
    expect(last).toBe("budget_exceeded");
    // Both instances see the same spend, and it is over the limit by less than one request.
    const spendOf = async (g: TestGateway): Promise<{ spent_usd: number; reserved_usd: number } | undefined> =>
      ((await g.server.currentRuntime.plugins.stats()).budget as { keys: Array<{ key_id: string; spent_usd: number; reserved_usd: number }> }).keys.find(
        (k) => k.key_id === "master",
      );
    const sa = await spendOf(a);
    expect(sa).toEqual(await spendOf(b));
    expect(sa?.spent_usd).toBeGreaterThanOrEqual(1);
    expect(sa?.spent_usd).toBeLessThanOrEqual(1.14 + 1e-9);
    expect(sa?.reserved_usd).toBe(0);
    expect(await outcome(a)).toBe("budget_exceeded");
    expect(await outcome(b)).toBe("budget_exceeded");
  });
});
