// `ferrogw` / `ferrogw serve`: load config, open stores, listen, reload on SIGHUP or file change,
// shut down gracefully (requests in flight finish, every request log row is written). With more
// than one worker this thread only supervises worker threads (src/server/workers/supervisor.ts,
// each running src/cli/worker-thread.ts); it imports nothing of the gateway itself, so it costs
// little memory.
import { Worker } from "node:worker_threads";
import { watchFile } from "../config/watch.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { reloadFileMessage } from "../server/broadcast.js";
import { warmConnectionsFrom } from "../gateway/warm.js";
import { applyHeapGrowth, applyParallelGc, applySemiSpace, resolveHeapGrowth, resolveParallelGc, resolveSemiSpace } from "../server/heap.js";
import { resolveWorkers, startSupervisor } from "../server/workers/supervisor.js";
import { resolveConfigPath } from "./config-path.js";
import type { PreflightReply, PreflightRequest } from "./preflight-thread.js";

export interface ServeOptions {
  config?: string;
  port?: string;
  host?: string;
  workers?: string;
  heapGrowth?: string;
  parallelGc?: boolean;
  semiSpace?: string;
}

/** Start-up checks in a short-lived thread; resolves with what to log once listening, or undefined. */
function preflightInThread(path: string | undefined): Promise<PreflightReply> {
  return new Promise((resolve, reject) => {
    const t = new Worker(new URL("./preflight-thread.js", import.meta.url), { workerData: { path } satisfies PreflightRequest });
    let reply: PreflightReply = { ok: false };
    t.once("message", (m: PreflightReply) => (reply = m));
    t.once("error", reject);
    t.once("exit", () => resolve(reply));
  });
}

export async function serve(opts: ServeOptions): Promise<void> {
  const log = createLogger();
  let workers: number;
  try {
    workers = resolveWorkers(opts.workers);
    applyHeapGrowth(resolveHeapGrowth(opts.heapGrowth));
    applyParallelGc(resolveParallelGc(opts.parallelGc));
    applySemiSpace(resolveSemiSpace(opts.semiSpace));
    warmConnectionsFrom(process.env);
  } catch (err) {
    log.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
  if (workers > 1 && process.platform === "win32") {
    // Worker threads share the port through socket descriptors, which Windows does not have.
    log.warn({ workers }, "several workers need a Unix-like system; serving with one");
    workers = 1;
  }
  const path = resolveConfigPath(opts.config);
  const port = Number(opts.port ?? process.env.PORT ?? 8080);
  const host = opts.host ?? process.env.HOST ?? "0.0.0.0";
  if (workers === 1) {
    await serveOnThisThread(path, port, host, log);
    return;
  }

  const pre = await preflightInThread(path);
  if (!pre.ok) {
    process.exitCode = 1;
    return;
  }
  let supervisor;
  try {
    supervisor = await startSupervisor({ workers, port, host, log, workerUrl: new URL("./worker-thread.js", import.meta.url), options: { config: path }, listeningInfo: { ...pre.info } });
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
  const code = await supervisor.exited;
  log.info({ code }, "stopped");
  process.exit(code);
}

/** `--workers 1`: the whole gateway on the main thread. */
async function serveOnThisThread(path: string | undefined, port: number, host: string, log: Logger): Promise<void> {
  const [{ prepare }, { GatewayApp }] = await Promise.all([import("./startup.js"), import("../gateway/app.js")]);
  const ready = await prepare(path, log, process.env);
  if (!ready) {
    process.exitCode = 1;
    return;
  }
  const { loaded, info } = ready;
  const app = await GatewayApp.create({ config: loaded.config, raw: loaded.raw, configPath: path, env: process.env, log });
  const addr = await app.listen(port, host);
  log.info({ port: addr.port, host: addr.address, ...info, workers: 1 }, "ferrogw listening");
  process.on("SIGHUP", () => app.configManager.reloadInBackground());
  if (path) watchFile(path, () => app.configManager.reloadInBackground());

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
