import { describe, expect, it, vi, type Mock } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Usage } from "../../src/api/types.js";
import { openSqliteStores } from "../../src/store/sqlite.js";
import { newContext } from "../../src/server/context.js";
import { captureBody, redactText, RequestLogWriter, rowFromContext, type WriterLogger } from "../../src/store/request-log-writer.js";
import { luhnValid } from "../../src/store/redact.js";
import type { RequestLogRow } from "../../src/store/types.js";
import { logRow as row } from "../helpers/log-row.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Records batches; can be told to fail, or to take time. */
class FakeStore {
  batches: RequestLogRow[][] = [];
  failuresLeft = 0;
  down = false;
  delayMs = 0;
  calls = 0;

  async insertBatch(rows: readonly RequestLogRow[]): Promise<void> {
    this.calls++;
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.down) throw new Error("store is down");
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error("transient failure");
    }
    this.batches.push([...rows]);
  }

  get ids(): string[] {
    return this.batches.flat().map((r) => r.id);
  }
}

type LogFn = (obj: object, msg: string) => void;

function fakeLogger(): WriterLogger & { warn: Mock<LogFn>; error: Mock<LogFn> } {
  return { warn: vi.fn<LogFn>(), error: vi.fn<LogFn>() };
}

const expectedIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `req-${i}`);

