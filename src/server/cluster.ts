// Multi-core serving with node:cluster. `ferrogw --workers N` (default: the machine's available
// parallelism) makes this process the primary: it validates the config once, forks N workers that
// each load the same config file and listen on the same port (the primary hands connections out
// round-robin), relays SIGTERM/SIGINT to them and waits for them to drain, and replaces a worker
// that dies unexpectedly. `--workers 1` serves in-process, without cluster.
//
// State that must be global across workers (rate-limit counters, budgets, cache entries) lives in
// the primary and is reached through `sharedStore()`: in a worker it is an IPC client of the
// primary's store, in a single process the same store in memory. One round trip costs tens of
// microseconds in both processes, so callers should keep hot-path use to a counter per request.
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Logger } from "../observability/logger.js";

/** Worker count from `--workers`; undefined means one per available core. */
export function resolveWorkers(flag: string | undefined): number {
  if (flag === undefined || flag === "") return Math.max(1, availableParallelism());
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`--workers must be a whole number from 1 to 1024 (got ${JSON.stringify(flag)})`);
  return n;
}

export const isClusterWorker = (): boolean => cluster.isWorker;

// ---- shared store --------------------------------------------------------------------------

export interface SharedStore {
  /** Adds `by` to a counter that lives `windowMs` from its first increment; returns the new total. */
  incr(key: string, by: number, windowMs: number): Promise<number>;
  get(key: string): Promise<unknown>;
  /** Stores a structured-cloneable (JSON) value; `ttlMs` of 0 or less keeps it until replaced. */
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

/** The store itself: a map with expiry, swept in the background so it stays bounded. */
export class MemoryStore {
  private readonly map = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepMs = 10_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  incr(key: string, by: number, windowMs: number): number {
    const now = Date.now();
    const e = this.live(key, now);
    if (!e || typeof e.value !== "number") {
      this.map.set(key, { value: by, expiresAt: windowMs > 0 ? now + windowMs : Infinity });
      return by;
    }
    e.value += by;
    return e.value as number;
  }

  get(key: string): unknown {
    return this.live(key, Date.now())?.value;
  }

