// The MCP tool loop end to end: real MCP servers (the official SDK's, over Streamable HTTP and
// stdio), the mock LLM upstream (it calls the first tool it is offered, then answers once it has a
// tool result), and the gateway driven by the official openai SDK.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { JsonObject } from "../../src/api/types.js";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { startMcpHttpServer, STDIO_SERVER, type TestMcpServer } from "../helpers/mcp-server.js";
import { until } from "../helpers/until.js";

const UPSTREAM_KEY = "sk-test-upstream-key-123456";
const mock = new MockUpstream({ chunks: 2 });
const looping = new MockUpstream({ chunks: 2, alwaysCallTools: true });
let base = "";
let loopingBase = "";
let weather: TestMcpServer;
let gw: TestGateway | undefined;

beforeAll(async () => {
  base = await mock.start();
  loopingBase = await looping.start();
  weather = await startMcpHttpServer((server, calls) => {
    server.registerTool("lookup_weather", { description: "Current weather for a city", inputSchema: { input: z.string() } }, ({ input }) => {
      calls.push({ tool: "lookup_weather", args: { input } });
      return { content: [{ type: "text", text: `Sunny in ${input}, 21 C` }] };
    });
    server.registerTool("forecast", { description: "Tomorrow's weather", inputSchema: { input: z.string() } }, ({ input }) => {
      calls.push({ tool: "forecast", args: { input } });
      return { content: [{ type: "text", text: "Rain" }] };
    });
    // Not a valid function name for OpenAI: never offered to the model.
    server.registerTool("weather.raw", { description: "Raw data" }, () => ({ content: [] }));
  });
});

afterEach(async () => {
  await gw?.close();
  gw = undefined;
  mock.requests.length = 0;
  looping.requests.length = 0;
  weather.calls.length = 0;
});

afterAll(async () => {
  await weather.close();
  await mock.close();
  await looping.close();
});

const MASTER = "fgw_0123456789abcdef0123456789abcdef";

async function start(mcpServers: unknown[], env: NodeJS.ProcessEnv = {}, upstream = base, extra: Record<string, unknown> = {}): Promise<TestGateway> {
  gw = await startGateway({ mcp_servers: mcpServers, ...extra }, { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: `${upstream}/v1`, ...env }, { masterKey: MASTER });
  await gw.server.currentRuntime.mcp?.settled();
  return gw;
}

/**
 * The mock's token counts for one question answered after one tool round: each turn's prompt is
 * ceil(question / 4) + 8 tokens, the call 12 completion tokens, the answer ceil(answer / 4).
 */
