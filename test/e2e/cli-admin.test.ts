// The CLI's client commands against a running gateway, in each output format.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { MockUpstream } from "../mock-upstream/server.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { STDIO_SERVER } from "../helpers/mcp-server.js";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const MASTER = "fgw_0f1e2d3c4b5a69788796a5b4c3d2e1f0";

function cli(gw: TestGateway, args: string[], key = MASTER): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "--gateway-url", gw.url, "--api-key", key, ...args], { env: { PATH: process.env.PATH } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("ferrogw client commands", { timeout: 60_000 }, () => {
  let mock: MockUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    mock = new MockUpstream();
    const base = await mock.start();
    gw = await startGateway({}, { OPENAI_API_KEY: "sk-upstream-000000000000", OPENAI_BASE_URL: `${base}/v1` }, { masterKey: MASTER });
  });
  afterAll(async () => {
    await gw.close();
    await mock.close();
  });

  it("admin keys create / list / revoke in json, yaml and text", async () => {
    const created = await cli(gw, ["--format", "json", "admin", "keys", "create", "ci-bot", "--models", "gpt-4o-mini,gpt-4o"]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; allowed_models: string[] };
    expect(key.key).toMatch(/^sk-ferro-/);
    expect(key.allowed_models).toEqual(["gpt-4o-mini", "gpt-4o"]);

    const yaml = await cli(gw, ["--format", "yaml", "admin", "keys", "list"]);
    const listed = parseYaml(yaml.stdout) as Array<{ id: string; name: string }>;
    expect(listed.find((k) => k.id === key.id)?.name).toBe("ci-bot");
    expect(yaml.stdout).not.toContain(key.key);

    const text = await cli(gw, ["admin", "keys", "list"]);
    expect(text.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+STATE/);
    expect(text.stdout).toMatch(new RegExp(`${key.id}\\s+ci-bot\\s+sk-ferro-\\S+\\s+active`));

    const revoked = await cli(gw, ["admin", "keys", "revoke", key.id]);
    expect(revoked.stdout).toContain(`Revoked key ${key.id}`);
    const after = await cli(gw, ["--format", "json", "admin", "keys", "list", "--all"]);
    expect((JSON.parse(after.stdout) as Array<{ id: string; revoked_at: string | null }>).find((k) => k.id === key.id)?.revoked_at).toBeTruthy();
  });

  it("admin stats and status", async () => {
    await gw.client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const stats = await cli(gw, ["--format", "json", "admin", "stats", "--group-by", "provider"]);
    const parsed = JSON.parse(stats.stdout) as { data: Array<{ group: string; requests: number }> };
    expect(parsed.data.find((s) => s.group === "openai")?.requests).toBeGreaterThanOrEqual(1);
    const text = await cli(gw, ["admin", "stats"]);
    expect(text.stdout).toMatch(/^MODEL\s+REQUESTS/);
    expect(text.stdout).toContain("TOTAL");

    const status = await cli(gw, ["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("openai");
  });

  it("fails with a one-line error and exit 1 on a bad key or unreachable gateway", async () => {
    const denied = await cli(gw, ["admin", "keys", "list"], "wrong-key");
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: /);
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, "--gateway-url", "http://127.0.0.1:1", "status"]);
      let stderr = "";
      c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      c.on("exit", (code) => resolve({ code, stderr }));
    });
    expect(child.code).toBe(1);
    expect(child.stderr).toContain("cannot reach the gateway");
  });
});

describe("ferrogw doctor", { timeout: 60_000 }, () => {
  it("reports config, provider keys, reachability and stores, exiting 1 when a check fails", async () => {
    const mock = new MockUpstream();
    const base = await mock.start();
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const c = spawn(process.execPath, [BIN, "--format", "json", "doctor"], {
          env: { PATH: process.env.PATH, API_KEY_STORE_BACKEND: "memory", REQUEST_LOG_STORE_BACKEND: "memory", CONFIG_STORE_BACKEND: "memory", ...env },
          cwd: "/tmp",
        });
        let stdout = "";
        c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        c.on("exit", (code) => resolve({ code, stdout }));
      });
    try {
      const good = await run({ OPENAI_API_KEY: "sk-x-000000000000", OPENAI_BASE_URL: `${base}/v1` });
      const report = JSON.parse(good.stdout) as { ok: boolean; checks: Array<{ check: string; ok: boolean }> };
      expect(good.code).toBe(0);
      expect(report.checks.map((c) => c.check)).toEqual(["config", "provider keys", "reach openai", "stores"]);
      const bad = await run({ OPENAI_API_KEY: "sk-x-000000000000", OPENAI_BASE_URL: "http://127.0.0.1:1/v1" });
      expect(bad.code).toBe(1);
      expect((JSON.parse(bad.stdout) as { checks: Array<{ check: string; ok: boolean }> }).checks.find((c) => c.check === "reach openai")?.ok).toBe(false);
    } finally {
      await mock.close();
    }
  });

  it("connects to each MCP server, lists its tools, and stops a stdio one again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ferrogw-doctor-"));
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      `mcp_servers:\n  - name: local\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(STDIO_SERVER)}]\n  - name: down\n    url: http://127.0.0.1:9/mcp\n`,
    );
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, "--format", "json", "doctor", "--config", config], {
        env: { PATH: process.env.PATH, OPENAI_API_KEY: "sk-x-000000000000", OPENAI_BASE_URL: "http://127.0.0.1:9/v1", API_KEY_STORE_BACKEND: "memory", REQUEST_LOG_STORE_BACKEND: "memory", CONFIG_STORE_BACKEND: "memory" },
        cwd: dir,
      });
      let stdout = "";
      c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      c.on("exit", (code) => resolve({ code, stdout }));
    });
    const checks = (JSON.parse(out.stdout) as { checks: Array<{ check: string; ok: boolean; detail: string }> }).checks;
    expect(checks.find((c) => c.check === "mcp local")).toMatchObject({ ok: true, detail: "stdio, 1 tool(s): env_probe" });
    expect(checks.find((c) => c.check === "mcp down")).toMatchObject({ ok: false });
    expect(out.code).toBe(1);
  });
});

describe("ferrogw plugins", { timeout: 60_000 }, () => {
  it("lists the running gateway's plugins with type and stages", async () => {
    const gw = await startGateway(
      { plugins: [{ name: "word-filter", type: "guardrail", stage: "before_request", enabled: true, config: { blocked_words: ["secret"] } }] },
      {},
      { masterKey: MASTER },
    );
    try {
      const json = await cli(gw, ["--format", "json", "plugins"]);
      const list = JSON.parse(json.stdout) as Array<{ name: string; type: string; stages: string[]; enabled: boolean }>;
      expect(list.find((p) => p.name === "word-filter")).toMatchObject({ type: "guardrail", stages: ["before_request"], enabled: true });
      const text = await cli(gw, ["plugins"]);
      expect(text.stdout).toMatch(/^NAME\s+TYPE\s+STAGES/);
      expect(text.stdout).toMatch(/word-filter\s+guardrail\s+before_request/);
    } finally {
      await gw.close();
    }
  });
});
