// `ferrogw --workers 2`: worker threads on one port, state that must be global (a memory rate
// limit, the response cache, API key revocations, configs applied through the admin API, the
// metrics) shared by every worker, and a drain on SIGTERM that lets a request in flight finish.
// (Replacing a crashed worker: test/unit/supervisor.test.ts.)
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { Agent, request } from "undici";
import { MockUpstream } from "../mock-upstream/server.js";
import { until } from "../helpers/until.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface Running {
  mock: MockUpstream;
  port: number;
  logs(): string;
  /**
   * One request on a connection of its own: the kernel hands new connections to either worker,
   * so ten calls reach both (all ten on one worker has a chance of 1 in 512).
   */
  fresh(method: "GET" | "POST" | "PUT", path: string, opts?: { key?: string; body?: unknown }): Promise<Reply>;
  /** SIGTERM (once); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `ferrogw serve --workers 2` with a mock OpenAI upstream and an optional config file. */
async function startWorkers(configLines: string[] | undefined, env: Record<string, string> = {}): Promise<Running> {
  const mock = new MockUpstream();
  const base = await mock.start();
  const port = 20000 + Math.floor(Math.random() * 2000);
  const cwd = mkdtempSync(join(tmpdir(), "fgw-workers-"));
  const args = [BIN, "serve", "--workers", "2"];
  if (configLines) {
    writeFileSync(join(cwd, "config.yaml"), `${configLines.join("\n")}\n`);
    args.push("--config", join(cwd, "config.yaml"));
  }
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", OPENAI_API_KEY: "sk-test-0000000000", OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logs = "";
  child.stdout.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr.on("data", (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await until("ferrogw listening", () => logs.includes("ferrogw listening"));
  let stopped: Promise<number | null> | undefined;
  return {
    mock,
    port,
    logs: () => logs,
    fresh: async (method, path, opts = {}) => {
      const agent = new Agent();
      try {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (opts.key) headers.authorization = `Bearer ${opts.key}`;
        const res = await request(`http://127.0.0.1:${port}${path}`, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          dispatcher: agent,
        });
        return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
      } finally {
        await agent.close();
      }
    },
    stop: () =>
      (stopped ??= (async () => {
        child.kill("SIGTERM");
        const code = await exited;
        await mock.close();
        return code;
      })()),
  };
}

const chatBody = (content = "hi", extra: Record<string, unknown> = {}) => ({ model: "gpt-4o-mini", messages: [{ role: "user", content }], ...extra });

async function tenStatuses(fn: () => Promise<Reply>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 10; i++) out.push((await fn()).status);
  return out;
}

