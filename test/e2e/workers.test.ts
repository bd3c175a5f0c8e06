// `ferrogw --workers 2`: worker threads on one port, state that must be global (a memory rate
// limit, the response cache, API key revocations, configs applied through the admin API) shared
// by every worker, and a drain on SIGTERM that lets a request in flight finish.
// (Replacing a crashed worker: test/unit/supervisor.test.ts.)
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { MockUpstream } from "../mock-upstream/server.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

async function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(process.platform !== "linux")("ferrogw --workers 2", () => {
  it("shares a memory rate limit across workers and drains on SIGTERM", { timeout: 180_000 }, async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const port = 20000 + Math.floor(Math.random() * 2000);
    const cwd = mkdtempSync(join(tmpdir(), "fgw-workers-"));
    const config = join(cwd, "config.yaml");
    writeFileSync(
      config,
      ["plugins:", "  - name: rate-limit", "    type: guardrail", "    stage: before_request", "    config: { requests_per_second: 0.01, burst: 4 }", ""].join("\n"),
    );
    const child = spawn(process.execPath, [BIN, "serve", "--config", config, "--workers", "2"], {
      cwd,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", OPENAI_API_KEY: "sk-test-0000000000", OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    child.stdout.on("data", (d: Buffer) => (logs += d.toString()));
    child.stderr.on("data", (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // One connection per request, so the kernel spreads them over both workers.
    const post = async (): Promise<number> => {
      const agent = new Agent();
      try {
        const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
          dispatcher: agent,
        });
        await res.body.dump();
        return res.statusCode;
      } finally {
        await agent.close();
      }
    };
    try {
      await until("ferrogw listening", () => logs.includes("ferrogw listening"));
      expect(logs).toMatch(/"workers":2/);

      // A slow request takes the first of 4 tokens (refill: 1 per 100 s) and is still upstream
      // when SIGTERM comes; of 12 more, 3 pass in all (not 3 or 4 per worker).
      mock.enqueue({ delayMs: 6000 });
      const slow = post();
      await until("the slow request upstream", () => mock.requests.length === 1);
      const statuses = await Promise.all(Array.from({ length: 12 }, () => post()));
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(9);

      // /metrics counts the whole gateway, whichever worker answers the scrape.
      for (let i = 0; i < 4; i++) {
        const agent = new Agent();
        const res = await request(`http://127.0.0.1:${port}/metrics`, { dispatcher: agent });
        const text = await res.body.text();
        await agent.close();
        expect(text).toMatch(/ferrogw_requests_total\{provider="none",model="gpt-4o-mini",status="429",stream="false"\} 9\n/);
        expect(text).toMatch(/ferrogw_requests_total\{provider="openai",model="gpt-4o-mini",status="200",stream="false"\} 3\n/);
        expect(text.match(/^ferrogw_process_process_start_time_seconds /gm)).toHaveLength(1);
      }
      child.kill("SIGTERM");
      expect(await slow).toBe(200);
    } finally {
      child.kill("SIGTERM");
      const code = await exited;
      await mock.close();
      expect(code).toBe(0);
    }
    expect(logs).toContain("shutting down");
  });

  it("a key revoked and a config applied through the admin API take effect in every worker at once", { timeout: 180_000 }, async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const port = 20000 + Math.floor(Math.random() * 2000);
    const cwd = mkdtempSync(join(tmpdir(), "fgw-workers-admin-"));
    const master = "mk-test-0123456789abcdef";
    const child = spawn(process.execPath, [BIN, "serve", "--workers", "2"], {
      cwd,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", MASTER_KEY: master, OPENAI_API_KEY: "sk-test-0000000000", OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    child.stdout.on("data", (d: Buffer) => (logs += d.toString()));
    child.stderr.on("data", (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // A fresh connection per call: the kernel hands them to either worker, so ten calls reach
    // both (all ten on one worker has a chance of 1 in 512).
    const call = async (method: "GET" | "POST" | "PUT", path: string, key: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const agent = new Agent();
      try {
        const res = await request(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: body === undefined ? undefined : JSON.stringify(body),
          dispatcher: agent,
        });
        return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
      } finally {
        await agent.close();
      }
    };
    const chat = (key: string, content = "hi") => call("POST", "/v1/chat/completions", key, { model: "gpt-4o-mini", messages: [{ role: "user", content }] });
    const tenTimes = async (fn: () => Promise<{ status: number }>): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 10; i++) out.push((await fn()).status);
      return out;
    };
    try {
      await until("ferrogw listening", () => logs.includes("ferrogw listening"));
      const created = await call("POST", "/admin/keys", master, { name: "team-a" });
      expect(created.status).toBe(201);
      const key = created.json.key as string;
      // Every worker has now looked the key up and cached it (the cache keeps keys for 30 s).
      expect(await tenTimes(() => chat(key))).toEqual(Array(10).fill(200));
      expect((await call("POST", `/admin/keys/${String(created.json.id)}/revoke`, master)).status).toBe(200);
      expect(await tenTimes(() => chat(key))).toEqual(Array(10).fill(401));

      const applied = await call("PUT", "/admin/config", master, {
        plugins: [{ name: "word-filter", type: "guardrail", stage: "before_request", config: { blocked_words: ["forbidden"] } }],
      });
      expect(applied.status).toBe(200);
      expect(await tenTimes(() => chat(master, "a forbidden word"))).toEqual(Array(10).fill(400));
    } finally {
      child.kill("SIGTERM");
      const code = await exited;
      await mock.close();
      expect(code).toBe(0);
    }
  });

  it("shares the memory response cache across workers", { timeout: 180_000 }, async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const port = 20000 + Math.floor(Math.random() * 2000);
    const cwd = mkdtempSync(join(tmpdir(), "fgw-workers-cache-"));
    const config = join(cwd, "config.yaml");
    writeFileSync(config, ["plugins:", "  - name: response-cache", "    type: transform", "    stage: before_request", "    config: { max_age: 60 }", ""].join("\n"));
    const child = spawn(process.execPath, [BIN, "serve", "--config", config, "--workers", "2"], {
      cwd,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", OPENAI_API_KEY: "sk-test-0000000000", OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    child.stdout.on("data", (d: Buffer) => (logs += d.toString()));
    child.stderr.on("data", (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const ask = async (): Promise<string | undefined> => {
      const agent = new Agent();
      try {
        const res = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", temperature: 0, messages: [{ role: "user", content: "cache me" }] }),
          dispatcher: agent,
        });
        await res.body.dump();
        expect(res.statusCode).toBe(200);
        return res.headers["x-ferro-cache"] as string | undefined;
      } finally {
        await agent.close();
      }
    };
    try {
      await until("ferrogw listening", () => logs.includes("ferrogw listening"));
      expect(await ask()).toBe("miss");
      // The entry is written after the response; then ten fresh connections, over both workers.
      await until("the entry cached", async () => (await ask()) === "hit");
      const rest: Array<string | undefined> = [];
      for (let i = 0; i < 10; i++) rest.push(await ask());
      expect(rest).toEqual(Array(10).fill("hit"));
      expect(mock.requests).toHaveLength(1);
    } finally {
      child.kill("SIGTERM");
      const code = await exited;
      await mock.close();
      expect(code).toBe(0);
    }
  });
});
