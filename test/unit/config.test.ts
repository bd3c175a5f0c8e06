import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { configWarnings, parseConfigText, validateConfig } from "../../src/config/load.js";
import { parseDurationMs } from "../../src/config/duration.js";
import { goRegExp } from "../../src/config/go-regexp.js";

describe("config", () => {
  it("accepts the reference gateway's full annotated config", () => {
    const text = readFileSync(new URL("../../../shared/reference/reference-config.example.yaml", import.meta.url), "utf8");
    const result = parseConfigText(text, "reference.yaml", { MCP_DB_TOKEN: "t", BRAVE_API_KEY: "b" });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.strategy.mode).toBe("fallback");
    expect(result.config.targets[0]).toMatchObject({ virtual_key: "openai", retry: { attempts: 3, on_status_codes: [429, 502, 503], initial_backoff_ms: 100 } });
    expect(result.config.targets[1]?.circuit_breaker?.timeout).toBe(30_000);
    expect(result.config.aliases.fast).toBe("gpt-4o-mini");
    expect(result.config.mcp_servers.find((s) => s.name === "database")?.headers?.Authorization).toBe("Bearer t");
  });

  it("accepts the reference config as is, without the variables of the sections it does not build", () => {
    const text = readFileSync(new URL("../../../shared/reference/reference-config.example.yaml", import.meta.url), "utf8");
    const result = parseConfigText(text, "reference.yaml", {});
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.mcp_servers.find((s) => s.name === "database")?.headers?.Authorization).toBe("Bearer ${MCP_DB_TOKEN}");
    // A disabled plugin may name an unset variable; an enabled one may not.
    const plugin = (enabled: boolean): unknown => ({ name: "word-filter", stage: "before_request", enabled, config: { blocked_words: ["${BLOCKED_WORD}"] } });
    expect(validateConfig({ plugins: [plugin(false)] }, {}).ok).toBe(true);
    // No enabled key is off too (the reference's Go bool).
    expect(validateConfig({ plugins: [{ name: "word-filter", stage: "before_request", config: { blocked_words: ["${BLOCKED_WORD}"] } }] }, {}).ok).toBe(true);
    const enabled = validateConfig({ plugins: [plugin(true)] }, {});
    expect(enabled.ok).toBe(false);
    if (!enabled.ok) expect(enabled.issues).toContainEqual({ path: "plugins[0].config.blocked_words[0]", message: "environment variable BLOCKED_WORD is not set" });
    // Everywhere else an unset variable is still an error.
    expect(validateConfig({ providers: { openai: { api_key: "${NOPE}" } } }, {}).ok).toBe(false);
  });

  it("reads omitted and zero values as the reference gateway does", () => {
    const ok = (raw: unknown) => {
      const r = validateConfig(raw, {});
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return r.config;
    };
    // No mode: single when targets are listed (with a warning that no second target is asked);
    // fallback over every provider when none are.
    const two = ok({ targets: [{ virtual_key: "openai" }, { virtual_key: "anthropic" }] });
    expect(two.strategy.mode).toBe("single");
    expect(configWarnings(two)).toEqual([expect.stringContaining("when it fails no other target is asked")]);
    expect(configWarnings(ok({ targets: [{ virtual_key: "openai" }] }))).toEqual([]);
    // Named observability exporters come from plugins in the reference, which ships none: skipped with a warning.
    expect(configWarnings(ok({ targets: [{ virtual_key: "openai" }], observability: { exporters: [{ name: "langfuse" }, { name: "off", enabled: false }] } }))).toEqual([
      "observability.exporters[0] (langfuse): no such exporter is built in; skipped",
    ]);
    expect(ok({}).strategy.mode).toBe("fallback");
    expect(ok({ strategy: { unpriced_strategy: "skip" }, targets: [{ virtual_key: "openai" }] }).strategy).toMatchObject({ mode: "single", unpriced_strategy: "skip" });
    // Counts written as 0 mean their defaults.
    const zeros = ok({
      max_request_bytes: 0,
      targets: [
        {
          virtual_key: "openai",
          retry: { attempts: 0, initial_backoff_ms: 0 },
          circuit_breaker: { failure_threshold: 0, success_threshold: 0, max_half_threshold: 0 },
          concurrency: { max_concurrency: 4, queue_size: 0 },
        },
      ],
    });
    expect(zeros.max_request_bytes).toBe(10 * 1024 * 1024);
    expect(zeros.targets[0]).toMatchObject({
      retry: { attempts: 1, initial_backoff_ms: 100 },
      circuit_breaker: { failure_threshold: 5, success_threshold: 1, max_half_threshold: 1 },
      concurrency: { max_concurrency: 4, queue_size: 1000 },
    });
    expect(ok({ targets: [{ virtual_key: "openai", concurrency: { max_concurrency: 4 } }] }).targets[0]?.concurrency?.queue_size).toBe(1000);
    // An omitted weight is 0: loadbalance needs one written.
    expect(ok({ targets: [{ virtual_key: "openai" }] }).targets[0]?.weight).toBe(0);
    expect(ok({ batch_target: "openai", responses_target: "openai", targets: [{ virtual_key: "openai" }] }).batch_target).toBe("openai");
    const unweighted = validateConfig({ strategy: { mode: "loadbalance" }, targets: [{ virtual_key: "openai" }, { virtual_key: "anthropic" }] }, {});
    expect(unweighted.ok).toBe(false);
    // Still errors: a negative count, a queue past the reference's bound, a request_timeout of 0.
    for (const bad of [
      { targets: [{ virtual_key: "openai", retry: { attempts: -1 } }] },
      { targets: [{ virtual_key: "openai", concurrency: { max_concurrency: 1, queue_size: 10_001 } }] },
      { request_timeout: "0s", targets: [{ virtual_key: "openai" }] },
      { batch_target: "nowhere", targets: [{ virtual_key: "openai" }] },
      { responses_target: "nowhere", targets: [{ virtual_key: "openai" }] },
    ])
      expect(validateConfig(bad, {}).ok).toBe(false);
  });

  it("reads prompt_regex values as Go (RE2) regular expressions", () => {
    const re = (pattern: string): RegExp => {
      const { source, flags } = goRegExp(pattern);
      return new RegExp(source, flags);
    };
    expect(re("(?i)^hello").test("HELLO there")).toBe(true);
    expect(re("(?P<lang>python|go)").exec("use go")?.groups?.lang).toBe("go");
    expect(re("^[[:alpha:]]+$").test("abc")).toBe(true);
    expect(re("^[[:alpha:]]+$").test("ab1")).toBe(false);
    expect(re("^[[:^digit:]]+$").test("abc")).toBe(true);
    expect(re("^[[:^digit:]]+$").test("a1")).toBe(false);
    for (const c of ["!", "[", "`", "~", "-"]) expect(re("^[[:punct:]]$").test(c)).toBe(true);
    expect(re("^[[:punct:]]$").test("a")).toBe(false);
    expect(re("\\Afoo\\z").test("foo")).toBe(true);
    expect(re("\\Afoo\\z").test("foo\n")).toBe(false);
    expect(re("\\Afoo\\z").test("xfoo")).toBe(false);
    expect(re("a\\Q.*\\E").test("a.*")).toBe(true);
    expect(re("a\\Q.*\\E").test("abc")).toBe(false);
    expect(re("C:\\\\Apps").test("C:\\Apps")).toBe(true);
    // An escaped backslash before Q is a backslash and a Q, not the start of a quote.
    expect(re("C:\\\\Quarterly").test("C:\\Quarterly")).toBe(true);
    // Outside brackets, [:alpha:] is not a class: an escaped [ stays literal.
    expect(re("\\[:alpha:]").test("[:alpha:]")).toBe(true);
    expect(re("^[]a]+$").test("a]a")).toBe(true);
    // What JavaScript would read differently and has no translation is refused, not misread.
    for (const bad of ["[[:^alpha:]]", "\\pL", "\\x{41}", "(?=a)b", "(a)\\1", "a(?i)b"]) expect(() => goRegExp(bad), bad).toThrow();
    // RE2's ungreedy flag has no JavaScript equivalent: refused at load, not misread.
    const ungreedy = validateConfig({ strategy: { mode: "content-based", content_conditions: [{ type: "prompt_regex", value: "(?U)a+", target_key: "openai" }] }, targets: [{ virtual_key: "openai" }] }, {});
    expect(ungreedy.ok).toBe(false);
  });

  it("reports unknown keys and wrong types with their path", () => {
    const result = validateConfig({ strategy: { mode: "fastest" }, targets: [{ virtual_key: "openai", retry: { attempts: "three" }, colour: "red" }] }, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.issues.map((i) => i.path);
    expect(paths).toContain("strategy.mode");
    expect(paths).toContain("targets[0].retry.attempts");
    expect(result.issues.find((i) => i.path === "targets[0]")?.message).toContain("colour");
  });

  it("interpolates ${ENV} and reports a missing variable with its path", () => {
    const ok = validateConfig({ providers: { openai: { api_key: "${MY_KEY}", base_url: "${BASE:-http://localhost:1/v1}" } } }, { MY_KEY: "sk-1" });
    expect(ok.ok && ok.config.providers.openai).toMatchObject({ api_key: "sk-1", base_url: "http://localhost:1/v1" });
    const bad = validateConfig({ providers: { openai: { api_key: "${NOPE}" } } }, {});
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues[0]).toMatchObject({ path: "providers.openai.api_key" });
  });

  it("rejects all-zero weights, bad regexes and dangling target keys", () => {
    const r = validateConfig(
      {
        strategy: { mode: "content-based", content_conditions: [{ type: "prompt_regex", value: "(unclosed", target_key: "ghost" }] },
        targets: [{ virtual_key: "openai" }],
      },
      {},
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(["strategy.content_conditions[0].value", "strategy.content_conditions[0].target_key"]),
    );
    const w = validateConfig({ strategy: { mode: "loadbalance" }, targets: [{ virtual_key: "openai", weight: 0 }] }, {});
    expect(w.ok).toBe(false);
  });

  it("parses Go-style durations", () => {
    expect(parseDurationMs("30s")).toBe(30_000);
    expect(parseDurationMs("1m30s")).toBe(90_000);
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs(2)).toBe(2000);
    expect(parseDurationMs("soon")).toBeUndefined();
  });
});
