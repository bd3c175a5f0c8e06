// `ferrogw` / `ferrogw serve`: load config, open stores, listen, reload on SIGHUP or file change,
// shut down gracefully (requests in flight finish, every request log row is written). With more
// than one worker the main thread supervises worker threads (src/server/workers/supervisor.ts)
// and each of them runs serveWorker below.
import { parentPort, threadId } from "node:worker_threads";
import { ApiKeyService } from "../auth/api-keys.js";
import type { GatewayConfig } from "../config/schema.js";
import { watchFile } from "../config/watch.js";
import { GatewayApp } from "../gateway/app.js";
import { buildProviders } from "../providers/registry.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { reloadFileMessage } from "../server/broadcast.js";
import { resolveWorkers, startSupervisor } from "../server/workers/supervisor.js";
import { isStopMessage, type ListeningMessage, type WorkerInfo } from "../server/workers/thread-info.js";
import { openStores } from "../store/factory.js";
import { loadConfig, resolveConfigPath } from "./config-path.js";

export interface ServeOptions {
  config?: string;
  port?: string;
  host?: string;
  workers?: string;
}

/** Start-up checks done once per gateway, before any worker starts. */
async function preflight(log: Logger, env: NodeJS.ProcessEnv, config: GatewayConfig): Promise<void> {
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

/** Stops `app` gracefully on SIGTERM/SIGINT (main thread) and exits. */
function stopOnSignals(app: GatewayApp, log: Logger): void {
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
  const path = resolveConfigPath(opts.config);
  const loaded = loadConfig(path);
  if (!loaded.ok) {
    for (const issue of loaded.issues) log.error({ path: issue.path }, `config: ${issue.message}`);
    process.exitCode = 1;
    return;
  }
  try {
    await preflight(log, env, loaded.config);
  } catch (err) {
    log.error({ err: (err as Error).message }, "cannot open the stores");
    process.exitCode = 1;
    return;
  }
  const info = { config: path ?? "(built-in default)", providers: [...buildProviders(loaded.config, env).byName.keys()], strategy: loaded.config.strategy.mode };
  const port = Number(opts.port ?? env.PORT ?? 8080);
  const host = opts.host ?? env.HOST ?? "0.0.0.0";

  if (workers > 1) {
    let supervisor;
    try {
      supervisor = await startSupervisor({ workers, port, host, log, workerUrl: new URL("./worker-thread.js", import.meta.url), options: { config: path }, listeningInfo: info });
    } catch (err) {
      log.error({ err: (err as Error).message, port, host }, "cannot listen");
      process.exitCode = 1;
      return;
    }
    // A reload goes to one worker, which applies the file and tells the others.
    const reload = (): void => {
      if (!supervisor.sendToOne(reloadFileMessage)) log.warn("no worker to reload");
    };
    process.on("SIGHUP", reload);
    if (path) watchFile(path, reload);
    process.on("SIGTERM", () => supervisor.stop("SIGTERM"));
    process.on("SIGINT", () => supervisor.stop("SIGINT"));
    process.exit(await supervisor.exited);
  }

  const app = await GatewayApp.create({ config: loaded.config, raw: loaded.raw, configPath: path, env, log });
  const addr = await app.listen(port, host);
  log.info({ port: addr.port, host: addr.address, ...info, workers: 1 }, "ferrogw listening");
  const reload = (): void => void app.configManager.reloadFromFile();
  process.on("SIGHUP", reload);
  if (path) watchFile(path, reload);
  stopOnSignals(app, log);
}

/** A worker thread: serve on the descriptor the supervisor gave, stop when it says so. */
export async function serveWorker(worker: WorkerInfo): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("serveWorker runs in a worker thread");
  const log = createLogger().child({ worker: threadId });
  const path = worker.options.config;
  const loaded = loadConfig(path);
  if (!loaded.ok) throw new Error(`config: ${loaded.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  const app = await GatewayApp.create({ config: loaded.config, raw: loaded.raw, configPath: path, env: process.env, log });
  const addr = await app.listenOnDescriptor(worker.fd);
  port.postMessage({ ferrogw: "listening", address: addr.address, port: addr.port } satisfies ListeningMessage);
  port.on("message", (m: unknown) => {
    if (!isStopMessage(m)) return;
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "error during shutdown");
        process.exit(1);
      });
  });
}
