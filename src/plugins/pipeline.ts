// The plugin pipeline, built once per config version from `config.plugins`.
//
// Config rules: every entry names a known plugin and a stage that plugin runs at, and its
// `config` is validated by the plugin's own schema (issues reported as plugins[i].config.<field>).
// The same name listed at several stages with identical config (defaults applied) is ONE
// instance — one cache, one set of counters; differing config for the same name is an error.
// `after_request` and `after_response` are the same stage. Order within a stage is the order
// of the entries; a plugin's implicit stages (budget settle, cache store) run after the listed
// ones. Disabled entries are validated but build nothing.
//
// Per request: hooks run in order; a hook that answers synchronously costs no await. A thrown
// GatewayError is a rejection and ends before_request. Any other failure of a `logging` plugin
// is logged and ignored (fail open); of any other plugin it refuses the request with 503
// plugin_unavailable (fail closed) before the response, and is logged after it.
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "../api/types.js";
import type { ConfigIssue } from "../config/load.js";
import type { PluginConfig } from "../config/schema.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { AttemptError } from "../routing/attempts.js";
import type { PriceSource } from "../routing/prices.js";
import type { RequestContext } from "../server/context.js";
import { GatewayError, internalError, redactSecrets } from "../server/errors.js";
import { StateFactory, type MemoryState } from "../state/index.js";
import { resolvePlugins } from "./config.js";
import { hookFailed } from "./metrics.js";
import { PluginContext, STAGES, type HookResult, type OutputDispatcher, type Plugin, type PluginDeps, type Stage } from "./types.js";

export { validatePlugins } from "./config.js";

export class PluginConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    this.name = "PluginConfigError";
  }
}

export interface PipelineOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Provider name → vendor kind (for model prices). */
  providerKind?: (name: string) => string | undefined;
  /** Model prices (the runtime's model catalog), used where a plugin's config sets none. */
  prices?: PriceSource;
  /** Memory state carried over from the previous config version (rate-limit buckets). */
  memory?: MemoryState;
}

function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof AttemptError) return err.failure.error;
  return internalError();
}

export class PluginPipeline implements OutputDispatcher {
  /** False when no plugin is enabled: the request path skips the pipeline entirely. */
  readonly active: boolean;
  /** No before_request plugin changes the request (see Plugin.keepsRequest). */
  readonly keepsRequest: boolean;
  private readonly before: Plugin[];
  private readonly after: Plugin[];
  private readonly errors: Plugin[];
  private readonly transforms: Plugin[];
  private readonly chunkers: Plugin[];
  private readonly enders: Plugin[];
  private others: PluginPipeline | undefined;

  constructor(
    private readonly plugins: ReadonlyMap<string, Plugin>,
    private readonly stages: Readonly<Record<Stage, readonly Plugin[]>>,
    private readonly state: StateFactory | undefined,
    private readonly log: Logger,
  ) {
    const all = [...plugins.values()];
    this.active = all.length > 0;
    this.before = stages.before_request.filter((p) => p.beforeRequest);
    this.keepsRequest = this.before.every((p) => p.keepsRequest === true);
    this.after = stages.after_response.filter((p) => p.afterResponse);
    this.errors = stages.on_error.filter((p) => p.onError);
    this.transforms = all.filter((p) => p.transformResponse);
    this.chunkers = all.filter((p) => p.onStreamChunk);
    this.enders = all.filter((p) => p.onStreamEnd);
  }

  /**
   * The plugins that also run on embeddings and legacy completions (Plugin.everyOperation): the
   * same instances, so one rate bucket and one budget count every operation. Owned by this
   * pipeline: only this one is ever closed.
   */
  get forOtherOperations(): PluginPipeline {
    if (this.others === undefined) {
      const keep = (p: Plugin): boolean => p.everyOperation === true;
      const stages = { before_request: this.stages.before_request.filter(keep), after_response: this.stages.after_response.filter(keep), on_error: this.stages.on_error.filter(keep) };
      this.others = new PluginPipeline(new Map([...this.plugins].filter(([, p]) => keep(p))), stages, undefined, this.log);
    }
    return this.others;
  }

  /** The per-request context; call only when `active`. */
  begin(ctx: RequestContext, req: ChatRequest): PluginContext {
    return new PluginContext(this, ctx, req);
  }

  plugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  /** Whether a streamed response must be decoded into chunks for the plugins. */
  needsChunks(pc: PluginContext): boolean {
    return this.chunkers.length > 0 || this.enders.length > 0 || pc.collectStream;
  }

  /** Whether a non-streaming OpenAI-wire body must be parsed for the plugins. */
  get needsCompletion(): boolean {
    return this.after.length > 0 || this.transforms.length > 0;
  }

