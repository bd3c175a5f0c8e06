// Builds the request log row from the RequestContext of a finished request (GatewayServer's
// onFinished). Pure and cheap: it runs on the request path, right before RequestLogWriter.enqueue.
import type { RequestContext } from "../server/context.js";
import type { RequestLogRow } from "./types.js";

export interface LogRowExtras {
  /** From pricing (plugins issue); 0 when unknown. */
  costUsd?: number;
  cacheHit?: boolean;
  /** Already passed through captureBody (redacted), or null. */
  requestBody?: string | null;
  responseBody?: string | null;
  /** Clocks, for tests. */
  nowMs?: number;
  nowNs?: bigint;
}

export function rowFromContext(ctx: RequestContext, extras: LogRowExtras = {}): RequestLogRow {
  const nowNs = extras.nowNs ?? process.hrtime.bigint();
  const nowMs = extras.nowMs ?? Date.now();
  const latencyMs = Number(nowNs - ctx.startNs) / 1e6;
  return {
    id: ctx.id,
    time: Math.round(nowMs - latencyMs),
    keyId: ctx.keyId ?? null,
    model: ctx.model ?? null,
    provider: ctx.provider ?? null,
    target: ctx.target ?? null,
    status: ctx.status,
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    upstreamLatencyMs: Math.round(Number(ctx.upstreamNs) / 1e3) / 1000,
    tokensIn: ctx.usage?.prompt_tokens ?? 0,
    tokensOut: ctx.usage?.completion_tokens ?? 0,
    costUsd: extras.costUsd ?? 0,
    cacheHit: extras.cacheHit ?? false,
    error: ctx.errorCode ?? null,
    attempts: ctx.attempts,
    stream: ctx.stream,
    requestBody: extras.requestBody ?? null,
    responseBody: extras.responseBody ?? null,
  };
}
