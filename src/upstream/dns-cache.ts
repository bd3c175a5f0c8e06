// Host name lookups for upstream connections, shared and kept for a while. Node resolves every
// new connection's host with getaddrinfo on libuv's thread pool (4 threads, shared with file
// and crypto work) and keeps nothing: a burst that opens a thousand connections to one provider
// queued a thousand identical lookups. Here concurrent lookups of a host share one, and its
// answer is reused for LOOKUP_TTL_MS. getaddrinfo stays the resolver, so /etc/hosts, search
// domains and nsswitch behave as they do for any other program on the machine.
import { lookup as systemLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from "node:dns";
import type { LookupFunction } from "node:net";

/** How long one answer is reused: short enough to follow a provider's DNS changes. */
export const LOOKUP_TTL_MS = 30_000;
/** Hosts kept at most (URLs an upstream hands back, such as Replicate's, bring their own). */
const MAX_HOSTS = 1024;

/** dns.lookup with `all: true`, the resolver behind the cache. */
export type ResolveAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
type Callback = Parameters<LookupFunction>[2];

interface Entry {
  addresses: LookupAddress[];
  expiresAt: number;
  /** Round-robin over several addresses for callers that take one. */
  next: number;
}

function answer(entry: Entry, options: LookupOptions, callback: Callback): void {
  if (options.all === true) {
    callback(null, entry.addresses);
    return;
  }
  const a = entry.addresses[entry.next++ % entry.addresses.length] as LookupAddress;
  callback(null, a.address, a.family);
}

/**
 * A `lookup` for net.connect / tls.connect (which ask with `all: true` when they try IPv6 and
 * IPv4 in turn, Node's default). `resolve` and `now` are for tests.
 */
export function createCachedLookup(resolve: ResolveAll = systemLookup as ResolveAll, now: () => number = Date.now): LookupFunction {
  const cache = new Map<string, Entry>();
  const waiting = new Map<string, Array<(err: NodeJS.ErrnoException | null, entry: Entry | undefined) => void>>();

  return function cachedLookup(hostname, options, callback): void {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const key = `${family}|${options.hints ?? 0}|${hostname}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.expiresAt > now()) {
      // A lookup answers asynchronously, and net counts on that order of events.
      process.nextTick(answer, hit, options, callback);
      return;
    }
    const deliver = (err: NodeJS.ErrnoException | null, entry: Entry | undefined): void => {
      if (entry === undefined) callback(err, options.all === true ? [] : "", undefined);
      else answer(entry, options, callback);
    };
    const queue = waiting.get(key);
    if (queue !== undefined) {
      queue.push(deliver);
      return;
    }
    waiting.set(key, [deliver]);
    resolve(hostname, { all: true, family, hints: options.hints }, (err, addresses) => {
      const callers = waiting.get(key) ?? [];
      waiting.delete(key);
      // A failure is not kept: the next connection asks again.
      let entry: Entry | undefined;
      if (err === null && addresses.length > 0) {
        const at = now();
        if (cache.size >= MAX_HOSTS) for (const [k, e] of cache) if (e.expiresAt <= at || cache.size >= MAX_HOSTS) cache.delete(k);
        entry = { addresses, expiresAt: at + LOOKUP_TTL_MS, next: 0 };
        cache.set(key, entry);
      } else cache.delete(key);
      const failure = err ?? Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname });
      for (const c of callers) c(entry === undefined ? failure : null, entry);
    });
  };
}

/** The lookup every upstream connection uses. */
export const upstreamLookup = createCachedLookup();
