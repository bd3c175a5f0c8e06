// Runs the start-up checks (src/cli/startup.ts) for the worker supervisor in a thread of their
// own: the config schema, plugins, catalog and store drivers they load go away with the thread,
// so the supervisor, which only watches over the workers, stays small.
import { parentPort, workerData } from "node:worker_threads";
import { createLogger } from "../observability/logger.js";
import { prepare, type StartupInfo } from "./startup.js";

export interface PreflightRequest {
  path: string | undefined;
}

export type PreflightReply = { ok: true; info: StartupInfo } | { ok: false };

const { path } = workerData as PreflightRequest;
const ready = await prepare(path, createLogger(), process.env);
parentPort?.postMessage((ready ? { ok: true, info: ready.info } : { ok: false }) satisfies PreflightReply);
