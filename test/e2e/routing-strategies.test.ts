// Routing strategies end to end: several mock upstreams (each its own provider), the gateway in
// front, and the official SDK driving it. Distributions are checked over ~100 requests.
import { afterEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

interface Setup {
  gw: TestGateway;
  mocks: Record<string, MockUpstream>;
}

let open: Setup | undefined;
afterEach(async () => {
  if (!open) return;
  await open.gw.close();
  await Promise.all(Object.values(open.mocks).map((m) => m.close()));
  open = undefined;
});

/** One OpenAI-wire mock per name, each configured as its own provider (`type: openai`). */
async function setup(names: string[], config: Record<string, unknown>, mockOpts: Record<string, ConstructorParameters<typeof MockUpstream>[0]> = {}): Promise<Setup> {
  const mocks: Record<string, MockUpstream> = {};
  const providers: Record<string, unknown> = {};
  for (const name of names) {
    const mock = new MockUpstream({ chunks: 2, ...mockOpts[name] });
    mocks[name] = mock;
    providers[name] = { type: "openai", base_url: `${await mock.start()}/v1`, api_key: `sk-${name}-0123456789` };
  }
  const gw = await startGateway({ providers, ...config }, {});
  open = { gw, mocks };
  return open;
}

const chat = (content = "hi", extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming => ({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content }],
  ...extra,
});

/** Runs `n` calls, `width` at a time (the counts do not depend on order). */
async function inBatches<T>(n: number, width: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => call(i + j)))));
  return out;
}

function counts(mocks: Record<string, MockUpstream>): Record<string, number> {
  return Object.fromEntries(Object.entries(mocks).map(([k, m]) => [k, m.requests.length]));
}

describe("loadbalance", () => {
  it("spreads 100 requests by weight, none to a zero-weight target", async () => {
    const { gw, mocks } = await setup(["a", "b", "c", "d"], {
      strategy: { mode: "loadbalance" },
      targets: [
        { virtual_key: "a", weight: 2 },
        { virtual_key: "b", weight: 1 },
        { virtual_key: "c", weight: 1 },
        { virtual_key: "d", weight: 0 },
      ],
    });
    const seen: Record<string, number> = {};
    await inBatches(100, 10, async () => {
      const { response } = await gw.client.chat.completions.create(chat()).withResponse();
      expect(response.headers.get("x-ferro-strategy")).toBe("loadbalance");
      const t = response.headers.get("x-ferro-target") as string;
      seen[t] = (seen[t] ?? 0) + 1;
    });
    expect(counts(mocks)).toEqual({ a: 50, b: 25, c: 25, d: 0 });
    expect(seen).toEqual({ a: 50, b: 25, c: 25 });
  });
});

describe("ab-test", () => {
  const abConfig = (sticky?: string): Record<string, unknown> => ({
    strategy: {
      mode: "ab-test",
      sticky_by: sticky,
      ab_variants: [
        { target_key: "a", weight: 70, label: "control" },
        { target_key: "b", weight: 30, label: "challenger" },
      ],
    },
    targets: [{ virtual_key: "a" }, { virtual_key: "b" }],
  });

  it("splits ~100 requests 70/30 and reports the variant label", async () => {
    const { gw, mocks } = await setup(["a", "b"], abConfig());
    const labels: Record<string, number> = {};
    await inBatches(100, 10, async () => {
      const { response } = await gw.client.chat.completions.create(chat()).withResponse();
      const v = response.headers.get("x-ferro-variant") as string;
      labels[v] = (labels[v] ?? 0) + 1;
      expect(response.headers.get("x-ferro-target")).toBe(v === "control" ? "a" : "b");
    });
    // Binomial(100, 0.7): sd ≈ 4.6, so ±16 is > 3 sd.
    expect(mocks.a?.requests.length).toBeGreaterThanOrEqual(54);
    expect(mocks.a?.requests.length).toBeLessThanOrEqual(86);
    expect((labels.control ?? 0) + (labels.challenger ?? 0)).toBe(100);
  });

  it("keeps each caller on one variant with sticky_by: user", async () => {
    const { gw } = await setup(["a", "b"], abConfig("user"));
    const perUser: Record<string, Set<string>> = {};
    for (let round = 0; round < 4; round++) {
      await inBatches(20, 10, async (u) => {
        const { response } = await gw.client.chat.completions.create(chat("hi", { user: `user-${u}` })).withResponse();
        (perUser[`user-${u}`] ??= new Set()).add(response.headers.get("x-ferro-variant") as string);
      });
    }
    for (const variants of Object.values(perUser)) expect(variants.size).toBe(1);
    const all = new Set(Object.values(perUser).flatMap((s) => [...s]));
    expect(all).toEqual(new Set(["control", "challenger"]));
  });
});

