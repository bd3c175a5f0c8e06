// A GCRA limiter whose buckets live in a SharedArrayBuffer, so every worker thread of one gateway
// process checks and updates the same buckets synchronously: exact across workers, and no
// message round trip on the request path (a round trip to another thread or process costs
// milliseconds once the cores are busy). The buffer is a bounded open-addressing table of
// (key hash, theoretical arrival time) pairs behind one spinlock, held for well under a
// microsecond per call.
import { gcra } from "./gcra.js";
import type { RateCheck, RateLimiter, RateResult, RateRule } from "./types.js";

/** How far from its home slot a key may live; a full window evicts its soonest-full bucket. */
const PROBE_WINDOW = 32;
/** The lock word, padded so the Float64 table that follows is 8-byte aligned. */
const HEADER_BYTES = 8;
const SLOT_BYTES = 16;

/** A table for about `keys` live buckets (twice that many slots, rounded up to a power of 2). */
export function createRateArena(keys: number): SharedArrayBuffer {
  let slots = 1024;
  while (slots < keys * 2) slots *= 2;
  return new SharedArrayBuffer(HEADER_BYTES + slots * SLOT_BYTES);
}

/**
 * 53-bit string hash (cyrb53): fast in JS, and with 53 bits two live keys colliding is
 * negligible (a collision would merge their buckets). `seed` separates limiters sharing a table.
 * 0 is reserved for an empty slot.
 */
export function keyHash(s: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const h = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return h === 0 ? 1 : h;
}

export class SharedRateLimiter implements RateLimiter {
  readonly backend = "memory";
  private readonly lock: Int32Array;
  /** [hash, tat] per slot; a hash of 0 marks a slot never used. */
  private readonly table: Float64Array;
  private readonly mask: number;

  /** `seed` identifies this limiter within the shared table (the same in every worker). */
  constructor(
    arena: SharedArrayBuffer,
    private readonly seed: number,
  ) {
    this.lock = new Int32Array(arena, 0, 1);
    this.table = new Float64Array(arena, HEADER_BYTES);
    this.mask = this.table.length / 2 - 1;
  }

  consume(checks: readonly RateCheck[]): RateResult {
    const n = checks.length;
    const hashes = new Array<number>(n);
    const current = new Array<number>(n);
    for (let i = 0; i < n; i++) hashes[i] = keyHash((checks[i] as RateCheck).key, this.seed);
    const now = Date.now();
    this.acquire();
    try {
      for (let i = 0; i < n; i++) {
        const slot = this.find(hashes[i] as number, now, false);
        current[i] = slot < 0 ? 0 : (this.table[slot * 2 + 1] as number);
      }
      const { result, newTats } = gcra(checks, current, now);
      if (result.allowed) {
        for (let i = 0; i < n; i++) {
          if ((checks[i] as RateCheck).cost > 0) this.table[this.find(hashes[i] as number, now, true) * 2 + 1] = newTats[i] as number;
        }
      }
      return result;
    } finally {
      this.release();
    }
  }

  debit(key: string, rule: RateRule, cost: number): void {
    const hash = keyHash(key, this.seed);
    const now = Date.now();
    this.acquire();
    try {
      const at = this.find(hash, now, true) * 2 + 1;
      this.table[at] = Math.max(this.table[at] as number, now) + cost * rule.intervalMs;
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    // The table belongs to the gateway process, not to one pipeline: reloads keep the buckets.
  }

  /**
   * The slot holding `hash`, or -1 when absent and !create. Creating takes the first slot in the
   * key's window that is unused or whose bucket is full again (such a bucket carries no state),
   * else evicts the bucket that would be full soonest. Slots never return to "unused", so a
   * lookup may stop at the first unused slot.
   */
  private find(hash: number, now: number, create: boolean): number {
    const t = this.table;
    const home = hash >>> 0;
    let free = -1;
    let soonest = -1;
    let soonestTat = Infinity;
    for (let p = 0; p < PROBE_WINDOW; p++) {
      const slot = (home + p) & this.mask;
      const h = t[slot * 2] as number;
      if (h === hash) return slot;
      if (h === 0) {
        if (free < 0) free = slot;
        break;
      }
      const tat = t[slot * 2 + 1] as number;
      if (tat <= now) {
        if (free < 0) free = slot;
      } else if (tat < soonestTat) {
        soonestTat = tat;
        soonest = slot;
      }
    }
    if (!create) return -1;
    const slot = free >= 0 ? free : soonest;
    t[slot * 2] = hash;
    t[slot * 2 + 1] = 0;
    return slot;
  }

  private acquire(): void {
    // Spin: the holder is another thread inside the few lines above, never waiting on anything.
    while (Atomics.compareExchange(this.lock, 0, 0, 1) !== 0);
  }

  private release(): void {
    Atomics.store(this.lock, 0, 0);
  }
}