  beforeRequest(pc: PluginContext): HookResult {
    const list = this.before;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as Plugin;
      let r: HookResult;
      try {
        r = (p.beforeRequest as NonNullable<Plugin["beforeRequest"]>).call(p, pc);
      } catch (err) {
        this.failed(p, "before_request", err);
        continue;
      }
      if (r !== undefined) return this.beforeAsync(pc, r, p, i + 1);
    }
  }

  private async beforeAsync(pc: PluginContext, pending: Promise<void>, at: Plugin, from: number): Promise<void> {
    try {
      await pending;
    } catch (err) {
      this.failed(at, "before_request", err);
    }
    const list = this.before;
    for (let i = from; i < list.length; i++) {
      const p = list[i] as Plugin;
      try {
        const r = (p.beforeRequest as NonNullable<Plugin["beforeRequest"]>).call(p, pc);
        if (r !== undefined) await r;
      } catch (err) {
        this.failed(p, "before_request", err);
      }
    }
  }

  /** Output hooks on a non-streaming completion before it is sent; true when it changed. */
  transformCompletion(pc: PluginContext, completion: ChatCompletion): boolean {
    let changed = false;
    for (const p of this.transforms) {
      try {
        if ((p.transformResponse as NonNullable<Plugin["transformResponse"]>).call(p, pc, completion)) changed = true;
      } catch (err) {
        this.failed(p, "after_response", err);
      }
    }
    return changed;
  }

  streamChunk(pc: PluginContext, chunk: ChatCompletionChunk): boolean {
    const list = this.chunkers;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as Plugin;
      try {
        if (!(p.onStreamChunk as NonNullable<Plugin["onStreamChunk"]>).call(p, pc, chunk)) return false;
      } catch (err) {
        this.failed(p, "after_response", err);
      }
    }
    return true;
  }

  streamEnd(pc: PluginContext): ChatCompletionChunk[] | undefined {
    let out: ChatCompletionChunk[] | undefined;
    for (const p of this.enders) {
      try {
        const extra = (p.onStreamEnd as NonNullable<Plugin["onStreamEnd"]>).call(p, pc);
        if (extra && extra.length > 0) out = out ? out.concat(extra) : extra;
      } catch (err) {
        this.failed(p, "after_response", err);
      }
    }
    return out;
  }

  /** after_response hooks, once the response is complete (pc.response). Never throws. */
  afterResponse(pc: PluginContext): HookResult {
    const res = pc.response;
    if (!res) return;
    let pending: Promise<void>[] | undefined;
    for (const p of this.after) {
      try {
        const r = (p.afterResponse as NonNullable<Plugin["afterResponse"]>).call(p, pc, res);
        if (r !== undefined) (pending ??= []).push(r.catch((err: unknown) => this.logFailure(p, "after_response", err)));
      } catch (err) {
        this.logFailure(p, "after_response", err);
      }
    }
    if (pending) return Promise.all(pending).then(() => undefined);
  }

  /** on_error hooks; never throws and never delays the error response. */
  onError(pc: PluginContext, err: unknown): void {
    const gerr = toGatewayError(err);
    for (const p of this.errors) {
      try {
        const r = (p.onError as NonNullable<Plugin["onError"]>).call(p, pc, gerr);
        if (r !== undefined) r.catch((e: unknown) => this.logFailure(p, "on_error", e));
      } catch (e) {
        this.logFailure(p, "on_error", e);
      }
    }
  }

  /** Plugin numbers for admin stats, by plugin name. */
  async stats(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, p] of this.plugins) {
      if (!p.stats) continue;
      try {
        out[name] = await p.stats();
      } catch (err) {
        out[name] = { error: redactSecrets(err instanceof Error ? err.message : String(err)) };
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const p of this.plugins.values()) {
      try {
        await p.close?.();
      } catch (err) {
        this.logFailure(p, "close", err);
      }
    }
    await this.state?.close();
  }

  /** Before the response: a rejection propagates; other failures fail open or closed by type. */
  private failed(p: Plugin, stage: string, err: unknown): void {
    if (err instanceof GatewayError) throw err;
    this.logFailure(p, stage, err);
    if (p.type === "logging") return;
    throw new GatewayError(503, "api_error", "plugin_unavailable", `The ${p.name} plugin failed, so the request was not processed. Try again shortly.`);
  }

  private logFailure(p: Plugin, stage: string, err: unknown): void {
    hookFailed(p.name, stage);
    this.log.error({ plugin: p.name, stage, err: redactSecrets(err instanceof Error ? err.message : String(err)) }, "plugin failed");
  }
}

const SILENT = createLogger("silent");

/** Builds the pipeline; throws PluginConfigError (issues with paths) on any config problem. */
export function buildPipeline(entries: readonly PluginConfig[], opts: PipelineOptions = {}): PluginPipeline {
  const { plugins, order, issues } = resolvePlugins(entries);
  if (issues.length > 0) throw new PluginConfigError(issues);
  if (plugins.length === 0) return new PluginPipeline(new Map(), { before_request: [], after_response: [], on_error: [] }, undefined, opts.logger ?? SILENT);
  const log = opts.logger ?? createLogger(opts.env?.LOG_LEVEL ?? process.env.LOG_LEVEL ?? "info");

  const state = new StateFactory((url, err) => log.error({ redis: url.replace(/\/\/[^@/]*@/, "//****@"), err: err.message }, "plugin state: Redis connection error"), opts.memory);
  const buildIssues: ConfigIssue[] = [];
  const instances = new Map<string, Plugin>();
  const env = opts.env ?? process.env;
  const providerKind = opts.providerKind ?? (() => undefined);
  plugins.forEach((r, slot) => {
    const deps: PluginDeps = { env, logger: log, state, path: `plugins[${r.index}].config`, stages: r.stages, issues: buildIssues, slot };
    instances.set(r.descriptor.name, r.descriptor.create(r.config, deps, { providerKind, prices: opts.prices }));
  });
  if (buildIssues.length > 0) {
    void state.close();
    throw new PluginConfigError(buildIssues);
  }

  const stages = { before_request: [] as Plugin[], after_response: [] as Plugin[], on_error: [] as Plugin[] };
  for (const { name, stage } of order) {
    const p = instances.get(name) as Plugin;
    if (!stages[stage].includes(p)) stages[stage].push(p);
  }
  for (const stage of STAGES) {
    for (const r of plugins) {
      const p = instances.get(r.descriptor.name) as Plugin;
      if (r.descriptor.implicitStages.includes(stage) && !stages[stage].includes(p)) stages[stage].push(p);
    }
  }
  return new PluginPipeline(instances, stages, state, log);
}
