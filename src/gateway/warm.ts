// Upstream connections opened before requests need them: when a worker starts serving, and when
// a new config version comes in, per provider origin. The first requests to each provider then
// skip the host lookup and the TCP and TLS handshakes (with a real provider, a round trip or three).
import { poolFor } from "../upstream/pool.js";
import type { Runtime } from "./runtime.js";

/** Connections opened ahead per provider origin and worker, without FERROGW_WARM_CONNECTIONS. */
const DEFAULT_WARM = 1;
const MAX_WARM = 64;
const WHOLE_NUMBER = /^\s*\d+\s*$/;

/**
 * FERROGW_WARM_CONNECTIONS: 0 turns warming off. A bad value is refused: `ferrogw serve` checks
 * it before anything starts, next to its other settings.
 */
export function warmConnectionsFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.FERROGW_WARM_CONNECTIONS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_WARM;
  const n = Number(raw);
  if (!WHOLE_NUMBER.test(raw) || n > MAX_WARM) throw new Error(`FERROGW_WARM_CONNECTIONS must be a whole number from 0 to ${MAX_WARM}, not ${JSON.stringify(raw)}`);
  return n;
}

/**
 * Opens up to `count` connections to each origin the runtime's providers call: once the app
 * serves (start) and for each config version installed after that (warm), until it closes.
 * Best effort: nothing here may fail a start-up or a reload.
 */
export class UpstreamWarmer {
  private serving = false;

  constructor(private readonly count: number) {}

  start(runtime: Runtime): void {
    this.serving = true;
    this.warm(runtime);
  }

  warm(runtime: Runtime): void {
    if (!this.serving || this.count === 0) return;
    try {
      const origins = new Set<string>();
      for (const provider of runtime.providers.byName.values()) {
        const url = provider.baseUrl;
        if (url.protocol === "http:" || url.protocol === "https:") origins.add(url.origin);
      }
      for (const origin of origins) poolFor(origin).warm(this.count);
    } catch {
      // A connection that cannot even be started is one the first request opens itself.
    }
  }

  stop(): void {
    this.serving = false;
  }
}
