// Sends one upstream request through the origin's pool. Transport failures become GatewayErrors
// that say whether another attempt may help; the attempt loop decides whether to make one.
import { errors as undiciErrors } from "undici";
import { GatewayError } from "../server/errors.js";
import type { Provider, UpstreamReply, UpstreamRequest } from "../providers/types.js";
import type { CancelSignal, Cancellation } from "../server/cancellation.js";
import { poolFor } from "./pool.js";

/** undici's ResponseData satisfies it; multi-step exchanges (WireCodec.exchange) may build their own. */
export type UpstreamResponse = UpstreamReply;

/**
 * `buffered`: the caller wants the whole body (a non-streaming call); the reply then arrives
 * complete, with a BufferedBody, through the pool's lighter dispatch path.
 */
export async function sendUpstream(provider: Provider, req: UpstreamRequest, cancel: Cancellation, buffered = false): Promise<UpstreamResponse> {
  const exchange = provider.codec.exchange;
  if (exchange) {
    try {
      const io = { send: (r: UpstreamRequest) => sendOnce(provider, r, cancel), baseUrl: provider.baseUrl, timeoutMs: provider.timeoutMs, signal: cancel.signal };
      return await exchange.call(provider.codec, req, io);
    } catch (err) {
      throw transportError(provider.name, err);
    }
  }
  return sendOnce(provider, req, cancel, buffered);
}

async function sendOnce(provider: Provider, req: UpstreamRequest, cancel: CancelSignal, buffered = false): Promise<UpstreamResponse> {
  const base = provider.baseUrl;
  const target = req.url ? new URL(req.url) : undefined;
  const origin = target ? target.origin : base.origin;
  const path = target ? target.pathname + target.search : base.pathname === "/" ? req.path : base.pathname + req.path;
  let headers: Record<string, string> = { ...provider.headers, ...req.headers };
  if (provider.authorize) headers = { ...headers, ...(await provider.authorize(req, new URL(path, origin))) };
  const opts = {
    path,
    method: req.method,
    headers,
    body: req.method === "GET" ? undefined : req.body,
    cancel,
    headersTimeout: provider.timeoutMs,
    bodyTimeout: provider.timeoutMs,
  };
  try {
    return await (buffered ? poolFor(origin).requestBuffered(opts) : poolFor(origin).requestStreaming(opts));
  } catch (err) {
    throw transportError(provider.name, err);
  }
}

export function transportError(providerName: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError(504, "timeout_error", "upstream_timeout", `Provider ${providerName} did not answer in time.`, { retryable: true });
  }
  if (err instanceof undiciErrors.RequestAbortedError || (err instanceof Error && err.name === "AbortError")) {
    return new GatewayError(499, "api_error", "client_closed_request", "The request was cancelled.");
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "connection_error";
  return new GatewayError(502, "upstream_error", "upstream_unreachable", `Could not reach provider ${providerName} (${code}).`, {
    retryable: true,
  });
}
