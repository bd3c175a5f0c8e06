// The one typed object that travels the request path. Timings are process.hrtime in ns so the
// overhead header can subtract upstream time exactly.
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Usage } from "../api/types.js";
import { ANONYMOUS, type Identity } from "../auth/identity.js";
import { Cancellation } from "./cancellation.js";

export interface RequestContext {
  readonly id: string;
  readonly startNs: bigint;
  readonly headers: IncomingHttpHeaders;
  /** Time spent waiting on upstreams (headers and body), summed over attempts. */
  upstreamNs: bigint;
  /** Gateway time (total minus upstream) when the response head was written; 0n until then. */
  overheadNs: bigint;
  /** The request body's JSON as received (data-plane routes): its text, or its bytes when long. */
  clientBody: string | Uint8Array | undefined;
  /** Set on the data-plane routes (/v1/...): those requests get a request log row. */
  operation: "chat" | "completions" | "embeddings" | "responses" | "batches" | "models" | undefined;
  /** Cost of the request in USD once known (after the response). */
  costUsd: number;
  /** The model id the serving provider was sent (after aliases and model_map), for pricing. */
  upstreamModel: string | undefined;
  /** Served from the response cache. */
  cacheHit: boolean;
  /** Redacted prompt and answer for the request log row (request-logger with persist + log_bodies). */
  logBodies: { request: string | null; response: string | null } | undefined;
  /** Who is calling, once auth has run. */
  identity: Identity;
  /** identity.keyId, kept flat for logs and limits. */
  keyId: string | undefined;
  model: string | undefined;
  provider: string | undefined;
  target: string | undefined;
  /** Routing mode that chose the target ("explicit" for provider/model addressing). */
  strategy: string | undefined;
  /** A/B label or the rule that matched. */
  variant: string | undefined;
  attempts: number;
  stream: boolean;
  status: number;
  usage: Usage | undefined;
  errorCode: string | undefined;
  /** MCP tool calls the tool loop ran for this request, for tracing (src/gateway/tool-loop.ts). */
  toolCalls: ToolCallRecord[] | undefined;
  /** Set when the client went away; everything in flight listens to it. */
  readonly abort: Cancellation;
}

export interface ToolCallRecord {
  server: string;
  tool: string;
  /** Epoch ms. */
  startMs: number;
  durationMs: number;
  /** ok; error (the tool's own isError); or why the call did not complete (timeout, unavailable, failed, unknown_tool). */
  status: string;
}

const ID_SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `receivedAt`: performance.now() when the request's last bytes were read, so the time spent
 * parsing it counts as the gateway's (both clocks are the same monotonic one).
 */
export function newContext(headers: IncomingHttpHeaders, receivedAt?: number): RequestContext {
  const incoming = headers["x-request-id"];
  const now = process.hrtime.bigint();
  const parsingNs = receivedAt === undefined ? 0 : Math.round((performance.now() - receivedAt) * 1e6);
  return {
    id: typeof incoming === "string" && ID_SAFE.test(incoming) ? incoming : randomUUID(),
    startNs: parsingNs > 0 ? now - BigInt(parsingNs) : now,
    headers,
    upstreamNs: 0n,
    overheadNs: 0n,
    clientBody: undefined,
    operation: undefined,
    costUsd: 0,
    upstreamModel: undefined,
    cacheHit: false,
    logBodies: undefined,
    identity: ANONYMOUS,
    keyId: undefined,
    model: undefined,
    provider: undefined,
    target: undefined,
    strategy: undefined,
    variant: undefined,
    attempts: 0,
    stream: false,
    status: 200,
    usage: undefined,
    errorCode: undefined,
    toolCalls: undefined,
    abort: new Cancellation(),
  };
}

/** Milliseconds spent in the gateway itself so far, excluding upstream time; remembered on ctx. */
export function overheadMs(ctx: RequestContext): string {
  const ns = process.hrtime.bigint() - ctx.startNs - ctx.upstreamNs;
  ctx.overheadNs = ns;
  return (Number(ns) / 1e6).toFixed(3);
}