describe("least-latency", () => {
  it("shifts to the faster upstream, away when it slows down, and back when it recovers", async () => {
    const { gw, mocks } = await setup(["fast", "slow"], { strategy: { mode: "least-latency" }, targets: [{ virtual_key: "slow" }, { virtual_key: "fast" }] }, {
      fast: { latencyMs: 0 },
      slow: { latencyMs: 30 },
    });
    const fast = mocks.fast as MockUpstream;
    const slow = mocks.slow as MockUpstream;
    const send = async (): Promise<string> => {
      const { response } = await gw.client.chat.completions.create(chat()).withResponse();
      return response.headers.get("x-ferro-target") as string;
    };
    /** Sends until 8 of the last 10 requests went to `want`; false if that never happens within `max`. */
    const settlesOn = async (want: string, max: number): Promise<boolean> => {
      const window: string[] = [];
      for (let i = 0; i < max; i++) {
        window.push(await send());
        if (window.length > 10) window.shift();
        if (window.length === 10 && window.filter((t) => t === want).length >= 8) return true;
      }
      return false;
    };
    // Timing on a loaded CI machine is noisy, so each phase waits for traffic to settle rather
    // than counting a fixed window.
    expect(await settlesOn("fast", 100)).toBe(true);
    fast.options.latencyMs = 120;
    expect(await settlesOn("slow", 100)).toBe(true);
    // Recovery: exploration sends fast a few requests, its average falls, and traffic follows.
    fast.options.latencyMs = 0;
    expect(await settlesOn("fast", 500)).toBe(true);
    expect(slow.requests.length).toBeGreaterThan(0);
  });
});

describe("cost-optimized", () => {
  it("sends each request to the cheapest target for the model it would be sent", async () => {
    const openaiMock = new MockUpstream();
    const deepseekMock = new MockUpstream();
    const env = {
      OPENAI_API_KEY: "sk-openai-0123456789",
      OPENAI_BASE_URL: `${await openaiMock.start()}/v1`,
      DEEPSEEK_API_KEY: "sk-deepseek-0123456789",
      DEEPSEEK_BASE_URL: `${await deepseekMock.start()}/v1`,
    };
    const gw = await startGateway(
      {
        strategy: { mode: "cost-optimized" },
        // Pinned prices (USD per 1M tokens), so the test does not depend on the catalog's dataset.
        catalog: {
          models: {
            "openai/gpt-4o": { input_per_m: 2.5, output_per_m: 10 },
            "openai/gpt-4o-mini": { input_per_m: 0.15, output_per_m: 0.6 },
            "deepseek/deepseek-chat": { input_per_m: 0.27, output_per_m: 1.1 },
          },
        },
        targets: [
          { virtual_key: "openai", model_map: { smart: "gpt-4o", small: "gpt-4o-mini" } },
          { virtual_key: "deepseek", model_map: { smart: "deepseek-chat", small: "deepseek-chat" } },
        ],
      },
      env,
    );
    open = { gw, mocks: { openai: openaiMock, deepseek: deepseekMock } };
    for (let i = 0; i < 5; i++) {
      const { response } = await gw.client.chat.completions.create(chat("hello", { model: "smart" })).withResponse();
      expect(response.headers.get("x-ferro-target")).toBe("deepseek");
    }
    expect(deepseekMock.requests.at(-1)?.body?.model).toBe("deepseek-chat");
    const { response } = await gw.client.chat.completions.create(chat("hello", { model: "small" })).withResponse();
    expect(response.headers.get("x-ferro-target")).toBe("openai");
    expect(openaiMock.requests.at(-1)?.body?.model).toBe("gpt-4o-mini");
    expect(openaiMock.requests.length).toBe(1);
  });
});

