// Multi-core serving with worker threads. `ferrogw --workers N` (default: one per core) makes the
// main thread a supervisor: it opens the port once, starts N worker threads that each load the
// same config and accept connections on their own descriptor of that socket, hosts the state
// every worker must share, relays SIGTERM/SIGINT as a graceful stop and waits for the workers to
// drain, and replaces a worker that dies. `--workers 1` serves on the main thread, with none of this.
//
// Threads rather than processes (node:cluster, used before): shared memory lets the rate limiter
// run on every request with no message round trip (that round trip was 0.7 ms p50 under load on
// 2 cores, more than the rest of the gateway's work), and one process holds the code and native
// libraries once instead of once per worker.
import { availableParallelism } from "node:os";
import { inspect } from "node:util";
import { Worker } from "node:worker_threads";
import type { Logger } from "../../observability/logger.js";
import { watchAppliedConfig, type AppliedConfig } from "../broadcast.js";
import { createRateArena } from "../../state/shared-rate.js";
import { serveState } from "./shared-state.js";
import { openSharedListener } from "./shared-listener.js";
import { isListeningMessage, type StopMessage, type WorkerInfo } from "./thread-info.js";

/** Worker count from `--workers`; undefined means one per available core. */
export function resolveWorkers(flag: string | undefined): number {
  if (flag === undefined || flag === "") return Math.max(1, availableParallelism());
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--workers must be a whole number from 1 to 256 (got ${JSON.stringify(flag)})`);
  return n;
}

/** Live buckets the shared rate-limit table is sized for (all rate-limit plugins together). */
const RATE_KEYS = 200_000;

export interface SupervisorOptions {
  workers: number;
  port: number;
  host: string;
  log: Logger;
  /** The module each worker thread runs. */
  workerUrl: URL;
  /** Passed to every worker as WorkerInfo.options. */
  options: Record<string, string | undefined>;
  /** Logged once, when every worker listens. */
  listeningInfo: Record<string, unknown>;
  /** How long workers get to finish requests in flight on shutdown before they are stopped. */
  graceMs?: number;
}

export interface Supervisor {
  /** Resolves with the exit code once every worker has stopped. */
  readonly exited: Promise<number>;
  /** Graceful stop: workers finish requests in flight (tests call this; signals do in production). */
  stop(reason: string, code?: number): void;
  /** Asks one worker to do something it will tell the others about (a config file reload). */
  sendToOne(message: unknown): boolean;
  /** Threads currently running. */
  readonly threadIds: number[];
}

export async function startSupervisor(opts: SupervisorOptions): Promise<Supervisor> {
  const { workers, log } = opts;
  const graceMs = opts.graceMs ?? 35_000;
  const listener = await openSharedListener(opts.port, opts.host, 4096);
  const rateArena = createRateArena(RATE_KEYS);
  const running = new Map<number, Worker>();
  const everListened = new Set<number>();
  const crashes: number[] = [];
  let stopping = false;
  let exitCode = 0;
  let listening = 0;
  let announced = false;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  // The latest config a worker applied and told the others about; replacements start from it.
  let applied: AppliedConfig | undefined;
  const unwatch = watchAppliedConfig((a) => (applied = a));

  const finishIfDone = (): void => {
    if (stopping && running.size === 0) {
      unwatch();
      resolveExit(exitCode);
    }
  };

  /** `replacement`: started after a worker died; one that fails to start is retried, not fatal. */
  const start = (fd: number, replacement = false): void => {
    const info: WorkerInfo = { ferrogw: "worker", fd, rateArena, workers, options: opts.options, ...(applied && { appliedConfig: applied }) };
    const w = new Worker(opts.workerUrl, { workerData: info });
    const id = w.threadId;
    running.set(id, w);
    serveState(w);
    w.on("message", (m: unknown) => {
      if (!isListeningMessage(m)) return;
      everListened.add(id);
      listening++;
      if (listening === workers && !announced && !stopping) {
        announced = true;
        log.info({ ...opts.listeningInfo, host: listener.address, port: listener.port, workers }, "ferrogw listening");
      }
    });
    w.on("error", (err: unknown) => log.error({ worker: id, err: crashReason(err) }, "worker failed"));
    w.on("exit", (code) => {
      running.delete(id);
      if (everListened.has(id)) listening--;
      if (stopping) {
        finishIfDone();
        return;
      }
      if (!everListened.has(id) && !replacement) {
        // A worker that never came up (bad config, stores unreachable) would fail the same way
        // again. A replacement may have met a passing failure (a store locked or restarting)
        // while the others serve: it is retried with the back-off below.
        log.error({ worker: id, code }, "a worker failed to start; stopping");
        stop("worker start-up failure", 1);
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] as number) < now - 60_000) crashes.shift();
      // Back off when workers keep dying: 0.1 s, 0.2 s, ... up to 30 s within a minute.
      const delay = Math.min(30_000, 100 * 2 ** (crashes.length - 1));
      log.error({ worker: id, code, restart_in_ms: delay }, "worker exited unexpectedly; starting a replacement");
      setTimeout(() => {
        if (stopping) return;
        listener.newDescriptors(1).then(
          ([fd]) => {
            if (!stopping) start(fd as number, true);
          },
          (err: unknown) => log.error({ err: (err as Error).message }, "could not start a replacement worker"),
        );
      }, delay);
    });
  };

  const stop = (reason: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info({ reason, workers: running.size }, "shutting down: workers finish requests in flight");
    listener.close();
    for (const w of running.values()) w.postMessage({ ferrogw: "stop" } satisfies StopMessage);
    const killer = setTimeout(() => {
      for (const w of running.values()) void w.terminate();
    }, graceMs);
    killer.unref();
    finishIfDone();
  };

  for (const fd of await listener.newDescriptors(workers)) start(fd);
  return {
    exited,
    stop,
    sendToOne: (message) => {
      const w = running.values().next().value;
      if (!w) return false;
      w.postMessage(message);
      return true;
    },
    get threadIds() {
      return [...running.keys()];
    },
  };
}

/**
 * What a worker died of, whatever it threw. Only real Errors keep their message across the thread
 * boundary: anything else arrives as a copy of its enumerable fields (better-sqlite3's SqliteError
 * as just {code}), which logged as `err: {}` when only message and stack were picked.
 */
export function crashReason(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack };
  return { message: typeof err === "string" ? err : inspect(err, { depth: 3, breakLength: Infinity }) };
}
