// POST /v1/chat/completions: validate, plan, then attempt targets until one answers.
import type { ServerResponse } from "node:http";
import type { ChatCompletion, ChatRequest } from "../api/types.js";
import { validateChat } from "../api/validate.js";
import { runAttempts } from "../routing/attempts.js";
import type { Target } from "../routing/target.js";
import type { RequestContext } from "../server/context.js";
import { sendJson } from "../server/respond.js";
import { transportError } from "../upstream/send.js";
import type { Runtime } from "./runtime.js";
import { pipeOpenAIStream, StreamNotStartedError, translateStream } from "./stream.js";
import { callUpstream, invalidUpstreamBody, readBody } from "./upstream-call.js";
import { transportFailure } from "./upstream-error.js";
import { usageFromBody } from "./usage.js";

export async function chatCompletions(rt: Runtime, ctx: RequestContext, body: unknown, res: ServerResponse): Promise<void> {
  const req = validateChat(body);
  const stream = req.stream === true;
  ctx.stream = stream;
  ctx.model = req.model;
  const plan = rt.router.plan(req.model, "chat", { headers: ctx.headers, body: req, keyId: ctx.keyId });
  await runAttempts(ctx, plan.targets, (target) => attemptChat(ctx, req, plan.model, target, stream, res));
}

async function attemptChat(ctx: RequestContext, req: ChatRequest, model: string, target: Target, stream: boolean, res: ServerResponse): Promise<void> {
  const provider = target.provider;
  const codecCtx = { model: target.upstreamModel(model), requestId: ctx.id };
  const upstreamReq = provider.codec.chatRequest(req, codecCtx, stream);
  const { res: upstream, startNs } = await callUpstream(ctx, provider, upstreamReq);

  if (stream) {
    try {
      if (provider.codec.openaiWire) await pipeOpenAIStream(res, ctx, upstream, startNs);
      else await translateStream(res, ctx, provider, codecCtx, upstream, startNs, req.stream_options?.include_usage === true);
    } catch (err) {
      if (err instanceof StreamNotStartedError) throw transportFailure(transportError(provider.name, err.cause));
      throw err;
    }
    return;
  }

  const buf = await readBody(ctx, provider, upstream, startNs);
  if (provider.codec.openaiWire) {
    // Forwarded as received; usage is read after the response is on its way.
    sendJson(res, ctx, 200, buf);
    setImmediate(() => {
      ctx.usage = usageFromBody(buf);
    });
    return;
  }
  let completion: ChatCompletion;
  try {
    completion = provider.codec.chatResponse(JSON.parse(buf.toString("utf8")), codecCtx);
  } catch {
    invalidUpstreamBody(provider);
  }
  ctx.usage = completion.usage;
  sendJson(res, ctx, 200, JSON.stringify(completion));
}
