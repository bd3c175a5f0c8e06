// The plugin interface and the per-request plugin context.
//
// A plugin implements any of the hooks below. Every hook may answer synchronously (return
// undefined) or return a promise; the pipeline awaits only when a promise comes back, so a
// chain of synchronous plugins costs no microtask hops. A plugin rejects a request by throwing
// a GatewayError (status, code and message reach the client in OpenAI's error shape), modifies
// it by changing `pc.req`, and serves it without the provider call by setting `pc.cached`.
import type { HttpResponse } from "../server/response.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from "../api/types.js";
import type { ChunkHooks } from "../gateway/stream.js";
import type { RequestContext } from "../server/context.js";
import type { GatewayError } from "../server/errors.js";
import type { ConfigIssue } from "../config/load.js";
import type { Logger } from "../observability/logger.js";
import type { StateFactory } from "../state/index.js";
import { StreamAccumulator } from "./stream-accumulator.js";

/** The stages a plugin runs at. The config's `after_request` is the same stage as `after_response`. */
export type Stage = "before_request" | "after_response" | "on_error";
export const STAGES: readonly Stage[] = ["before_request", "after_response", "on_error"];

/** Reference-gateway labels; `logging` plugins fail open, every other type fails closed. */
export type PluginType = "guardrail" | "transform" | "logging";

export type HookResult = void | Promise<void>;

export type CacheStatus = "hit" | "miss" | "bypass";

/** What after_response hooks see. */
export interface ResponseInfo {
  readonly stream: boolean;
  /** Served by the response cache: no provider was called. */
  readonly cached: boolean;
  /** Non-streaming responses always; streams when a plugin asked for collection (`pc.collectStream`). */
  readonly completion: ChatCompletion | undefined;
  readonly usage: Usage | undefined;
  /** False for a collected stream that ended before every choice's finish_reason (cut short, or an error event). */
  readonly complete: boolean;
}

export interface Plugin {
  readonly name: string;
  readonly type: PluginType;
  /** before_request: reject (throw GatewayError), rewrite `pc.req`, or answer from cache (`pc.cached`). */
  beforeRequest?(pc: PluginContext): HookResult;
  /**
   * Set by plugins whose before_request only reads `pc.req` (never changes or replaces it): when
   * every before_request plugin does, the client's own JSON still goes upstream as sent.
   */
  readonly keepsRequest?: true;
  /**
   * Also runs on embeddings, legacy completions and the Responses API (limits and budgets must hold on every paid
   * call). There `pc.req` is a view of the request as a chat request: the input or prompt as one
   * user message, max_tokens 0 for embeddings; a plugin with this flag only reads it.
   */
  readonly everyOperation?: true;
  /** after_response: runs once the response is complete (after it was sent). Observe and record. */
  afterResponse?(pc: PluginContext, res: ResponseInfo): HookResult;
  /** on_error: the request failed (a rejection, an upstream failure, a broken stream). */
  onError?(pc: PluginContext, err: GatewayError): HookResult;

  // Output hooks: run on every response that leaves the gateway, whatever stage the entry is
  // listed at. Synchronous: they sit between the upstream and the client.
  /** A non-streaming completion, before it is sent. Returns true when it changed the completion. */
  transformResponse?(pc: PluginContext, completion: ChatCompletion): boolean;
  /** One streamed chunk, before it is sent; may change it. Returns false to drop the chunk. */
  onStreamChunk?(pc: PluginContext, chunk: ChatCompletionChunk): boolean;
  /** The stream ended: chunks still held back, to be sent before `data: [DONE]`. */
  onStreamEnd?(pc: PluginContext): ChatCompletionChunk[] | undefined;

  /** Numbers for admin stats. */
  stats?(): unknown;
  close?(): void | Promise<void>;
}

/** What a factory gets besides its validated config. */
export interface PluginDeps {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  state: StateFactory;
  /** Where this plugin's config sits, e.g. "plugins[2].config", for build-time errors. */
  path: string;
  /** The stages the config lists this plugin at. */
  stages: ReadonlySet<Stage>;
  /** Issues found while building (e.g. a missing Redis URL); the pipeline refuses to start on any. */
  issues: ConfigIssue[];
  /** Index of this plugin's per-request state slot (see PluginContext.get/set). */
  slot: number;
}

/** Dispatches the output hooks; implemented by the pipeline. */
export interface OutputDispatcher {
  readonly needsCompletion: boolean;
  needsChunks(pc: PluginContext): boolean;
  transformCompletion(pc: PluginContext, completion: ChatCompletion): boolean;
  streamChunk(pc: PluginContext, chunk: ChatCompletionChunk): boolean;
  streamEnd(pc: PluginContext): ChatCompletionChunk[] | undefined;
}

