// Starts a gateway in-process on an ephemeral port, pointed at mock upstreams, and an official
// `openai` SDK client for it: tests drive the gateway exactly as an application would.
import OpenAI from "openai";
import { masterKeyAuthenticator } from "../../src/auth/master-key.js";
import { validateConfig } from "../../src/config/load.js";
import { buildRuntime } from "../../src/gateway/runtime.js";
import { GatewayServer } from "../../src/server/http.js";
import type { RequestContext } from "../../src/server/context.js";

export interface TestGateway {
  url: string;
  server: GatewayServer;
  client: OpenAI;
  finished: RequestContext[];
  close(): Promise<void>;
}

export async function startGateway(rawConfig: unknown, env: NodeJS.ProcessEnv, opts: { masterKey?: string } = {}): Promise<TestGateway> {
  const loaded = validateConfig(rawConfig, env);
  if (!loaded.ok) throw new Error(`invalid test config: ${JSON.stringify(loaded.issues)}`);
  const finished: RequestContext[] = [];
  const server = new GatewayServer({
    runtime: buildRuntime(loaded.config, env),
    auth: masterKeyAuthenticator(opts.masterKey),
    onFinished: (ctx) => finished.push(ctx),
  });
  const addr = await server.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${addr.port}`;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: opts.masterKey ?? "unused", maxRetries: 0 });
  return { url, server, client, finished, close: () => server.close(2000) };
}
