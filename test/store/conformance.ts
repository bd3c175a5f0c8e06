// The store conformance suite: every backend (memory, SQLite, PostgreSQL) must pass exactly these
// tests. Expected results are computed in plain JS from the inserted rows, so a backend is
// checked against the definition, not against another backend.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiKeyService, checkModelAllowed, hashApiKey, newApiKey } from "../../src/auth/api-keys.js";
import { GatewayError } from "../../src/server/errors.js";
import {
  DuplicateKeyError,
  InvalidCursorError,
  MigrationError,
  type ApiKeyRecord,
  type ConfigStore,
  type KeyStore,
  type RequestLogFilters,
  type RequestLogRow,
  type RequestLogStore,
  type StatsGroupBy,
  type UsageStat,
} from "../../src/store/types.js";

export interface OpenedStores {
  keys: KeyStore;
  logs: RequestLogStore;
  config: ConfigStore;
  close(): Promise<void>;
}

export interface ConformanceTarget {
  /** Fresh, empty, isolated stores. */
  open(): Promise<OpenedStores>;
  /** Persistent backends: the same database again (migrations run again and must be no-ops). */
  reopen?(prev: OpenedStores): Promise<OpenedStores>;
  /** Persistent backends: the rows of schema_migrations, and a way to fake a newer schema. */
  migrations?: {
    appliedVersions(s: OpenedStores): Promise<number[]>;
    markFutureVersion(s: OpenedStores, version: number): Promise<void>;
  };
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** 2025-01-01T22:00:00Z: the data crosses a UTC day boundary and many hours. */
export const T0 = Date.UTC(2025, 0, 1, 22, 0, 0);
const MODELS = ["gpt-4o", "claude-sonnet-4-5", "gemini-2.0-flash"] as const;
const PROVIDERS: Record<string, string> = { "gpt-4o": "openai", "claude-sonnet-4-5": "anthropic", "gemini-2.0-flash": "gemini" };
const KEYS = ["key_a", "key_b", "key_c", null] as const;

/** 301 rows: triples share a timestamp (ties broken by id), one request id appears twice at the same ms. */
export function sampleRows(n = 300): RequestLogRow[] {
  const rows: RequestLogRow[] = [];
  for (let i = 0; i < n; i++) {
    const model = MODELS[(i >> 1) % 3] ?? "gpt-4o";
    const failed = i % 10 === 0;
    const limited = !failed && i % 17 === 0;
    const streamBroke = !failed && !limited && i % 23 === 0;
    rows.push({
      id: `r${String((i * 7919) % 1000).padStart(4, "0")}`,
      time: T0 + Math.floor(i / 3) * 7 * 60_000,
      keyId: KEYS[i % 4] ?? null,
      model: i % 29 === 0 ? null : model,
      provider: i % 29 === 0 ? null : (PROVIDERS[model] ?? null),
      target: i % 29 === 0 ? null : `${PROVIDERS[model] ?? "x"}-primary`,
      status: failed ? 502 : limited ? 429 : 200,
      latencyMs: 100 + (i % 50) * 3.5,
      upstreamLatencyMs: 80 + (i % 50) * 3.25,
      tokensIn: (i * 37) % 500,
      tokensOut: (i * 11) % 300,
      costUsd: (i % 13) * 0.000125,
      cacheHit: i % 9 === 0,
      error: failed ? "upstream_error" : limited ? "rate_limit_exceeded" : streamBroke ? "stream_interrupted" : null,
      attempts: failed ? 3 : 1,
      stream: i % 2 === 1,
      requestBody: i % 50 === 0 ? `{"messages":[{"role":"user","content":"héllo ${i} ✓ \\"q\\""}]}` : null,
      responseBody: i % 50 === 0 ? `{"choices":[]}` : null,
    });
  }
  const dup = rows[150];
  if (dup) rows.push({ ...dup, model: "gpt-4o", provider: "openai", status: 200, error: null, costUsd: 0.5, tokensIn: 1, tokensOut: 2 });
  return rows;
}

interface Positioned {
  row: RequestLogRow;
  seq: number;
}

function expectedOrder(rows: readonly RequestLogRow[], f: RequestLogFilters = {}): RequestLogRow[] {
  const isError = (r: RequestLogRow): boolean => r.status >= 400 || r.error !== null;
  const ps: Positioned[] = rows.map((row, seq) => ({ row, seq }));
  return ps
    .filter(({ row: r }) => {
      if (f.since !== undefined && r.time < f.since) return false;
      if (f.until !== undefined && r.time >= f.until) return false;
      if (f.keyId !== undefined && r.keyId !== f.keyId) return false;
      if (f.model !== undefined && r.model !== f.model) return false;
      if (f.provider !== undefined && r.provider !== f.provider) return false;
      if (f.status !== undefined && r.status !== f.status) return false;
      if (f.errorOnly === true && !isError(r)) return false;
      return true;
    })
    .sort((a, b) => b.row.time - a.row.time || (a.row.id < b.row.id ? 1 : a.row.id > b.row.id ? -1 : 0) || b.seq - a.seq)
    .map((p) => p.row);
}

function expectedStats(rows: readonly RequestLogRow[], groupBy: StatsGroupBy, f: RequestLogFilters = {}): UsageStat[] {
  const groups = new Map<string | number | null, { s: UsageStat; lat: number }>();
  for (const r of expectedOrder(rows, f)) {
    const g =
      groupBy === "hour"
        ? Math.floor(r.time / 3_600_000) * 3_600_000
        : groupBy === "day"
          ? Math.floor(r.time / 86_400_000) * 86_400_000
          : groupBy === "key"
            ? r.keyId
            : groupBy === "model"
              ? r.model
              : r.provider;
    let e = groups.get(g);
    if (!e) {
      e = { s: { group: g, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cost_usd: 0, avg_latency_ms: 0 }, lat: 0 };
      groups.set(g, e);
    }
    e.s.requests++;
    if (r.status >= 400 || r.error !== null) e.s.errors++;
    e.s.tokens_in += r.tokensIn;
    e.s.tokens_out += r.tokensOut;
    e.s.cost_usd += r.costUsd;
    e.lat += r.latencyMs;
  }
  const out = [...groups.values()].map(({ s, lat }) => ({ ...s, avg_latency_ms: lat / s.requests }));
  if (groupBy === "hour" || groupBy === "day") return out.sort((a, b) => Number(a.group) - Number(b.group));
  return out.sort((a, b) => {
    if (a.requests !== b.requests) return b.requests - a.requests;
    if (a.group === null) return 1;
    if (b.group === null) return -1;
    return String(a.group) < String(b.group) ? -1 : 1;
  });
}

function expectStatsClose(actual: UsageStat[], expected: UsageStat[]): void {
  expect(actual.map((s) => s.group)).toEqual(expected.map((s) => s.group));
  actual.forEach((a, i) => {
    const e = expected[i];
    if (!e) throw new Error("length mismatch");
    expect({ ...a, cost_usd: 0, avg_latency_ms: 0 }).toEqual({ ...e, cost_usd: 0, avg_latency_ms: 0 });
    expect(a.cost_usd).toBeCloseTo(e.cost_usd, 9);
    expect(a.avg_latency_ms).toBeCloseTo(e.avg_latency_ms, 5);
  });
}

async function readAll(logs: RequestLogStore, f: RequestLogFilters, limit: number): Promise<{ rows: RequestLogRow[]; pages: number }> {
  const rows: RequestLogRow[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await logs.query({ ...f, limit, cursor });
    pages++;
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor !== undefined) expect(page.rows.length).toBe(limit);
    rows.push(...page.rows);
    cursor = page.nextCursor;
    if (pages > 1000) throw new Error("pagination does not end");
  } while (cursor !== undefined);
  return { rows, pages };
}

