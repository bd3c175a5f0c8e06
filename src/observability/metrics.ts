// Prometheus metrics at /metrics. Recorded once per finished request from the 'close' handler,
// after the response has left, so the request path pays nothing for them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { pluginRegistry } from "../plugins/metrics.js";
import type { RequestContext } from "../server/context.js";
import { poolStats } from "../upstream/pool.js";

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "ferrogw_requests_total",
    help: "Requests handled, by provider, model, status and stream",
    labelNames: ["provider", "model", "status", "stream"] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: "ferrogw_request_duration_seconds",
    help: "Total request duration as seen by the gateway",
    labelNames: ["provider"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly overhead = new Histogram({
    name: "ferrogw_gateway_overhead_seconds",
    help: "Time spent inside the gateway, upstream time excluded",
    buckets: [0.00001, 0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: "ferrogw_tokens_total",
    help: "Tokens by provider, model and direction",
    labelNames: ["provider", "model", "direction"] as const,
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: "ferrogw_upstream_attempts_total",
    help: "Upstream attempts, including retries and fallbacks",
    labelNames: ["provider"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "ferrogw_process_" });
    const registry = this.registry;
    new Gauge({
      name: "ferrogw_upstream_pool_queued",
      help: "Requests waiting for a connection, per upstream origin",
      labelNames: ["origin"] as const,
      registers: [registry],
      collect() {
        for (const s of poolStats()) this.set({ origin: s.origin }, s.queued + s.pending);
      },
    });
    new Gauge({
      name: "ferrogw_upstream_pool_connections",
      help: "Open connections per upstream origin",
      labelNames: ["origin"] as const,
      registers: [registry],
      collect() {
        for (const s of poolStats()) this.set({ origin: s.origin }, s.connected);
      },
    });
  }

  record(ctx: RequestContext): void {
    if (ctx.model === undefined) return; // not a model request (health, admin, 404s)
    const provider = ctx.cacheHit ? "cache" : (ctx.provider ?? "none");
    const totalNs = Number(process.hrtime.bigint() - ctx.startNs);
    this.requests.inc({ provider, model: ctx.model, status: String(ctx.status), stream: ctx.stream ? "true" : "false" });
    this.duration.observe({ provider }, totalNs / 1e9);
    if (ctx.overheadNs > 0n) this.overhead.observe(Number(ctx.overheadNs) / 1e9);
    if (ctx.attempts > 0) this.attempts.inc({ provider }, ctx.attempts);
    const u = ctx.usage;
    if (u) {
      this.tokens.inc({ provider, model: ctx.model, direction: "input" }, u.prompt_tokens);
      this.tokens.inc({ provider, model: ctx.model, direction: "output" }, u.completion_tokens);
    }
  }

  /** Gateway metrics followed by the plugins' own (cache hits, rejections, hook failures). */
  async render(): Promise<{ contentType: string; body: string }> {
    const [core, plugins] = await Promise.all([this.registry.metrics(), pluginRegistry.metrics()]);
    return { contentType: this.registry.contentType, body: `${core}\n${plugins}` };
  }
}
