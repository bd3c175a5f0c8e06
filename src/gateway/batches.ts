// OpenAI's files and batches API (/v1/files*, /v1/batches*), passed through to the one target
// `batch_target` names: these calls carry no model and refer to the provider's own ids, so one
// backend serves them all and the gateway keeps no state. Uploads stream to the provider and
// downloads stream back, so a 500 MB batch input never sits in the gateway's memory. The
// client's key stays here: the provider gets its own. Without batch_target: 501, as in the
// reference. Off the hot path, so undici does the HTTP (loaded on first use).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Provider } from "../providers/types.js";
import type { RequestContext } from "../server/context.js";
import { GatewayError, notFound, redactSecrets } from "../server/errors.js";
import { upstreamHttpError } from "./upstream-error.js";
import type { Runtime } from "./runtime.js";

/** An id: never "." or "..", which a URL parser would read as a path step. */
const ID = "[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}";
/** Method and path (after /v1) of every call this surface has. */
const ROUTES: ReadonlyArray<readonly [string, RegExp]> = [
  ["GET", /^\/files$/],
  ["POST", /^\/files$/],
  ["GET", new RegExp(`^/files/${ID}$`)],
  ["DELETE", new RegExp(`^/files/${ID}$`)],
  ["GET", new RegExp(`^/files/${ID}/content$`)],
  ["GET", /^\/batches$/],
  ["POST", /^\/batches$/],
  ["GET", new RegExp(`^/batches/${ID}$`)],
  ["POST", new RegExp(`^/batches/${ID}/cancel$`)],
];
/** What of the client's request the provider needs; never its authorization (the gateway key). */
const FORWARDED_REQUEST = ["content-type", "content-length", "accept"] as const;
/** What of the provider's answer the client needs to read it (a download's name and type). */
const FORWARDED_RESPONSE = ["content-type", "content-length", "content-disposition"] as const;

export function isBatchPath(path: string): boolean {
  return path === "/v1/files" || path.startsWith("/v1/files/") || path === "/v1/batches" || path.startsWith("/v1/batches/");
}

function batchProvider(rt: Runtime): Provider {
  const name = rt.config.batch_target;
  if (name === undefined) throw new GatewayError(501, "invalid_request_error", "not_implemented", "Files and batches are not served here: set batch_target in the gateway's config to the target that holds them.");
  const target = rt.router.allTargets().find((t) => t.key === name);
  if (target === undefined) throw new GatewayError(501, "invalid_request_error", "not_implemented", `batch_target ${name} is not a configured target.`);
  if (!target.provider.batches) throw new GatewayError(501, "invalid_request_error", "not_implemented", `Provider ${target.provider.name} does not serve files and batches.`);
  return target.provider;
}

/**
 * The provider's refusal of the client's call (an unknown id, a malformed batch) keeps its
 * status, code and message (credential-like text cut out); its refusing our key, or failing, is
 * the gateway's error as on every route.
 */
function providerError(provider: Provider, status: number, headers: IncomingHttpHeaders, text: string): GatewayError {
  if (status === 401 || status === 403 || status === 429 || status >= 500) return upstreamHttpError(provider, status, headers, text).failure.error;
  const info = provider.codec.parseError(status, text);
  const code = info.code ?? (status === 404 ? "not_found" : "invalid_request");
  return new GatewayError(status, "invalid_request_error", code, redactSecrets(info.message).slice(0, 1000));
}

/**
 * Batch jobs are priced by the provider later, on any model their file names, and the files of
 * one provider account are everyone's: a key held to a model list, a budget or a rate limit
 * cannot be held to them here, so it may not use this surface.
 */
function checkBatchAccess(ctx: RequestContext): void {
  const id = ctx.identity;
  const limited = id.allowedModels !== null || (id.kind === "api_key" && (id.key.budgetUsd != null || id.key.rateLimitRpm != null));
  if (limited) throw new GatewayError(403, "permission_error", "batches_not_allowed", "This API key has a model list, a budget or a rate limit, which files and batches cannot be held to.");
}

export async function passBatchCall(rt: Runtime, ctx: RequestContext, req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string): Promise<void> {
  const rest = path.slice("/v1".length);
  if (!ROUTES.some(([m, p]) => m === method && p.test(rest))) throw notFound(`No route for ${method} ${path}.`, "route_not_found");
  checkBatchAccess(ctx);
  const provider = batchProvider(rt);
  ctx.provider = provider.name;
  ctx.target = rt.config.batch_target;
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_REQUEST) {
    const v = req.headers[h];
    if (typeof v === "string") headers[h] = v;
  }
  Object.assign(headers, provider.headers);
  const base = provider.baseUrl;
  const url = `${base.origin}${base.pathname.replace(/\/+$/, "")}${rest}${query}`;
  const { request } = await import("undici");
  let upstream;
  try {
    upstream = await request(url, {
      method: method as "GET" | "POST" | "DELETE",
      headers,
      body: method === "POST" ? req : undefined,
      signal: ctx.abort.signal,
      headersTimeout: provider.timeoutMs,
      bodyTimeout: provider.timeoutMs,
    });
  } catch (err) {
    if (ctx.abort.aborted) throw new GatewayError(499, "api_error", "client_closed_request", "The request was cancelled.");
    throw new GatewayError(502, "upstream_error", "upstream_unreachable", `Could not reach provider ${provider.name} (${(err as NodeJS.ErrnoException).code ?? "connection_error"}).`);
  }
  if (upstream.statusCode >= 400) {
    const text = await upstream.body.text().catch(() => "");
    throw providerError(provider, upstream.statusCode, upstream.headers, text);
  }
  const out: Record<string, string> = { "x-request-id": ctx.id };
  for (const h of FORWARDED_RESPONSE) {
    const v = upstream.headers[h];
    if (typeof v === "string") out[h] = v;
  }
  ctx.status = upstream.statusCode;
  res.writeHead(upstream.statusCode, out);
  try {
    await pipeline(upstream.body, res);
  } catch {
    // Cut off mid-body (the client left, the provider's connection broke): the status line is
    // gone and the body is the provider's bytes, so the response is only ended, and logged as such.
    ctx.status = ctx.abort.aborted ? 499 : 502;
    ctx.errorCode = ctx.abort.aborted ? "client_closed_request" : "upstream_unreachable";
    res.destroy();
  }
}
