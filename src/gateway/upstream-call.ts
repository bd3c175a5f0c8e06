// One upstream call inside an attempt: send, time it, and turn failures into AttemptErrors.
import type { Provider, UpstreamRequest } from "../providers/types.js";
import type { RequestContext } from "../server/context.js";
import { GatewayError } from "../server/errors.js";
import { BufferedBody } from "../upstream/pool.js";
import { sendUpstream, transportError, type UpstreamResponse } from "../upstream/send.js";
import { transportFailure, upstreamHttpError } from "./upstream-error.js";
import type { HttpResponse } from "../server/response.js";
import { sendJson } from "../server/respond.js";
import { normalizeUsage, usageFromBody, usageFromWholeBody } from "./usage.js";

/**
 * Sends and checks the status; on success the body is still unread. `buffered` (non-streaming
 * calls) reads the whole body on the way, through the pool's lighter path.
 */
export function callUpstream(ctx: RequestContext, provider: Provider, req: UpstreamRequest, buffered = false): Promise<{ res: UpstreamResponse; startNs: bigint }> {
  const startNs = process.hrtime.bigint();
  // Not an async function: it waits out the upstream's latency (see sendOnce in upstream/send.ts).
  let sent: Promise<UpstreamResponse>;
  try {
    sent = sendUpstream(provider, req, ctx.abort, buffered);
  } catch (err) {
    return Promise.reject(sendFailed(ctx, provider, startNs, err));
  }
  return sent.then(
    (res) => (res.statusCode >= 400 ? upstreamFailed(ctx, provider, startNs, res) : { res, startNs }),
    (err: unknown) => Promise.reject(sendFailed(ctx, provider, startNs, err)),
  );
}

/**
 * Time this reply kept the request waiting on the upstream: from handing the formatted request
 * to the socket to the answer's latest read, when the upstream client kept a clock (WireClock),
 * so formatting and parsing count as the gateway's; otherwise everything since `startNs`.
 */
export function upstreamWaitNs(res: UpstreamResponse | undefined, startNs: bigint): bigint {
  const clock = res?.clock;
  if (clock !== undefined && clock.sentAt > 0 && clock.readAt >= clock.sentAt) return BigInt(Math.round((clock.readAt - clock.sentAt) * 1e6));
  return process.hrtime.bigint() - startNs;
}

function sendFailed(ctx: RequestContext, provider: Provider, startNs: bigint, err: unknown): Error {
  ctx.upstreamNs += upstreamWaitNs(undefined, startNs);
  return transportFailure(err instanceof GatewayError ? err : transportError(provider.name, err));
}

async function upstreamFailed(ctx: RequestContext, provider: Provider, startNs: bigint, res: UpstreamResponse): Promise<never> {
  const text = await res.body.text().catch(() => "");
  ctx.upstreamNs += upstreamWaitNs(res, startNs);
  throw upstreamHttpError(provider, res.statusCode, res.headers, text);
}

/** Reads a whole successful body; a failure while reading is a transport failure. */
export async function readBody(ctx: RequestContext, provider: Provider, res: UpstreamResponse, startNs: bigint): Promise<Buffer> {
  try {
    if (res.body instanceof BufferedBody) return res.body.buffer();
    return Buffer.from(await res.body.arrayBuffer());
  } catch (err) {
    throw transportFailure(transportError(provider.name, err));
  } finally {
    ctx.upstreamNs += upstreamWaitNs(res, startNs);
  }
}

/**
 * An OpenAI-wire body sent on to the client as it came, its usage read for pricing and budgets:
 * before the response when plugins settle from it (`usageNow`), else off the request path.
 * `echoes`: the body repeats client data after its usage (the Responses API's metadata), so the
 * usage is read from the parsed body, not found by its key.
 */
export function forwardBody(res: HttpResponse, ctx: RequestContext, buf: Buffer, usageNow: boolean, echoes = false): void {
  const read = echoes ? usageFromWholeBody : usageFromBody;
  if (usageNow) ctx.usage = normalizeUsage(read(buf));
  sendJson(res, ctx, 200, buf);
  if (!usageNow)
    setImmediate(() => {
      ctx.usage = normalizeUsage(read(buf));
    });
}

export function invalidUpstreamBody(provider: Provider): never {
  throw transportFailure(
    new GatewayError(502, "upstream_error", "invalid_upstream_response", `Provider ${provider.name} returned a response the gateway could not read.`, {
      retryable: true,
    }),
  );
}
