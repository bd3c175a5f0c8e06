// Request logs (written off the request path, nothing lost on shutdown), usage stats, and
// config history with rollback changing the running gateway's behaviour.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { openStores } from "../../src/store/factory.js";
import type { RequestLogRow } from "../../src/store/types.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const MASTER = "fgw_ffeeddccbbaa99887766554433221100";
const hdr = { authorization: `Bearer ${MASTER}`, "content-type": "application/json" };

async function get(gw: TestGateway, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${gw.url}${path}`, { headers: hdr });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

interface LogRow {
  id: string;
  model: string;
  status: number;
  stream: boolean;
  error: string | null;
  tokensIn: number;
  tokensOut: number;
  provider: string;
}

describe("request logs and stats", () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    gw = await startGateway({}, { OPENAI_API_KEY: "sk-upstream-000000000000", OPENAI_BASE_URL: `${base}/v1` }, { masterKey: MASTER });
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("logs success, error and stream requests with tokens, and pages through them", async () => {
    const ok = await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "one" }] }).withResponse();
    mock.enqueue({ status: 500 });
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "two" }] }).catch(() => undefined);
    const stream = await gw.client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "three" }], stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream) void _;
    await gw.client.chat.completions.create({ model: "missing-model-x", messages: [{ role: "user", content: "four" }] }).catch(() => undefined);

    await new Promise((r) => setTimeout(r, 50));
    const logs = (await get(gw, "/admin/logs?limit=10")).data as LogRow[];
    expect(logs).toHaveLength(4);
    const byId = logs.find((l) => l.id === ok.response.headers.get("x-request-id"));
    expect(byId).toMatchObject({ model: "gpt-4o-mini", status: 200, provider: "openai", stream: false, error: null });
    expect(byId?.tokensIn).toBeGreaterThan(0);
    expect(logs.find((l) => l.status === 502)?.error).toBe("upstream_error");
    expect(logs.find((l) => l.stream)?.tokensOut).toBeGreaterThan(0);
    expect(logs.find((l) => l.model === "missing-model-x")?.status).toBe(404);

    const errors = (await get(gw, "/admin/logs?errors=true")).data as LogRow[];
    expect(errors.map((l) => l.status).sort()).toEqual([404, 502]);

    const page1 = await get(gw, "/admin/logs?limit=3");
    expect((page1.data as LogRow[]).length).toBe(3);
    const page2 = await get(gw, `/admin/logs?limit=3&cursor=${encodeURIComponent(page1.next_cursor as string)}`);
    expect((page2.data as LogRow[]).length).toBe(1);
    expect(page2.next_cursor).toBeNull();

    const stats = await get(gw, "/admin/stats?group_by=model");
    const byModel = stats.data as Array<{ group: string; requests: number; errors: number }>;
    expect(byModel.find((s) => s.group === "gpt-4o-mini")).toMatchObject({ requests: 2, errors: 1 });
    expect((stats.totals as { requests: number }).requests).toBe(4);
  });

  it("rejects a bad cursor with 400", async () => {
    const res = await fetch(`${gw.url}/admin/logs?cursor=garbage`, { headers: hdr });
    expect(res.status).toBe(400);
  });
});

/**
 * A gateway logging to a SQLite file, with `n` chat requests held at a mock upstream of the given
 * latency; `rows()` reads the log afresh (after the gateway closed it).
 */
async function requestsInFlight(n: number, latencyMs: number) {
  const dir = mkdtempSync(join(tmpdir(), "fgw-logs-"));
  const env = { REQUEST_LOG_STORE_BACKEND: "sqlite", REQUEST_LOG_STORE_DSN: join(dir, "logs.db"), API_KEY_STORE_BACKEND: "memory", CONFIG_STORE_BACKEND: "memory" };
  const mock = new MockUpstream({ latencyMs });
  const base = await mock.start();
  const gw = await startGateway({}, { ...env, OPENAI_API_KEY: "sk-upstream-000000000000", OPENAI_BASE_URL: `${base}/v1` }, { stores: await openStores(env) });
  const inflight = Array.from({ length: n }, (_, i) => gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `req ${i}` }] }));
  const settled = Promise.allSettled(inflight);
  // Stop only once every request is in flight at the upstream.
  for (let i = 0; i < 200 && mock.requests.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(mock.requests.length).toBe(n);
  const rows = async (): Promise<RequestLogRow[]> => {
    const stores = await openStores(env);
    try {
      return (await stores.logs.query({ limit: 1000 })).rows;
    } finally {
      await stores.close();
    }
  };
  return { gw, mock, settled, rows };
}

describe("graceful shutdown under load", () => {
  it("writes a log row for every request in flight when the gateway stops", async () => {
    const n = 60;
    const { gw, mock, settled, rows } = await requestsInFlight(n, 400);
    // The runtime counts them: one a reload replaced stays open until they are done.
    const runtime = gw.server.currentRuntime;
    expect(runtime.active.requests).toBe(n);
    await gw.close();
    const results = await settled;
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(n);
    expect(runtime.active.requests).toBe(0);
    await mock.close();
    expect(await rows()).toHaveLength(n);
  });

  it("still writes a log row for requests cut off when the grace period runs out", async () => {
    const n = 6;
    const { gw, mock, settled, rows } = await requestsInFlight(n, 5000);
    await gw.app.close(200);
    const results = await settled;
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(n);
    await mock.close();
    const logged = await rows();
    expect(logged).toHaveLength(n);
    expect(logged.every((r) => r.status >= 400)).toBe(true);
  });
});

describe("config history and rollback", () => {
  it("applies a new config to the running gateway and rolls it back", async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const gw = await startGateway({ aliases: { fast: "gpt-4o-mini" } }, { OPENAI_API_KEY: "sk-upstream-000000000000", OPENAI_BASE_URL: `${base}/v1` }, { masterKey: MASTER });
    try {
      const start = await get(gw, "/admin/config");
      const v1 = start.version as number;
      const ask = (model: string) => gw.client.chat.completions.create({ model, messages: [{ role: "user", content: "x" }] });
      await expect(ask("quick")).rejects.toBeInstanceOf(OpenAI.NotFoundError);

      const put = await fetch(`${gw.url}/admin/config`, { method: "PUT", headers: hdr, body: JSON.stringify({ aliases: { fast: "gpt-4o-mini", quick: "gpt-4o" } }) });
      expect(put.status).toBe(200);
      await ask("quick");
      expect(mock.requests.at(-1)?.body?.model).toBe("gpt-4o");

      const bad = await fetch(`${gw.url}/admin/config`, { method: "PUT", headers: hdr, body: JSON.stringify({ strategy: { mode: "nope" } }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("strategy.mode");

      const history = (await get(gw, "/admin/config/history")).data as Array<{ version: number; author: string }>;
      expect(history.map((h) => h.version)).toEqual([v1 + 1, v1]);
      const diff = await get(gw, `/admin/config/diff?from=${v1}&to=${v1 + 1}`);
      expect(diff.changes).toEqual([{ path: "aliases.quick", kind: "added", to: "gpt-4o" }]);

      const rb = await fetch(`${gw.url}/admin/config/rollback`, { method: "POST", headers: hdr, body: JSON.stringify({ version: v1 }) });
      expect(rb.status).toBe(200);
      await expect(ask("quick")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      await ask("fast");
      expect(((await get(gw, "/admin/config/history")).data as unknown[]).length).toBe(3);
    } finally {
      await gw.close();
      await mock.close();
    }
  });

  it("never shows secrets from the config", async () => {
    const gw = await startGateway({ providers: { openai: { api_key: "sk-literal-secret-123456789" } } }, {}, { masterKey: MASTER });
    try {
      const text = JSON.stringify(await get(gw, "/admin/config"));
      expect(text).not.toContain("sk-literal-secret-123456789");
      expect(text).toContain("[REDACTED]");
    } finally {
      await gw.close();
    }
  });
});
