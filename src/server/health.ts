// GET /health: liveness plus what each configured provider and target looks like from here,
// including each target's circuit breaker, concurrency gate and observed latency.
import type { Runtime } from "../gateway/runtime.js";
import type { McpServerStatus } from "../mcp/hub.js";
import type { BreakerState } from "../routing/circuit-breaker.js";
import { poolStats } from "../upstream/pool.js";

export interface TargetHealth {
  key: string;
  provider: string;
  /** "closed" when the target has no breaker configured. */
  circuit: BreakerState;
  consecutive_failures?: number;
  /** While open: milliseconds until the breaker lets a probe through. */
  retry_in_ms?: number;
  concurrency?: { active: number; queued: number; max: number; queue_size: number };
  latency_ms?: number;
}

export interface HealthReport {
  status: "ok" | "degraded";
  strategy: string;
  providers: Array<{ name: string; kind: string; base_url: string; status: "ok" }>;
  targets: TargetHealth[];
  upstream_pools: ReturnType<typeof poolStats>;
  /** This worker's MCP servers (when any is configured): connected or not, and how many tools each offers. */
  mcp_servers?: McpServerStatus[];
}

export interface Readiness {
  status: "ready" | "not_ready";
  reason?: string;
  mcp_servers?: McpServerStatus[];
}

/**
 * GET /readyz: whether this instance should get traffic. Not while an MCP server marked
 * `required` is not connected; other servers are listed but do not count.
 */
export function readiness(rt: Runtime): Readiness {
  const mcp = rt.mcp;
  if (mcp === undefined) return { status: "ready" };
  if (!mcp.ready) return { status: "not_ready", reason: "required mcp server unavailable", mcp_servers: mcp.status() };
  return { status: "ready", mcp_servers: mcp.status() };
}

export function healthReport(rt: Runtime): HealthReport {
  const now = Date.now();
  const providers = [...rt.providers.byName.values()].map((p) => ({ name: p.name, kind: p.kind, base_url: p.baseUrl.origin, status: "ok" as const }));
  let open = 0;
  const targets = rt.router.allTargets().map((t): TargetHealth => {
    const out: TargetHealth = { key: t.key, provider: t.provider.name, circuit: t.breaker ? t.breaker.state(now) : "closed" };
    if (t.breaker) {
      out.consecutive_failures = t.breaker.consecutiveFailures;
      if (out.circuit === "open") {
        open++;
        out.retry_in_ms = t.breaker.retryInMs(now);
      }
    }
    if (t.gate) out.concurrency = { active: t.gate.active, queued: t.gate.queued, max: t.gate.max, queue_size: t.gate.queueSize };
    if (t.latency.samples > 0) out.latency_ms = Math.round(t.latency.ewmaMs * 10) / 10;
    return out;
  });
  return {
    status: open > 0 ? "degraded" : "ok",
    strategy: rt.config.strategy.mode,
    providers,
    targets,
    upstream_pools: poolStats(),
    ...(rt.mcp ? { mcp_servers: rt.mcp.status() } : {}),
  };
}
