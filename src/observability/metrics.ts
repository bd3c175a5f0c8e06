// Prometheus metrics at /metrics. Recorded once per finished request from the 'close' handler,
// after the response has left, so the request path pays nothing for them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { pluginRegistry } from "../plugins/metrics.js";
import type { RequestContext } from "../server/context.js";
import { poolStats } from "../upstream/pool.js";
import { gatewayMetrics, shareWorkerMetrics } from "./worker-metrics.js";

type CounterChild = ReturnType<Counter<string>["labels"]>;

/**
 * One label combination of the per-request metrics. Counts add up here, in plain numbers, and
 * reach prom-client when it collects (a scrape): prom-client hashes and validates the label set
 * on every inc, which was most of what recording a request allocated.
 */
interface RequestSeries {
  readonly duration: { observe(v: number): void };
  readonly children: { requests: CounterChild; attempts: CounterChild; input: CounterChild; output: CounterChild };
  requests: number;
  attempts: number;
  input: number;
  output: number;
}

type CountField = "requests" | "attempts" | "input" | "output";

const MAX_CACHED_SERIES = 10_000;
/** How often the event-loop lag metric samples the loop's delay. */
const EVENT_LOOP_SAMPLE_MS = 100;
const COUNT_FIELDS: readonly CountField[] = ["requests", "attempts", "input", "output"];

function drain(s: RequestSeries, field: CountField): void {
  const n = s[field];
  if (n === 0) return;
  s[field] = 0;
  s.children[field].inc(n);
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = this.counter("requests", {
    name: "ferrogw_requests_total",
    help: "Requests handled, by provider, model, status and stream",
    labelNames: ["provider", "model", "status", "stream"],
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
  private readonly tokens = this.counter(["input", "output"], {
    name: "ferrogw_tokens_total",
    help: "Tokens by provider, model and direction",
    labelNames: ["provider", "model", "direction"],
  });
  private readonly attempts = this.counter("attempts", {
    name: "ferrogw_upstream_attempts_total",
    help: "Upstream attempts, including retries and fallbacks",
    labelNames: ["provider"],
  });

  constructor() {
    // The event-loop lag metric samples with a timer of its own in every worker thread: at
    // prom-client's default (every 10 ms) that timer was nearly all of an idle gateway's CPU.
    collectDefaultMetrics({ register: this.registry, prefix: "ferrogw_process_", eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    shareWorkerMetrics(() => this.snapshot());
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

  /**
   * The series one kind of request updates, looked up once per label combination (prom-client's
   * own lookup hashes a label object each time).
   */
  private readonly series = new Map<string, RequestSeries>();

  /** A counter whose pending counts (`fields` of each series) are handed to prom-client when it collects. */
  private counter(fields: CountField | CountField[], opts: { name: string; help: string; labelNames: string[] }): Counter<string> {
    const list = Array.isArray(fields) ? fields : [fields];
    const series = (): Iterable<RequestSeries> => this.series.values();
    return new Counter({
      ...opts,
      registers: [this.registry],
      collect() {
        for (const s of series()) for (const f of list) drain(s, f);
      },
    });
  }

  private seriesFor(provider: string, model: string, status: number, stream: boolean): RequestSeries {
    const key = `${provider}\u0000${model}\u0000${status}\u0000${stream ? 1 : 0}`;
    let s = this.series.get(key);
    if (!s) {
      // Bounded: model names come from clients. What the dropped series counted is handed over first.
      if (this.series.size >= MAX_CACHED_SERIES) {
        for (const old of this.series.values()) for (const f of COUNT_FIELDS) drain(old, f);
        this.series.clear();
      }
      s = {
        duration: this.duration.labels(provider),
        children: {
          requests: this.requests.labels(provider, model, String(status), stream ? "true" : "false"),
          attempts: this.attempts.labels(provider),
          input: this.tokens.labels(provider, model, "input"),
          output: this.tokens.labels(provider, model, "output"),
        },
        requests: 0,
        attempts: 0,
        input: 0,
        output: 0,
      };
      this.series.set(key, s);
    }
    return s;
  }

  record(ctx: RequestContext): void {
    if (ctx.model === undefined) return; // not a model request (health, admin, 404s)
    const provider = ctx.cacheHit ? "cache" : (ctx.provider ?? "none");
    const totalNs = Number(process.hrtime.bigint() - ctx.startNs);
    const s = this.seriesFor(provider, ctx.model, ctx.status, ctx.stream);
    s.requests++;
    s.duration.observe(totalNs / 1e9);
    if (ctx.overheadNs > 0n) this.overhead.observe(Number(ctx.overheadNs) / 1e9);
    s.attempts += ctx.attempts;
    const u = ctx.usage;
    if (u) {
      s.input += u.prompt_tokens;
      s.output += u.completion_tokens;
    }
  }

  /** This worker's metrics as data: the gateway's and the plugins' registries. */
  async snapshot(): Promise<Awaited<ReturnType<Registry["getMetricsAsJSON"]>>> {
    const [core, plugins] = await Promise.all([this.registry.getMetricsAsJSON(), pluginRegistry.getMetricsAsJSON()]);
    return [...core, ...plugins];
  }

  /**
   * Gateway metrics followed by the plugins' own (cache hits, rejections, hook failures); with
   * several worker threads, summed over all of them.
   */
  async render(): Promise<{ contentType: string; body: string }> {
    const all = await gatewayMetrics(await this.snapshot());
    if (all !== undefined) return { contentType: this.registry.contentType, body: all };
    const [core, plugins] = await Promise.all([this.registry.metrics(), pluginRegistry.metrics()]);
    return { contentType: this.registry.contentType, body: `${core}\n${plugins}` };
  }
}
