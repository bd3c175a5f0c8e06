// POST /v1/chat/completions: validate, plan, then attempt targets until one answers.
import type { HttpResponse } from "../server/response.js";
import type { ChatCompletion, ChatRequest } from "../api/types.js";
import { validateChat } from "../api/validate.js";
import type { PluginContext } from "../plugins/types.js";
import type { CodecContext, Provider } from "../providers/types.js";
import type { McpHub } from "../mcp/hub.js";
import { runAttempts } from "../routing/attempts.js";
import type { RoutePlan } from "../routing/router.js";
import type { Target } from "../routing/target.js";
import type { RequestContext } from "../server/context.js";
import { sendJson } from "../server/respond.js";
import type { UpstreamResponse } from "../upstream/send.js";
import { checkModelAccess } from "./model-access.js";
import type { Runtime } from "./runtime.js";
import { decodeCompletion, parseCompletion } from "./completion.js";
import { decodeOpenAIStream, pipeOpenAIStream, streamFailure, translateStream, writeCompletionStream } from "./stream.js";
import { runToolLoop, usesMcpTools } from "./tool-loop.js";
import { callUpstream, readBody } from "./upstream-call.js";
import { usageFromBody } from "./usage.js";
import { bodyText } from "../providers/request-body.js";

export function chatCompletions(rt: Runtime, ctx: RequestContext, body: unknown, res: HttpResponse): Promise<void> {
  const req = validateChat(body);
  const stream = req.stream === true;
  ctx.stream = stream;
  ctx.model = req.model;
  checkModelAccess(rt, ctx, req.model);
  if (rt.plugins.active) return chatWithPlugins(rt, ctx, req, res);
  // Without plugins there is nothing to do after the attempts: their promise is the answer, with
  // no async frame of this function held for the upstream's latency (see upstream/send.ts).
  const plan = rt.router.plan(req.model, "chat", ctx, req);
  // In a function of its own: a closure here that named `req` would put it in the context every
  // closure of this scope shares, and the attempt's closure would hold it for the whole wait.
  if (usesMcpTools(rt, req)) return chatWithTools(rt.mcp, ctx, req, plan, res);
  const source = new RequestSource(req, ctx.clientBody);
  return runAttempts(ctx, plan, (target) => attemptChat(ctx, source.take(), plan.model, target, stream, res));
}

/**
 * The parsed request for each attempt. A long conversation's parsed messages are most of what a
 * request holds while it waits on the upstream, and every young-generation GC meanwhile copies
 * what is held (about a fifth of the CPU with 17 KB requests at 1000 connections). When the
 * client's JSON is at hand, the first attempt takes the parsed request and nothing keeps it; a
 * retry or fallback parses that JSON again.
 */
class RequestSource {
  constructor(
    private first: ChatRequest | undefined,
    private readonly json: string | Uint8Array | undefined,
  ) {}

  take(): ChatRequest {
    const req = this.first;
    // Released only when the JSON is at hand (below), so it is there to parse again.
    if (req === undefined) return validateChat(JSON.parse(bodyText(this.json as string | Uint8Array)));
    if (this.json !== undefined) this.first = undefined;
    return req;
  }
}

async function chatWithPlugins(rt: Runtime, ctx: RequestContext, first: ChatRequest, res: HttpResponse): Promise<void> {
  let req = first;
  const stream = req.stream === true;
  // Plugins (src/plugins): before_request may reject, rewrite the request, or answer from cache;
  // after_response sees the finished response; on_error sees any failure.
  const pc = rt.plugins.begin(ctx, req);
  pc.router = rt.router;
  try {
    const before = rt.plugins.beforeRequest(pc);
    if (before) await before;
    pc.applyHeaders(res);
    // What the client sent is no longer exactly this request once a plugin may have changed it.
    if (!rt.plugins.keepsRequest || pc.req !== first) ctx.clientBody = undefined;
    if (pc.req.model !== req.model) checkModelAccess(rt, ctx, pc.req.model);
    req = pc.req;
    ctx.model = req.model;
    if (pc.cached) serveCached(ctx, pc, stream, res);
    else {
      const plan = rt.router.plan(req.model, "chat", ctx, req);
      if (usesMcpTools(rt, req)) sendCompletion(res, ctx, await runToolLoop(rt.mcp, ctx, req, plan), req, pc);
      else await runAttempts(ctx, plan, (target) => attemptChat(ctx, req, plan.model, target, stream, res, pc));
    }
  } catch (err) {
    pc.responseStarted = res.headersSent;
    rt.plugins.onError(pc, err);
    throw err;
  }
  const after = rt.plugins.afterResponse(pc);
  if (after) await after;
}

/** Plugins: a response-cache hit, sent without calling a provider (as a stream when asked). */
function serveCached(ctx: RequestContext, pc: PluginContext, stream: boolean, res: HttpResponse): void {
  const completion = pc.cached as ChatCompletion;
  ctx.cacheHit = true;
  if (stream) writeCompletionStream(res, ctx, completion, pc.req.stream_options?.include_usage === true, pc.wantsChunks() ? pc : undefined);
  else {
    pc.transform(completion);
    sendJson(res, ctx, 200, JSON.stringify(completion));
  }
  pc.response = { stream, cached: true, completion, usage: completion.usage, complete: true };
}

