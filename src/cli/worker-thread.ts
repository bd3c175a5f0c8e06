// Entry module of a gateway worker thread (started by src/server/workers/supervisor.ts): serve on
// the descriptor the supervisor gave, stop when it says so.
import { parentPort, threadId } from "node:worker_threads";
import { loadConfigOrDefault, validateConfig } from "../config/load.js";
import { GatewayApp } from "../gateway/app.js";
import { createLogger } from "../observability/logger.js";
import { isStopMessage, workerInfo, type ListeningMessage } from "../server/workers/thread-info.js";

const worker = workerInfo();
const port = parentPort;
if (!worker || !port) throw new Error("worker-thread.js is started by the ferrogw supervisor");

const log = createLogger().child({ worker: threadId });
// Logged here, where the error is still whole: the supervisor gets only a copy of what it holds
// (an error that is not a real Error, better-sqlite3's among them, loses its message on the way).
process.on("uncaughtExceptionMonitor", (err, origin) => log.fatal({ err, origin }, "worker crashing"));
/** A stop can arrive while the app is still starting; it is carried out once the app is up. */
const state: { app: GatewayApp | undefined; stopping: boolean } = { app: undefined, stopping: false };
const stop = (): void => {
  if (!state.app) return;
  state.app
    .close()
    .then(() => process.exit(0))
    .catch((err: unknown) => {
      log.error({ err }, "error during shutdown");
      process.exit(1);
    });
};
port.on("message", (m: unknown) => {
  if (!isStopMessage(m) || state.stopping) return;
  state.stopping = true;
  stop();
});

const path = worker.options.config;
// A worker that replaces a crashed one runs what the others run, a config applied through the
// admin API included. The first workers start from the file, which the supervisor validated a
// moment ago; an edit since then that breaks it stops here.
const applied = worker.appliedConfig;
const fromPeers = applied ? validateConfig(applied.raw) : undefined;
if (fromPeers && !fromPeers.ok) log.error({ issues: fromPeers.issues }, "the config the other workers run does not validate here; starting from the file");
const loaded = fromPeers?.ok ? fromPeers : loadConfigOrDefault(path);
if (!loaded.ok) throw new Error(`config: ${loaded.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
const adopted = fromPeers?.ok && applied ? { version: applied.version } : undefined;
const app = await GatewayApp.create({ config: loaded.config, raw: loaded.raw, configPath: path, env: process.env, log, ...(adopted && { adopted }) });
state.app = app;
const addr = await app.listenOnDescriptor(worker.fd);
port.postMessage({ ferrogw: "listening", address: addr.address, port: addr.port } satisfies ListeningMessage);
if (state.stopping) stop();