  set(key: string, value: unknown, ttlMs = 0): void {
    this.map.set(key, { value, expiresAt: ttlMs > 0 ? Date.now() + ttlMs : Infinity });
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  sweep(): void {
    const now = Date.now();
    for (const [k, e] of this.map) if (e.expiresAt <= now) this.map.delete(k);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

type StoreOp =
  | { op: "incr"; key: string; by: number; windowMs: number }
  | { op: "get"; key: string }
  | { op: "set"; key: string; value: unknown; ttlMs: number }
  | { op: "delete"; key: string };
interface StoreRequest {
  ferrogw: "store";
  id: number;
  req: StoreOp;
}
interface StoreReply {
  ferrogw: "store-reply";
  id: number;
  value?: unknown;
  error?: string;
}

function applyOp(store: MemoryStore, req: StoreOp): unknown {
  switch (req.op) {
    case "incr":
      return store.incr(req.key, req.by, req.windowMs);
    case "get":
      return store.get(req.key);
    case "set":
      store.set(req.key, req.value, req.ttlMs);
      return undefined;
    case "delete":
      store.delete(req.key);
      return undefined;
  }
}

const isStoreRequest = (m: unknown): m is StoreRequest => typeof m === "object" && m !== null && (m as StoreRequest).ferrogw === "store";
const isStoreReply = (m: unknown): m is StoreReply => typeof m === "object" && m !== null && (m as StoreReply).ferrogw === "store-reply";

class LocalSharedStore implements SharedStore {
  constructor(private readonly store: MemoryStore) {}
  incr(key: string, by: number, windowMs: number): Promise<number> {
    return Promise.resolve(this.store.incr(key, by, windowMs));
  }
  get(key: string): Promise<unknown> {
    return Promise.resolve(this.store.get(key));
  }
  set(key: string, value: unknown, ttlMs = 0): Promise<void> {
    this.store.set(key, value, ttlMs);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.store.delete(key);
    return Promise.resolve();
  }
}

class WorkerSharedStore implements SharedStore {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    process.on("message", (m: unknown) => {
      if (!isStoreReply(m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
  }

  private call(req: StoreOp): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: StoreRequest = { ferrogw: "store", id, req };
      process.send?.(msg, undefined, {}, (err: Error | null) => {
        if (!err) return;
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  async incr(key: string, by: number, windowMs: number): Promise<number> {
    return (await this.call({ op: "incr", key, by, windowMs })) as number;
  }
  get(key: string): Promise<unknown> {
    return this.call({ op: "get", key });
  }
  async set(key: string, value: unknown, ttlMs = 0): Promise<void> {
    await this.call({ op: "set", key, value, ttlMs });
  }
  async delete(key: string): Promise<void> {
    await this.call({ op: "delete", key });
  }
}

let shared: SharedStore | undefined;
let primaryStore: MemoryStore | undefined;

/** The store shared by every worker of this gateway (the process's own store without cluster). */
export function sharedStore(): SharedStore {
  if (!shared) shared = cluster.isWorker ? new WorkerSharedStore() : new LocalSharedStore((primaryStore ??= new MemoryStore()));
  return shared;
}

function serveStore(worker: Worker): void {
  worker.on("message", (m: unknown) => {
    if (!isStoreRequest(m)) return;
    let reply: StoreReply;
    try {
      reply = { ferrogw: "store-reply", id: m.id, value: applyOp((primaryStore ??= new MemoryStore()), m.req) };
    } catch (e) {
      reply = { ferrogw: "store-reply", id: m.id, error: (e as Error).message };
    }
    if (worker.isConnected()) worker.send(reply);
  });
}

// ---- primary -------------------------------------------------------------------------------

interface ListeningMessage {
  ferrogw: "listening";
  address: string;
  port: number;
}
const isListening = (m: unknown): m is ListeningMessage => typeof m === "object" && m !== null && (m as ListeningMessage).ferrogw === "listening";

/** Called by a worker once its server listens, so the primary can announce the gateway once. */
export function reportListening(address: string, port: number): void {
  const msg: ListeningMessage = { ferrogw: "listening", address, port };
  process.send?.(msg);
}

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  /** Logged once, when every worker listens. */
  listeningInfo: Record<string, unknown>;
  /** How long workers get to finish requests in flight on shutdown before they are killed. */
  graceMs?: number;
}

/**
 * Runs this process as the cluster primary. Workers are forks of the same command line; they
 * serve, this process only supervises. Resolves when the primary has decided to exit.
 */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { workers, log } = opts;
  const graceMs = opts.graceMs ?? 35_000;
  let stopping = false;
  let listening = 0;
  let announced = false;
  const everListened = new Set<number>();
  const crashes: number[] = [];

  return new Promise((resolveExit) => {
    const fork = (): void => {
      const w = cluster.fork();
      serveStore(w);
      w.on("message", (m: unknown) => {
        if (!isListening(m)) return;
        everListened.add(w.id);
        listening++;
        if (listening === workers && !announced) {
          announced = true;
          log.info({ ...opts.listeningInfo, host: m.address, port: m.port, workers }, "ferrogw listening");
        }
      });
    };

    const finish = (code: number): void => {
      if (Object.keys(cluster.workers ?? {}).length === 0) resolveExit(code);
    };

    const stop = (signal: string, code = 0): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, "shutting down: workers finish requests in flight");
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
      const killer = setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGKILL");
      }, graceMs);
      killer.unref();
      cluster.on("exit", () => finish(code));
      finish(code);
    };

    cluster.on("exit", (worker, code, signal) => {
      if (stopping) return;
      if (!everListened.has(worker.id)) {
        // A worker that never came up (port in use, bad config) would fail the same way again.
        log.error({ pid: worker.process.pid, code, signal }, "a worker failed to start; stopping");
        stop("worker start-up failure", 1);
        return;
      }
      listening--;
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] as number) < now - 60_000) crashes.shift();
      // Back off when workers keep dying: 0.1 s, 0.2 s, ... up to 30 s within a minute.
      const delay = Math.min(30_000, 100 * 2 ** (crashes.length - 1));
      log.error({ pid: worker.process.pid, code, signal, restart_in_ms: delay }, "worker exited unexpectedly; starting a replacement");
      setTimeout(() => {
        if (!stopping) fork();
      }, delay);
    });

    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    for (let i = 0; i < workers; i++) fork();
  });
}