describe("content-based", () => {
  it("routes by any user message, header and metadata; no match goes to the first target", async () => {
    const { gw, mocks } = await setup(["general", "coder", "translator", "vip"], {
      strategy: {
        mode: "content-based",
        content_conditions: [
          { type: "prompt_regex", value: "(?i)\\b(code|function|class)\\b", target_key: "coder" },
          { type: "prompt_contains", value: "translate", target_key: "translator" },
          { type: "header", field: "x-tier", value: "gold", target_key: "vip" },
          { type: "metadata", field: "team", value: "legal", target_key: "vip" },
        ],
      },
      targets: [{ virtual_key: "general" }, { virtual_key: "coder" }, { virtual_key: "translator" }, { virtual_key: "vip" }],
    });
    const target = async (params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, headers: Record<string, string> = {}): Promise<[string, string]> => {
      const { response } = await gw.client.chat.completions.create(params, { headers }).withResponse();
      return [response.headers.get("x-ferro-target") as string, response.headers.get("x-ferro-variant") as string];
    };
    expect(await target(chat("Write a FUNCTION that sorts"))).toEqual(["coder", "content_conditions[0]"]);
    expect(await target(chat("Please Translate to French"))).toEqual(["translator", "content_conditions[1]"]);
    expect(await target(chat("hello"), { "x-tier": "gold" })).toEqual(["vip", "content_conditions[2]"]);
    expect(await target(chat("hello", { metadata: { team: "legal" } }))).toEqual(["vip", "content_conditions[3]"]);
    expect(await target(chat("just chatting"))).toEqual(["general", "default"]);
    // Every user message counts, as in the reference; the assistant's do not.
    // A user turn, the assistant's answer, then the user's last turn.
    const turns = (first: string, answer: string, last: string): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming => ({
      model: "gpt-4o-mini",
      messages: [
        { role: "user", content: first },
        { role: "assistant", content: answer },
        { role: "user", content: last },
      ],
    });
    expect(await target(turns("write some code", "sure", "actually, never mind"))).toEqual(["coder", "content_conditions[0]"]);
    expect(await target(turns("hi", "shall I translate some code?", "no thanks"))).toEqual(["general", "default"]);
    expect(counts(mocks)).toEqual({ general: 2, coder: 2, translator: 1, vip: 2 });
  });

  it("asks only the matched target: its failure is the answer", async () => {
    const { gw, mocks } = await setup(["general", "coder"], {
      strategy: { mode: "content-based", content_conditions: [{ type: "prompt_contains", value: "code", target_key: "coder" }] },
      targets: [{ virtual_key: "general" }, { virtual_key: "coder" }],
    });
    mocks.coder?.enqueue({ status: 500 });
    const err = await gw.client.chat.completions.create(chat("code please")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(counts(mocks)).toEqual({ general: 0, coder: 1 });
  });
});

describe("conditional", () => {
  it("routes by model, header, metadata and api key; a rule's target is the only one asked", async () => {
    const { gw, mocks } = await setup(["a", "b", "c"], {
      strategy: {
        mode: "conditional",
        conditions: [
          { key: "model", value: "gpt-4o", target_key: "a" },
          { key: "header:x-region", value: "eu", target_key: "b" },
          { key: "metadata.tenant", value: "acme", target_key: "c" },
          { key: "model", value: "special", target_key: "a" },
        ],
      },
      targets: [{ virtual_key: "a" }, { virtual_key: "b", model_map: { special: "gpt-4o" } }, { virtual_key: "c" }],
    });
    const hit = async (params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, headers: Record<string, string> = {}): Promise<string> => {
      const { response } = await gw.client.chat.completions.create(params, { headers }).withResponse();
      expect(response.headers.get("x-ferro-strategy")).toBe("conditional");
      return `${response.headers.get("x-ferro-target")} ${response.headers.get("x-ferro-variant")}`;
    };
    expect(await hit(chat("x", { model: "gpt-4o" }), { "x-region": "eu" })).toBe("a conditions[0]");
    expect(await hit(chat("x"), { "x-region": "eu" })).toBe("b conditions[1]");
    expect(await hit(chat("x", { metadata: { tenant: "acme" } }))).toBe("c conditions[2]");
    expect(await hit(chat("x"))).toBe("a default");
    // "special" matches the rule for a, which does not serve it: 404, though b serves it.
    const err = await gw.client.chat.completions.create(chat("x", { model: "special" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    expect(counts(mocks)).toEqual({ a: 2, b: 1, c: 1 });
  });
});

describe("x-ferro-strategy override", () => {
  it("switches the mode for one request; an invalid value is 400 in OpenAI's error shape", async () => {
    const { gw, mocks } = await setup(["a", "b"], {
      strategy: { mode: "fallback" },
      targets: [
        { virtual_key: "a", weight: 1 },
        { virtual_key: "b", weight: 1 },
      ],
    });
    for (let i = 0; i < 10; i++) await gw.client.chat.completions.create(chat(), { headers: { "x-ferro-strategy": "loadbalance" } });
    expect(counts(mocks)).toEqual({ a: 5, b: 5 });
    const { response } = await gw.client.chat.completions.create(chat()).withResponse();
    expect(response.headers.get("x-ferro-strategy")).toBe("fallback");
    expect(response.headers.get("x-ferro-target")).toBe("a");

    const err = await gw.client.chat.completions.create(chat(), { headers: { "x-ferro-strategy": "fastest" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("invalid_value");
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: "invalid_request_error" });
    const unconfigured = await gw.client.chat.completions.create(chat(), { headers: { "x-ferro-strategy": "ab-test" } }).catch((e: unknown) => e);
    expect(unconfigured).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe("with the response cache", () => {
  it("never serves one route's cached answer to a request a rule sends elsewhere", async () => {
    const cache = { max_age: 60 };
    const { gw, mocks } = await setup(
      ["a", "b"],
      {
        strategy: { mode: "conditional", conditions: [{ key: "header:x-tier", value: "gold", target_key: "b" }] },
        targets: [{ virtual_key: "a" }, { virtual_key: "b" }],
        plugins: [{ name: "response-cache", type: "transform", stage: "before_request", enabled: true, config: cache }],
      },
      { a: { text: "answer from a" }, b: { text: "answer from b" } },
    );
    const ask = async (headers: Record<string, string> = {}): Promise<string> => {
      const { data, response } = await gw.client.chat.completions.create(chat("same question", { temperature: 0 }), { headers }).withResponse();
      return `${data.choices[0]?.message.content} ${response.headers.get("x-ferro-cache")}`;
    };
    expect(await ask({ "x-tier": "gold" })).toBe("answer from b miss");
    expect(await ask()).toBe("answer from a miss");
    expect(await ask({ "x-tier": "gold" })).toBe("answer from b hit");
    expect(await ask({ "x-tier": "silver" })).toBe("answer from a hit");
    expect(counts(mocks)).toEqual({ a: 1, b: 1 });
  });
});