/** Plugins: output hooks may change the completion before it is sent; after_response sees it. */
function sendWithPlugins(res: HttpResponse, ctx: RequestContext, pc: PluginContext, completion: ChatCompletion | undefined, raw: Buffer | undefined): void {
  const changed = completion !== undefined && pc.transform(completion);
  if (completion) ctx.usage = completion.usage;
  sendJson(res, ctx, 200, raw && !changed ? raw : JSON.stringify(completion));
  pc.response = { stream: false, cached: false, completion, usage: completion?.usage, complete: true };
}

function chatWithTools(hub: McpHub, ctx: RequestContext, req: ChatRequest, plan: RoutePlan, res: HttpResponse): Promise<void> {
  return runToolLoop(hub, ctx, req, plan).then((completion) => sendCompletion(res, ctx, completion, req));
}

/** The MCP tool loop's final answer, as JSON or, to a client that asked for one, as a stream. */
function sendCompletion(res: HttpResponse, ctx: RequestContext, completion: ChatCompletion, req: ChatRequest, pc?: PluginContext): void {
  if (req.stream !== true) {
    if (pc) sendWithPlugins(res, ctx, pc, completion, undefined);
    else sendJson(res, ctx, 200, JSON.stringify(completion));
    return;
  }
  writeCompletionStream(res, ctx, completion, req.stream_options?.include_usage === true, pc?.wantsChunks() ? pc : undefined);
  if (pc) pc.response = { stream: true, cached: false, completion, usage: completion.usage, complete: true };
}

/**
 * One attempt at one target. Not an async function: it returns callUpstream's promise with the
 * rest chained to it, so no async frame of it is held for the upstream's latency (see
 * upstream/send.ts); the frames that follow live for a stream, or for a moment.
 */
function attemptChat(
  ctx: RequestContext,
  req: ChatRequest,
  model: string,
  target: Target,
  stream: boolean,
  res: HttpResponse,
  pc?: PluginContext,
): Promise<void> {
  const provider = target.provider;
  // Unless a plugin changed the request, it is exactly what the client sent: its JSON may go out as is.
  const codecCtx: CodecContext = { model: target.upstreamModel(model), requestId: ctx.id, clientBody: ctx.clientBody };
  ctx.upstreamModel = codecCtx.model;
  const upstreamReq = provider.codec.chatRequest(req, codecCtx, stream);
  // Read now: the callback below must not hold the request through the upstream's latency.
  const includeUsage = req.stream_options?.include_usage === true;
  return callUpstream(ctx, provider, upstreamReq, !stream).then(({ res: upstream, startNs }) =>
    stream ? streamChat(ctx, includeUsage, provider, codecCtx, upstream, startNs, res, pc) : answerChat(ctx, provider, codecCtx, upstream, startNs, res, pc),
  );
}

async function streamChat(
  ctx: RequestContext,
  includeUsage: boolean,
  provider: Provider,
  codecCtx: CodecContext,
  upstream: UpstreamResponse,
  startNs: bigint,
  res: HttpResponse,
  pc: PluginContext | undefined,
): Promise<void> {
  const hooks = pc?.wantsChunks() ? pc : undefined;
  try {
    if (hooks && provider.codec.openaiWire) await decodeOpenAIStream(res, ctx, upstream, startNs, hooks);
    else if (provider.codec.openaiWire) await pipeOpenAIStream(res, ctx, upstream, startNs, pc !== undefined);
    else await translateStream(res, ctx, provider, codecCtx, upstream, startNs, includeUsage, hooks);
  } catch (err) {
    throw streamFailure(provider.name, err);
  }
  if (pc) pc.response = { stream: true, cached: false, completion: pc.collected(), usage: ctx.usage, complete: pc.collectedComplete() };
}

async function answerChat(
  ctx: RequestContext,
  provider: Provider,
  codecCtx: CodecContext,
  upstream: UpstreamResponse,
  startNs: bigint,
  res: HttpResponse,
  pc: PluginContext | undefined,
): Promise<void> {
  const buf = await readBody(ctx, provider, upstream, startNs);
  if (pc && (pc.wantsCompletion || !provider.codec.openaiWire)) {
    // An OpenAI-wire body that is not a completion still goes to the client as it came.
    const completion = provider.codec.openaiWire ? parseCompletion(buf) : decodeCompletion(provider, codecCtx, buf);
    sendWithPlugins(res, ctx, pc, completion, provider.codec.openaiWire ? buf : undefined);
    return;
  }
  if (pc) pc.response = { stream: false, cached: false, completion: undefined, usage: undefined, complete: true };
  if (provider.codec.openaiWire) {
    // Forwarded as received; usage is read after the response is on its way.
    sendJson(res, ctx, 200, buf);
    setImmediate(() => {
      ctx.usage = usageFromBody(buf);
    });
    return;
  }
  const completion = decodeCompletion(provider, codecCtx, buf);
  ctx.usage = completion.usage;
  sendJson(res, ctx, 200, JSON.stringify(completion));
}
