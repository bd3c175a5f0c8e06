// GET /health: liveness plus what each configured provider looks like from here.
import type { Runtime } from "../gateway/runtime.js";
import { poolStats } from "../upstream/pool.js";

export interface HealthReport {
  status: "ok" | "degraded";
  providers: Array<{ name: string; kind: string; base_url: string; status: "ok" }>;
  targets: Array<{ key: string; provider: string }>;
  upstream_pools: ReturnType<typeof poolStats>;
}

export function healthReport(rt: Runtime): HealthReport {
  const providers = [...rt.providers.byName.values()].map((p) => ({ name: p.name, kind: p.kind, base_url: p.baseUrl.origin, status: "ok" as const }));
  return {
    status: "ok",
    providers,
    targets: rt.router.allTargets().map((t) => ({ key: t.key, provider: t.provider.name })),
    upstream_pools: poolStats(),
  };
}
