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

/** The largest count an INTEGER column takes in every store (Postgres's is 32-bit). */
const MAX_COUNT = 2_147_483_647;

/**
 * Token counts come from the upstream's JSON: anything but a sensible number (a string, true,
 * an object, 1e12) would make the store refuse the row, and with it the batch it travels in.
 */
function tokenCount(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.min(Math.round(v), MAX_COUNT) : 0;
}

function finite(v: number | undefined): number {
  return v !== undefined && Number.isFinite(v) ? v : 0;
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
    tokensIn: tokenCount(ctx.usage?.prompt_tokens),
    tokensOut: tokenCount(ctx.usage?.completion_tokens),
    costUsd: finite(extras.costUsd),
    cacheHit: extras.cacheHit ?? false,
    error: ctx.errorCode ?? null,
    attempts: ctx.attempts,
    stream: ctx.stream,
    requestBody: extras.requestBody ?? null,
    responseBody: extras.responseBody ?? null,
  };
}
