// Upstream connections opened before requests need them: when a worker starts serving, and when
// a new config version comes in. The first requests to each provider then skip the host lookup
// and the TCP and TLS handshakes (with a real provider, a round trip or three).
import { poolFor } from "../upstream/pool.js";
import type { Runtime } from "./runtime.js";

/** Connections opened ahead per provider origin and worker, without FERROGW_WARM_CONNECTIONS. */
const DEFAULT_WARM = 1;
const MAX_WARM = 64;

/** FERROGW_WARM_CONNECTIONS: 0 turns warming off; a bad value is refused at start-up. */
export function warmConnectionsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.FERROGW_WARM_CONNECTIONS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_WARM;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_WARM) throw new Error(`FERROGW_WARM_CONNECTIONS must be a whole number from 0 to ${MAX_WARM}, not ${JSON.stringify(raw)}`);
  return n;
}

/** Opens up to `count` connections to each origin the runtime's providers call. */
export function warmUpstreams(runtime: Runtime, count: number): void {
  if (count === 0) return;
  const origins = new Set<string>();
  for (const provider of runtime.providers.byName.values()) {
    const url = provider.baseUrl;
    if (url.protocol === "http:" || url.protocol === "https:") origins.add(url.origin);
  }
  for (const origin of origins) poolFor(origin).warm(count);
}
