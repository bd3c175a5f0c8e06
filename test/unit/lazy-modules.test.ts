// Every worker loads the gateway's module graph, so a backend that is not configured must not be
// in it: ioredis, pg, undici and the AWS event-stream codec were about 10 MB of heap per worker.
// A fresh process starts the gateway app on the default config (SQLite stores, memory state) and
// reports which of those packages Node loaded.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const DIST = new URL("../../dist/", import.meta.url).href;
const HEAVY = ["ioredis", "pg", "undici", "@smithy/eventstream-codec"];

function loadedPackages(env: Record<string, string>): string[] {
  const script = `
    import { createRequire } from "node:module";
    const { loadConfigOrDefault } = await import(${JSON.stringify(`${DIST}config/load.js`)});
    const { GatewayApp } = await import(${JSON.stringify(`${DIST}gateway/app.js`)});
    const { createLogger } = await import(${JSON.stringify(`${DIST}observability/logger.js`)});
    const loaded = loadConfigOrDefault(undefined);
    const app = await GatewayApp.create({ config: loaded.config, raw: loaded.raw, configPath: undefined, env: process.env, log: createLogger() });
    const names = Object.keys(createRequire(import.meta.url).cache).map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(p)?.[1]);
    process.stdout.write("LOADED " + JSON.stringify([...new Set(names.filter(Boolean))]) + "\\n");
    await app.close();
  `;
  const cwd = mkdtempSync(join(tmpdir(), "fgw-lazy-"));
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH, LOG_LEVEL: "warn", ...env } });
  expect(out.stderr).toBe("");
  const line = out.stdout.split("\n").find((l) => l.startsWith("LOADED "));
  expect(line).toBeDefined();
  return JSON.parse((line as string).slice("LOADED ".length)) as string[];
}

describe("modules of backends that are not configured", () => {
  it("are not loaded by a gateway on the default config", () => {
    const loaded = loadedPackages({});
    // The app did start: its SQLite store and logger are there.
    expect(loaded).toContain("better-sqlite3");
    expect(loaded).toContain("pino");
    for (const name of HEAVY) expect(loaded).not.toContain(name);
  });
});
