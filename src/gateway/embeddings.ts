// POST /v1/embeddings and POST /v1/completions: unary calls with the same routing and attempts.
import type { HttpResponse } from "../server/response.js";
import type { ChatRequest, EmbeddingResponse } from "../api/types.js";
import { validateCompletion, validateEmbeddings } from "../api/validate.js";
import type { Operation, UpstreamRequest, CodecContext, Provider } from "../providers/types.js";
import { runAttempts } from "../routing/attempts.js";
import type { RequestContext } from "../server/context.js";
import { GatewayError } from "../server/errors.js";
import { sendJson } from "../server/respond.js";
import { checkModelAccess } from "./model-access.js";
import type { Runtime } from "./runtime.js";
import { chatView, governed } from "./governed.js";
import { callUpstream, forwardBody, invalidUpstreamBody, readBody } from "./upstream-call.js";
import { normalizeUsage } from "./usage.js";

/** The OpenAI SDKs ask for base64 by default: little-endian float32, as OpenAI sends it. */
function toBase64Embeddings(res: EmbeddingResponse): EmbeddingResponse {
  for (const d of res.data) if (Array.isArray(d.embedding)) d.embedding = Buffer.from(new Float32Array(d.embedding).buffer).toString("base64");
  return res;
}

type Build = (provider: Provider, codecCtx: CodecContext) => UpstreamRequest | undefined;
type Translate = (provider: Provider, json: unknown, codecCtx: CodecContext) => unknown;

async function unary(rt: Runtime, ctx: RequestContext, model: string, body: Record<string, unknown>, op: Operation, build: Build, translate: Translate, res: HttpResponse, view: () => ChatRequest): Promise<void> {
  ctx.model = model;
  checkModelAccess(rt, ctx, model);
  // Rate limits and budgets hold here too; the other plugins are about chat.
  return governed(rt, ctx, res, view, (usageNow) => attempt(rt, ctx, model, body, op, build, translate, res, usageNow));
}

/** `usageNow`: plugins settle from the usage once the response is sent, so it is read before. */
async function attempt(rt: Runtime, ctx: RequestContext, model: string, body: Record<string, unknown>, op: Operation, build: Build, translate: Translate, res: HttpResponse, usageNow: boolean): Promise<void> {
  const plan = rt.router.plan(model, op, ctx, body);
  await runAttempts(ctx, plan, async (target) => {
    const provider = target.provider;
    // No plugin changes the request on these routes: it is exactly what the client sent.
    const codecCtx: CodecContext = { model: target.upstreamModel(plan.model), requestId: ctx.id, clientBody: ctx.clientBody };
    ctx.upstreamModel = codecCtx.model;
    const upstreamReq = build(provider, codecCtx);
    if (!upstreamReq) throw new GatewayError(400, "invalid_request_error", "unsupported_operation", `Provider ${provider.name} does not support ${op}.`);
    const { res: upstream, startNs } = await callUpstream(ctx, provider, upstreamReq, true);
    const buf = await readBody(ctx, provider, upstream, startNs);
    if (provider.codec.openaiWire) {
      forwardBody(res, ctx, buf, usageNow);
      return;
    }
    let out: unknown;
    try {
      out = translate(provider, JSON.parse(buf.toString("utf8")), codecCtx);
    } catch {
      invalidUpstreamBody(provider);
    }
    ctx.usage = normalizeUsage((out as { usage?: unknown }).usage);
    sendJson(res, ctx, 200, JSON.stringify(out));
  });
}

export function embeddings(rt: Runtime, ctx: RequestContext, body: unknown, res: HttpResponse): Promise<void> {
  const req = validateEmbeddings(body);
  return unary(
    rt,
    ctx,
    req.model,
    req,
    "embeddings",
    (p, c) => p.codec.embeddingsRequest?.(req, c),
    (p, json, c) => {
      if (!p.codec.embeddingsResponse) throw new Error("codec lacks embeddingsResponse");
      const out = p.codec.embeddingsResponse(json, c);
      return req.encoding_format === "base64" ? toBase64Embeddings(out) : out;
    },
    res,
    () => chatView(req.model, req.input, 0, undefined, req.user),
  );
}

export function completions(rt: Runtime, ctx: RequestContext, body: unknown, res: HttpResponse): Promise<void> {
  const req = validateCompletion(body);
  if (req.stream === true) {
    // Legacy completions stream only from OpenAI-wire upstreams, which the unary path does not pipe.
    throw new GatewayError(400, "invalid_request_error", "unsupported_parameter", "Streaming is not supported on /v1/completions; use /v1/chat/completions.", {
      param: "stream",
    });
  }
  return unary(
    rt,
    ctx,
    req.model,
    req,
    "completions",
    (p, c) => p.codec.completionRequest?.(req, c, false),
    (_p, json) => json,
    res,
    () => chatView(req.model, req.prompt, typeof req.max_tokens === "number" ? req.max_tokens : undefined, req.n, req.user),
  );
}
