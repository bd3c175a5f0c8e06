// Writing responses: JSON bodies, errors in OpenAI's shape, and the headers every response carries.
import type { ServerResponse } from "node:http";
import { GatewayError, internalError } from "./errors.js";
import { overheadMs, type RequestContext } from "./context.js";

export function commonHeaders(res: ServerResponse, ctx: RequestContext): void {
  res.setHeader("x-request-id", ctx.id);
  res.setHeader("x-gateway-overhead-ms", overheadMs(ctx));
  if (ctx.provider) res.setHeader("x-ferro-provider", ctx.provider);
  if (ctx.target) res.setHeader("x-ferro-target", ctx.target);
  if (ctx.attempts > 0) res.setHeader("x-ferro-attempts", String(ctx.attempts));
  if (ctx.strategy) res.setHeader("x-ferro-strategy", ctx.strategy);
  if (ctx.variant) res.setHeader("x-ferro-variant", ctx.variant);
}

export function sendJson(res: ServerResponse, ctx: RequestContext, status: number, body: string | Buffer): void {
  ctx.status = status;
  commonHeaders(res, ctx);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, ctx: RequestContext, err: unknown): void {
  const gerr = err instanceof GatewayError ? err : internalError();
  ctx.errorCode = gerr.code;
  if (res.headersSent) {
    // Mid-stream: the status line is gone, so the error travels as a final SSE event.
    ctx.status = gerr.status;
    if (!res.writableEnded) res.end(`data: ${JSON.stringify(gerr.toJSON())}\n\ndata: [DONE]\n\n`);
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
