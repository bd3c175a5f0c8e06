// A worker that replaces a crashed one starts from the config the other workers run (handed over
// by the supervisor as `adopted`), not from the config file: it neither records a new "start-up"
// version nor reads the file and pushes it back onto everyone. Two apps share one config store,
// as the workers of one gateway do.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfigFile, validateConfig } from "../../src/config/load.js";
import { GatewayApp } from "../../src/gateway/app.js";
import { openStores, type Stores } from "../../src/store/factory.js";

const ENV = { OPENAI_API_KEY: "sk-test-0000000000", API_KEY_STORE_BACKEND: "memory", REQUEST_LOG_STORE_BACKEND: "memory", CONFIG_STORE_BACKEND: "memory" };
const FILE_CONFIG = "strategy:\n  mode: single\ntargets:\n  - virtual_key: openai\n";
const ADMIN_CONFIG = { strategy: { mode: "fallback" }, targets: [{ virtual_key: "openai" }] };

describe("a replacement worker's config", () => {
  const apps: GatewayApp[] = [];
  let stores: Stores | undefined;
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close(1000);
    await stores?.close();
  });

  /** An app on the shared stores; they stay open when an app closes. */
  async function app(raw: unknown, configPath: string, adopted?: { version: number | undefined }): Promise<GatewayApp> {
    const loaded = validateConfig(raw, ENV);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
    const shared = stores as Stores;
    const a = await GatewayApp.create({
      config: loaded.config,
      raw: loaded.raw,
      configPath,
      env: ENV,
      log: pino({ level: "silent" }),
      stores: { ...shared, close: async () => undefined },
      ...(adopted && { adopted }),
    });
    apps.push(a);
    return a;
  }

  it("is the one applied through the admin API, at its version, with no new history entry", async () => {
    stores = await openStores(ENV);
    const path = join(mkdtempSync(join(tmpdir(), "fgw-replace-")), "config.yaml");
    writeFileSync(path, FILE_CONFIG);
    const fromFile = loadConfigFile(path, ENV);
    if (!fromFile.ok) throw new Error("test config");

    const first = await app(fromFile.raw, path);
    const applied = await first.configManager.apply(ADMIN_CONFIG, "admin");
    expect(applied).toEqual({ ok: true, version: 2 });

    const replacement = await app(ADMIN_CONFIG, path, { version: 2 });
    expect(replacement.configManager.currentVersion).toBe(2);
    expect(replacement.configManager.current.strategy.mode).toBe("fallback");
    expect(replacement.server.currentRuntime.config.strategy.mode).toBe("fallback");
    const history = await replacement.configManager.history();
    expect(history.map((h) => h.version)).toEqual([2, 1]);

    // Without `adopted` (what a replacement did before): the file's config comes back as a new
    // version, which is what this guards against.
    const fromFileAgain = await app(fromFile.raw, path);
    expect(fromFileAgain.configManager.current.strategy.mode).toBe("single");
    expect((await fromFileAgain.configManager.history()).length).toBe(3);
  });
});
