// Response-cache entries and budget counters that every worker thread must see alike. With the
// memory backend they live in the supervisor thread; a worker's stores are proxies that make one
// message round trip per call. (Rate limits do not come here: their buckets are in shared memory,
// src/state/shared-rate.ts, because they are checked on every request.) The Redis backend is
// shared by nature and needs none of this.
import { parentPort, type Worker } from "node:worker_threads";
import { MemoryCacheStore, memoryBudgetStore, type MemoryBudgetStore } from "../../state/memory.js";
import type { BudgetStore, CacheStore, ReserveResult, Spend } from "../../state/types.js";

/** Which supervisor-held store a proxy stands for; the same id in every worker is one store. */
export interface SharedStateId {
  kind: "cache" | "budget";
  /** Stable across workers: the plugin's position in the config, or the budget store_id. */
  id: string;
  /** maxEntries / maxKeys of the memory implementation, used when the supervisor creates it. */
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

// ---- supervisor side ------------------------------------------------------------------------

const hosted = new Map<string, CacheStore | BudgetStore>();

function hostedStore(id: SharedStateId): CacheStore | BudgetStore {
  const key = `${id.kind}:${id.id}`;
  let store = hosted.get(key);
  if (!store) {
    store = id.kind === "cache" ? new MemoryCacheStore(id.size) : memoryBudgetStore(id.id, id.size);
    hosted.set(key, store);
  }
  return store;
}

const STATE_METHODS: Readonly<Record<SharedStateId["kind"], ReadonlySet<string>>> = {
  cache: new Set(["get", "set", "size"]),
  budget: new Set(["reserve", "settle", "get", "list"]),
};

/**
 * Answers one worker's state calls from the supervisor's memory stores. The budget reservations
 * the worker holds are tracked, and given back if it dies before settling them: a crashed
 * worker's requests never settle, and their reservations would count against the budget for
 * good (for ever with `period: total`).
 */
export function serveState(worker: Worker): void {
  const held = new Map<string, { store: SharedStateId; key: string; amount: number }>();
  const hold = (m: StateCall, out: unknown): void => {
    const key = String(m.args[0]);
    const id = `${m.store.id}\u0000${key}`;
    const h = held.get(id) ?? { store: m.store, key, amount: 0 };
    if (m.method === "reserve" && (out as ReserveResult).ok) h.amount += Number(m.args[1]);
    else if (m.method === "settle") h.amount = Math.max(0, h.amount - Number(m.args[1]));
    else return;
    if (h.amount > 0) held.set(id, h);
    else held.delete(id);
  };
  worker.once("exit", () => {
    for (const h of held.values()) (hostedStore(h.store) as MemoryBudgetStore).release(h.key, h.amount);
    held.clear();
  });
  worker.on("message", (m: unknown) => {
    if (!isStateCall(m)) return;
    const reply = (r: Omit<StateReply, "ferrogw" | "seq">): void => worker.postMessage({ ferrogw: "state-reply", seq: m.seq, ...r } satisfies StateReply);
    try {
      if (!STATE_METHODS[m.store.kind]?.has(m.method)) throw new Error(`unknown state call ${m.store.kind}.${m.method}`);
      const store = hostedStore(m.store) as unknown as Record<string, (...a: unknown[]) => unknown>;
      const out = (store[m.method] as (...a: unknown[]) => unknown).apply(store, m.args);
      if (m.store.kind === "budget") hold(m, out);
      if (out instanceof Promise) out.then((value) => reply({ value }), (e: unknown) => reply({ error: (e as Error).message }));
      else reply({ value: out });
    } catch (e) {
      reply({ error: (e as Error).message });
    }
  });
}

// ---- worker side ----------------------------------------------------------------------------

class StateChannel {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly port: NonNullable<typeof parentPort>) {
    port.on("message", (m: unknown) => {
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
      this.pending.set(seq, { resolve, reject });
      this.port.postMessage({ ferrogw: "state", seq, store, method, args } satisfies StateCall);
    });
  }
}

let channel: StateChannel | undefined;
function stateChannel(): StateChannel {
  if (!parentPort) throw new Error("shared state is only reachable from a worker thread");
  return (channel ??= new StateChannel(parentPort));
}

/** A response cache held by the supervisor, so every worker sees every entry. */
export class SharedCacheStore implements CacheStore {
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

/** Budget counters held by the supervisor: reserve/settle stay atomic across workers. */
export class SharedBudgetStore implements BudgetStore {
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
