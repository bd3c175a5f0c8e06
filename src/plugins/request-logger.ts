// request-logger: one structured JSON line (pino's format) per request stage it is listed at — the inbound
// request (before_request), the completed response with latency, time to first token, tokens
// and cost (after_request / after_response), the failure with its reason (on_error) — written
// off the request path: lines are batched and written every FLUSH_MS (sooner when many wait).
//
// Persistence: the gateway writes every data-plane request to the request log store
// (REQUEST_LOG_STORE_BACKEND / REQUEST_LOG_STORE_DSN) through the batched RequestLogWriter
// (src/store/request-log-writer.ts; see src/gateway/app.ts). With persist and log_bodies, this
// plugin adds the redacted prompt and answer to that row (ctx.logBodies).
import { pino, type DestinationStream } from "pino";
import { z } from "zod";
import { redactSecrets, type GatewayError } from "../server/errors.js";
import { captureBody } from "../store/redact.js";
import type { Plugin, PluginContext, PluginDeps, ResponseInfo } from "./types.js";

export const requestLoggerSchema = z.strictObject({
  /** pino level of the request and response lines (failures are logged at error). */
  level: z.preprocess((v) => (typeof v === "string" ? v.toLowerCase() : v), z.enum(["trace", "debug", "info", "warn", "error"])).default("info"),
  /** Keep each request in the request log store (see the module comment). */
  persist: z.boolean().default(false),
  /** Include the prompt and the answer, redacted (credentials, e-mails, card numbers) and cut to max_body_chars. */
  log_bodies: z.boolean().default(false),
  max_body_chars: z.number().int().positive().default(16_384),
  /** Accepted for compatibility with the reference config; the store is chosen by REQUEST_LOG_STORE_BACKEND. */
  backend: z.enum(["sqlite", "postgres", "postgresql", "memory"]).optional(),
  /** Accepted for compatibility; the store's location is REQUEST_LOG_STORE_DSN. */
  dsn: z.string().optional(),
});
export type RequestLoggerConfig = z.output<typeof requestLoggerSchema>;

let destination: DestinationStream | undefined;
/** Where request lines go (default: stdout, asynchronously). For tests and embedding. */
export function setRequestLogDestination(dest: DestinationStream | undefined): void {
  destination = dest;
}

type Event = "request" | "response" | "error";

interface Pending {
  event: Event;
  pc: PluginContext;
  atNs: bigint;
  /** Wall-clock time of the event (lines are written later). */
  atMs: number;
  err: GatewayError | undefined;
  res: ResponseInfo | undefined;
}

const ms = (ns: bigint): number => Math.round(Number(ns) / 1e3) / 1e3;

/** pino's numeric levels: the lines are pino-compatible JSON. */
const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 } as const;

let stdout: DestinationStream | undefined;

/**
 * How long lines may wait to be written. Each write is a hand-off to libuv's thread pool (the
 * asynchronous stdout writer), which cost about as much CPU as the gateway's own handling of a
 * request when lines went out on every turn of the event loop at moderate load.
 */
const FLUSH_MS = 20;
/** Lines that are written at once, without waiting for the timer. */
const FLUSH_LINES = 256;

