// The plugins that hold on every paid operation (rate-limit, budget: Plugin.everyOperation) around
// a request that is not a chat completion: embeddings, legacy completions, the Responses API.
import type { ChatRequest } from "../api/types.js";
import type { RequestContext } from "../server/context.js";
import type { HttpResponse } from "../server/response.js";
import type { Runtime } from "./runtime.js";

/**
 * Runs `call` under those plugins, or bare when none is on. `view` is the request as a chat
 * request, for them to read. `call(true)`: plugins settle from the usage once the response is
 * sent, so it must be read before.
 */
export async function governed(rt: Runtime, ctx: RequestContext, res: HttpResponse, view: () => ChatRequest, call: (usageNow: boolean) => Promise<void>): Promise<void> {
  const plugins = rt.plugins.active ? rt.plugins.forOtherOperations : undefined;
  if (plugins === undefined || !plugins.active) return call(false);
  const pc = plugins.begin(ctx, view());
  pc.router = rt.router;
  try {
    const before = plugins.beforeRequest(pc);
    if (before) await before;
    // The before hooks are the only readers of the text (the after hooks read the usage): not
    // kept for the upstream's wait, which for a large embeddings batch would be a second copy.
    pc.req = { model: pc.req.model, messages: [] };
    pc.applyHeaders(res);
    await call(true);
  } catch (err) {
    pc.responseStarted = res.headersSent;
    plugins.onError(pc, err);
    throw err;
  }
  pc.response = { stream: ctx.stream, cached: false, completion: undefined, usage: ctx.usage, complete: true };
  const after = plugins.afterResponse(pc);
  if (after) await after;
}

/**
 * A request's text as one user message: strings as they are, token ids written out as numbers
 * (which overstates their length, so a budget reservation errs high), other items as JSON.
 */
export function chatView(model: string, input: unknown, maxTokens: number | undefined, n: unknown, user: unknown): ChatRequest {
  const parts = Array.isArray(input) ? input : input === undefined ? [] : [input];
  const text = parts.map((p) => (typeof p === "string" ? p : Array.isArray(p) ? p.join(" ") : JSON.stringify(p))).join("\n");
  return { model, messages: [{ role: "user", content: text }], ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }), ...(typeof n === "number" ? { n } : {}), ...(typeof user === "string" ? { user } : {}) };
}
