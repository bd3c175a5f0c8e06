// The one typed object that travels the request path. Timings are process.hrtime in ns so the
// overhead header can subtract upstream time exactly.
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Usage } from "../api/types.js";

export interface RequestContext {
  readonly id: string;
  readonly startNs: bigint;
  readonly headers: IncomingHttpHeaders;
  /** Time spent waiting on upstreams (headers and body), summed over attempts. */
  upstreamNs: bigint;
  /** Gateway time (total minus upstream) when the response head was written; 0n until then. */
  overheadNs: bigint;
  /** Identity of the caller once auth has run. */
  keyId: string | undefined;
  model: string | undefined;
  provider: string | undefined;
  target: string | undefined;
  attempts: number;
  stream: boolean;
  status: number;
  usage: Usage | undefined;
  errorCode: string | undefined;
  /** Set when the client went away; everything in flight listens to it. */
  readonly abort: AbortController;
}

const ID_SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

export function newContext(headers: IncomingHttpHeaders): RequestContext {
  const incoming = headers["x-request-id"];
  return {
    id: typeof incoming === "string" && ID_SAFE.test(incoming) ? incoming : randomUUID(),
    startNs: process.hrtime.bigint(),
    headers,
    upstreamNs: 0n,
    overheadNs: 0n,
    keyId: undefined,
    model: undefined,
    provider: undefined,
    target: undefined,
    attempts: 0,
    stream: false,
    status: 200,
    usage: undefined,
    errorCode: undefined,
    abort: new AbortController(),
  };
}

/** Milliseconds spent in the gateway itself so far, excluding upstream time; remembered on ctx. */
export function overheadMs(ctx: RequestContext): string {
  const ns = process.hrtime.bigint() - ctx.startNs - ctx.upstreamNs;
  ctx.overheadNs = ns;
  return (Number(ns) / 1e6).toFixed(3);
}
