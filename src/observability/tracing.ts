// OpenTelemetry tracing (observability.tracing): one SERVER span per data-plane request, named
// and labelled after the GenAI semantic conventions, with a child span per MCP tool call. Spans
// are built after the response has left, from what the request context recorded (with its
// start time), so the request path itself does no tracing work; a BatchSpanProcessor exports
// them over OTLP (grpc or http/protobuf). An incoming W3C traceparent makes the span its child,
// and the sampler follows the parent's decision (ParentBased), so a ratio below 1 never cuts a
// distributed trace in half. The OTel SDK is loaded only when tracing is on.
import type { Context, Tracer } from "@opentelemetry/api";
import type { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { unresolvedEnvRefs } from "../config/load.js";
import { otlpTracesUrl, type OtlpProtocol } from "../config/otlp.js";
import type { GatewayConfig } from "../config/schema.js";
import type { RequestContext, ToolCallRecord } from "../server/context.js";

export type TracingConfig = NonNullable<NonNullable<GatewayConfig["observability"]>["tracing"]>;

/** What tracing needs to log; pino's Logger fits. */
export interface TracingLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const silent: TracingLog = { info() {}, warn() {} };
/** Spans of requests that finish while the SDK is still loading (the first milliseconds). */
const MAX_PENDING = 1000;
const DEFAULT_GRACE_MS = 10_000;
/** Export failures (a collector that is down) are logged at most this often. */
const ERROR_LOG_EVERY_MS = 60_000;
/** What a header value may hold (grpc metadata's rule); checked here so no error quotes a key. */
const HEADER_VALUE = /^[\x20-\x7e]*$/;
// The Responses API generates a chat answer: GenAI semconv has no operation of its own for it.
const OPERATION: Readonly<Record<string, string>> = { chat: "chat", embeddings: "embeddings", completions: "text_completion", responses: "chat" };

type Attributes = Record<string, string | number | boolean>;

/** A finished request as its spans need it, taken when it finishes (not when the SDK is ready). */
interface SpanData {
  name: string;
  startMs: number;
  endMs: number;
  attrs: Attributes;
  errorCode: string | undefined;
  failed: boolean;
  traceparent: string | string[] | undefined;
  tracestate: string | string[] | undefined;
  toolCalls: ToolCallRecord[] | undefined;
}

interface Sdk {
  tracer: Tracer;
  provider: BasicTracerProvider;
  parentOf(d: SpanData): Context;
  childOf(parent: Context, span: ReturnType<Tracer["startSpan"]>): Context;
  server: number;
  internal: number;
  error: number;
  resetErrorHandler?: () => void;
}

/**
 * Where spans go, or undefined when tracing is off. As in the reference: an
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as written) or OTEL_EXPORTER_OTLP_ENDPOINT (a base) turns
 * it on and wins; otherwise `enabled` with a non-blank `endpoint`.
 */
function tracesEndpoint(cfg: TracingConfig | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const protocol: OtlpProtocol = cfg?.protocol ?? "grpc";
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return otlpTracesUrl(base, protocol);
  if (cfg?.enabled !== true || cfg.endpoint.trim() === "") return undefined;
  return otlpTracesUrl(cfg.endpoint, protocol);
}

export class RequestTracing {
  private sdk: Sdk | undefined;
  private pending: SpanData[] | undefined = [];
  private refs = 1;
  private readonly loading: Promise<void>;
  private lastErrorLog = 0;

  private constructor(
    readonly key: string,
    private readonly cfg: TracingConfig,
    private readonly url: string,
    private readonly log: TracingLog,
  ) {
    this.loading = this.load().catch((err: unknown) => {
      this.pending = undefined;
      log.warn({ err: err instanceof Error ? err.message : String(err) }, "tracing not started");
    });
  }

  /** Tracing for this config: `previous` when its settings are the same (a reload), else a new exporter; undefined when off. */
  static for(cfg: TracingConfig | undefined, env: NodeJS.ProcessEnv, log: TracingLog = silent, previous?: RequestTracing): RequestTracing | undefined {
    let url: string | undefined;
    try {
      url = tracesEndpoint(cfg, env);
    } catch (err) {
      // Only an OTEL_* variable gets here unread by the config's validation.
      log.warn({ err: (err as Error).message }, "tracing not started");
      return undefined;
    }
    if (url === undefined) return undefined;
    const settings = cfg ?? { enabled: true, endpoint: "", protocol: "grpc" as const, service_name: "ferrogw", sample_ratio: 1, privacy_level: "metadata" as const };
    const key = JSON.stringify([settings, url]);
    if (previous !== undefined && previous.key === key && previous.refs > 0) {
      previous.refs++;
      return previous;
    }
    return new RequestTracing(key, settings, url, log);
  }

  /** Records the finished request's spans (called after the response, with its cost and usage settled). */
  record(ctx: RequestContext): void {
    // Generation requests only (all POSTs with a model): not the model list, files and batches,
    // or a stored response's routes.
    if (ctx.operation === undefined || ctx.operation === "models" || ctx.operation === "batches" || ctx.model === undefined) return;
    if (this.sdk === undefined && (this.pending === undefined || this.pending.length >= MAX_PENDING)) return;
    const data = this.snapshot(ctx);
    if (this.sdk !== undefined) this.spans(this.sdk, data);
    else this.pending?.push(data);
  }

  /** Resolves once the exporter is set up (or failed to be). */
  ready(): Promise<void> {
    return this.loading;
  }

  /** One runtime lets go; the last one flushes what is queued and stops the exporter, within shutdown_grace. */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    await this.loading;
    const provider = this.sdk?.provider;
    if (provider === undefined) return;
    // The SDK's error handler is process-wide: this instance's goes with it.
    if (this.sdk?.resetErrorHandler) this.sdk.resetErrorHandler();
    const grace = this.cfg.shutdown_grace ?? DEFAULT_GRACE_MS;
    await Promise.race([provider.shutdown().catch(() => undefined), new Promise((r) => setTimeout(r, grace).unref())]);
  }

  private async load(): Promise<void> {
    const cfg = this.cfg;
    // ${VAR} here is resolved as tracing starts (the reference's rule); a name is not a secret.
    const missing = unresolvedEnvRefs(cfg);
    if (missing.length > 0) throw new Error(`environment variable ${missing.join(", ")} is not set`);
    const headers = cfg.headers ?? {};
    for (const [name, value] of Object.entries(headers)) if (!HEADER_VALUE.test(value)) throw new Error(`tracing header ${name} has a character a header cannot carry (a trailing newline?)`);
    const [api, core, sdkTrace, resources] = await Promise.all([
      import("@opentelemetry/api"),
      import("@opentelemetry/core"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/resources"),
    ]);
    let exporter;
    if (cfg.protocol === "grpc") {
      const [{ OTLPTraceExporter }, { Metadata }] = await Promise.all([import("@opentelemetry/exporter-trace-otlp-grpc"), import("@grpc/grpc-js")]);
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
      exporter = new OTLPTraceExporter({ url: this.url, metadata });
    } else {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
      exporter = new OTLPTraceExporter({ url: this.url, headers });
    }
    // The SDK reports export failures here; a collector that is down would otherwise be silent.
    core.setGlobalErrorHandler((err) => {
      const now = Date.now();
      if (now - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
      this.lastErrorLog = now;
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "tracing: exporting spans failed");
    });
    const provider = new sdkTrace.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ "service.name": cfg.service_name }),
      sampler: new sdkTrace.ParentBasedSampler({ root: new sdkTrace.TraceIdRatioBasedSampler(cfg.sample_ratio) }),
      spanProcessors: [new sdkTrace.BatchSpanProcessor(exporter)],
    });
    const propagator = new core.W3CTraceContextPropagator();
    this.sdk = {
      tracer: provider.getTracer("ferrogw"),
      provider,
      parentOf: (d) => propagator.extract(api.ROOT_CONTEXT, { traceparent: d.traceparent, tracestate: d.tracestate }, api.defaultTextMapGetter),
      childOf: (parent, span) => api.trace.setSpan(parent, span),
      server: api.SpanKind.SERVER,
      internal: api.SpanKind.INTERNAL,
      error: api.SpanStatusCode.ERROR,
      resetErrorHandler: () => core.setGlobalErrorHandler(() => undefined),
    };
    const shown = new URL(this.url);
    this.log.info({ protocol: cfg.protocol, endpoint: `${shown.origin}${shown.pathname}`, sample_ratio: cfg.sample_ratio }, "tracing started");
    const waiting = this.pending ?? [];
    this.pending = undefined;
    for (const d of waiting) this.spans(this.sdk, d);
  }

  private snapshot(ctx: RequestContext): SpanData {
    const endMs = Date.now();
    const op = OPERATION[ctx.operation as string] ?? String(ctx.operation);
    const level = this.cfg.privacy_level;
    const attrs: Attributes = {
      "gen_ai.operation.name": op,
      "http.request.method": "POST",
      "http.response.status_code": ctx.status,
      "ferrogw.request_id": ctx.id,
    };
    if (ctx.errorCode !== undefined) attrs["error.type"] = ctx.errorCode;
    if (level !== "none") {
      if (ctx.model !== undefined) attrs["gen_ai.request.model"] = ctx.model;
      if (ctx.upstreamModel !== undefined) attrs["ferrogw.upstream_model"] = ctx.upstreamModel;
      if (ctx.provider !== undefined) attrs["gen_ai.provider.name"] = ctx.provider;
      if (ctx.target !== undefined) attrs["ferrogw.target"] = ctx.target;
      if (ctx.keyId !== undefined) attrs["ferrogw.key_id"] = ctx.keyId;
      if (ctx.usage !== undefined) {
        attrs["gen_ai.usage.input_tokens"] = ctx.usage.prompt_tokens;
        attrs["gen_ai.usage.output_tokens"] = ctx.usage.completion_tokens;
      }
      attrs["ferrogw.attempts"] = ctx.attempts;
      attrs["ferrogw.stream"] = ctx.stream;
      attrs["ferrogw.cache_hit"] = ctx.cacheHit;
      attrs["ferrogw.cost_usd"] = ctx.costUsd;
    }
    // Bodies only where the request log captured them (redacted), and only at full.
    if (level === "full" && ctx.logBodies !== undefined) {
      if (ctx.logBodies.request !== null) attrs["ferrogw.request.body"] = ctx.logBodies.request;
      if (ctx.logBodies.response !== null) attrs["ferrogw.response.body"] = ctx.logBodies.response;
    }
    return {
      name: ctx.model !== undefined && level !== "none" ? `${op} ${ctx.model}` : op,
      startMs: endMs - Number(process.hrtime.bigint() - ctx.startNs) / 1e6,
      endMs,
      attrs,
      errorCode: ctx.errorCode,
      failed: ctx.status >= 500,
      traceparent: ctx.headers.traceparent,
      tracestate: ctx.headers.tracestate,
      toolCalls: ctx.toolCalls,
    };
  }

  private spans(sdk: Sdk, d: SpanData): void {
    const parent = sdk.parentOf(d);
    const span = sdk.tracer.startSpan(d.name, { kind: sdk.server, startTime: d.startMs, attributes: d.attrs }, parent);
    if (d.failed) span.setStatus({ code: sdk.error, ...(d.errorCode ? { message: d.errorCode } : {}) });
    if (d.toolCalls !== undefined && span.isRecording()) {
      const inside = sdk.childOf(parent, span);
      const named = this.cfg.privacy_level !== "none";
      for (const t of d.toolCalls) {
        const attrs: Attributes = { "gen_ai.operation.name": "execute_tool", "ferrogw.tool_status": t.status };
        if (named) {
          attrs["gen_ai.tool.name"] = t.tool;
          attrs["ferrogw.mcp_server"] = t.server;
        }
        const child = sdk.tracer.startSpan(named ? `execute_tool ${t.tool}` : "execute_tool", { kind: sdk.internal, startTime: t.startMs, attributes: attrs }, inside);
        if (t.status !== "ok") child.setStatus({ code: sdk.error, message: t.status });
        child.end(t.startMs + t.durationMs);
      }
    }
    span.end(d.endMs);
  }
}
