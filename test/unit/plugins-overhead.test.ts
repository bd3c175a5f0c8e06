// The product brief's plugin set (word-filter, max-token, rate-limit, request-logger) on the
// request path: its hooks must stay synchronous (no promise comes back), so a request with these
// plugins never waits a turn of the event loop for them. Their cost is measured by the benchmark
// (npm run bench, the plugin row), not here; the in-process figure is printed for the record.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ChatCompletion, ChatRequest } from "../../src/api/types.js";
import { configSchema } from "../../src/config/schema.js";
import { newContext } from "../../src/server/context.js";
import { buildPipeline } from "../../src/plugins/pipeline.js";
import { setRequestLogDestination } from "../../src/plugins/request-logger.js";

describe("plugin overhead", () => {
  it("word-filter + max-token + rate-limit + request-logger: every hook synchronous", async () => {
    setRequestLogDestination(new Writable({ write: (_c, _e, cb) => cb() }));
    const plugins = configSchema.parse({
      plugins: [
        { name: "word-filter", stage: "before_request", enabled: true, config: { blocked_words: ["bench-blocked-word", "password", "secret", "confidential", "internal only"] } },
        { name: "max-token", stage: "before_request", enabled: true, config: { max_tokens: 4096, max_messages: 50 } },
        { name: "rate-limit", stage: "before_request", enabled: true, config: { requests_per_second: 1_000_000, key_rpm: 100_000_000, user_rpm: 100_000_000 } },
        { name: "request-logger", stage: "before_request", enabled: true, config: { level: "info" } },
        { name: "request-logger", stage: "after_request", enabled: true, config: { level: "info" } },
      ],
    }).plugins;
    const p = buildPipeline(plugins, { env: { LOG_LEVEL: "silent" } });
    setRequestLogDestination(undefined);
    const completion: ChatCompletion = {
      id: "x",
      object: "chat.completion",
      created: 1,
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: "Mock reply", refusal: null }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    };
    let asyncHooks = 0;
    const run = (i: number): void => {
      const ctx = newContext({ authorization: "Bearer x" });
      ctx.keyId = `key-${i % 16}`;
      const req: ChatRequest = {
        model: "gpt-4o-mini",
        user: `user-${i % 64}`,
        max_tokens: 256,
        messages: [
          { role: "system", content: "You are a helpful assistant. Answer briefly and precisely." },
          { role: "user", content: "Summarise the plot of a novel about a lighthouse keeper in three sentences, please." },
        ],
      };
      const pc = p.begin(ctx, req);
      if (p.beforeRequest(pc) !== undefined) asyncHooks++;
      pc.response = { stream: false, cached: false, completion, usage: completion.usage, complete: true };
      if (p.afterResponse(pc) !== undefined) asyncHooks++;
    };
    const rounds = async (count: number): Promise<number> => {
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < count; r++) {
        for (let i = 0; i < 500; i++) run(r * 500 + i);
        // A turn of the event loop between bursts, as between requests (the logger's batches).
        await new Promise((res) => setImmediate(res));
      }
      return Number(process.hrtime.bigint() - t0) / (count * 500) / 1000;
    };
    await rounds(40);
    const perRequestUs = await rounds(100);
    console.log(`plugin pipeline overhead (word-filter, max-token, rate-limit, request-logger): ${perRequestUs.toFixed(2)} µs per request`);
    expect(asyncHooks).toBe(0);
    await p.close();
  });
});
