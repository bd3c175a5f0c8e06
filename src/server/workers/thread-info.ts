// What a gateway worker thread is given by the supervisor (src/server/workers/supervisor.ts),
// and the messages the two exchange. Outside a worker thread, workerInfo() is undefined.
import { isMainThread, workerData } from "node:worker_threads";
import type { AppliedConfig } from "../broadcast.js";

export interface WorkerInfo {
  ferrogw: "worker";
  /** This thread's own descriptor of the shared listening socket. */
  fd: number;
  /** Rate-limit buckets shared by every worker (src/state/shared-rate.ts). */
  rateArena: SharedArrayBuffer;
  /** How many workers the gateway runs (this one included). */
  workers: number;
  /** Whatever the command line gave the supervisor (config path and so on). */
  options: Record<string, string | undefined>;
  /**
   * For a worker that replaces a crashed one: the config the others run, when one was applied
   * since start-up (admin API, file reload). Unset: start from the config file.
   */
  appliedConfig?: AppliedConfig;
}

export function workerInfo(): WorkerInfo | undefined {
  if (isMainThread) return undefined;
  const d = workerData as Partial<WorkerInfo> | null;
  return d?.ferrogw === "worker" ? (d as WorkerInfo) : undefined;
}

export const isGatewayWorker = (): boolean => workerInfo() !== undefined;

/** Worker → supervisor: serving (sent once the thread's server listens). */
export interface ListeningMessage {
  ferrogw: "listening";
  address: string;
  port: number;
}

/** Supervisor → worker: finish requests in flight, flush, then exit. */
export interface StopMessage {
  ferrogw: "stop";
}

export const isListeningMessage = (m: unknown): m is ListeningMessage => typeof m === "object" && m !== null && (m as ListeningMessage).ferrogw === "listening";
export const isStopMessage = (m: unknown): m is StopMessage => typeof m === "object" && m !== null && (m as StopMessage).ferrogw === "stop";