export class RequestLogger implements Plugin {
  readonly name = "request-logger";
  readonly type = "logging" as const;
  readonly keepsRequest = true as const;
  private readonly out: DestinationStream;
  private pending: Pending[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushNow = (): void => this.flush();

  constructor(
    private readonly cfg: RequestLoggerConfig,
    deps: PluginDeps,
  ) {
    // One asynchronous stdout writer per process; each batch of lines is one write.
    this.out = destination ?? (stdout ??= pino.destination({ dest: 1, sync: false }));
    if (!deps.stages.has("before_request")) this.beforeRequest = undefined;
    if (!deps.stages.has("after_response")) this.afterResponse = undefined;
    if (!deps.stages.has("on_error")) this.onError = undefined;
  }

  beforeRequest?(pc: PluginContext): void {
    if (this.cfg.log_bodies && pc.req.stream === true) pc.collectStream = true;
    this.queue("request", pc, undefined, undefined);
  }

  afterResponse?(pc: PluginContext, res: ResponseInfo): void {
    if (this.cfg.persist && this.cfg.log_bodies) this.attachBodies(pc, res);
    this.queue("response", pc, undefined, res);
  }

  onError?(pc: PluginContext, err: GatewayError): void {
    if (this.cfg.persist && this.cfg.log_bodies) this.attachBodies(pc, undefined);
    this.queue("error", pc, err, undefined);
  }

  close(): void {
    this.flush();
    // An asynchronous stdout writer may still hold lines: write them before the process exits.
    const out = this.out as DestinationStream & { flushSync?: () => void };
    try {
      out.flushSync?.();
    } catch {
      // EAGAIN on a busy pipe: nothing more to do at shutdown.
    }
  }

  private attachBodies(pc: PluginContext, res: ResponseInfo | undefined): void {
    const opts = { enabled: true, maxChars: this.cfg.max_body_chars };
    pc.ctx.logBodies = { request: captureBody(pc.req, opts), response: res?.completion ? captureBody(res.completion, opts) : null };
  }

  private queue(event: Event, pc: PluginContext, err: GatewayError | undefined, res: ResponseInfo | undefined): void {
    this.pending.push({ event, pc, atNs: process.hrtime.bigint(), atMs: Date.now(), err, res });
    if (this.pending.length >= FLUSH_LINES && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, FLUSH_MS).unref();
    }
  }

  private flush(): void {
    this.scheduled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let text = "";
    for (const p of batch) {
      try {
        text += `${JSON.stringify(this.line(p))}\n`;
      } catch {
        // A log line must never break anything.
      }
    }
    try {
      this.out.write(text);
    } catch {
      // Nor a failing destination.
    }
  }

  private line(p: Pending): Record<string, unknown> {
    const { pc, event } = p;
    const ctx = pc.ctx;
    const level = event === "error" ? LEVEL.error : LEVEL[this.cfg.level];
    const line: Record<string, unknown> = {
      level,
      time: p.atMs,
      service: "ferrogw",
      component: "request-logger",
      event,
      request_id: ctx.id,
      key_id: ctx.keyId ?? null,
      user: pc.user ?? null,
      model: pc.req.model,
      stream: pc.req.stream === true,
    };
    if (event === "request") {
      line.messages = pc.req.messages.length;
      if (this.cfg.log_bodies) line.request_body = captureBody(pc.req.messages, { enabled: true, maxChars: this.cfg.max_body_chars });
      line.msg = "gateway request";
      return line;
    }
    line.provider = ctx.provider ?? null;
    line.target = ctx.target ?? null;
    line.attempts = ctx.attempts;
    line.latency_ms = ms(p.atNs - ctx.startNs);
    line.upstream_ms = ms(ctx.upstreamNs);
    if (event === "response") {
      const u = p.res?.usage ?? ctx.usage;
      line.status = ctx.status;
      if (pc.firstChunkNs !== undefined) line.ttft_ms = ms(pc.firstChunkNs - ctx.startNs);
      line.prompt_tokens = u?.prompt_tokens ?? 0;
      line.completion_tokens = u?.completion_tokens ?? 0;
      line.total_tokens = u?.total_tokens ?? 0;
      line.cost_usd = ctx.costUsd;
      line.cache = pc.cacheStatus ?? null;
      if (this.cfg.log_bodies && p.res?.completion) line.response_body = captureBody(p.res.completion, { enabled: true, maxChars: this.cfg.max_body_chars });
      line.msg = "gateway response";
      return line;
    }
    const err = p.err;
    line.status = err?.status ?? ctx.status;
    line.error = err?.code ?? ctx.errorCode ?? null;
    line.error_message = err ? redactSecrets(err.message) : null;
    line.msg = "gateway error";
    return line;
  }
}
