// `ferrogw` started as a process, the way the README starts it, with no config file and no
// external service: provider settings from the environment only.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { MockUpstream } from "../mock-upstream/server.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

async function waitForHealth(url: string): Promise<void> {
  // Generous: a loaded 2-core CI machine can take seconds to start two workers.
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("gateway did not become healthy");
}

describe("ferrogw serve", () => {
  it("starts on defaults, serves the SDK and stops cleanly on SIGTERM", { timeout: 60_000 }, async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const port = 18000 + Math.floor(Math.random() * 2000);
    const cwd = mkdtempSync(join(tmpdir(), "fgw-serve-"));
    const child = spawn(process.execPath, [BIN], {
      cwd,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: "127.0.0.1", ANTHROPIC_API_KEY: "sk-ant-test-0000000000", ANTHROPIC_BASE_URL: base, LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    child.stdout.on("data", (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url);
      for (let i = 0; i < 200 && !logs.includes("ferrogw listening"); i++) await new Promise((r) => setTimeout(r, 50));
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
      const res = await client.chat.completions.create({ model: "claude-3-5-sonnet-20241022", messages: [{ role: "user", content: "ping" }] });
      expect(res.choices[0]?.message.content).toBe("Mock reply to: ping");
      expect(mock.requests.at(-1)?.path).toBe("/v1/messages");
      expect(logs).toContain("ferrogw listening");
      expect(logs).toContain("without authentication");
      expect(logs).not.toContain("sk-ant-test-0000000000");
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await mock.close();
    }
  });
});
