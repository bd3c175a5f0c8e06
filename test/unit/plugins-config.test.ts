// The plugins section: validation paths, one instance per plugin across stages, stage order,
// build-time errors, and the registry listing.
import { describe, expect, it } from "vitest";
import { configWarnings, validateConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { buildPipeline, PluginConfigError } from "../../src/plugins/pipeline.js";
import { listPlugins } from "../../src/plugins/registry.js";

const entries = (plugins: unknown[]) => configSchema.parse({ plugins }).plugins;

function issuesOf(plugins: unknown[]): Array<{ path: string; message: string }> {
  const r = validateConfig({ plugins }, {});
  return r.ok ? [] : r.issues;
}

describe("plugin config", () => {
  it("accepts the reference config's plugins section unchanged", () => {
    const plugins = [
      { name: "word-filter", type: "guardrail", stage: "before_request", enabled: true, config: { blocked_words: ["password", "secret"], case_sensitive: false } },
      { name: "max-token", type: "guardrail", stage: "before_request", enabled: true, config: { max_tokens: 4096, max_messages: 50, max_input_length: 0 } },
      { name: "response-cache", type: "transform", stage: "before_request", enabled: false, config: { max_age: 300, max_entries: 1000 } },
      { name: "response-cache", type: "transform", stage: "after_request", enabled: false, config: { max_age: 300, max_entries: 1000 } },
      { name: "request-logger", type: "logging", stage: "before_request", enabled: true, config: { level: "info", persist: false } },
      { name: "request-logger", type: "logging", stage: "after_request", enabled: true, config: { level: "info", persist: false } },
      { name: "request-logger", type: "logging", stage: "on_error", enabled: true, config: { level: "info", persist: false } },
      { name: "rate-limit", type: "guardrail", stage: "before_request", enabled: false, config: { requests_per_second: 100, burst: 100, key_rpm: 60, user_rpm: 30 } },
      {
        name: "budget",
        type: "guardrail",
        stage: "before_request",
        enabled: false,
        config: { store_id: "default", spend_limit_usd: 10.0, input_per_m_tokens: 3.0, output_per_m_tokens: 15.0, max_keys: 10000 },
      },
      {
        name: "budget",
        type: "guardrail",
        stage: "after_request",
        enabled: false,
        config: { store_id: "default", spend_limit_usd: 10.0, input_per_m_tokens: 3.0, output_per_m_tokens: 15.0, max_keys: 10000 },
      },
      // The product brief's example: backend and dsn on the logger.
      { name: "request-logger", type: "logging", stage: "before_request", enabled: false, config: { level: "info", persist: true, backend: "sqlite", dsn: "ferrogw-requests.db" } },
    ];
    expect(issuesOf(plugins.slice(0, -1))).toEqual([]);
    expect(issuesOf(plugins.slice(-1))).toEqual([]);
  });

  it("reports each problem with its path", () => {
    expect(
      issuesOf([
        { name: "word-filtr", stage: "before_request", enabled: true },
        { name: "word-filter", stage: "before_request", enabled: true, config: { blocked_words: ["ok", ""], case_sensitiv: true } },
        { name: "rate-limit", stage: "before_request", enabled: true, config: { key_rpm: 0 } },
        { name: "max-token", stage: "on_error", enabled: true, config: { max_tokens: "many" } },
        { name: "budget", stage: "before_request", enabled: true, config: { spend_limit_usd: 5, input_per_m_tokens: 0, output_per_m_tokens: 0 } },
      ]),
    ).toEqual([
      { path: "plugins[0].name", message: expect.stringContaining('unknown plugin "word-filtr"') },
      { path: "plugins[1].config.blocked_words[1]", message: "blocked words must not be empty" },
      { path: "plugins[1].config", message: "unknown key(s): case_sensitiv" },
      { path: "plugins[2].config.key_rpm", message: expect.stringContaining("must be > 0") },
      { path: "plugins[3].stage", message: "max-token does not run at on_error (it runs at before_request)" },
      { path: "plugins[3].config.max_tokens", message: expect.any(String) },
      { path: "plugins[4].config.input_per_m_tokens", message: expect.stringContaining("both prices are 0") },
    ]);
  });

  it("the same plugin at several stages needs identical config (defaults applied)", () => {
    expect(
      issuesOf([
        { name: "response-cache", stage: "before_request", enabled: true, config: { max_age: 300 } },
        { name: "response-cache", stage: "after_request", enabled: true, config: { max_age: 300, max_entries: 1000 } },
      ]),
    ).toEqual([]);
    expect(
      issuesOf([
        { name: "response-cache", stage: "before_request", enabled: true, config: { max_age: 300 } },
        { name: "response-cache", stage: "after_request", enabled: true, config: { max_age: 60 } },
      ]),
    ).toEqual([{ path: "plugins[1].config", message: expect.stringContaining("differs from plugins[0].config") }]);
    // A disabled entry is validated but does not take part.
    expect(
      issuesOf([
        { name: "response-cache", stage: "before_request", enabled: true, config: { max_age: 300 } },
        { name: "response-cache", stage: "after_request", enabled: false, config: { max_age: 60 } },
      ]),
    ).toEqual([]);
  });

  it("accepts what the reference's plugin configs accept: a fractional burst, an upper-case level", () => {
    expect(
      issuesOf([
        { name: "rate-limit", stage: "before_request", enabled: true, config: { requests_per_second: 2, burst: 2.5 } },
        { name: "request-logger", stage: "after_request", enabled: true, config: { level: "INFO" } },
      ]),
    ).toEqual([]);
    expect(issuesOf([{ name: "request-logger", stage: "after_request", enabled: true, config: { level: "loud" } }])).not.toEqual([]);
    // A bucket smaller than one request would refuse every request.
    expect(issuesOf([{ name: "rate-limit", stage: "before_request", enabled: true, config: { requests_per_second: 2, burst: 0.5 } }])).not.toEqual([]);
  });

  it("leaves a plugin without an enabled key off, as the reference does, and says so", async () => {
    const cfg = validateConfig({ plugins: [{ name: "word-filter", stage: "before_request", config: { blocked_words: ["secret"] } }] }, {});
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.issues));
    expect(configWarnings(cfg.config)).toEqual([expect.stringContaining("plugins[0] (word-filter, before_request) has no enabled key: it is off")]);
    const p = buildPipeline(cfg.config.plugins, { env: {} });
    expect(p.active).toBe(false);
    expect(p.plugin("word-filter")).toBeUndefined();
    await p.close();
  });

  it("builds one instance per plugin, hooked at the listed stages in config order, implicit stages after", async () => {
    const p = buildPipeline(
      entries([
        { name: "request-logger", stage: "before_request", enabled: true, config: { level: "debug" } },
        { name: "budget", stage: "before_request", enabled: true, config: { store_id: "unit-order" } },
        { name: "response-cache", stage: "before_request", enabled: true, config: {} },
        { name: "request-logger", stage: "after_response", enabled: true, config: { level: "debug" } },
        { name: "response-cache", stage: "after_request", enabled: true, config: {} },
      ]),
      { env: {} },
    );
    const inner = p as unknown as { before: Array<{ name: string }>; after: Array<{ name: string }>; errors: Array<{ name: string }> };
    expect(inner.before.map((x) => x.name)).toEqual(["request-logger", "budget", "response-cache"]);
    expect(inner.after.map((x) => x.name)).toEqual(["request-logger", "response-cache", "budget"]);
    expect(inner.errors.map((x) => x.name)).toEqual(["budget"]);
    expect(p.plugin("response-cache")).toBe(p.plugin("response-cache"));
    expect(p.active).toBe(true);
    await p.close();
    expect(buildPipeline([]).active).toBe(false);
  });

  it("refuses to build a Redis backend without a URL, with the path", () => {
    expect(() => buildPipeline(entries([{ name: "rate-limit", stage: "before_request", enabled: true, config: { key_rpm: 5, backend: "redis" } }]), { env: {} })).toThrow(
      PluginConfigError,
    );
    try {
      buildPipeline(entries([{ name: "rate-limit", stage: "before_request", enabled: true, config: { key_rpm: 5, backend: "redis" } }]), { env: {} });
    } catch (err) {
      expect((err as PluginConfigError).issues).toEqual([{ path: "plugins[0].config.redis_url", message: expect.stringContaining("REDIS_URL") }]);
    }
  });

  it("lists the plugins for `ferrogw plugins`", () => {
    const list = listPlugins();
    expect(list.map((p) => p.name)).toEqual(["word-filter", "max-token", "pii-guard", "response-cache", "rate-limit", "budget", "request-logger"]);
    for (const p of list) {
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.stages.length).toBeGreaterThan(0);
    }
    expect(list.find((p) => p.name === "request-logger")?.type).toBe("logging");
  });
});