function keyRecord(over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const { record } = newApiKey({ name: "test key" }, over.createdAt ?? 1_700_000_000_000);
  return { ...record, ...over };
}

// ---------------------------------------------------------------------------------------------
// Suite
// ---------------------------------------------------------------------------------------------

export function storeConformance(target: ConformanceTarget): void {
  let s: OpenedStores;
  const extra: OpenedStores[] = [];
  /** Fresh, empty stores for every test of the calling describe block. */
  const freshStores = (): void => {
    beforeEach(async () => {
      s = await target.open();
    });
    afterEach(async () => {
      await s.close();
      for (const e of extra.splice(0)) await e.close();
    });
  };

  describe("KeyStore", () => {
    freshStores();

    it("creates, gets by id and by hash, and never loses a field", async () => {
      const rec = keyRecord({
        name: "ci bot",
        expiresAt: 1_900_000_000_000,
        allowedModels: ["gpt-4o", "anthropic/*"],
        metadata: { team: "platform", nested: { tags: ["a", "b"], n: 1.5, ok: true, none: null }, "ünï": "✓" },
        rateLimitRpm: 60,
        budgetUsd: 12.5,
        budgetPeriod: "monthly",
      });
      expect(await s.keys.create(rec)).toEqual(rec);
      expect(await s.keys.get(rec.id)).toEqual(rec);
      expect(await s.keys.getByHash(rec.keyHash)).toEqual(rec);
      expect(await s.keys.get("key_missing")).toBeUndefined();
      expect(await s.keys.getByHash(hashApiKey("sk-ferro-nope"))).toBeUndefined();

      const plain = keyRecord();
      await s.keys.create(plain);
      expect(await s.keys.get(plain.id)).toEqual(plain);
      expect(plain.allowedModels).toBeNull();
      expect(plain.metadata).toEqual({});
    });

    it("rejects a duplicate id or hash", async () => {
      const rec = keyRecord();
      await s.keys.create(rec);
      await expect(s.keys.create({ ...rec, keyHash: hashApiKey("other") })).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(s.keys.create({ ...rec, id: "key_other" })).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    it("lists oldest first and hides revoked keys unless asked", async () => {
      const a = keyRecord({ id: "key_b", createdAt: 1000 });
      const b = keyRecord({ id: "key_a", createdAt: 2000 });
      const c = keyRecord({ id: "key_c", createdAt: 2000 });
      const expired = keyRecord({ id: "key_d", createdAt: 3000, expiresAt: 3500 });
      for (const r of [c, expired, a, b]) await s.keys.create(r);
      expect((await s.keys.list()).map((k) => k.id)).toEqual(["key_b", "key_a", "key_c", "key_d"]);
      const revoked = await s.keys.revoke("key_a", 5000);
      expect(revoked).toMatchObject({ id: "key_a", revokedAt: 5000, updatedAt: 5000 });
      expect((await s.keys.list()).map((k) => k.id)).toEqual(["key_b", "key_c", "key_d"]);
      expect((await s.keys.list({ includeRevoked: true })).map((k) => k.id)).toEqual(["key_b", "key_a", "key_c", "key_d"]);
    });

    it("revokes idempotently, keeping the first revocation time", async () => {
      const rec = keyRecord();
      await s.keys.create(rec);
      expect((await s.keys.revoke(rec.id, 1_800_000_000_000))?.revokedAt).toBe(1_800_000_000_000);
      expect((await s.keys.revoke(rec.id, 1_800_000_999_999))?.revokedAt).toBe(1_800_000_000_000);
      expect((await s.keys.getByHash(rec.keyHash))?.revokedAt).toBe(1_800_000_000_000);
      expect(await s.keys.revoke("key_missing")).toBeUndefined();
    });

    it("updates metadata, limits and models, and rotates the hash", async () => {
      const rec = keyRecord({ allowedModels: ["gpt-4o"], expiresAt: 1_900_000_000_000 });
      await s.keys.create(rec);
      const updated = await s.keys.update(rec.id, {
        name: "renamed",
        metadata: { owner: "ana" },
        allowedModels: null,
        expiresAt: null,
        rateLimitRpm: 10,
        budgetUsd: 1,
        budgetPeriod: "daily",
      });
      expect(updated).toMatchObject({ name: "renamed", metadata: { owner: "ana" }, allowedModels: null, expiresAt: null, rateLimitRpm: 10, budgetUsd: 1, budgetPeriod: "daily" });
      expect(updated?.updatedAt).toBeGreaterThanOrEqual(rec.updatedAt);
      expect(await s.keys.get(rec.id)).toEqual(updated);

      // A patch leaves unspecified fields alone.
      expect(await s.keys.update(rec.id, { allowedModels: ["a", "b"] })).toMatchObject({ name: "renamed", allowedModels: ["a", "b"], budgetUsd: 1 });

      const newHash = hashApiKey("sk-ferro-rotated");
      await s.keys.update(rec.id, { keyHash: newHash, keyPrefix: "sk-ferro-rot" });
      expect(await s.keys.getByHash(rec.keyHash)).toBeUndefined();
      expect(await s.keys.getByHash(newHash)).toMatchObject({ id: rec.id, keyPrefix: "sk-ferro-rot" });

      const other = keyRecord();
      await s.keys.create(other);
      await expect(s.keys.update(other.id, { keyHash: newHash })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await s.keys.update("key_missing", { name: "x" })).toBeUndefined();
    });

    it("records last use, never moving it backwards", async () => {
      const rec = keyRecord();
      await s.keys.create(rec);
      expect(s.keys.touchLastUsed).toBeDefined();
      await s.keys.touchLastUsed?.(rec.id, 2_000_000_000_000);
      await s.keys.touchLastUsed?.(rec.id, 1_999_000_000_000);
      expect((await s.keys.get(rec.id))?.lastUsedAt).toBe(2_000_000_000_000);
    });

    it("backs the key lifecycle: valid, model check, expired, revoked (ApiKeyService)", async () => {
      let now = 1_700_000_000_000;
      const svc = new ApiKeyService(s.keys, { now: () => now, touchIntervalMs: 0 });
      const { key, record } = await svc.create({ name: "svc", allowedModels: ["gpt-4o-mini"], expiresAt: now + 60_000 });
      expect(await s.keys.getByHash(hashApiKey(key))).toMatchObject({ id: record.id });
      const verified = await svc.verify(key);
      expect(verified.id).toBe(record.id);
      expect(() => checkModelAllowed(verified, "gpt-4o-mini")).not.toThrow();
      expect(() => checkModelAllowed(verified, "gpt-4o")).toThrow(GatewayError);

      now += 61_000;
      await expect(Promise.resolve().then(() => svc.verify(key))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("expired") });
      await svc.update(record.id, { expiresAt: null });
      expect((await svc.verify(key)).id).toBe(record.id);
      await svc.revoke(record.id);
      await expect(Promise.resolve().then(() => svc.verify(key))).rejects.toMatchObject({ status: 401, message: expect.stringContaining("revoked") });
    });
  });

  describe("RequestLogStore", () => {
    const rows = sampleRows();
    const insertSample = async (logs: RequestLogStore): Promise<void> => {
      await logs.insertBatch([]);
      for (let i = 0; i < rows.length; i += 100) await logs.insertBatch(rows.slice(i, i + 100));
    };
    // Read-only tests share one store holding the sample; tests that write get their own below.
    let shared: OpenedStores;
    beforeAll(async () => {
      shared = await target.open();
      await insertSample(shared.logs);
    });
    afterAll(async () => {
      await shared.close();
    });
    beforeEach(() => {
      s = shared;
    });

    it("round-trips every field, newest first", async () => {
      const page = await s.logs.query({ limit: 1000 });
      expect(page.nextCursor).toBeUndefined();
      expect(page.rows).toEqual(expectedOrder(rows));
      const withBody = page.rows.find((r) => r.requestBody !== null);
      expect(withBody?.requestBody).toContain("héllo");
      expect(withBody?.requestBody).toContain("✓");
    });

    it("pages with a cursor: no duplicates, no gaps, across several page sizes", async () => {
      const expected = expectedOrder(rows);
      for (const limit of [7, 50, 301, 500]) {
        const { rows: got, pages } = await readAll(s.logs, {}, limit);
        expect(got).toEqual(expected);
        expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
      }
      const limited = expectedOrder(rows, { status: 429 });
      const one = await readAll(s.logs, { status: 429 }, 1);
      expect(one.rows).toEqual(limited);
      expect(one.pages).toBe(limited.length);
    });

    const filterCases: [string, RequestLogFilters][] = [
      ["since (inclusive)", { since: T0 + 35 * 7 * 60_000 }],
      ["until (exclusive)", { until: T0 + 35 * 7 * 60_000 }],
      ["since + until", { since: T0 + 10 * 7 * 60_000, until: T0 + 20 * 7 * 60_000 }],
      ["keyId", { keyId: "key_b" }],
      ["model", { model: "claude-sonnet-4-5" }],
      ["provider", { provider: "gemini" }],
      ["status", { status: 502 }],
      ["errorOnly", { errorOnly: true }],
      ["combined", { keyId: "key_a", provider: "openai", errorOnly: true, since: T0 }],
      ["nothing matches", { keyId: "key_zzz" }],
    ];
    for (const [name, f] of filterCases) {
      it(`filters: ${name}`, async () => {
        const expected = expectedOrder(rows, f);
        const { rows: got } = await readAll(s.logs, f, 9);
        expect(got).toEqual(expected);
        if (name !== "nothing matches") expect(expected.length).toBeGreaterThan(0);
      });
    }

    it("counts an error code on a 200 (broken stream) as an error", async () => {
      const got = await readAll(s.logs, { errorOnly: true }, 1000);
      expect(got.rows.some((r) => r.status === 200 && r.error === "stream_interrupted")).toBe(true);
    });

    it("clamps the page size and rejects foreign cursors", async () => {
      expect((await s.logs.query({ limit: 0 })).rows).toHaveLength(1);
      expect((await s.logs.query({ limit: 5000 })).rows).toHaveLength(rows.length);
      expect((await s.logs.query()).rows).toHaveLength(100);
      for (const bad of ["nope", "", Buffer.from('{"a":1}').toString("base64url"), Buffer.from('[1,"x"]').toString("base64url")]) {
        await expect(s.logs.query({ cursor: bad })).rejects.toBeInstanceOf(InvalidCursorError);
      }
    });

    for (const groupBy of ["key", "model", "provider", "hour", "day"] as const) {
      it(`stats by ${groupBy}`, async () => {
        const got = await s.logs.stats({ groupBy });
        expectStatsClose(got, expectedStats(rows, groupBy));
        expect(got.reduce((n, g) => n + g.requests, 0)).toBe(rows.length);
      });
    }

    it("stats honour the time range and filters", async () => {
      const f = { since: T0 + 3_600_000, until: T0 + 5 * 3_600_000, provider: "openai" };
      expectStatsClose(await s.logs.stats({ groupBy: "hour", ...f }), expectedStats(rows, "hour", f));
      expectStatsClose(await s.logs.stats({ groupBy: "model", keyId: "key_c" }), expectedStats(rows, "model", { keyId: "key_c" }));
      expect(await s.logs.stats({ groupBy: "day", since: T0 + 1000 * 86_400_000 })).toEqual([]);
      const days = await s.logs.stats({ groupBy: "day" });
      expect(days.map((d) => d.group)).toEqual([Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 2)]);
    });

    it("sums spend per key since a time", async () => {
      for (const [keyId, since] of [
        ["key_a", 0],
        ["key_b", T0 + 50 * 7 * 60_000],
        ["key_c", T0 + 1000 * 86_400_000],
        ["key_missing", 0],
      ] as const) {
        const expected = rows.filter((r) => r.keyId === keyId && r.time >= since).reduce((sum, r) => sum + r.costUsd, 0);
        expect(await s.logs.spendByKey(keyId, since)).toBeCloseTo(expected, 9);
      }
      expect(await s.logs.spendByKey("key_missing", 0)).toBe(0);
    });

    describe("writes", () => {
      freshStores();
      beforeEach(async () => {
        await insertSample(s.logs);
      });

      it("keeps pages stable while new rows arrive", async () => {
        const expected = expectedOrder(rows);
        const first = await s.logs.query({ limit: 40 });
        await s.logs.insertBatch(sampleRows(5).map((r) => ({ ...r, id: `new-${r.id}`, time: T0 + 10 * 86_400_000 })));
        await s.logs.insertBatch([{ ...rows[0]!, id: "late-old-row" }]);
        const got: RequestLogRow[] = [...first.rows];
        let cursor = first.nextCursor;
        while (cursor !== undefined) {
          const page = await s.logs.query({ limit: 40, cursor });
          got.push(...page.rows);
          cursor = page.nextCursor;
        }
        // Rows newer than the cursor never show up on later pages; an old row inserted late shows
        // up in its place; the original rows appear exactly once each, in order.
        const originals = got.filter((r) => !r.id.startsWith("new-") && r.id !== "late-old-row");
        expect(originals).toEqual(expected);
        expect(got.some((r) => r.id.startsWith("new-"))).toBe(false);
        expect(got.filter((r) => r.id === "late-old-row")).toHaveLength(1);
      });

      it("inserts large batches in one call", async () => {
        const big = Array.from({ length: 2500 }, (_, i) => ({ ...rows[i % rows.length]!, id: `big-${String(i).padStart(5, "0")}`, keyId: "key_big" }));
        await s.logs.insertBatch(big);
        const { rows: got } = await readAll(s.logs, { keyId: "key_big" }, 1000);
        expect(new Set(got.map((r) => r.id)).size).toBe(2500);
      });
    });
  });

  describe("ConfigStore", () => {
    freshStores();

    const doc = (n: number): unknown => ({
      strategy: { mode: "fallback" },
      targets: [{ virtual_key: "openai", retry: { attempts: n } }],
      zeta: "ünïcødé ✓",
      alpha: [1, 2.5, null, true],
    });

    it("saves monotonic versions and returns them newest first", async () => {
      expect(await s.config.latest()).toBeUndefined();
      expect(await s.config.list()).toEqual([]);
      const v1 = await s.config.save({ config: doc(1), author: "admin", comment: "first", createdAt: 1000 });
      const v2 = await s.config.save({ config: doc(2), author: "cli" });
      const v3 = await s.config.save({ config: doc(3), author: "admin", comment: null, createdAt: 3000 });
      expect([v1, v2, v3]).toEqual([1, 2, 3]);

      expect(await s.config.get(1)).toEqual({ version: 1, createdAt: 1000, author: "admin", comment: "first", config: doc(1) });
      const second = await s.config.get(2);
      expect(second?.comment).toBeNull();
      expect(second?.createdAt).toBeGreaterThan(1_600_000_000_000);
      expect(await s.config.get(99)).toBeUndefined();
      expect((await s.config.latest())?.version).toBe(3);

      const list = await s.config.list();
      expect(list.map((m) => m.version)).toEqual([3, 2, 1]);
      expect(list[0]).toEqual({ version: 3, createdAt: 3000, author: "admin", comment: null });
      expect(list[0]).not.toHaveProperty("config");
      expect((await s.config.list(2)).map((m) => m.version)).toEqual([3, 2]);
    });

    it("keeps the document exactly, key order included", async () => {
      await s.config.save({ config: doc(1), author: "a" });
      expect(JSON.stringify((await s.config.latest())?.config)).toBe(JSON.stringify(doc(1)));
    });

    it("rolls back by saving an old version's document as a new version", async () => {
      await s.config.save({ config: doc(1), author: "a" });
      await s.config.save({ config: doc(2), author: "a" });
      const old = await s.config.get(1);
      const v = await s.config.save({ config: old?.config, author: "admin", comment: "rollback to 1" });
      expect(v).toBe(3);
      expect(await s.config.latest()).toMatchObject({ version: 3, config: doc(1), comment: "rollback to 1" });
      expect((await s.config.list()).map((m) => m.version)).toEqual([3, 2, 1]);
    });
  });

  if (target.reopen) {
    const reopen = target.reopen.bind(target);
    describe("persistence and migrations", () => {
      freshStores();

      it("keeps data across a reopen; migrations run again as a no-op", async () => {
        const rec = keyRecord();
        await s.keys.create(rec);
        await s.logs.insertBatch(sampleRows(10));
        await s.config.save({ config: { a: 1 }, author: "a" });
        const before = await target.migrations?.appliedVersions(s);

        const again = await reopen(s);
        extra.push(again);
        expect(await again.keys.get(rec.id)).toEqual(rec);
        expect((await again.logs.query()).rows).toHaveLength(10);
        expect(await again.config.save({ config: { a: 2 }, author: "a" })).toBe(2);
        if (target.migrations) {
          const after = await target.migrations.appliedVersions(again);
          expect(after).toEqual(before);
          expect(after).toEqual([1, 2, 3]);
        }
      });

      if (target.migrations) {
        const migrations = target.migrations;
        it("refuses a database migrated by a newer build", async () => {
          await migrations.markFutureVersion(s, 999);
          const err = await reopen(s).then(
            (x) => {
              extra.push(x);
              return undefined;
            },
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(MigrationError);
          expect((err as Error).message).toMatch(/version 999, newer than this ferrogw build knows \(3\)/);
        });
      }
    });
  }
}
