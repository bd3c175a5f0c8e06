// Every routing strategy at unit level: distributions over many picks, rule matching, and how
// each mode passes over targets whose circuit is open.
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/config/load.js";
import type { GatewayConfig, TargetConfig } from "../../src/config/schema.js";
import type { ProviderSet } from "../../src/providers/registry.js";
import type { Operation, Provider, WireCodec } from "../../src/providers/types.js";
import { tablePrices } from "../../src/routing/prices.js";
import { Router } from "../../src/routing/router.js";
import { AbTestStrategy, hashUnit } from "../../src/routing/strategies/ab-test.js";
import { ConditionalStrategy } from "../../src/routing/strategies/conditional.js";
import { ContentBasedStrategy } from "../../src/routing/strategies/content-based.js";
import { CostOptimizedStrategy, estimateTokens } from "../../src/routing/strategies/cost-optimized.js";
import { FallbackStrategy } from "../../src/routing/strategies/fallback.js";
import { LeastLatencyStrategy } from "../../src/routing/strategies/least-latency.js";
import { LoadBalanceStrategy } from "../../src/routing/strategies/loadbalance.js";
import { SingleStrategy } from "../../src/routing/strategies/single.js";
import type { Choice, RouteRequest } from "../../src/routing/strategy.js";
import { Target } from "../../src/routing/target.js";
import { GatewayError } from "../../src/server/errors.js";
import { newContext } from "../../src/server/context.js";

const OPS: ReadonlySet<Operation> = new Set(["chat", "completions", "embeddings"]);

function fakeProvider(name: string, kind = name, prefixes: readonly string[] = ["gpt-"]): Provider {
  return {
    name,
    kind,
    codec: { name: "openai", openaiWire: true } as unknown as WireCodec,
    baseUrl: new URL("http://127.0.0.1:1"),
    headers: {},
    timeoutMs: 1000,
    operations: OPS,
    batches: false,
    serves: (m) => prefixes.some((p) => m.startsWith(p)),
    models: () => [],
  };
}

function targets(specs: Array<Partial<TargetConfig> & { key: string; kind?: string; prefixes?: string[] }>): Target[] {
  return specs.map(
    (s, i) =>
      new Target(
        fakeProvider(s.key, s.kind ?? s.key, s.prefixes),
        { virtual_key: s.key, weight: s.weight ?? 1, circuit_breaker: s.circuit_breaker, model_map: s.model_map, retry: undefined, concurrency: undefined, models: undefined },
        i,
      ),
  );
}

function req(partial: Partial<RouteRequest> & { text?: string } = {}): RouteRequest {
  const body = partial.body ?? { model: partial.model ?? "gpt-4o", messages: [{ role: "user", content: partial.text ?? "hello" }] };
  return { model: partial.model ?? "gpt-4o", operation: "chat", headers: partial.headers ?? {}, body, keyId: partial.keyId };
}

function key(c: Choice): string {
  expect(c.targets.length).toBe(1);
  return (c.targets[0] as Target).key;
}

