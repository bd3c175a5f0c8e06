// OpenAI's Responses API. POST /v1/responses is routed by model, like a chat completion, to the
// providers that speak it, and governed and priced the same way; its body or its stream (whole
// SSE events, `event:` lines included) passes through as the provider sent it, and the usage is
// read from the body or the stream's response.completed event. The stateful routes of one
// response (GET/DELETE /v1/responses/{id}, POST .../cancel, GET .../input_items) carry no model:
// they go to `responses_target`, the one target that holds those ids.
import { validateResponses } from "../api/validate.js";
import type { Provider, UpstreamRequest } from "../providers/types.js";
import { runAttempts } from "../routing/attempts.js";
import type { RoutePlan } from "../routing/router.js";
import type { RequestContext } from "../server/context.js";
import { badRequest, GatewayError, notFound } from "../server/errors.js";
import { sendJson } from "../server/respond.js";
import type { HttpResponse } from "../server/response.js";
import { chatView, governed } from "./governed.js";
import { checkModelAccess } from "./model-access.js";
import type { Runtime } from "./runtime.js";
import { pipeOpenAIStream, streamFailure } from "./stream.js";
import { callUpstream, forwardBody, readBody } from "./upstream-call.js";

const unsupported = (provider: Provider): GatewayError =>
  new GatewayError(400, "invalid_request_error", "unsupported_operation", `Provider ${provider.name} does not support the Responses API.`);

export function responses(rt: Runtime, ctx: RequestContext, body: unknown, res: HttpResponse): Promise<void> {
  const req = validateResponses(body);
  const stream = req.stream === true;
  ctx.stream = stream;
  ctx.model = req.model;
  checkModelAccess(rt, ctx, req.model);
  const maxOut = typeof req.max_output_tokens === "number" ? req.max_output_tokens : undefined;
  return governed(rt, ctx, res, () => chatView(req.model, req.input, maxOut, undefined, req.user), (usageNow) => {
    const plan = rt.router.plan(req.model, "responses", ctx, req);
    return runAttempts(ctx, plan, async (target) => {
      const provider = target.provider;
      if (!provider.codec.responsesRequest) throw unsupported(provider);
      const codecCtx = { model: target.upstreamModel(plan.model), requestId: ctx.id, clientBody: ctx.clientBody };
      ctx.upstreamModel = codecCtx.model;
      const { res: upstream, startNs } = await callUpstream(ctx, provider, provider.codec.responsesRequest(req, codecCtx), !stream);
      if (!stream) {
        forwardBody(res, ctx, await readBody(ctx, provider, upstream, startNs), usageNow, true);
        return;
      }
      try {
        await pipeOpenAIStream(res, ctx, upstream, startNs, usageNow);
      } catch (err) {
        throw streamFailure(provider.name, err);
      }
    });
  });
}

const ID = /^[A-Za-z0-9_-]{1,200}$/;

/** The id routes: `rest` is the path after /v1/responses/, `query` the query string with its "?" (or ""). */
export async function responseById(rt: Runtime, ctx: RequestContext, method: string, rest: string, query: string, res: HttpResponse): Promise<void> {
  const [id, action, ...more] = rest.split("/");
  const allowed =
    id !== undefined && ID.test(id) && more.length === 0 && ((action === undefined && (method === "GET" || method === "DELETE")) || (action === "cancel" && method === "POST") || (action === "input_items" && method === "GET"));
  if (!allowed) throw notFound(`No route for ${method} /v1/responses/${rest}.`, "route_not_found");
  const streamed = new URLSearchParams(query).get("stream");
  if (streamed !== null && streamed.toLowerCase() !== "false") throw badRequest("Streaming a stored response is not supported through the gateway.", "unsupported_parameter", "stream");
  // The routes carry no model, so a key limited to some models cannot be held to its list here.
  if (ctx.identity.allowedModels !== null)
    throw new GatewayError(403, "permission_error", "model_not_allowed", "This API key is limited to some models, so it cannot use stored responses, which carry no model.");
  const name = rt.config.responses_target;
  if (name === undefined) throw new GatewayError(501, "invalid_request_error", "not_implemented", "Stored responses are not served here: set responses_target in the gateway's config to the target that holds them.");
  const target = rt.router.allTargets().find((t) => t.key === name);
  if (target === undefined) throw new GatewayError(501, "invalid_request_error", "not_implemented", `responses_target ${name} is not a configured target.`);
  const provider = target.provider;
  if (!provider.operations.has("responses")) throw unsupported(provider);
  ctx.provider = provider.name;
  ctx.target = target.key;
  const req: UpstreamRequest = { path: `/responses/${rest}${query}`, method: method as UpstreamRequest["method"], headers: {}, body: "" };
  // One target, but its retries, circuit breaker and request_timeout still apply.
  const plan: RoutePlan = { model: "", targets: [target], requestTimeoutMs: rt.config.request_timeout };
  await runAttempts(ctx, plan, async () => {
    const { res: upstream, startNs } = await callUpstream(ctx, provider, req, true);
    sendJson(res, ctx, 200, await readBody(ctx, provider, upstream, startNs));
  });
}
