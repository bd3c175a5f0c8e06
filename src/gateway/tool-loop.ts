// The MCP tool loop. When MCP servers offer tools and the client sent none of its own, the
// request goes upstream with those tools; while the model answers with calls to them, the gateway
// runs the calls (src/mcp), adds the assistant turn and the results to the conversation, and asks
// again, up to the servers' max_call_depth. The client sees only the final answer, with the
// tokens of every turn in its usage. Turns do not stream: a client that asked for a stream gets
// the final answer as one.
import type { ChatCompletion, ChatCompletionChoice, ChatMessage, ChatRequest, ToolCall, Usage } from "../api/types.js";
import { toolFailureText } from "../mcp/content.js";
import type { McpHub } from "../mcp/hub.js";
import { unknownToolCalled } from "../mcp/metrics.js";
import { ToolCallError } from "../mcp/server.js";
import { cancellationError, runAttempts, withRequestTimeout } from "../routing/attempts.js";
import type { RoutePlan } from "../routing/router.js";
import type { Target } from "../routing/target.js";
import type { RequestContext } from "../server/context.js";
import { decodeCompletion } from "./completion.js";
import type { Runtime } from "./runtime.js";
import { callUpstream, readBody } from "./upstream-call.js";

/** More calls than this in one turn are not run (nor kept in the conversation). */
const MAX_CALLS_PER_TURN = 64;

/** The loop takes the request: connected MCP servers offer tools, and the client brought none. */
export function usesMcpTools(rt: Runtime, req: ChatRequest): rt is Runtime & { mcp: McpHub } {
  return rt.mcp !== undefined && rt.mcp.tools.length > 0 && (req.tools === undefined || req.tools.length === 0);
}

/**
 * Runs the turns and returns the final completion; every turn is attempted under the plan
 * (retries, fallback), and request_timeout covers the whole loop, tool calls included.
 */
export function runToolLoop(hub: McpHub, ctx: RequestContext, req: ChatRequest, plan: RoutePlan): Promise<ChatCompletion> {
  return withRequestTimeout(ctx, plan, () => turns(hub, ctx, req, plan));
}

async function turns(hub: McpHub, ctx: RequestContext, req: ChatRequest, plan: RoutePlan): Promise<ChatCompletion> {
  // The request goes out with tools added: never as the client's own JSON.
  ctx.clientBody = undefined;
  const messages: ChatMessage[] = [...req.messages];
  const turn: ChatRequest = { ...req, messages, tools: [...hub.tools], stream: false };
  delete turn.stream_options;
  const maxDepth = hub.maxDepth();
  let usage: Usage | undefined;
  for (let depth = 0; ; depth++) {
    const completion = await runAttempts(ctx, plan, (target) => completeTurn(ctx, turn, plan.model, target), false);
    usage = addUsage(usage, completion.usage);
    // Kept up to date: a later turn that fails (or a client that leaves) still owes these tokens.
    ctx.usage = usage;
    const choice = completion.choices.find((c) => callsOnlyMcp(hub, c));
    if (choice !== undefined && depth >= maxDepth) dropMcpCalls(hub, completion);
    if (choice === undefined || depth >= maxDepth) {
      if (usage !== undefined) completion.usage = usage;
      return completion;
    }
    const calls = (choice.message.tool_calls as ToolCall[]).slice(0, MAX_CALLS_PER_TURN);
    messages.push({ role: "assistant", content: choice.message.content, tool_calls: calls });
    // In order, one at a time: a call may depend on what an earlier one changed.
    for (const call of calls) messages.push({ role: "tool", tool_call_id: call.id, content: await runCall(hub, ctx, call) });
  }
}