function count(n: number, pick: (i: number) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = pick(i);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Opens a target's breaker (it must have one) by recording enough failures. */
function trip(t: Target, now = Date.now()): void {
  const b = t.breaker;
  if (!b) throw new Error("no breaker");
  for (let i = 0; i < 10 && b.state(now) !== "open"; i++) b.record(b.acquire(now), 1, now);
  expect(b.state(now)).toBe("open");
}

const BREAKER = { failure_threshold: 1, success_threshold: 1, max_half_threshold: 1, timeout: 60_000 };

describe("single and fallback", () => {
  it("single takes the first target, passing over an open circuit", () => {
    const ts = targets([{ key: "a", circuit_breaker: BREAKER }, { key: "b" }]);
    const s = new SingleStrategy(ts);
    expect(key(s.choose(ts, req()))).toBe("a");
    trip(ts[0] as Target);
    expect(key(s.choose(ts, req()))).toBe("b");
  });

  it("fallback keeps config order and drops open circuits; all open is a refusal", () => {
    const ts = targets([{ key: "a", circuit_breaker: BREAKER }, { key: "b", circuit_breaker: BREAKER }]);
    const s = new FallbackStrategy();
    expect(s.choose(ts, req()).targets.map((t) => t.key)).toEqual(["a", "b"]);
    trip(ts[0] as Target);
    expect(s.choose(ts, req()).targets.map((t) => t.key)).toEqual(["b"]);
    trip(ts[1] as Target);
    expect(s.choose(ts, req())).toMatchObject({ targets: [], refusal: "circuit_open" });
  });
});

describe("loadbalance (smooth weighted round robin)", () => {
  it("splits 1000 picks exactly by weight, zero weight gets nothing", () => {
    const ts = targets([{ key: "a", weight: 3 }, { key: "b", weight: 1 }, { key: "c", weight: 0 }]);
    const s = new LoadBalanceStrategy(ts);
    const c = count(1000, () => key(s.choose(ts, req())));
    expect(c).toEqual({ a: 750, b: 250 });
  });

  it("interleaves rather than bunching (5:1:1 never sends 5 in a row twice)", () => {
    const ts = targets([{ key: "a", weight: 5 }, { key: "b", weight: 1 }, { key: "c", weight: 1 }]);
    const s = new LoadBalanceStrategy(ts);
    const seq = Array.from({ length: 7 }, () => key(s.choose(ts, req()))).join("");
    expect(seq).toBe("aabacaa");
  });

  it("handles fractional weights within tolerance", () => {
    const ts = targets([{ key: "a", weight: 0.7 }, { key: "b", weight: 0.2 }, { key: "c", weight: 0.1 }]);
    const s = new LoadBalanceStrategy(ts);
    const c = count(1000, () => key(s.choose(ts, req())));
    expect(c.a).toBeCloseTo(700, -1);
    expect(c.b).toBeCloseTo(200, -1);
    expect(c.c).toBeCloseTo(100, -1);
  });

  it("gives an open target's share to the others, and refuses when all are open or drained", () => {
    const ts = targets([
      { key: "a", weight: 2, circuit_breaker: BREAKER },
      { key: "b", weight: 1 },
      { key: "c", weight: 1 },
    ]);
    const s = new LoadBalanceStrategy(ts);
    trip(ts[0] as Target);
    const c = count(100, () => key(s.choose(ts, req())));
    expect(c).toEqual({ b: 50, c: 50 });
    expect(s.choose(ts.slice(0, 1), req()).refusal).toBe("circuit_open");
    const drained = targets([{ key: "z", weight: 0 }]);
    expect(new LoadBalanceStrategy(drained).choose(drained, req()).refusal).toBe("drained");
  });
});

describe("ab-test", () => {
  const variants = { ab_variants: [{ target_key: "a", weight: 70, label: "control" }, { target_key: "b", weight: 30, label: "challenger" }, { target_key: "c", weight: 0, label: "drained" }] };

  it("splits 1000 random picks by weight within tolerance, labels reported", () => {
    const ts = targets([{ key: "a" }, { key: "b" }, { key: "c" }]);
    const s = new AbTestStrategy(ts, variants);
    const c = count(1000, () => s.choose(ts, req()).variant as string);
    expect(c.drained).toBeUndefined();
    expect((c.control ?? 0) / 1000).toBeGreaterThan(0.64);
    expect((c.control ?? 0) / 1000).toBeLessThan(0.76);
    expect((c.control ?? 0) + (c.challenger ?? 0)).toBe(1000);
  });

  it("is sticky per user: one caller always gets one variant, callers spread by weight", () => {
    const ts = targets([{ key: "a" }, { key: "b" }, { key: "c" }]);
    const s = new AbTestStrategy(ts, { ...variants, sticky_by: "user" });
    const userReq = (u: string): RouteRequest => req({ body: { model: "gpt-4o", user: u, messages: [] } });
    for (const u of ["alice", "bob", "carol"]) {
      const first = s.choose(ts, userReq(u)).variant;
      for (let i = 0; i < 50; i++) expect(s.choose(ts, userReq(u)).variant).toBe(first);
    }
    const c = count(1000, (i) => s.choose(ts, userReq(`user-${i}`)).variant as string);
    expect((c.control ?? 0) / 1000).toBeGreaterThan(0.64);
    expect((c.control ?? 0) / 1000).toBeLessThan(0.76);
  });

  it("gives the response cache each sticky caller's variant as its route key, and none without sticky_by", () => {
    const ts = targets([{ key: "a" }, { key: "b" }, { key: "c" }]);
    const s = new AbTestStrategy(ts, { ...variants, sticky_by: "user" });
    const userReq = (u: string): RouteRequest => req({ body: { model: "gpt-4o", user: u, messages: [] } });
    const keys = new Set<string | undefined>();
    for (let i = 0; i < 50; i++) {
      const r = userReq(`user-${i}`);
      expect(s.routeKey(ts, r)).toBe(s.choose(ts, r).variant);
      keys.add(s.routeKey(ts, r));
    }
    expect(keys).toEqual(new Set(["control", "challenger"]));
    expect(s.routeKey(ts, req())).toBeUndefined();
    expect(new AbTestStrategy(ts, variants).routeKey(ts, userReq("alice"))).toBeUndefined();
    // A weighted variant whose target does not serve the model: the key follows the actual draw.
    const [ta, tb] = ts as [Target, Target, Target];
    const partial = new AbTestStrategy(ts, {
      ab_variants: [
        { target_key: "a", weight: 50, label: "x" },
        { target_key: "c", weight: 25, label: "y" },
        { target_key: "b", weight: 25, label: "z" },
      ],
      sticky_by: "user",
    });
    for (let i = 0; i < 50; i++) {
      const r = userReq(`user-${i}`);
      expect(partial.routeKey([ta, tb], r)).toBe(partial.choose([ta, tb], r).variant);
      expect(partial.routeKey([ta, tb], r)).not.toBe("y");
    }
  });

  it("sticks on a header, the api key id or a metadata value", () => {
    const ts = targets([{ key: "a" }, { key: "b" }]);
    const byHeader = new AbTestStrategy(ts, { ab_variants: variants.ab_variants.slice(0, 2), sticky_by: "x-session" });
    const h = (v: string): RouteRequest => req({ headers: { "x-session": v } });
    const byKey = new AbTestStrategy(ts, { ab_variants: variants.ab_variants.slice(0, 2), sticky_by: "api_key" });
    const byMeta = new AbTestStrategy(ts, { ab_variants: variants.ab_variants.slice(0, 2), sticky_by: "metadata.tenant" });
    for (let i = 0; i < 20; i++) {
      expect(byHeader.choose(ts, h(`s${i}`)).variant).toBe(byHeader.choose(ts, h(`s${i}`)).variant);
      expect(byKey.choose(ts, req({ keyId: `k${i}` })).variant).toBe(byKey.choose(ts, req({ keyId: `k${i}` })).variant);
      const m = req({ body: { model: "gpt-4o", metadata: { tenant: `t${i}` }, messages: [] } });
      expect(byMeta.choose(ts, m).variant).toBe(byMeta.choose(ts, m).variant);
    }
  });

  it("hashUnit is deterministic and roughly uniform", () => {
    expect(hashUnit("alice")).toBe(hashUnit("alice"));
    let low = 0;
    for (let i = 0; i < 2000; i++) if (hashUnit(`k${i}`) < 0.5) low++;
    expect(low).toBeGreaterThan(900);
    expect(low).toBeLessThan(1100);
  });

  it("leaves out variants whose circuit is open or whose target does not serve the model", () => {
    const ts = targets([{ key: "a", circuit_breaker: BREAKER }, { key: "b" }, { key: "c" }]);
    const s = new AbTestStrategy(ts, variants);
    trip(ts[0] as Target);
    for (let i = 0; i < 20; i++) expect(s.choose(ts, req()).variant).toBe("challenger");
    expect(s.choose([ts[0] as Target], req()).refusal).toBe("circuit_open");
    expect(s.choose([ts[2] as Target], req()).refusal).toBe("drained");
    expect(s.choose([], req()).refusal).toBe("not_served");
  });
});

describe("least-latency", () => {
  it("measures every target first, then follows the lowest moving average", () => {
    const ts = targets([{ key: "a" }, { key: "b" }]);
    const s = new LeastLatencyStrategy(ts, { explore: 0, reprobeMs: 60_000 });
    const now = Date.now();
    expect(key(s.choose(ts, req()))).toBe("a");
    ts[0]?.latency.record(50, now);
    expect(key(s.choose(ts, req()))).toBe("b");
    ts[1]?.latency.record(10, now);
    expect(count(100, () => key(s.choose(ts, req())))).toEqual({ b: 100 });
    // b slows down: its average overtakes a's within a few samples and traffic moves.
    for (let i = 0; i < 5; i++) ts[1]?.latency.record(200, now);
    expect(key(s.choose(ts, req()))).toBe("a");
  });

  it("explores a small share of traffic, so a recovered target is noticed", () => {
    const ts = targets([{ key: "a" }, { key: "b" }, { key: "c" }]);
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const s = new LeastLatencyStrategy(ts, { explore: 0.1, reprobeMs: 60_000, random });
    const now = Date.now();
    ts[0]?.latency.record(5, now);
    ts[1]?.latency.record(100, now);
    ts[2]?.latency.record(100, now);
    const c = count(1000, () => key(s.choose(ts, req())));
    expect((c.a ?? 0) / 1000).toBeGreaterThan(0.85);
    expect(c.b ?? 0).toBeGreaterThan(20);
    expect(c.c ?? 0).toBeGreaterThan(20);
  });

  it("re-probes a target not measured for reprobeMs, one request at a time", () => {
    const ts = targets([{ key: "a" }, { key: "b" }]);
    const s = new LeastLatencyStrategy(ts, { explore: 0, reprobeMs: 1000 });
    const now = Date.now();
    ts[0]?.latency.record(5, now);
    ts[1]?.latency.record(500, now - 5000);
    expect(key(s.choose(ts, req()))).toBe("b");
    expect(key(s.choose(ts, req()))).toBe("a");
  });

  it("passes over an open circuit", () => {
    const ts = targets([{ key: "a", circuit_breaker: BREAKER }, { key: "b" }]);
    const s = new LeastLatencyStrategy(ts, { explore: 0 });
    ts[0]?.latency.record(1, Date.now());
    ts[1]?.latency.record(100, Date.now());
    trip(ts[0] as Target);
    expect(key(s.choose(ts, req()))).toBe("b");
    expect(s.choose([ts[0] as Target], req()).refusal).toBe("circuit_open");
  });
});

describe("cost-optimized", () => {
  const prices = tablePrices({
    openai: { "gpt-4o": { input: 2.5, output: 10 }, "gpt-4o-mini": { input: 0.15, output: 0.6 } },
    deepseek: { "deepseek-chat": { input: 0.27, output: 1.1 } },
  });
  const ts = (): Target[] =>
    targets([
      { key: "openai", model_map: { smart: "gpt-4o", small: "gpt-4o-mini" }, circuit_breaker: BREAKER },
      { key: "deepseek", model_map: { smart: "deepseek-chat", small: "deepseek-chat" } },
      { key: "unpriced", model_map: { smart: "mystery", small: "mystery" } },
    ]);

  it("picks the cheapest priced target for the model the target is sent", () => {
    const t = ts();
    const s = new CostOptimizedStrategy(t, prices, "fallback");
    expect(key(s.choose(t, req({ model: "smart" })))).toBe("deepseek");
    expect(key(s.choose(t, req({ model: "small" })))).toBe("openai");
  });

  it("passes over an open circuit to the next cheapest", () => {
    const t = ts();
    const s = new CostOptimizedStrategy(t, prices, "fallback");
    trip(t[0] as Target);
    expect(key(s.choose(t, req({ model: "small" })))).toBe("deepseek");
  });

  it("unpriced_strategy: fallback uses the first unpriced only when none is priced; skip refuses; allow prices at zero", () => {
    const t = ts();
    const only = [t[2] as Target];
    expect(key(new CostOptimizedStrategy(t, prices, "fallback").choose(only, req({ model: "smart" })))).toBe("unpriced");
    expect(new CostOptimizedStrategy(t, prices, "skip").choose(only, req({ model: "smart" })).refusal).toBe("unpriced");
    expect(key(new CostOptimizedStrategy(t, prices, "skip").choose(t, req({ model: "smart" })))).toBe("deepseek");
    expect(key(new CostOptimizedStrategy(t, prices, "fallback").choose(t, req({ model: "smart" })))).toBe("deepseek");
    expect(key(new CostOptimizedStrategy(t, prices, "allow").choose(t, req({ model: "smart" })))).toBe("unpriced");
  });

  it("estimates prompt and completion tokens", () => {
    expect(estimateTokens({ messages: [{ role: "user", content: "x".repeat(400) }], max_tokens: 50 })).toEqual({ input: 101, output: 50 });
    expect(estimateTokens({ input: ["abcd", "efgh"] })).toEqual({ input: 3, output: 0 });
  });
});

describe("content-based", () => {
  const t = (): Target[] =>
    targets([
      { key: "general", circuit_breaker: BREAKER },
      { key: "coder", prefixes: ["gpt-", "deepseek-"] },
      { key: "translator" },
      { key: "private" },
      { key: "vip" },
      { key: "claude", prefixes: ["claude-"] },
    ]);
  const rules = [
    { type: "prompt_regex" as const, value: "(?i)\\b(code|function|class)\\b", target_key: "coder" },
    { type: "prompt_contains" as const, value: "Translate", target_key: "translator" },
    { type: "header" as const, field: "X-Tier", value: "vip", target_key: "vip" },
    { type: "metadata" as const, field: "team", value: "legal", target_key: "private" },
    { type: "model" as const, value: "claude-x", target_key: "claude" },
    { type: "prompt_not_contains" as const, value: "hello", target_key: "private" },
  ];

  it("matches any user message: regex with (?i), contains case-insensitively, not_contains over all of them", () => {
    const ts = t();
    const s = new ContentBasedStrategy(ts, rules);
    expect(s.choose(ts, req({ text: "Write a FUNCTION for me" }))).toMatchObject({ variant: "content_conditions[0]" });
    expect(key(s.choose(ts, req({ text: "Write a FUNCTION for me" })))).toBe("coder");
    expect(key(s.choose(ts, req({ text: "please TRANSLATE this" })))).toBe("translator");
    expect(key(s.choose(ts, req({ text: "something else entirely" })))).toBe("private");
    const turns = (first: unknown, answer: string, last: unknown) =>
      req({ body: { model: "gpt-4o", messages: [{ role: "user", content: first }, { role: "assistant", content: answer }, { role: "user", content: last }] } });
    const multi = turns("write code", "ok", [{ type: "text", text: "hello" }, { type: "text", text: "again" }]);
    // An earlier user turn counts ("write code"), as in the reference; assistant turns do not.
    expect(key(s.choose(ts, multi))).toBe("coder");
    const later = turns("hello there", "Here is a function, and I can translate it", "thanks");
    // not_contains holds only when no user message contains the value: "hello" is in the first.
    expect(s.choose(ts, later).variant).toBe("default");
    expect(key(s.choose(ts, later))).toBe("general");
  });

  it("matches header, metadata and model rules", () => {
    const ts = t();
    const s = new ContentBasedStrategy(ts, rules);
    expect(key(s.choose(ts, req({ text: "hello", headers: { "x-tier": "vip" } })))).toBe("vip");
    expect(key(s.choose(ts, req({ body: { model: "gpt-4o", metadata: { team: "legal" }, messages: [{ role: "user", content: "hello" }] } })))).toBe(
      "private",
    );
    const claudeCandidates = ts.filter((x) => x.serves("claude-x"));
    expect(key(s.choose(claudeCandidates, req({ model: "claude-x", text: "hello" })))).toBe("claude");
  });

  it("asks the matched target only: 404 when it does not serve the model, 503 when its circuit is open; no match passes over open", () => {
    const ts = t();
    const s = new ContentBasedStrategy(ts, rules);
    const claudeOnly = ts.filter((x) => x.serves("claude-3"));
    expect(s.choose(claudeOnly, req({ model: "claude-3", text: "write code" })).refusal).toBe("not_served");
    trip(ts[0] as Target);
    expect(key(s.choose(ts, req({ text: "hello" })))).toBe("coder");
    const rs = new ContentBasedStrategy(ts, [{ type: "prompt_contains", value: "x", target_key: "general" }]);
    expect(rs.choose(ts, req({ text: "x" })).refusal).toBe("circuit_open");
  });
});

describe("conditional", () => {
  const ts = targets([{ key: "openai" }, { key: "anthropic", prefixes: ["claude-"] }, { key: "eu" }, { key: "tenant" }, { key: "admin" }, { key: "mini" }]);
  const s = new ConditionalStrategy(ts, [
    { key: "model", value: "gpt-4o", target_key: "openai" },
    { key: "model", value: "claude-sonnet-4-5", target_key: "anthropic" },
    { key: "header:X-Region", value: "eu", target_key: "eu" },
    { key: "metadata.tenant", value: "acme", target_key: "tenant" },
    { key: "api_key", value: "key-admin", target_key: "admin" },
    { key: "model_prefix", value: "gpt-4o-mini", target_key: "mini" },
  ]);

  it("matches model, header, metadata, api key and model prefix; first match wins", () => {
    expect(s.choose(ts, req({ model: "gpt-4o", headers: { "x-region": "eu" } }))).toMatchObject({ variant: "conditions[0]" });
    expect(key(s.choose(ts, req({ model: "gpt-4.1", headers: { "x-region": "eu" } })))).toBe("eu");
    expect(key(s.choose(ts, req({ model: "gpt-4.1", body: { metadata: { tenant: "acme" } } })))).toBe("tenant");
    expect(key(s.choose(ts, req({ model: "gpt-4.1", keyId: "key-admin" })))).toBe("admin");
    expect(key(s.choose(ts, req({ model: "gpt-4o-mini-2024" })))).toBe("mini");
    expect(s.choose(ts, req({ model: "gpt-4.1" }))).toMatchObject({ variant: "default" });
  });

  it("a matched rule whose target does not serve the model is not_served", () => {
    const candidates = ts.filter((t) => t.serves("claude-sonnet-4-5"));
    expect(key(s.choose(candidates, req({ model: "claude-sonnet-4-5" })))).toBe("anthropic");
    // header rule matches, but "eu" does not serve claude: no other target is asked.
    const ts2 = targets([{ key: "anthropic", prefixes: ["claude-"] }, { key: "eu" }]);
    const s2 = new ConditionalStrategy(ts2, [{ key: "header:x-region", value: "eu", target_key: "eu" }]);
    expect(s2.choose(ts2.filter((t) => t.serves("claude-3")), req({ model: "claude-3", headers: { "x-region": "eu" } })).refusal).toBe("not_served");
  });
});

describe("router", () => {
  function router(raw: Record<string, unknown>): Router {
    const loaded = validateConfig(raw, {});
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const cfg: GatewayConfig = loaded.config;
    const byName = new Map<string, Provider>([
      ["openai", fakeProvider("openai")],
      ["groq", fakeProvider("groq", "groq", ["gpt-", "llama-"])],
      ["mistral", fakeProvider("mistral", "mistral", ["mistral-"])],
    ]);
    const providers: ProviderSet = { byName, warnings: [] };
    return new Router(cfg, providers, { prices: tablePrices({ groq: { "gpt-4o": { input: 0.1, output: 0.1 } } }) });
  }
  const body = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };

  it("honours x-ferro-strategy and records strategy and variant on the context", () => {
    const r = router({
      strategy: { mode: "fallback", ab_variants: [{ target_key: "groq", weight: 1, label: "B" }] },
      targets: [{ virtual_key: "openai" }, { virtual_key: "groq" }],
    });
    const ctx = newContext({});
    expect(r.plan("gpt-4o", "chat", ctx, body).targets.map((t) => t.key)).toEqual(["openai", "groq"]);
    expect(ctx.strategy).toBe("fallback");
    const ab = newContext({ "x-ferro-strategy": "ab-test" });
    expect(r.plan("gpt-4o", "chat", ab, body).targets.map((t) => t.key)).toEqual(["groq"]);
    expect(ab).toMatchObject({ strategy: "ab-test", variant: "B" });
    const cost = newContext({ "x-ferro-strategy": "Cost-Optimized" });
    expect(r.plan("gpt-4o", "chat", cost, body).targets.map((t) => t.key)).toEqual(["groq"]);
  });

  it("rejects an unknown or unconfigured x-ferro-strategy with 400", () => {
    // Targets without a weight weigh 0: loadbalance has nothing to draw from, so it is refused too.
    const r = router({ targets: [{ virtual_key: "openai" }] });
    for (const v of ["fastest", "conditional", "loadbalance"]) {
      const err = (() => {
        try {
          r.plan("gpt-4o", "chat", newContext({ "x-ferro-strategy": v }), body);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status: 400, code: "invalid_value" });
    }
    const weighted = router({ targets: [{ virtual_key: "openai", weight: 1 }] });
    expect(weighted.plan("gpt-4o", "chat", newContext({ "x-ferro-strategy": "loadbalance" }), body).targets.map((t) => t.key)).toEqual(["openai"]);
  });

  it("answers 503 circuit_open when every candidate is open, 404 when nothing serves the model", () => {
    const r = router({
      strategy: { mode: "loadbalance" },
      targets: [
        { virtual_key: "openai", weight: 1, circuit_breaker: { failure_threshold: 1, timeout: "60s" } },
        { virtual_key: "mistral", weight: 1 },
      ],
    });
    trip(r.allTargets()[0] as Target);
    const planErr = (model: string): unknown => {
      try {
        r.plan(model, "chat", newContext({}), { ...body, model });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(planErr("gpt-4o")).toMatchObject({ status: 503, code: "circuit_open" });
    expect((planErr("gpt-4o") as GatewayError).headers?.["retry-after"]).toBe("60");
    expect(planErr("nothing-serves-this")).toMatchObject({ status: 404, code: "model_not_found" });
    expect(r.plan("mistral-small", "chat", newContext({}), body).targets.map((t) => t.key)).toEqual(["mistral"]);
  });

  it("rejects bad conditions and content rules at load", () => {
    const bad = validateConfig(
      {
        strategy: {
          mode: "conditional",
          conditions: [{ key: "colour", value: "red", target_key: "openai" }],
          content_conditions: [{ type: "header", value: "x", target_key: "openai" }],
        },
        targets: [{ virtual_key: "openai" }],
      },
      {},
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["strategy.conditions[0].key", "strategy.content_conditions[0].field"]));
  });
});
