// Sends one upstream request through the origin's pool. Transport failures become GatewayErrors
// that say whether another attempt may help; the attempt loop decides whether to make one.
import type { Dispatcher } from "undici";
import { errors as undiciErrors } from "undici";
import { GatewayError } from "../server/errors.js";
import type { Provider, UpstreamRequest } from "../providers/types.js";
import { poolFor } from "./pool.js";

export type UpstreamResponse = Dispatcher.ResponseData;

export async function sendUpstream(provider: Provider, req: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
  const base = provider.baseUrl;
  const path = base.pathname === "/" ? req.path : base.pathname + req.path;
  let headers: Record<string, string> = { ...provider.headers, ...req.headers };
  if (provider.authorize) headers = { ...headers, ...(await provider.authorize(req, new URL(path, base.origin))) };
  try {
    return await poolFor(base.origin).request({
      path,
      method: req.method,
      headers,
      body: req.method === "GET" ? undefined : req.body,
      signal,
      headersTimeout: provider.timeoutMs,
      bodyTimeout: provider.timeoutMs,
    });
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