/** One turn at one target, read whole and in OpenAI's shape whatever the provider's wire. */
async function completeTurn(ctx: RequestContext, turn: ChatRequest, model: string, target: Target): Promise<ChatCompletion> {
  const provider = target.provider;
  // A wire that cannot carry tools gets the conversation alone: the model answers, the loop ends.
  const req = provider.codec.tools === false ? { ...turn, tools: undefined } : turn;
  const codecCtx = { model: target.upstreamModel(model), requestId: ctx.id, clientBody: undefined };
  ctx.upstreamModel = codecCtx.model;
  const { res, startNs } = await callUpstream(ctx, provider, provider.codec.chatRequest(req, codecCtx, false), true);
  return decodeCompletion(provider, codecCtx, await readBody(ctx, provider, res, startNs));
}

/** The tool message's content: the tool's result, or a fixed text saying why there is none. */
async function runCall(hub: McpHub, ctx: RequestContext, call: ToolCall): Promise<string> {
  const name = call.function.name;
  const server = hub.owner(name);
  if (server === undefined) {
    // Its server was lost since the turn was asked for.
    unknownToolCalled();
    (ctx.toolCalls ??= []).push({ server: "", tool: name, startMs: Date.now(), durationMs: 0, status: "unknown_tool" });
    return toolFailureText("unknown_tool", name);
  }
  const started = process.hrtime.bigint();
  const record = { server: server.name, tool: name, startMs: Date.now(), durationMs: 0, status: "ok" };
  (ctx.toolCalls ??= []).push(record);
  // One controller per call, let go when the call ends: the SDK never removes the listener it
  // adds to a signal, so sharing the request's would pile them up over the loop's calls.
  const controller = new AbortController();
  const cancel = (): void => controller.abort(ctx.abort.reason);
  if (ctx.abort.aborted) cancel();
  else ctx.abort.onAbort(cancel);
  try {
    const result = await server.call(name, call.function.arguments, controller.signal);
    if (result.isError) record.status = "error";
    return result.text;
  } catch (err) {
    record.status = err instanceof ToolCallError ? err.kind : "cancelled";
    // The client left, or request_timeout fired (withRequestTimeout reports that one).
    if (ctx.abort.aborted) throw cancellationError(ctx.abort);
    if (err instanceof ToolCallError) return toolFailureText(err.kind, name);
    throw err;
  } finally {
    ctx.abort.offAbort(cancel);
    // A tool's time is not the gateway's own (X-Gateway-Overhead-Ms).
    const spent = process.hrtime.bigint() - started;
    ctx.upstreamNs += spent;
    record.durationMs = Number(spent) / 1e6;
  }
}

function callsOnlyMcp(hub: McpHub, c: ChatCompletionChoice): boolean {
  const calls = c.message.tool_calls;
  return calls !== undefined && calls.length > 0 && calls.every((t) => hub.owner(t.function.name) !== undefined);
}

/** Out of depth: calls the client cannot run are taken out, and the answer says it was cut short. */
function dropMcpCalls(hub: McpHub, completion: ChatCompletion): void {
  for (const c of completion.choices) {
    if (!callsOnlyMcp(hub, c)) continue;
    delete c.message.tool_calls;
    c.finish_reason = "length";
  }
}

function addUsage(total: Usage | undefined, u: Usage | undefined): Usage | undefined {
  if (u === undefined) return total;
  if (total === undefined) return structuredClone(u);
  total.prompt_tokens += u.prompt_tokens;
  total.completion_tokens += u.completion_tokens;
  total.total_tokens += u.total_tokens;
  const cached = (total.prompt_tokens_details?.cached_tokens ?? 0) + (u.prompt_tokens_details?.cached_tokens ?? 0);
  if (cached > 0) total.prompt_tokens_details = { ...total.prompt_tokens_details, cached_tokens: cached };
  const reasoning = (total.completion_tokens_details?.reasoning_tokens ?? 0) + (u.completion_tokens_details?.reasoning_tokens ?? 0);
  if (reasoning > 0) total.completion_tokens_details = { ...total.completion_tokens_details, reasoning_tokens: reasoning };
  return total;
}