describe.skipIf(process.platform !== "linux")("ferrogw --workers 2", () => {
  it("shares a memory rate limit and the metrics across workers, and drains on SIGTERM", { timeout: 180_000 }, async () => {
    const gw = await startWorkers(["plugins:", "  - name: rate-limit", "    type: guardrail", "    stage: before_request", "    enabled: true", "    config: { requests_per_second: 0.01, burst: 4 }"]);
    try {
      expect(gw.logs()).toMatch(/"workers":2/);
      // The workers' copies of the listening socket keep the deep accept queue (Node re-listens
      // a descriptor with a backlog of 511 unless told otherwise, and 1000 clients connecting at
      // once then lose handshakes).
      const ss = spawnSync("ss", ["-Hltn", `sport = :${gw.port}`], { encoding: "utf8" });
      if (ss.status === 0) {
        const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
        expect(ss.stdout.trim().split(/\s+/)[2]).toBe(String(Math.min(4096, somaxconn)));
      } else console.warn("skipping the accept-queue check: `ss` is not available");
      const post = async (): Promise<number> => (await gw.fresh("POST", "/v1/chat/completions", { body: chatBody() })).status;

      // A slow request takes the first of 4 tokens (refill: 1 per 100 s) and is still upstream
      // when SIGTERM comes; of 12 more, 3 pass in all (not 3 or 4 per worker).
      gw.mock.enqueue({ delayMs: 6000 });
      const slow = post();
      await until("the slow request upstream", () => gw.mock.requests.length === 1);
      const statuses = await Promise.all(Array.from({ length: 12 }, () => post()));
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(9);

      // /metrics counts the whole gateway, whichever worker answers the scrape.
      for (let i = 0; i < 4; i++) {
        const { text } = await gw.fresh("GET", "/metrics");
        expect(text).toMatch(/ferrogw_requests_total\{provider="none",model="gpt-4o-mini",status="429",stream="false"\} 9\n/);
        expect(text).toMatch(/ferrogw_requests_total\{provider="openai",model="gpt-4o-mini",status="200",stream="false"\} 3\n/);
        expect(text.match(/^ferrogw_process_process_start_time_seconds /gm)).toHaveLength(1);
      }
      const stopping = gw.stop();
      // While the slow request drains, a new client is refused at once: the socket no longer
      // listens, so nothing waits in its accept queue for a process that is going away.
      await until(
        "a new connection to be refused",
        () =>
          new Promise<boolean>((resolve) => {
            const socket = connect(gw.port, "127.0.0.1");
            socket.once("connect", () => {
              socket.destroy();
              resolve(false);
            });
            socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
          }),
        3000,
      );
      expect(await slow).toBe(200);
      await stopping;
    } finally {
      expect(await gw.stop()).toBe(0);
    }
    expect(gw.logs()).toContain("shutting down");
  });

  it("a key revoked and a config applied through the admin API take effect in every worker at once", { timeout: 180_000 }, async () => {
    const master = "mk-test-0123456789abcdef";
    const gw = await startWorkers(undefined, { MASTER_KEY: master });
    try {
      const chat = (key: string, content?: string) => gw.fresh("POST", "/v1/chat/completions", { key, body: chatBody(content) });
      const created = await gw.fresh("POST", "/admin/keys", { key: master, body: { name: "team-a" } });
      expect(created.status).toBe(201);
      const { id, key } = JSON.parse(created.text) as { id: string; key: string };
      // Every worker has now looked the key up and cached it (the cache keeps keys for 30 s).
      expect(await tenStatuses(() => chat(key))).toEqual(Array(10).fill(200));
      expect((await gw.fresh("POST", `/admin/keys/${id}/revoke`, { key: master })).status).toBe(200);
      expect(await tenStatuses(() => chat(key))).toEqual(Array(10).fill(401));

      const applied = await gw.fresh("PUT", "/admin/config", {
        key: master,
        body: { plugins: [{ name: "word-filter", type: "guardrail", stage: "before_request", enabled: true, config: { blocked_words: ["forbidden"] } }] },
      });
      expect(applied.status).toBe(200);
      expect(await tenStatuses(() => chat(master, "a forbidden word"))).toEqual(Array(10).fill(400));
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it("keeps a memory rate limit's buckets when an applied config puts a response cache before it", { timeout: 180_000 }, async () => {
    const master = "mk-test-0123456789abcdef";
    const limit = { name: "rate-limit", type: "guardrail", stage: "before_request", enabled: true, config: { requests_per_second: 0.01, burst: 4 } };
    const gw = await startWorkers(["plugins:", "  - name: rate-limit", "    type: guardrail", "    stage: before_request", "    enabled: true", "    config: { requests_per_second: 0.01, burst: 4 }"], {
      MASTER_KEY: master,
    });
    try {
      const chat = () => gw.fresh("POST", "/v1/chat/completions", { key: master, body: chatBody() });
      expect(await tenStatuses(chat)).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
      const cache = { name: "response-cache", type: "transform", stage: "before_request", enabled: true, config: { max_age: 60 } };
      const applied = await gw.fresh("PUT", "/admin/config", { key: master, body: { plugins: [cache, limit] } });
      expect(applied.status).toBe(200);
      expect(await tenStatuses(chat)).toEqual(Array(10).fill(429));
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it("shares the memory response cache across workers", { timeout: 180_000 }, async () => {
    const gw = await startWorkers(["plugins:", "  - name: response-cache", "    type: transform", "    stage: before_request", "    enabled: true", "    config: { max_age: 60 }"]);
    try {
      let misses = 0;
      const ask = async (): Promise<unknown> => {
        const res = await gw.fresh("POST", "/v1/chat/completions", { body: chatBody("cache me", { temperature: 0 }) });
        expect(res.status).toBe(200);
        if (res.headers["x-ferro-cache"] === "miss") misses++;
        return res.headers["x-ferro-cache"];
      };
      expect(await ask()).toBe("miss");
      // The entry is written after the response (a request in between may still miss); then ten
      // fresh connections, over both workers.
      await until("the entry cached", async () => (await ask()) === "hit");
      const rest: unknown[] = [];
      for (let i = 0; i < 10; i++) rest.push(await ask());
      expect(rest).toEqual(Array(10).fill("hit"));
      // Only the misses reached the provider.
      expect(gw.mock.requests).toHaveLength(misses);
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});
