// `ferrogw --workers 2`: node:cluster workers on one port, state that must be global (a memory
// rate limit) shared through the primary, a crashed worker replaced, and a clean drain on SIGTERM.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { MockUpstream } from "../mock-upstream/server.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

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
  it("shares a memory rate limit across workers, replaces a crashed worker and drains on SIGTERM", { timeout: 180_000 }, async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const port = 20000 + Math.floor(Math.random() * 2000);
    const cwd = mkdtempSync(join(tmpdir(), "fgw-cluster-"));
    const config = join(cwd, "config.yaml");
    writeFileSync(
      config,
      [
        "plugins:",
        "  - name: rate-limit",
        "    type: guardrail",
        "    stage: before_request",
        "    config: { requests_per_second: 0.01, burst: 3 }",
        "",
      ].join("\n"),
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
    const url = `http://127.0.0.1:${port}`;
    // One connection per request, so the primary spreads them over both workers.
    const post = async (): Promise<number> => {
      const agent = new Agent();
      try {
        const res = await request(`${url}/v1/chat/completions`, {
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
      const workers = childrenOf(child.pid as number);
      expect(workers).toHaveLength(2);

      // burst 3, refill 1 per 100 s: 3 of 12 requests pass in all, not 3 per worker.
      const statuses = await Promise.all(Array.from({ length: 12 }, () => post()));
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(9);

      // A worker that dies is replaced; the gateway keeps answering meanwhile.
      process.kill(workers[0] as number, "SIGKILL");
      await until("a replacement worker", () => {
        const now = childrenOf(child.pid as number);
        return now.length === 2 && !now.includes(workers[0] as number);
      });
      await until("an answer after the crash", async () => (await post()) === 429);
      expect(logs).toContain("worker exited unexpectedly");
    } finally {
      child.kill("SIGTERM");
      const code = await exited;
      await mock.close();
      expect(code).toBe(0);
    }
    expect(childrenOf(child.pid as number)).toHaveLength(0);
    expect(logs).toContain("shutting down");
  });
});
