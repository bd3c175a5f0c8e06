// POST /v1/embeddings and POST /v1/completions: unary calls with the same routing and attempts.
import type { HttpResponse } from "../server/response.js";
import type { ChatRequest, EmbeddingResponse, Usage } from "../api/types.js";
import { validateCompletion, validateEmbeddings } from "../api/validate.js";
import type { Operation, UpstreamRequest, CodecContext, Provider } from "../providers/types.js";
import { runAttempts } from "../routing/attempts.js";
import type { RequestContext } from "../server/context.js";
import { GatewayError } from "../server/errors.js";
import { sendJson } from "../server/respond.js";
import { checkModelAccess } from "./model-access.js";
import type { Runtime } from "./runtime.js";
import { callUpstream, invalidUpstreamBody, readBody } from "./upstream-call.js";
import { usageFromBody } from "./usage.js";

/** The OpenAI SDKs ask for base64 by default: little-endian float32, as OpenAI sends it. */
function toBase64Embeddings(res: EmbeddingResponse): EmbeddingResponse {
  for (const d of res.data) if (Array.isArray(d.embedding)) d.embedding = Buffer.from(new Float32Array(d.embedding).buffer).toString("base64");
  return res;
}

type Build = (provider: Provider, codecCtx: CodecContext) => UpstreamRequest | undefined;
type Translate = (provider: Provider, json: unknown, codecCtx: CodecContext) => unknown;

/** What these routes read from a body's usage: embeddings report no completion tokens. */
function normalized(u: Partial<Usage> | undefined): Usage | undefined {
  if (u === undefined || typeof u.prompt_tokens !== "number") return undefined;
  const completion = u.completion_tokens ?? 0;
  return { ...u, prompt_tokens: u.prompt_tokens, completion_tokens: completion, total_tokens: u.total_tokens ?? u.prompt_tokens + completion };
}

/**
 * The request as the plugins that run on every operation see it (Plugin.everyOperation): its
 * text as one user message. Token-id inputs are written out as numbers, which overstates their
 * length: a budget reservation errs high.
 */
function chatView(model: string, input: unknown, maxTokens: number | undefined, n: unknown, user: unknown): ChatRequest {
  const parts = Array.isArray(input) ? input : [input];
  const text = parts.map((p) => (typeof p === "string" ? p : Array.isArray(p) ? p.join(" ") : String(p))).join("\n");
  return { model, messages: [{ role: "user", content: text }], ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }), ...(typeof n === "number" ? { n } : {}), ...(typeof user === "string" ? { user } : {}) };
}

async function unary(rt: Runtime, ctx: RequestContext, model: string, body: Record<string, unknown>, op: Operation, build: Build, translate: Translate, res: HttpResponse, view: () => ChatRequest): Promise<void> {
  ctx.model = model;
  checkModelAccess(rt, ctx, model);
  const plugins = rt.plugins.active ? rt.plugins.forOtherOperations : undefined;
  if (plugins === undefined || !plugins.active) return attempt(rt, ctx, model, body, op, build, translate, res, false);
  // Rate limits and budgets hold here too; the other plugins are about chat.
  const pc = plugins.begin(ctx, view());
  pc.router = rt.router;
  try {
    const before = plugins.beforeRequest(pc);
    if (before) await before;
    pc.applyHeaders(res);
    await attempt(rt, ctx, model, body, op, build, translate, res, true);
  } catch (err) {
    pc.responseStarted = res.headersSent;
    plugins.onError(pc, err);
    throw err;
  }
  pc.response = { stream: false, cached: false, completion: undefined, usage: ctx.usage, complete: true };
  const after = plugins.afterResponse(pc);
  if (after) await after;
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
      if (usageNow) ctx.usage = normalized(usageFromBody(buf));
      sendJson(res, ctx, 200, buf);
      if (!usageNow)
        setImmediate(() => {
          ctx.usage = normalized(usageFromBody(buf));
        });
      return;
    }
    let out: unknown;
    try {
      out = translate(provider, JSON.parse(buf.toString("utf8")), codecCtx);
    } catch {
      invalidUpstreamBody(provider);
    }
    ctx.usage = normalized((out as { usage?: Partial<Usage> }).usage);
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
