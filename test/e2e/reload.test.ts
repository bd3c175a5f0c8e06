// Hot reload of a running `ferrogw` with two workers: editing the config file changes what every
// worker does, without a restart; an invalid edit keeps the running config.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MockUpstream } from "../mock-upstream/server.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(url: string, model: string): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "x" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until `n` requests in a row give `want` (so both workers are seen), or gives up. */
async function until(url: string, model: string, want: number, n = 6, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    let ok = true;
    for (let j = 0; j < n && ok; j++) ok = (await status(url, model).catch(() => 0)) === want;
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

describe("config hot reload", () => {
  it("applies a file edit in every worker and ignores an invalid one", { timeout: 90_000 }, async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const dir = mkdtempSync(join(tmpdir(), "fgw-reload-"));
    const file = join(dir, "config.yaml");
    writeFileSync(file, "aliases:\n  fast: gpt-4o-mini\n");
    const port = 20000 + Math.floor(Math.random() * 2000);
    const child = spawn(process.execPath, [BIN, "--config", file, "--workers", "2", "--port", String(port), "--host", "127.0.0.1"], {
      cwd: dir,
      env: { PATH: process.env.PATH, OPENAI_API_KEY: "sk-x-000000000000", OPENAI_BASE_URL: `${base}/v1`, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let logs = "";
    child.stdout.on("data", (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      expect(await until(url, "fast", 200)).toBe(true);
      expect(await status(url, "quick")).toBe(404);

      writeFileSync(file, "aliases:\n  fast: gpt-4o-mini\n  quick: gpt-4o\n");
      expect(await until(url, "quick", 200)).toBe(true);

      writeFileSync(file, "aliases:\n  quick: [not, a, string]\n");
      await sleep(1500);
      expect(logs).toContain("config reload rejected");
      expect(await until(url, "quick", 200, 6, 5)).toBe(true);

      // SIGHUP re-reads the file too (here: after restoring a valid one without the alias).
      writeFileSync(file, "aliases:\n  fast: gpt-4o-mini\n");
      child.kill("SIGHUP");
      expect(await until(url, "quick", 404)).toBe(true);
    } finally {
      child.kill("SIGTERM");
      await exited;
      await mock.close();
    }
  });
});