describe("RequestLogWriter", () => {
  it("does no I/O in enqueue and writes full batches right after", async () => {
    const store = new FakeStore();
    const w = new RequestLogWriter({ store, batchSize: 10, flushIntervalMs: 60_000, logger: fakeLogger() });
    for (let i = 0; i < 25; i++) w.enqueue(row(i));
    expect(store.calls).toBe(0);
    expect(w.stats).toMatchObject({ enqueued: 25, buffered: 25, written: 0 });
    for (let i = 0; i < 5; i++) await tick();
    expect(store.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(store.ids).toEqual(expectedIds(25));
    expect(w.stats).toMatchObject({ written: 25, buffered: 0, dropped: 0 });
    await w.close();
  });

  it("flushes a partial batch on the timer", async () => {
    const store = new FakeStore();
    const w = new RequestLogWriter({ store, batchSize: 100, flushIntervalMs: 20, logger: fakeLogger() });
    for (let i = 0; i < 5; i++) w.enqueue(row(i));
    await tick();
    expect(store.calls).toBe(0);
    await vi.waitFor(() => expect(store.ids).toEqual(expectedIds(5)), { timeout: 2000, interval: 10 });
    await w.close();
  });

  it("loses nothing when closed right after 10 000 enqueues, and keeps the order", async () => {
    const store = new FakeStore();
    store.delayMs = 2;
    const w = new RequestLogWriter({ store, batchSize: 500, flushIntervalMs: 1000, logger: fakeLogger() });
    for (let i = 0; i < 10_000; i++) w.enqueue(row(i));
    await w.close();
    expect(store.ids).toEqual(expectedIds(10_000));
    expect(w.stats).toMatchObject({ enqueued: 10_000, written: 10_000, dropped: 0, buffered: 0 });
    expect(Math.max(...store.batches.map((b) => b.length))).toBeLessThanOrEqual(500);
  });

  it("loses nothing when the store fails for a while: retries with backoff, in order", async () => {
    const store = new FakeStore();
    store.failuresLeft = 3;
    const logger = fakeLogger();
    const w = new RequestLogWriter({ store, batchSize: 50, flushIntervalMs: 5, initialBackoffMs: 5, maxBackoffMs: 20, logger });
    for (let i = 0; i < 1000; i++) w.enqueue(row(i));
    await vi.waitFor(() => expect(w.stats.written).toBe(1000), { timeout: 5000, interval: 10 });
    expect(store.ids).toEqual(expectedIds(1000));
    expect(w.stats).toMatchObject({ failedBatches: 3, dropped: 0, lastError: "transient failure" });
    expect(logger.error).toHaveBeenCalledTimes(3);
    expect(logger.error.mock.calls[0]?.[1]).toMatch(/write failed; will retry/);
    await w.close();
  });

  it("flush() writes everything queued, and rejects (keeping the rows) when the store fails", async () => {
    const store = new FakeStore();
    const w = new RequestLogWriter({ store, batchSize: 1000, flushIntervalMs: 60_000, logger: fakeLogger() });
    for (let i = 0; i < 10; i++) w.enqueue(row(i));
    store.down = true;
    await expect(w.flush()).rejects.toThrow("store is down");
    expect(w.stats).toMatchObject({ buffered: 10, written: 0 });
    store.down = false;
    await w.flush();
    expect(store.ids).toEqual(expectedIds(10));
    await w.flush(); // nothing left: resolves at once
    await w.close();
  });

  it("bounds memory while the store is down: drops new rows past the cap, counts and logs them", async () => {
    const store = new FakeStore();
    store.down = true;
    const logger = fakeLogger();
    const w = new RequestLogWriter({ store, batchSize: 10, maxBuffered: 100, flushIntervalMs: 5, initialBackoffMs: 5, maxBackoffMs: 10, closeTimeoutMs: 100, logger });
    for (let i = 0; i < 150; i++) w.enqueue(row(i));
    expect(w.stats).toMatchObject({ enqueued: 100, buffered: 100, dropped: 50 });
    expect(logger.warn).toHaveBeenCalledTimes(1); // rate-limited: one line for the burst
    expect(logger.warn.mock.calls[0]?.[1]).toMatch(/dropped 1 request log rows: the buffer is full/);

    const started = Date.now();
    await w.close(); // never rejects; gives up after closeTimeoutMs
    expect(Date.now() - started).toBeLessThan(2000);
    expect(w.stats).toMatchObject({ dropped: 150, buffered: 0, written: 0 });
    const shutdownLine = logger.error.mock.calls.find((c) => String(c[1]).includes("before shutdown"));
    expect(shutdownLine?.[0]).toMatchObject({ dropped: 100, droppedTotal: 150 });
    // The 49 drops not yet reported are logged at close.
    expect(logger.warn.mock.calls.some((c) => (c[0] as { dropped: number }).dropped === 49)).toBe(true);
  });

  it("recovers after an outage once the store is back, before hitting the cap", async () => {
    const store = new FakeStore();
    store.down = true;
    const w = new RequestLogWriter({ store, batchSize: 10, maxBuffered: 1000, flushIntervalMs: 5, initialBackoffMs: 5, maxBackoffMs: 10, logger: fakeLogger() });
    for (let i = 0; i < 200; i++) w.enqueue(row(i));
    await sleep(50);
    expect(w.stats.failedBatches).toBeGreaterThan(0);
    store.down = false;
    await w.close();
    expect(store.ids).toEqual(expectedIds(200));
    expect(w.stats.dropped).toBe(0);
  });

  it("close() does not hang on a store that never answers", async () => {
    const never = { insertBatch: (): Promise<void> => new Promise<void>(() => undefined) };
    const logger = fakeLogger();
    const w = new RequestLogWriter({ store: never, batchSize: 10, closeTimeoutMs: 50, logger });
    for (let i = 0; i < 15; i++) w.enqueue(row(i));
    const started = Date.now();
    await w.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(w.stats).toMatchObject({ dropped: 15, buffered: 0 });
    expect(logger.error).toHaveBeenCalledWith(expect.objectContaining({ dropped: 15, timedOut: true }), expect.stringContaining("before shutdown"));
  });

  it("drops (and counts) rows enqueued after close", async () => {
    const store = new FakeStore();
    const w = new RequestLogWriter({ store, logger: fakeLogger() });
    w.enqueue(row(0));
    await w.close();
    await w.close(); // idempotent
    w.enqueue(row(1));
    expect(store.ids).toEqual(["req-0"]);
    expect(w.stats).toMatchObject({ enqueued: 1, written: 1, dropped: 1 });
  });
});

describe("rowFromContext", () => {
  it("builds a log row from a finished request", () => {
    const ctx = newContext({ "x-request-id": "abc-123" });
    ctx.keyId = "key_a";
    ctx.model = "gpt-4o";
    ctx.provider = "openai";
    ctx.target = "openai";
    ctx.status = 502;
    ctx.errorCode = "upstream_error";
    ctx.attempts = 3;
    ctx.stream = true;
    ctx.usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    ctx.upstreamNs = 40_000_000n;
    const r = rowFromContext(ctx, { costUsd: 0.002, cacheHit: true, nowMs: 1_700_000_000_100, nowNs: ctx.startNs + 100_000_000n });
    expect(r).toEqual({
      id: "abc-123",
      time: 1_700_000_000_000,
      keyId: "key_a",
      model: "gpt-4o",
      provider: "openai",
      target: "openai",
      status: 502,
      latencyMs: 100,
      upstreamLatencyMs: 40,
      tokensIn: 10,
      tokensOut: 5,
      costUsd: 0.002,
      cacheHit: true,
      error: "upstream_error",
      attempts: 3,
      stream: true,
      requestBody: null,
      responseBody: null,
    });
    const bare = rowFromContext(newContext({}));
    expect(bare).toMatchObject({ keyId: null, model: null, tokensIn: 0, tokensOut: 0, costUsd: 0, cacheHit: false, error: null });
  });

  it("keeps an upstream's odd token counts from making a row the store refuses, which would hold up every row after it", async () => {
    const odd: unknown[] = [true, "12", { n: 1 }, Number.NaN, -5, 1e12, null];
    const dir = mkdtempSync(join(tmpdir(), "ferrogw-row-"));
    const stores = openSqliteStores(join(dir, "log.db"));
    try {
      const rows = odd.map((v, i) => {
        const ctx = newContext({ "x-request-id": `odd-${i}` });
        ctx.model = "m";
        ctx.usage = { prompt_tokens: v, completion_tokens: 7.6, total_tokens: 0 } as unknown as Usage;
        return rowFromContext(ctx, { costUsd: Number.POSITIVE_INFINITY });
      });
      expect(rows.map((r) => r.tokensIn)).toEqual([0, 0, 0, 0, 0, 2_147_483_647, 0]);
      expect(rows.map((r) => [r.tokensOut, r.costUsd])).toEqual(odd.map(() => [8, 0]));
      await stores.logs.insertBatch(rows);
      const page = await stores.logs.query({ limit: 100 });
      expect(page.rows.map((r) => r.id).sort()).toEqual(odd.map((_, i) => `odd-${i}`).sort());
    } finally {
      await Promise.all([stores.keys.close(), stores.logs.close(), stores.config.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("body redaction", () => {
  it("redacts e-mails, card numbers and API-key-like strings", () => {
    const text = [
      "mail me at jane.doe+test@example.co.uk please",
      "card 4111 1111 1111 1111 and 5500-0000-0000-0004",
      "order 1234567890123 is not a card",
      "gateway key sk-ferro-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg",
      "openai sk-proj-abcdefghijklmnop anthropic sk-ant-api03-abcdefghijkl google AIzaSyA1234567890abcdefghijklmnop",
      "Authorization: Bearer abc.def.ghi",
      'github ghp_abcdefghijklmnopqrstuvwxyz123456 {"api_key": "hunter2hunter2", "password":"s3cr3t-pass"}',
    ].join("\n");
    const out = redactText(text);
    for (const secret of [
      "jane.doe",
      "example.co.uk",
      "4111 1111",
      "5500-0000",
      "sk-ferro-AbC",
      "sk-proj",
      "sk-ant",
      "AIzaSy",
      "abc.def.ghi",
      "ghp_",
      "hunter2",
      "s3cr3t",
    ])
      expect(out).not.toContain(secret);
    expect(out).toContain("order 1234567890123 is not a card");
    expect(out).toContain('"api_key": "[REDACTED]"');
    expect(out).toContain("mail me at [REDACTED] please");
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
  });

  it("captures bodies only when enabled, redacted and truncated", () => {
    const body = { messages: [{ role: "user", content: "I am bob@example.com" }] };
    expect(captureBody(body, { enabled: false })).toBeNull();
    expect(captureBody(undefined, { enabled: true })).toBeNull();
    expect(captureBody(body, { enabled: true })).toBe('{"messages":[{"role":"user","content":"I am [REDACTED]"}]}');
    const long = captureBody("x".repeat(100), { enabled: true, maxChars: 10 });
    expect(long).toBe("xxxxxxxxxx…[truncated 90 chars]");
  });
});
