// Starts a gateway in-process on an ephemeral port, pointed at mock upstreams, and an official
// `openai` SDK client for it: tests drive the gateway exactly as an application would. It is
// assembled by the same GatewayApp as `ferrogw serve`, with in-memory stores unless the test
// passes its own.
import OpenAI from "openai";
import { pino } from "pino";
import { validateConfig } from "../../src/config/load.js";
import { GatewayApp } from "../../src/gateway/app.js";
import type { RequestContext } from "../../src/server/context.js";
import type { GatewayServer } from "../../src/server/http.js";
import type { Stores } from "../../src/store/factory.js";

export interface TestGateway {
  url: string;
  app: GatewayApp;
  server: GatewayServer;
  client: OpenAI;
  finished: RequestContext[];
  close(): Promise<void>;
}

/**
 * In-memory stores, and no upstream connections opened ahead of requests: a test config that
 * names a real provider would otherwise connect to it (test/e2e/warm-connections.test.ts turns
 * warming back on).
 */
const TEST_DEFAULTS = { API_KEY_STORE_BACKEND: "memory", REQUEST_LOG_STORE_BACKEND: "memory", CONFIG_STORE_BACKEND: "memory", FERROGW_WARM_CONNECTIONS: "0" };

export async function startGateway(
  rawConfig: unknown,
  env: NodeJS.ProcessEnv,
  opts: { masterKey?: string; stores?: Stores; apiKey?: string } = {},
): Promise<TestGateway> {
  const fullEnv = { ...TEST_DEFAULTS, ...env, ...(opts.masterKey ? { MASTER_KEY: opts.masterKey } : {}) };
  const loaded = validateConfig(rawConfig, fullEnv);
  if (!loaded.ok) throw new Error(`invalid test config: ${JSON.stringify(loaded.issues)}`);
  const finished: RequestContext[] = [];
  const app = await GatewayApp.create({
    config: loaded.config,
    raw: loaded.raw,
    configPath: undefined,
    env: fullEnv,
    log: pino({ level: "silent" }),
    stores: opts.stores,
    onFinished: (ctx) => finished.push(ctx),
  });
  const addr = await app.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${addr.port}`;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: opts.apiKey ?? opts.masterKey ?? "unused", maxRetries: 0 });
  return { url, app, server: app.server, client, finished, close: () => app.close(2000) };
}
