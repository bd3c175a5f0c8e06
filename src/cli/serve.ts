// `ferrogw` / `ferrogw serve`: load config, build the runtime, listen, shut down gracefully.
import { masterKeyAuthenticator } from "../auth/master-key.js";
import { buildRuntime } from "../gateway/runtime.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { GatewayServer } from "../server/http.js";
import { loadConfig, resolveConfigPath } from "./config-path.js";

export interface ServeOptions {
  config?: string;
  port?: string;
  host?: string;
}

export async function serve(opts: ServeOptions): Promise<void> {
  const log = createLogger();
  const path = resolveConfigPath(opts.config);
  const loaded = loadConfig(path);
  if (!loaded.ok) {
    for (const issue of loaded.issues) log.error({ path: issue.path }, `config: ${issue.message}`);
    process.exitCode = 1;
    return;
  }
  const runtime = buildRuntime(loaded.config);
  for (const w of runtime.providers.warnings) log.warn(w);
  const auth = masterKeyAuthenticator(process.env.MASTER_KEY);
  if (auth.open) log.warn("no MASTER_KEY or API keys configured: the gateway accepts requests without authentication");
  if (runtime.router.allTargets().length === 0)
    log.warn("no provider is configured: set a provider key such as OPENAI_API_KEY, or add providers to the config");

  const server = new GatewayServer({ runtime, auth, metrics: new Metrics() });
  const port = Number(opts.port ?? process.env.PORT ?? 8080);
  const host = opts.host ?? process.env.HOST ?? "0.0.0.0";
  const addr = await server.listen(port, host);
  log.info(
    { port: addr.port, host: addr.address, config: path ?? "(built-in default)", providers: [...runtime.providers.byName.keys()], strategy: loaded.config.strategy.mode },
    "ferrogw listening",
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing requests in flight");
    server
      .close()
      .then(() => {
        log.info("stopped");
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, "error during shutdown");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
