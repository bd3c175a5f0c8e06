// Prometheus series of the MCP tool loop, in the plugins' registry (merged into /metrics and
// summed across workers with it). Names follow the reference gateway's.
import { Counter, Gauge, Histogram } from "prom-client";
import { pluginRegistry } from "../plugins/metrics.js";

const calls = new Counter({
  name: "ferrogw_mcp_tool_calls_total",
  help: "MCP tool calls, by server, tool and status (ok, or error: failed, timed out, or the tool reported isError).",
  labelNames: ["server_name", "tool_name", "status"] as const,
  registers: [pluginRegistry],
});

const durations = new Histogram({
  name: "ferrogw_mcp_tool_call_duration_seconds",
  help: "Latency of MCP tool calls.",
  labelNames: ["server_name", "tool_name"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [pluginRegistry],
});

const unknownCalls = new Counter({
  name: "ferrogw_mcp_unknown_tool_calls_total",
  help: "Tool calls the loop could not route: no connected MCP server offers the tool any more.",
  registers: [pluginRegistry],
});

const up = new Gauge({
  name: "ferrogw_mcp_server_up",
  help: "Connections to the MCP server that are up and have listed its tools (one per worker).",
  labelNames: ["server_name"] as const,
  registers: [pluginRegistry],
  // Workers each hold their own connections: the supervisor sums them (workers connected).
  aggregator: "sum",
});

export function toolCalled(server: string, tool: string, status: "ok" | "error", ms: number): void {
  calls.labels(server, tool, status).inc();
  if (ms > 0) durations.labels(server, tool).observe(ms / 1000);
}

export function unknownToolCalled(): void {
  unknownCalls.inc();
}

/** Connections up per server name in this worker (a reload may hold an old and a new one for a while). */
const upCounts = new Map<string, number>();

/** `delta`: +1 a connection came up, -1 one went down, 0 the server is configured (shows 0 until it connects). */
export function serverUp(server: string, delta: -1 | 0 | 1): void {
  const n = Math.max(0, (upCounts.get(server) ?? 0) + delta);
  upCounts.set(server, n);
  up.labels(server).set(n);
}
