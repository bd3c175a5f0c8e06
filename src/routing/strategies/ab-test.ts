import type { GatewayConfig } from "../../config/schema.js";
import { CIRCUIT_OPEN, NOT_SERVED, headerSafe, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";
import { headerValue, metadataValue } from "./match.js";

type StrategyConfig = GatewayConfig["strategy"];
type AbVariant = NonNullable<StrategyConfig["ab_variants"]>[number];

const DRAINED: Choice = Object.freeze({ targets: [], refusal: "drained" as const });

interface Variant {
  readonly target: Target | undefined;
  readonly weight: number;
  readonly choice: Choice;
}

/** Where the sticky key comes from: `user`, `api_key`, `metadata.<key>`, `header:<name>` or a bare header name. */
type StickySource = { kind: "user" } | { kind: "api_key" } | { kind: "metadata"; name: string } | { kind: "header"; name: string };

function stickySource(by: string | undefined): StickySource | undefined {
  if (!by) return undefined;
  if (by === "user") return { kind: "user" };
  if (by === "api_key") return { kind: "api_key" };
  if (by.startsWith("metadata.")) return { kind: "metadata", name: by.slice(9) };
  return { kind: "header", name: (by.startsWith("header:") ? by.slice(7) : by).trim().toLowerCase() };
}

/** A uniform number in [0, 1) determined by `key`: FNV-1a, then MurmurHash3's finaliser. */
export function hashUnit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/**
 * ab_variants split traffic by relative weight (zero means none). With `strategy.sticky_by`,
 * the variant is a hash of the caller's key (the `user` field, the API key id, a metadata value
 * or a header), so one caller keeps one variant; without a key the draw is random. The variant's
 * label is reported in x-ferro-variant. Variants whose target does not serve the model or whose
 * circuit is open are left out of the draw.
 */
export class AbTestStrategy implements Strategy {
  readonly mode = "ab-test" as const;
  private readonly variants: readonly Variant[];
  private readonly sticky: StickySource | undefined;

  constructor(
    targets: readonly Target[],
    cfg: Pick<StrategyConfig, "ab_variants" | "sticky_by">,
    private readonly random: () => number = Math.random,
  ) {
    const byKey = new Map<string, Target>();
    for (const t of targets) if (!byKey.has(t.key)) byKey.set(t.key, t);
    this.variants = (cfg.ab_variants ?? []).map((v: AbVariant): Variant => {
      const target = byKey.get(v.target_key);
      const variant = headerSafe(v.label ?? v.target_key);
      return { target, weight: v.weight, choice: Object.freeze({ targets: target ? [target] : [], variant }) };
    });
    this.sticky = stickySource(cfg.sticky_by);
  }

  choose(candidates: readonly Target[], req: RouteRequest): Choice {
    const now = Date.now();
    let total = 0;
    let served = 0;
    let weighted = 0;
    for (const v of this.variants) {
      if (v.target === undefined || !candidates.includes(v.target)) continue;
      served++;
      if (v.weight <= 0) continue;
      weighted++;
      if (v.target.selectable(now)) total += v.weight;
    }
    if (total === 0) return served === 0 ? NOT_SERVED : weighted === 0 ? DRAINED : CIRCUIT_OPEN;
    const key = this.stickyKey(req);
    let x = (key === undefined ? this.random() : hashUnit(key)) * total;
    let last: Variant | undefined;
    for (const v of this.variants) {
      if (v.weight <= 0 || v.target === undefined || !candidates.includes(v.target) || !v.target.selectable(now)) continue;
      last = v;
      x -= v.weight;
      if (x < 0) return v.choice;
    }
    return (last as Variant).choice;
  }

  /**
   * With sticky_by, the variant this caller gets now: the same draw as choose(), over the
   * variants that serve the model and are up (a random draw without it: each answer is as good
   * as another's).
   */
  routeKey(candidates: readonly Target[], req: RouteRequest): string | undefined {
    return this.stickyKey(req) === undefined ? undefined : this.choose(candidates, req).variant;
  }

  private stickyKey(req: RouteRequest): string | undefined {
    const s = this.sticky;
    if (s === undefined) return undefined;
    let key: string | undefined;
    switch (s.kind) {
      case "user":
        key = typeof req.body.user === "string" ? req.body.user : undefined;
        break;
      case "api_key":
        key = req.keyId;
        break;
      case "metadata":
        key = metadataValue(req.body, s.name);
        break;
      case "header":
        key = headerValue(req.headers, s.name);
        break;
    }
    return key === "" ? undefined : key;
  }
}
