// The config the admin API and the dashboard show: credentials masked wherever the config can hold them.
import { describe, expect, it } from "vitest";
import { redactConfig } from "../../src/admin/redact.js";

describe("redactConfig", () => {
  it("masks MCP servers' env and headers, URL user parts and credential query values, and tracing headers", () => {
    const out = redactConfig({
      mcp_servers: [
        { name: "db", command: "npx", args: ["server-postgres", "postgresql://app:hunter2@db:5432/prod"], env: { DATABASE_URL: "postgres://x:y@h/d", LOG_LEVEL: "debug" } },
        { name: "search", url: "https://mcp.example.com/mcp?api_token=abc123&region=eu", headers: { "X-Team": "team-secret-value", Authorization: "${MCP_TOKEN}" } },
      ],
      observability: { tracing: { endpoint: "https://otel.example.com", headers: { "x-honeycomb-team": "hc-key-123" } } },
    });
    expect(out.mcp_servers[0]?.args).toEqual(["server-postgres", "postgresql://[REDACTED]@db:5432/prod"]);
    expect(out.mcp_servers[0]?.env).toEqual({ DATABASE_URL: "[REDACTED]", LOG_LEVEL: "[REDACTED]" });
    expect(out.mcp_servers[1]?.url).toBe("https://mcp.example.com/mcp?api_token=[REDACTED]&region=eu");
    // A ${VAR} reference names where the secret lives: not a secret itself.
    expect(out.mcp_servers[1]?.headers).toEqual({ "X-Team": "[REDACTED]", Authorization: "${MCP_TOKEN}" });
    expect(out.observability.tracing.headers).toEqual({ "x-honeycomb-team": "[REDACTED]" });
    expect(out.observability.tracing.endpoint).toBe("https://otel.example.com");
  });
});
