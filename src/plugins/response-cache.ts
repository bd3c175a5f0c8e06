// response-cache: exact-match cache of chat completions. The key is a SHA-256 of the normalised
// request (model, messages and every parameter, with keys sorted; stream, stream_options, user
// and metadata left out) and of the route the router would pick besides by model, so a streaming
// and a non-streaming request share entries. A hit skips the provider call only: the plugins
// around it still run, and a streaming request gets the cached answer as a well-formed SSE stream.
// Errors and streams cut short are never cached; with cache_nondeterministic: false (ours), neither
// are sampled requests (no temperature 0, no seed). The default caches every exact match, as the
// reference gateway does.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { ChatCompletion, ChatRequest } from "../api/types.js";
import type { CacheStore } from "../state/types.js";
import { canonicalJson, redisTarget, stateConfig } from "./common.js";
import { cacheLookup } from "./metrics.js";
import type { HookResult, Plugin, PluginContext, PluginDeps, ResponseInfo } from "./types.js";

export const responseCacheSchema = z.strictObject({
  /** Seconds an entry lives. */
  max_age: z.number().positive().default(300),
  /** Entries kept by the memory backend (LRU); Redis relies on its own eviction policy. */
  max_entries: z.number().int().min(0).default(1000),
  /**
   * Also cache requests whose answer is sampled: temperature absent or above 0 without a seed.
   * On by default, as the reference caches every exact match; false gives such requests a fresh
   * answer each time.
   */
  cache_nondeterministic: z.boolean().default(true),
  ...stateConfig,
});
export type ResponseCacheConfig = z.output<typeof responseCacheSchema>;

/** Request headers that skip the lookup: Cache-Control: no-cache / no-store, or X-Ferro-Cache-Bypass: true. */
const BYPASS_HEADER = "x-ferro-cache-bypass";
export const CACHE_HEADER = "x-ferro-cache";

const EXCLUDED = new Set(["stream", "stream_options", "user", "metadata", "store"]);

interface CacheState {
  key: string;
  /** Cache-Control: no-store: neither read nor write. */
  store: boolean;
}

/**
 * `scope`: where the router would send the request besides by model (Router.routeScope), so a
 * conditional rule on the API key, a header or metadata, or a sticky A/B variant, never gets
 * another route's answer.
 */
export function cacheKey(req: ChatRequest, scope = ""): string {
  const normalised: Record<string, unknown> = {};
  for (const k of Object.keys(req)) if (!EXCLUDED.has(k)) normalised[k] = req[k];
  return createHash("sha256").update(scope).update("\n").update(canonicalJson(normalised)).digest("hex");
}

function scopedKey(pc: PluginContext): string {
  return cacheKey(pc.req, pc.router?.routeScope(pc.req.model, pc.ctx, pc.req) ?? "");
}

export function isDeterministic(req: ChatRequest): boolean {
  return req.temperature === 0 || typeof req.seed === "number";
}

export class ResponseCache implements Plugin {
  readonly name = "response-cache";
  readonly type = "transform" as const;
  readonly keepsRequest = true as const;
  private readonly store: CacheStore;
  private readonly ttlMs: number;
  private readonly slot: number;
  private hits = 0;
  private misses = 0;
  private bypasses = 0;

  constructor(
    private readonly cfg: ResponseCacheConfig,
    private readonly deps: PluginDeps,
  ) {
    this.store = deps.state.cacheStore(cfg.backend, redisTarget(cfg, deps), cfg.max_entries);
    this.ttlMs = cfg.max_age * 1000;
    this.slot = deps.slot;
  }

  beforeRequest(pc: PluginContext): HookResult {
    const req = pc.req;
    const cc = pc.ctx.headers["cache-control"];
    const noStore = typeof cc === "string" && cc.includes("no-store");
    const bypass = noStore || (typeof cc === "string" && cc.includes("no-cache")) || isTrue(pc.ctx.headers[BYPASS_HEADER]);
    if (bypass || (!this.cfg.cache_nondeterministic && !isDeterministic(req))) {
      this.bypasses++;
      cacheLookup("bypass");
      pc.cacheStatus = "bypass";
      pc.setHeader(CACHE_HEADER, "bypass");
      // A forced refresh (no-cache) of a cacheable request still stores the fresh answer.
      if (bypass && !noStore && (this.cfg.cache_nondeterministic || isDeterministic(req))) this.collect(pc, { key: scopedKey(pc), store: true });
      return;
    }
    const state: CacheState = { key: scopedKey(pc), store: true };
    const found = this.store.get(state.key);
    if (typeof found === "object") return found.then((v) => this.found(pc, state, v));
    this.found(pc, state, found);
  }

  afterResponse(pc: PluginContext, res: ResponseInfo): HookResult {
    const state = pc.get<CacheState>(this.slot);
    // A stream cut short or ended by an error event is not the answer to cache.
    if (!state?.store || res.cached || !res.completion || !res.complete || pc.cached) return;
    if (pc.ctx.status >= 400 || res.completion.choices.length === 0) return;
    const out = this.store.set(state.key, JSON.stringify(res.completion), this.ttlMs);
    if (out) return out.catch((err: unknown) => this.deps.logger.warn({ err, plugin: this.name }, "response-cache: store failed"));
  }

  stats(): unknown {
    return { backend: this.store.backend, hits: this.hits, misses: this.misses, bypasses: this.bypasses, entries: this.store.size() };
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private found(pc: PluginContext, state: CacheState, value: string | undefined): void {
    if (value !== undefined) {
      try {
        pc.cached = JSON.parse(value) as ChatCompletion;
        this.hits++;
        cacheLookup("hit");
        pc.cacheStatus = "hit";
        pc.setHeader(CACHE_HEADER, "hit");
        return;
      } catch {
        // A corrupt entry is a miss; the fresh answer overwrites it.
      }
    }
    this.misses++;
    cacheLookup("miss");
    pc.cacheStatus = "miss";
    pc.setHeader(CACHE_HEADER, "miss");
    this.collect(pc, state);
  }

  private collect(pc: PluginContext, state: CacheState): void {
    pc.set(this.slot, state);
    if (pc.req.stream === true) pc.collectStream = true;
  }
}

function isTrue(v: string | string[] | undefined): boolean {
  return v === "true" || v === "1";
}
