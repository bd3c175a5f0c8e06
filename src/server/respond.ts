// Writing responses: JSON bodies, errors in OpenAI's shape, and the headers every response carries.
import type { HttpResponse } from "./response.js";
import { GatewayError, internalError } from "./errors.js";
import { overheadMs, type RequestContext } from "./context.js";

/**
 * The headers every response carries, as a flat [name, value, ...] list. Passed whole to
 * writeHead, Node stores them in one go; setHeader per header (validate, lower-case, store, then
 * read back) cost more than the rest of writing a small response.
 */
export function commonHeaderList(ctx: RequestContext): string[] {
  const h = ["x-request-id", ctx.id, "x-gateway-overhead-ms", overheadMs(ctx)];
  if (ctx.provider) h.push("x-ferro-provider", ctx.provider);
  if (ctx.target) h.push("x-ferro-target", ctx.target);
  if (ctx.attempts > 0) h.push("x-ferro-attempts", String(ctx.attempts));
  if (ctx.strategy) h.push("x-ferro-strategy", ctx.strategy);
  if (ctx.variant) h.push("x-ferro-variant", ctx.variant);
  return h;
}

export function commonHeaders(res: HttpResponse, ctx: RequestContext): void {
  const h = commonHeaderList(ctx);
  for (let i = 0; i < h.length; i += 2) res.setHeader(h[i] as string, h[i + 1] as string);
}

export function sendJson(res: HttpResponse, ctx: RequestContext, status: number, body: string | Buffer): void {
  sendText(res, ctx, status, "application/json", body);
}

export function sendText(res: HttpResponse, ctx: RequestContext, status: number, contentType: string, body: string | Buffer): void {
  ctx.status = status;
  const h = commonHeaderList(ctx);
  h.push("content-type", contentType, "content-length", String(Buffer.byteLength(body)));
  // Headers a plugin or an error set earlier with setHeader are kept (writeHead merges them).
  res.writeHead(status, h);
  res.end(body);
}

/** The Responses API's `error` stream event (its sequence number is unknown here: left out). */
function responsesErrorEvent(err: GatewayError): string {
  const e = err.toJSON().error;
  return `event: error\ndata: ${JSON.stringify({ type: "error", code: e.code, message: e.message, param: e.param ?? null })}\n\n`;
}

export function sendError(res: HttpResponse, ctx: RequestContext, err: unknown): void {
  const gerr = err instanceof GatewayError ? err : internalError();
  ctx.errorCode = gerr.code;
  if (res.headersSent) {
    // Mid-stream: the status line is gone, so the error travels as a final SSE event.
    ctx.status = gerr.status;
    // A Responses API stream ends with its own error event; a chat stream with an error chunk and [DONE].
    if (!res.writableEnded) res.end(ctx.operation === "responses" ? responsesErrorEvent(gerr) : `data: ${JSON.stringify(gerr.toJSON())}\n\ndata: [DONE]\n\n`);
    return;
  }
  if (gerr.headers) for (const [k, v] of Object.entries(gerr.headers)) res.setHeader(k, v);
  // 499 is our internal "client went away" marker; there is nobody left to answer.
  if (gerr.status === 499) {
    ctx.status = 499;
    res.destroy();
    return;
  }
  sendJson(res, ctx, gerr.status, JSON.stringify(gerr.toJSON()));
}
