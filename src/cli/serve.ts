// `ferrogw` / `ferrogw serve`: load config, open stores, listen, reload on SIGHUP or file change,
// shut down gracefully (requests in flight finish, every request log row is written).
import { ApiKeyService } from "../auth/api-keys.js";
import { watchFile } from "../config/watch.js";
import { GatewayApp } from "../gateway/app.js";
import { buildProviders } from "../providers/registry.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { sendToOneWorker } from "../server/broadcast.js";
import { isClusterWorker, reportListening, resolveWorkers, runPrimary } from "../server/cluster.js";
import { openStores } from "../store/factory.js";
import { loadConfig, resolveConfigPath } from "./config-path.js";

export interface ServeOptions {
  config?: string;
  port?: string;
  host?: string;
  workers?: string;
}

/** Start-up checks done once per gateway (by the primary, or the single process). */
async function preflight(log: Logger, env: NodeJS.ProcessEnv, config: Parameters<typeof buildProviders>[0]): Promise<void> {
  const providers = buildProviders(config, env);
  for (const w of providers.warnings) log.warn(w);
  if (providers.byName.size === 0) log.warn("no provider is configured: set a provider key such as OPENAI_API_KEY, or add providers to the config");
  // Opening the stores here runs their migrations once, before any worker starts.
  const stores = await openStores(env);
  try {
    const open = !env.MASTER_KEY && !(await new ApiKeyService(stores.keys).hasAnyKeys());
    if (open) log.warn("no MASTER_KEY or API keys configured: the gateway accepts requests without authentication");
    log.info({ stores: stores.describe }, "stores ready");
  } finally {
    await stores.close();
  }
}

export async function serve(opts: ServeOptions): Promise<void> {
  const log = createLogger();
  const env = process.env;
  let workers: number;
  try {
    workers = resolveWorkers(opts.workers);
  } catch (err) {
    log.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
  const worker = isClusterWorker();
  const path = resolveConfigPath(opts.config);
  const loaded = loadConfig(path);
  if (!loaded.ok) {
    for (const issue of loaded.issues) log.error({ path: issue.path }, `config: ${issue.message}`);
    process.exitCode = 1;
    return;
  }
  if (!worker) {
    try {
      await preflight(log, env, loaded.config);
    } catch (err) {
      log.error({ err: (err as Error).message }, "cannot open the stores");
      process.exitCode = 1;
      return;
    }
  }
  const info = { config: path ?? "(built-in default)", providers: [...buildProviders(loaded.config, env).byName.keys()], strategy: loaded.config.strategy.mode };

  if (workers > 1 && !worker) {
    // Primary: workers load the same config and serve; this process supervises and forwards
    // reload requests to one worker, which applies the file and tells the others.
    const reload = (): void => {
      if (!sendToOneWorker({ kind: "reload-file" })) log.warn("no worker to reload");
    };
    process.on("SIGHUP", reload);
    if (path) watchFile(path, reload);
    process.exit(await runPrimary({ workers, log, listeningInfo: info }));
  }

  const app = await GatewayApp.create({ config: loaded.config, raw: loaded.raw, configPath: path, env, log });
  const port = Number(opts.port ?? env.PORT ?? 8080);
  const host = opts.host ?? env.HOST ?? "0.0.0.0";
  const addr = await app.listen(port, host);
  if (worker) reportListening(addr.address, addr.port);
  else {
    log.info({ port: addr.port, host: addr.address, ...info }, "ferrogw listening");
    const reload = (): void => void app.configManager.reloadFromFile();
    process.on("SIGHUP", reload);
    if (path) watchFile(path, reload);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing requests in flight");
    app
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
  // A worker whose primary went away stops too, instead of serving unsupervised.
  if (worker) process.on("disconnect", () => stop("primary exited"));
}
