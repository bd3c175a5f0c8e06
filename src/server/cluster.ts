// Multi-core serving with node:cluster. `ferrogw --workers N` (default: the machine's available
// parallelism) makes this process the primary: it validates the config once, forks N workers that
// each load the same config file and listen on the same port (the primary hands connections out
// round-robin), relays SIGTERM/SIGINT to them and waits for them to drain, and replaces a worker
// that dies unexpectedly. `--workers 1` serves in-process, without cluster.
//
// State that must be global across workers (rate-limit buckets, budgets, the response cache)
// stays correct: with the memory backend, a worker's stores are proxies (ClusterRateLimiter,
// ClusterCacheStore, ClusterBudgetStore) of memory stores held by the primary, one IPC round trip
// per call (about 60 µs on an idle machine, milliseconds when the cores are saturated: see
// BENCHMARKS.md); the Redis backend is shared by nature and needs nothing from here. IPC uses the
// default JSON serialization (measured faster than 'advanced'); the stores' values are JSON-safe.
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Logger } from "../observability/logger.js";
import { relayBroadcasts } from "./broadcast.js";
import { MemoryCacheStore, MemoryRateLimiter, memoryBudgetStore } from "../state/memory.js";
import type { BudgetStore, CacheStore, RateCheck, RateLimiter, RateResult, RateRule, ReserveResult, Spend } from "../state/types.js";

/** Worker count from `--workers`; undefined means one per available core. */
export function resolveWorkers(flag: string | undefined): number {
  if (flag === undefined || flag === "") return Math.max(1, availableParallelism());
  const n = Number(flag);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`--workers must be a whole number from 1 to 1024 (got ${JSON.stringify(flag)})`);
  return n;
}

export const isClusterWorker = (): boolean => cluster.isWorker;

// ---- shared state ---------------------------------------------------------------------------

/** Which memory store a worker-side proxy stands for; the same id in every worker is one store. */
export interface SharedStateId {
  kind: "rate" | "cache" | "budget";
  /** Stable across workers: e.g. the plugin's position in the config, or the budget store_id. */
  id: string;
  /** maxKeys / maxEntries of the memory implementation, used when the primary creates it. */
  size: number;
}

interface StateCall {
  ferrogw: "state";
  seq: number;
  store: SharedStateId;
  method: string;
  args: unknown[];
}
interface StateReply {
  ferrogw: "state-reply";
  seq: number;
  value?: unknown;
  error?: string;
}

const isStateCall = (m: unknown): m is StateCall => typeof m === "object" && m !== null && (m as StateCall).ferrogw === "state";
const isStateReply = (m: unknown): m is StateReply => typeof m === "object" && m !== null && (m as StateReply).ferrogw === "state-reply";

/** Primary side: the memory stores every worker shares, created on first use. */
const hosted = new Map<string, RateLimiter | CacheStore | BudgetStore>();

function hostedStore(id: SharedStateId): RateLimiter | CacheStore | BudgetStore {
  const key = `${id.kind}:${id.id}`;
  let store = hosted.get(key);
  if (!store) {
    store = id.kind === "rate" ? new MemoryRateLimiter(id.size) : id.kind === "cache" ? new MemoryCacheStore(id.size) : memoryBudgetStore(id.id, id.size);
    hosted.set(key, store);
  }
  return store;
}

const STATE_METHODS: Readonly<Record<SharedStateId["kind"], ReadonlySet<string>>> = {
  rate: new Set(["consume", "debit"]),
  cache: new Set(["get", "set", "size"]),
  budget: new Set(["reserve", "settle", "get", "list"]),
};

function serveState(worker: Worker): void {
  worker.on("message", (m: unknown) => {
    if (!isStateCall(m)) return;
    const reply = (r: Omit<StateReply, "ferrogw" | "seq">): void => {
      if (worker.isConnected()) worker.send({ ferrogw: "state-reply", seq: m.seq, ...r } satisfies StateReply);
    };
    try {
      if (!STATE_METHODS[m.store.kind]?.has(m.method)) throw new Error(`unknown state call ${m.store.kind}.${m.method}`);
      const store = hostedStore(m.store) as unknown as Record<string, (...a: unknown[]) => unknown>;
      const out = (store[m.method] as (...a: unknown[]) => unknown).apply(store, m.args);
      if (out instanceof Promise) out.then((value) => reply({ value }), (e: unknown) => reply({ error: (e as Error).message }));
      else reply({ value: out });
    } catch (e) {
      reply({ error: (e as Error).message });
    }
  });
}

/** Worker side: one IPC channel to the primary for every proxy. */
class StateChannel {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    process.on("message", (m: unknown) => {
      if (!isStateReply(m)) return;
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
  }

  call(store: SharedStateId, method: string, args: unknown[]): Promise<unknown> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      if (!process.send) {
        reject(new Error("no IPC channel to the cluster primary"));
        return;
      }
      this.pending.set(seq, { resolve, reject });
      const msg: StateCall = { ferrogw: "state", seq, store, method, args };
      process.send(msg, undefined, {}, (err: Error | null) => {
        if (!err) return;
        this.pending.delete(seq);
        reject(err);
      });
    });
  }
}

let channel: StateChannel | undefined;
const stateChannel = (): StateChannel => (channel ??= new StateChannel());

/** A rate limiter whose buckets live in the cluster primary: exact across workers. */
export class ClusterRateLimiter implements RateLimiter {
  readonly backend = "memory";
  constructor(private readonly store: SharedStateId) {}
  consume(checks: readonly RateCheck[]): Promise<RateResult> {
    return stateChannel().call(this.store, "consume", [checks]) as Promise<RateResult>;
  }
  async debit(key: string, rule: RateRule, cost: number): Promise<void> {
    await stateChannel().call(this.store, "debit", [key, rule, cost]);
  }
  async close(): Promise<void> {
    // The primary's store outlives one worker's pipeline (config reloads keep the counters).
  }
}

/** A response cache held by the cluster primary, so every worker sees every entry. */
export class ClusterCacheStore implements CacheStore {
  readonly backend = "memory";
  private lastSize = 0;
  constructor(private readonly store: SharedStateId) {}
  get(key: string): Promise<string | undefined> {
    return stateChannel().call(this.store, "get", [key]) as Promise<string | undefined>;
  }
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await stateChannel().call(this.store, "set", [key, value, ttlMs]);
  }
  /** Last known entry count (refreshed in the background: the interface is synchronous). */
  size(): number {
    void stateChannel()
      .call(this.store, "size", [])
      .then((n) => (this.lastSize = n as number), () => undefined);
    return this.lastSize;
  }
  async close(): Promise<void> {}
}

/** Budget counters held by the cluster primary: reserve/settle stay atomic across workers. */
export class ClusterBudgetStore implements BudgetStore {
  readonly backend = "memory";
  constructor(private readonly store: SharedStateId) {}
  reserve(key: string, estimate: number, limit: number): Promise<ReserveResult> {
    return stateChannel().call(this.store, "reserve", [key, estimate, limit]) as Promise<ReserveResult>;
  }
  async settle(key: string, reserved: number, actual: number, expireAtMs: number): Promise<void> {
    await stateChannel().call(this.store, "settle", [key, reserved, actual, expireAtMs]);
  }
  get(key: string): Promise<Spend> {
    return stateChannel().call(this.store, "get", [key]) as Promise<Spend>;
  }
  list(prefix: string): Promise<Array<Spend & { key: string }>> {
    return stateChannel().call(this.store, "list", [prefix]) as Promise<Array<Spend & { key: string }>>;
  }
  async close(): Promise<void> {}
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
      serveState(w);
      relayBroadcasts(w);
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