function twoTurnUsage(question: string): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = 2 * (Math.ceil(question.length / 4) + 8);
  const completion = 12 + Math.ceil(`Mock reply to: ${question}`.length / 4);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Whether a process runs (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const toolNames = (body: JsonObject | undefined): string[] => ((body?.tools ?? []) as Array<{ function: { name: string } }>).map((t) => t.function.name);

describe("MCP tool loop", () => {
  it("offers the servers' tools, runs the model's calls and answers with the final turn", async () => {
    const g = await start([{ name: "weather", url: weather.url }]);
    const res = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Paris" }] });

    // The client sees only the final answer.
    expect(res.choices[0]?.message.content).toBe("Mock reply to: Paris");
    expect(res.choices[0]?.message.tool_calls).toBeUndefined();
    expect(res.choices[0]?.finish_reason).toBe("stop");
    // The tool ran with the model's arguments.
    expect(weather.calls).toEqual([{ tool: "lookup_weather", args: { input: "Paris" } }]);
    // Two turns upstream: the first with the tools (the badly named one left out), the second with the call and its result.
    expect(mock.requests).toHaveLength(2);
    const [first, second] = mock.requests;
    expect(toolNames(first?.body)).toEqual(["lookup_weather", "forecast"]);
    expect((first?.body?.tools as JsonObject[])[0]).toMatchObject({
      type: "function",
      function: { name: "lookup_weather", description: "Current weather for a city", parameters: { type: "object", properties: { input: { type: "string" } } } },
    });
    expect(first?.body?.stream).toBe(false);
    const messages = second?.body?.messages as JsonObject[];
    expect(messages).toHaveLength(3);
    expect(messages[1]).toMatchObject({ role: "assistant", tool_calls: [{ id: "call_mock_0001", type: "function", function: { name: "lookup_weather" } }] });
    expect(messages[2]).toEqual({ role: "tool", tool_call_id: "call_mock_0001", content: "Sunny in Paris, 21 C" });
    // Usage counts both turns (the request log's too), not only the last.
    expect(res.usage).toMatchObject(twoTurnUsage("Paris"));
    await until("the request is logged", () => g.finished.length === 1);
    expect(g.finished[0]?.usage).toMatchObject(twoTurnUsage("Paris"));
  });

  it("prices every turn, and runs under the plugins (budget charges the whole loop)", async () => {
    const budget = { store_id: "mcp-loop", spend_limit_usd: 1000, input_per_m_tokens: 1_000_000, output_per_m_tokens: 1_000_000 };
    const g = await start([{ name: "weather", url: weather.url }], {}, base, {
      // $1 per token each way, so the cost is the token count.
      catalog: { models: { "openai/gpt-4o-mini": { input_per_m: 1_000_000, output_per_m: 1_000_000 } } },
      plugins: [
        { name: "budget", type: "guardrail", stage: "before_request", enabled: true, config: budget },
        { name: "budget", type: "guardrail", stage: "after_request", enabled: true, config: budget },
      ],
    });
    const res = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Bern" }] });
    expect(res.choices[0]?.message.content).toBe("Mock reply to: Bern");
    expect(weather.calls).toHaveLength(1);
    await until("the request is logged", () => g.finished.length === 1);
    const cost = twoTurnUsage("Bern").total_tokens;
    expect(g.finished[0]?.costUsd).toBeCloseTo(cost, 6);
    // The budget charged both turns to the key, not only the last one.
    const stats = (await g.server.currentRuntime.plugins.stats()).budget as { keys: Array<{ key_id: string; spent_usd: number }> };
    expect(stats.keys.find((k) => k.key_id === "master")?.spent_usd).toBeCloseTo(cost, 6);
  });

  it("keeps its MCP connections across a reload that leaves mcp_servers alone, and restarts them when they change", async () => {
    const servers = [{ name: "local", command: process.execPath, args: [STDIO_SERVER] }];
    const g = await start(servers);
    const pidOf = async (question: string): Promise<number> => {
      mock.requests.length = 0;
      await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: question }] });
      return Number(/pid=(\d+)/.exec(String((mock.requests[1]?.body?.messages as JsonObject[])[2]?.content))?.[1]);
    };
    const before = await pidOf("one");
    expect(await g.app.configManager.apply({ mcp_servers: servers, aliases: { fast: "gpt-4o-mini" } }, "test")).toMatchObject({ ok: true });
    expect(await pidOf("two")).toBe(before);
    expect(await g.app.configManager.apply({ mcp_servers: [{ ...servers[0], timeout_seconds: 10 }] }, "test")).toMatchObject({ ok: true });
    await g.server.currentRuntime.mcp?.settled();
    const after = await pidOf("three");
    expect(after).not.toBe(before);
    // The replaced hub's process stops once the old version is retired (at shutdown here).
    await g.close();
    gw = undefined;
    for (const pid of [before, after]) await until(`stdio server ${pid} exits`, () => !alive(pid), 10_000);
  });

  it("streams the final answer to a client that asked for a stream, with the usage of every turn", async () => {
    const g = await start([{ name: "weather", url: weather.url }]);
    const stream = await g.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Oslo" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Mock reply to: Oslo");
    expect(finish).toBe("stop");
    expect(usage).toMatchObject(twoTurnUsage("Oslo"));
    expect(mock.requests.map((r) => r.body?.stream)).toEqual([false, false]);
    expect(weather.calls).toHaveLength(1);
  });

  it("sends a wire that cannot carry tools (Replicate) the conversation alone, rather than failing the request", async () => {
    const g = await start([{ name: "weather", url: weather.url }], { REPLICATE_API_TOKEN: "r8-test-key-000000000000", REPLICATE_BASE_URL: `${base}/v1` });
    const res = await g.client.chat.completions.create({ model: "replicate/meta/meta-llama-3-8b-instruct", messages: [{ role: "user", content: "Quito" }] });
    expect(res.choices[0]?.message.content).toBe("Mock reply to: Quito");
    expect(weather.calls).toHaveLength(0);
    expect(mock.requests[0]?.path).toBe("/v1/models/meta/meta-llama-3-8b-instruct/predictions");
    expect(JSON.stringify(mock.requests[0]?.body)).not.toContain("lookup_weather");
  });

  it("leaves a request that brings its own tools to the client: nothing injected, no loop", async () => {
    const g = await start([{ name: "weather", url: weather.url }]);
    const res = await g.client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Rome" }],
      tools: [{ type: "function", function: { name: "my_tool", parameters: { type: "object", properties: {} } } }],
    });
    expect(res.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: "function", function: { name: "my_tool" } });
    expect(res.choices[0]?.finish_reason).toBe("tool_calls");
    expect(mock.requests).toHaveLength(1);
    expect(toolNames(mock.requests[0]?.body)).toEqual(["my_tool"]);
    expect(weather.calls).toHaveLength(0);
  });

  it("stops at max_call_depth: the last turn's calls are dropped and the answer is marked cut short", async () => {
    const g = await start([{ name: "weather", url: weather.url, max_call_depth: 2 }], {}, loopingBase);
    const res = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Lima" }] });
    expect(weather.calls).toHaveLength(2);
    expect(looping.requests).toHaveLength(3);
    expect(res.choices[0]?.message.tool_calls).toBeUndefined();
    expect(res.choices[0]?.finish_reason).toBe("length");
    expect(res.usage?.completion_tokens).toBe(36);
  });

  it("deduplicates tools across servers (the first listed wins) after each server's allowed_tools", async () => {
    const other = await startMcpHttpServer((server, calls) => {
      for (const name of ["lookup_weather", "convert_units"]) {
        server.registerTool(name, { inputSchema: { input: z.string() } }, () => {
          calls.push({ tool: name, args: {} });
          return { content: [{ type: "text", text: `from other: ${name}` }] };
        });
      }
    });
    try {
      let g = await start([
        { name: "weather", url: weather.url },
        { name: "other", url: other.url },
      ]);
      await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "q" }] });
      expect(toolNames(mock.requests[0]?.body)).toEqual(["lookup_weather", "forecast", "convert_units"]);
      expect(weather.calls).toHaveLength(1);
      expect(other.calls).toHaveLength(0);
      await g.close();
      mock.requests.length = 0;
      weather.calls.length = 0;

      // Filtered out of the first server, the name falls to the second.
      g = await start([
        { name: "weather", url: weather.url, allowed_tools: ["forecast"] },
        { name: "other", url: other.url },
      ]);
      await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "q" }] });
      expect(toolNames(mock.requests[0]?.body)).toEqual(["forecast", "lookup_weather", "convert_units"]);
      // The mock calls the first tool offered: forecast, on the first server.
      expect(weather.calls).toEqual([{ tool: "forecast", args: { input: "q" } }]);
    } finally {
      await other.close();
    }
  });

  it("reconnects to a stdio server that exited, with its tools withdrawn meanwhile", async () => {
    const g = await start([{ name: "local", command: process.execPath, args: [STDIO_SERVER] }]);
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "first" }] });
    const pid = Number(/pid=(\d+)/.exec(String((mock.requests[1]?.body?.messages as JsonObject[])[2]?.content))?.[1]);
    process.kill(pid, "SIGKILL");
    const hub = g.server.currentRuntime.mcp;
    await until("the lost server is withdrawn", () => hub?.status()[0]?.ready === false, 10_000);
    await until("the server is back", () => hub?.status()[0]?.ready === true, 15_000);
    mock.requests.length = 0;
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "second" }] });
    const again = Number(/pid=(\d+)/.exec(String((mock.requests[1]?.body?.messages as JsonObject[])[2]?.content))?.[1]);
    expect(again).toBeGreaterThan(0);
    expect(again).not.toBe(pid);
  });

  it("passes a tool's own error to the model, and says when a call timed out", async () => {
    const tools = await startMcpHttpServer((server) => {
      server.registerTool("flaky", { inputSchema: { input: z.string() } }, () => {
        throw new Error("database offline");
      });
    });
    const slow = await startMcpHttpServer((server) => {
      server.registerTool("slow", { inputSchema: { input: z.string() } }, async () => {
        await sleep(3000);
        return { content: [{ type: "text", text: "late" }] };
      });
    });
    try {
      let g = await start([{ name: "flaky", url: tools.url }]);
      await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "a" }] });
      const failed = (mock.requests[1]?.body?.messages as JsonObject[])[2];
      expect(failed).toMatchObject({ role: "tool", tool_call_id: "call_mock_0001" });
      expect(String(failed?.content)).toContain("database offline");
      await g.close();
      mock.requests.length = 0;

      g = await start([{ name: "slow", url: slow.url, timeout_seconds: 0.3 }]);
      const res = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "b" }] });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: b");
      expect((mock.requests[1]?.body?.messages as JsonObject[])[2]?.content).toBe('{"error":"the tool call timed out"}');
    } finally {
      await tools.close();
      await slow.close();
    }
  });

  it("withdraws an HTTP server that stopped answering: the model is told it is unavailable", async () => {
    const gone = await startMcpHttpServer((server) => {
      server.registerTool("vanishing", { inputSchema: { input: z.string() } }, () => ({ content: [{ type: "text", text: "here" }] }));
    });
    const g = await start([{ name: "gone", url: gone.url }]).catch(async (err: unknown) => {
      await gone.close();
      throw err;
    });
    await gone.close();
    expect(g.server.currentRuntime.mcp?.status()[0]?.ready).toBe(true);
    const res = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "c" }] });
    expect(res.choices[0]?.message.content).toBe("Mock reply to: c");
    expect((mock.requests[1]?.body?.messages as JsonObject[])[2]?.content).toBe('{"error":"the tool server is unavailable"}');
    // Its tools are withdrawn until it is back: the next request goes out without them.
    expect(g.server.currentRuntime.mcp?.status()[0]).toMatchObject({ ready: false, tools: 0 });
    mock.requests.length = 0;
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "d" }] });
    expect(mock.requests[0]?.body?.tools).toBeUndefined();
  });

  it("applies request_timeout to the whole loop, tool calls included, and logs a client that left mid-call as 499", async () => {
    const slow = await startMcpHttpServer((server) => {
      server.registerTool("slow", { inputSchema: { input: z.string() } }, async () => {
        await sleep(5000);
        return { content: [{ type: "text", text: "late" }] };
      });
    });
    try {
      let g = await start([{ name: "slow", url: slow.url }], {}, base, { request_timeout: "400ms" });
      const started = Date.now();
      const err = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "t" }] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 504, code: "request_timeout" });
      expect(Date.now() - started).toBeLessThan(3000);
      await g.close();

      g = await start([{ name: "slow", url: slow.url }]);
      const cancel = new AbortController();
      const pending = g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "u" }] }, { signal: cancel.signal }).catch((e: unknown) => e);
      await until("the tool call is running", () => mock.requests.length === 1 && g.server.currentRuntime.mcp !== undefined, 5000);
      await sleep(200);
      cancel.abort();
      await pending;
      await until("the request is logged", () => g.finished.length === 1, 5000);
      expect(g.finished[0]?.status).toBe(499);
      // The first turn's tokens are still counted.
      expect(g.finished[0]?.usage?.completion_tokens).toBe(12);
    } finally {
      await slow.close();
    }
  });

  it("sends the configured headers, with ${VAR} resolved, to an HTTP server", async () => {
    const g = await start([{ name: "weather", url: weather.url, headers: { Authorization: "Bearer ${MCP_TOKEN}" } }], { MCP_TOKEN: "tok-abc" });
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(weather.lastHeaders.authorization).toBe("Bearer tok-abc");
  });

  it("runs a stdio server without the gateway's environment, and stops it at shutdown", async () => {
    const g = await start([{ name: "local", command: process.execPath, args: [STDIO_SERVER], env: { TOOL_TOKEN: "${TOOL_TOKEN}" } }], { TOOL_TOKEN: "tok-123" });
    expect(g.server.currentRuntime.mcp?.status()).toEqual([{ name: "local", transport: "stdio", ready: true, required: false, tools: 1 }]);
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "env?" }] });
    const result = String((mock.requests[1]?.body?.messages as JsonObject[])[2]?.content);
    // The gateway's provider key never reaches the tool server; its own env does.
    expect(result).toMatch(/^OPENAI_API_KEY=absent TOOL_TOKEN=tok-123 pid=\d+$/);
    const pid = Number(/pid=(\d+)/.exec(result)?.[1]);
    expect(alive(pid)).toBe(true);
    await g.close();
    gw = undefined;
    await until("the stdio server exits", () => !alive(pid), 10_000);
  });

  it("serves without the tools of a server it cannot reach, and /readyz fails while a required one is down", async () => {
    weather.lastHeaders = {};
    const g = await start([
      { name: "down", url: "http://127.0.0.1:9/mcp", required: true },
      { name: "no-token", url: weather.url, headers: { Authorization: "Bearer ${UNSET_MCP_TOKEN}" } },
    ]);
    const res = await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "plain" }] });
    expect(res.choices[0]?.message.content).toBe("Mock reply to: plain");
    expect(mock.requests[0]?.body?.tools).toBeUndefined();

    const ready = await fetch(`${g.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as JsonObject;
    expect(body).toMatchObject({ status: "not_ready", reason: "required mcp server unavailable" });
    expect(body.mcp_servers).toEqual([
      { name: "down", transport: "http", ready: false, required: true, tools: 0 },
      { name: "no-token", transport: "http", ready: false, required: false, tools: 0 },
    ]);
    const health = (await (await fetch(`${g.url}/health`)).json()) as JsonObject;
    expect(health.mcp_servers).toEqual(body.mcp_servers);
    // The unset variable's server was never asked.
    expect(weather.lastHeaders).toEqual({});
  });

  it("is ready when every required server is connected, and counts tool calls in /metrics", async () => {
    const g = await start([{ name: "weather-metrics", url: weather.url, required: true }]);
    const ready = await fetch(`${g.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", mcp_servers: [{ name: "weather-metrics", transport: "http", ready: true, required: true, tools: 2 }] });
    await g.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "m" }] });
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toContain('ferrogw_mcp_tool_calls_total{server_name="weather-metrics",tool_name="lookup_weather",status="ok"} 1');
    expect(metrics).toContain('ferrogw_mcp_server_up{server_name="weather-metrics"} 1');
    expect(metrics).toMatch(/ferrogw_mcp_tool_call_duration_seconds_count\{server_name="weather-metrics",tool_name="lookup_weather"\} 1/);
  });
});
