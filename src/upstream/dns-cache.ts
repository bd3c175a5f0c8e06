// Host name lookups for upstream connections, shared and kept for a while. Node resolves every
// new connection's host with getaddrinfo on libuv's thread pool (4 threads, shared with file
// and crypto work) and keeps nothing: a burst that opens a thousand connections to one provider
// queued a thousand identical lookups. Here (in each worker) concurrent lookups of a host share
// one, and its answer is reused for LOOKUP_TTL_MS, or until a connection to it fails to open.
// getaddrinfo stays the resolver, so /etc/hosts, search domains, nsswitch and Node's address
// order behave as they do for dns.lookup.
import { lookup as systemLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";

/** How long one answer is reused, on top of the resolver's own caching. */
export const LOOKUP_TTL_MS = 30_000;
/** Hosts kept at most (URLs an upstream hands back, such as Replicate's, bring their own). */
const MAX_HOSTS = 1024;

/** dns.lookup with `all: true`, the resolver behind the cache. */
export type ResolveAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
type Callback = Parameters<LookupFunction>[2];

interface Entry {
  hostname: string;
  addresses: LookupAddress[];
  expiresAt: number;
}

function answer(err: NodeJS.ErrnoException | null, entry: Entry | undefined, options: LookupOptions, callback: Callback): void {
  if (entry === undefined) callback(err, options.all === true ? [] : "", undefined);
  else if (options.all === true) callback(null, entry.addresses);
  else {
    // What dns.lookup gives a caller that wants one address: the first, in the resolver's order.
    const first = entry.addresses[0] as LookupAddress;
    callback(null, first.address, first.family);
  }
}

export class HostLookups {
  /** In insertion order, which is expiry order (an entry is re-inserted when renewed). */
  private readonly cache = new Map<string, Entry>();
  private readonly waiting = new Map<string, Array<(err: NodeJS.ErrnoException | null, entry: Entry | undefined) => void>>();

  /** `resolve` and `now` are for tests: the gateway uses getaddrinfo and a monotonic clock. */
  constructor(
    private readonly resolve: ResolveAll = systemLookup as ResolveAll,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * For net.connect / tls.connect, which ask with `all: true` when they try IPv6 and IPv4 in
   * turn (Node's default).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const key = `${family}|${options.hints ?? 0}|${hostname}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expiresAt > this.now()) {
      // A lookup answers asynchronously, and net counts on that order of events.
      process.nextTick(answer, null, hit, options, callback);
      return;
    }
    const deliver = (err: NodeJS.ErrnoException | null, entry: Entry | undefined): void => answer(err, entry, options, callback);
    const queue = this.waiting.get(key);
    if (queue !== undefined) {
      queue.push(deliver);
      return;
    }
    this.waiting.set(key, [deliver]);
    try {
      this.resolve(hostname, { all: true, family, hints: options.hints }, (err, addresses) => this.settle(key, hostname, err, addresses));
    } catch (err) {
      // A lookup that never started must not leave later connections waiting on it.
      this.waiting.delete(key);
      throw err;
    }
  };

  /** A connection to `hostname` failed to open: its next connection asks the resolver again. */
  forget(hostname: string): void {
    for (const [key, entry] of this.cache) if (entry.hostname === hostname) this.cache.delete(key);
  }

  /** Whether an answer for `hostname` is kept. */
  has(hostname: string): boolean {
    for (const entry of this.cache.values()) if (entry.hostname === hostname && entry.expiresAt > this.now()) return true;
    return false;
  }

  private settle(key: string, hostname: string, err: NodeJS.ErrnoException | null, addresses: LookupAddress[]): void {
    const callers = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    this.cache.delete(key);
    // A failure is not kept: the next connection asks again.
    let entry: Entry | undefined;
    if (err === null && addresses.length > 0) {
      entry = { hostname, addresses, expiresAt: this.now() + LOOKUP_TTL_MS };
      this.makeRoom();
      this.cache.set(key, entry);
    }
    const failure = err ?? Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", syscall: "getaddrinfo", hostname });
    // Each in its own tick: one caller that throws does not keep the others waiting.
    for (const c of callers) process.nextTick(c, entry === undefined ? failure : null, entry);
  }

  /** Expired entries go first (they lead the map), then the oldest while it is still full. */
  private makeRoom(): void {
    if (this.cache.size < MAX_HOSTS) return;
    const now = this.now();
    for (const [key, entry] of this.cache) {
      if (entry.expiresAt > now && this.cache.size < MAX_HOSTS) break;
      this.cache.delete(key);
    }
  }
}

/** The lookups every upstream connection of this worker uses. */
export const upstreamLookups = new HostLookups();