/**
 * One request's view for the plugins. Allocated once per request (only when plugins are
 * configured); it is also the ChunkHooks the stream writers call, so no per-request closures.
 */
/** The router as plugins see it: the response cache keys on the route, budget prices through aliases. */
export interface RouteScoper {
  routeScope(requested: string, ctx: RequestContext, body: Readonly<Record<string, unknown>>): string;
  /** The model a configured alias stands for; any other name unchanged. */
  resolveAlias(model: string): string;
}

export class PluginContext implements ChunkHooks {
  readonly ctx: RequestContext;
  /** The parsed request. Replace or change it to modify what is routed and sent upstream. */
  req: ChatRequest;
  /** The caller's key id (ctx.keyId), undefined on an open gateway. */
  readonly keyId: string | undefined;
  /** The end user: the body's `user`, else the X-Ferro-User header. */
  readonly user: string | undefined;
  /** Set by a before_request plugin to answer without calling a provider. */
  cached: ChatCompletion | undefined = undefined;
  cacheStatus: CacheStatus | undefined = undefined;
  /** Set by a plugin that needs a streamed response assembled into `ResponseInfo.completion`. */
  collectStream = false;
  /** The response, once complete; what after_response hooks get. */
  response: ResponseInfo | undefined = undefined;
  /** on_error: whether the response (a stream) had begun before the failure. */
  responseStarted = false;
  /** When the first streamed chunk passed, for time-to-first-token. */
  firstChunkNs: bigint | undefined = undefined;
  /** Set by the chat handler: where the request would be routed (the response cache keys on it), and its aliases. */
  router: RouteScoper | undefined = undefined;
  private headerPairs: string[] | undefined;
  private slots: unknown[] | undefined;
  private accumulator: StreamAccumulator | undefined;

  constructor(
    private readonly output: OutputDispatcher,
    ctx: RequestContext,
    req: ChatRequest,
  ) {
    this.ctx = ctx;
    this.req = req;
    this.keyId = ctx.keyId;
    this.user = userOf(req, ctx);
  }

  /** Adds a response header (sent with the success response, and with any later error). */
  setHeader(name: string, value: string): void {
    (this.headerPairs ??= []).push(name, value);
  }

  applyHeaders(res: HttpResponse): void {
    const h = this.headerPairs;
    if (!h) return;
    for (let i = 0; i < h.length; i += 2) res.setHeader(h[i] as string, h[i + 1] as string);
  }

  /** Per-request state of the plugin that owns `slot` (PluginDeps.slot). */
  get<T>(slot: number): T | undefined {
    return this.slots?.[slot] as T | undefined;
  }

  set(slot: number, value: unknown): void {
    (this.slots ??= [])[slot] = value;
  }

  /** Whether a stream must be decoded into chunks for the plugins (else it is piped as bytes). */
  wantsChunks(): boolean {
    return this.output.needsChunks(this);
  }

  /** Whether a non-streaming response must be parsed for the plugins (else it is forwarded as bytes). */
  get wantsCompletion(): boolean {
    return this.output.needsCompletion;
  }

  /** Runs the output hooks on a completion about to be sent; true when they changed it. */
  transform(completion: ChatCompletion): boolean {
    return this.output.transformCompletion(this, completion);
  }

  // ChunkHooks, called by the stream writers in src/gateway/stream.ts.
  onChunk(chunk: ChatCompletionChunk): boolean {
    if (this.firstChunkNs === undefined) this.firstChunkNs = process.hrtime.bigint();
    if (!this.output.streamChunk(this, chunk)) return false;
    if (this.collectStream) (this.accumulator ??= new StreamAccumulator()).push(chunk);
    return true;
  }

  onEnd(): ChatCompletionChunk[] | undefined {
    const extra = this.output.streamEnd(this);
    if (extra && this.collectStream) for (const c of extra) (this.accumulator ??= new StreamAccumulator()).push(c);
    return extra;
  }

  /** The collected stream as one completion (when collectStream was set and chunks arrived). */
  collected(): ChatCompletion | undefined {
    return this.accumulator?.finish(this.ctx.usage);
  }

  /** Whether the collected stream ended properly (see StreamAccumulator.complete). */
  collectedComplete(): boolean {
    return this.accumulator?.complete() ?? false;
  }
}

const USER_HEADER = "x-ferro-user";

function userOf(req: ChatRequest, ctx: RequestContext): string | undefined {
  if (typeof req.user === "string" && req.user !== "") return req.user;
  const h = ctx.headers[USER_HEADER];
  return typeof h === "string" && h !== "" ? h : undefined;
}
