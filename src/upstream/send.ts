// Sends one upstream request through the origin's pool. Transport failures become GatewayErrors
// that say whether another attempt may help; the attempt loop decides whether to make one.
import * as upstreamErrors from "./errors.js";
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
export function sendUpstream(provider: Provider, req: UpstreamRequest, cancel: Cancellation, buffered = false): Promise<UpstreamResponse> {
  const exchange = provider.codec.exchange;
  if (exchange) return sendExchange(provider, exchange, req, cancel);
  return sendOnce(provider, req, cancel, buffered);
}

async function sendExchange(provider: Provider, exchange: NonNullable<Provider["codec"]["exchange"]>, req: UpstreamRequest, cancel: Cancellation): Promise<UpstreamResponse> {
  // Once a call was accepted the provider has the work (a Replicate prediction runs on while we
  // wait between polls): a cancel then cuts off a delivered request, as one during a call does.
  let accepted = false;
  const onAbort = (): void => {
    if (accepted) cancel.cutOffDelivered();
  };
  cancel.onAbort(onAbort);
  const send = (r: UpstreamRequest): Promise<UpstreamResponse> =>
    sendOnce(provider, r, cancel).then((res) => {
      if (res.statusCode < 400) accepted = true;
      return res;
    });
  try {
    const io = { send, baseUrl: provider.baseUrl, timeoutMs: provider.timeoutMs, signal: cancel.signal };
    const reply = await exchange.call(provider.codec, req, io);
    // A reply's clock times its own call only; the calls before it were upstream waits too.
    return reply.clock === undefined ? reply : { statusCode: reply.statusCode, headers: reply.headers, body: reply.body };
  } catch (err) {
    throw transportError(provider.name, err);
  } finally {
    cancel.offAbort(onAbort);
  }
}

/** A provider's base URL taken apart once: URL getters build new strings on every call. */
interface Endpoint {
  origin: string;
  /** The base path, "" for "/". */
  prefix: string;
}
const endpoints = new WeakMap<URL, Endpoint>();

function endpointOf(base: URL): Endpoint {
  let e = endpoints.get(base);
  if (!e) {
    e = { origin: base.origin, prefix: base.pathname === "/" ? "" : base.pathname };
    endpoints.set(base, e);
  }
  return e;
}

/**
 * provider.headers + req.headers. Codecs send the same frozen header object on every request
 * (OpenAI's {content-type}), so that merge is made once per provider and reused.
 */
const mergedHeaders = new WeakMap<object, WeakMap<object, Record<string, string>>>();

function headersFor(provider: Provider, req: UpstreamRequest): Record<string, string> {
  if (!Object.isFrozen(req.headers)) return { ...provider.headers, ...req.headers };
  let byRequest = mergedHeaders.get(provider.headers);
  if (!byRequest) mergedHeaders.set(provider.headers, (byRequest = new WeakMap()));
  let merged = byRequest.get(req.headers);
  if (!merged) byRequest.set(req.headers, (merged = Object.freeze({ ...provider.headers, ...req.headers })));
  return merged;
}

/**
 * One request through the origin's pool. Not an async function on purpose: it is suspended for
 * the whole upstream latency, and an async frame held that long (generator, registers, promise,
 * await closures) is copied by every young-generation GC while it waits; a .then costs less.
 */
function sendOnce(provider: Provider, req: UpstreamRequest, cancel: CancelSignal, buffered = false): Promise<UpstreamResponse> {
  const target = req.url ? new URL(req.url) : undefined;
  const base = target ? undefined : endpointOf(provider.baseUrl);
  const origin = target ? target.origin : (base as Endpoint).origin;
  const path = target ? target.pathname + target.search : (base as Endpoint).prefix + req.path;
  const headers = headersFor(provider, req);
  const authorize = provider.authorize;
  if (authorize) {
    return authorize(req, new URL(path, origin)).then((auth) => viaPool(provider, origin, path, { ...headers, ...auth }, req, cancel, buffered));
  }
  return viaPool(provider, origin, path, headers, req, cancel, buffered);
}

function viaPool(provider: Provider, origin: string, path: string, headers: Record<string, string>, req: UpstreamRequest, cancel: CancelSignal, buffered: boolean): Promise<UpstreamResponse> {
  const opts = {
    path,
    method: req.method,
    headers,
    body: req.method === "POST" ? req.body : undefined,
    cancel,
    headersTimeout: provider.timeoutMs,
    bodyTimeout: provider.timeoutMs,
  };
  let sent: Promise<UpstreamResponse>;
  try {
    sent = buffered ? poolFor(origin).requestBuffered(opts) : poolFor(origin).requestStreaming(opts);
  } catch (err) {
    return Promise.reject(transportError(provider.name, err));
  }
  return sent.then(undefined, (err: unknown) => Promise.reject(transportError(provider.name, err)));
}

export function transportError(providerName: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof upstreamErrors.HeadersTimeoutError || err instanceof upstreamErrors.BodyTimeoutError) {
    return new GatewayError(504, "timeout_error", "upstream_timeout", `Provider ${providerName} did not answer in time.`, { retryable: true });
  }
  if (err instanceof upstreamErrors.RequestAbortedError || (err instanceof Error && err.name === "AbortError")) {
    return new GatewayError(499, "api_error", "client_closed_request", "The request was cancelled.");
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "connection_error";
  return new GatewayError(502, "upstream_error", "upstream_unreachable", `Could not reach provider ${providerName} (${code}).`, {
    retryable: true,
  });
}
