import type { GatewayConfig } from "../../config/schema.js";
import { CIRCUIT_OPEN, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";
import { matched } from "./content-based.js";
import { headerValue, metadataValue } from "./match.js";

type Condition = NonNullable<GatewayConfig["strategy"]["conditions"]>[number];

const enum Kind {
  Model,
  ModelPrefix,
  ApiKey,
  Header,
  Metadata,
}

interface Rule {
  readonly kind: Kind;
  readonly name: string;
  readonly value: string;
  readonly target: Target | undefined;
  readonly choice: Choice;
}

function parseKey(key: string): { kind: Kind; name: string } {
  if (key === "model") return { kind: Kind.Model, name: "" };
  if (key === "model_prefix") return { kind: Kind.ModelPrefix, name: "" };
  if (key === "api_key") return { kind: Kind.ApiKey, name: "" };
  if (key.startsWith("header:")) return { kind: Kind.Header, name: key.slice(7).trim().toLowerCase() };
  if (key.startsWith("metadata.")) return { kind: Kind.Metadata, name: key.slice(9) };
  throw new Error(`unknown condition key "${key}"`); // the schema rejects these at load
}

/**
 * conditions in order, first match wins; the matched rule's target is the only one asked (a
 * request for a model it does not serve is model_not_found, even when another target serves it).
 * Keys: `model` (after aliases), `model_prefix`, `header:<name>`, `metadata.<key>`, `api_key`
 * (the caller's key id). No match: the first target that serves the model.
 */
export class ConditionalStrategy implements Strategy {
  readonly mode = "conditional" as const;
  private readonly rules: readonly Rule[];
  private readonly defaults: readonly Choice[];

  constructor(targets: readonly Target[], conditions: readonly Condition[]) {
    const byKey = new Map<string, Target>();
    for (const t of targets) if (!byKey.has(t.key)) byKey.set(t.key, t);
    this.rules = conditions.map((c, i): Rule => {
      const { kind, name } = parseKey(c.key);
      const target = byKey.get(c.target_key);
      return { kind, name, value: c.value, target, choice: Object.freeze({ targets: target ? [target] : [], variant: `conditions[${i}]` }) };
    });
    this.defaults = targets.map((t) => Object.freeze({ targets: [t], variant: "default" }));
  }

  choose(candidates: readonly Target[], req: RouteRequest): Choice {
    const i = this.firstMatch(req);
    const rule = this.rules[i];
    if (rule !== undefined) return matched(rule.target, rule.choice, candidates);
    const now = Date.now();
    for (const t of candidates) if (t.selectable(now)) return this.defaults[t.index] ?? { targets: [t], variant: "default" };
    return CIRCUIT_OPEN;
  }

  routeKey(_candidates: readonly Target[], req: RouteRequest): string {
    return String(this.firstMatch(req));
  }

  /** The index of the first rule the request matches; -1: none. */
  private firstMatch(req: RouteRequest): number {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as Rule;
      let hit: boolean;
      switch (rule.kind) {
        case Kind.Model:
          hit = req.model === rule.value;
          break;
        case Kind.ModelPrefix:
          hit = req.model.startsWith(rule.value);
          break;
        case Kind.ApiKey:
          hit = req.keyId === rule.value;
          break;
        case Kind.Header:
          hit = headerValue(req.headers, rule.name) === rule.value;
          break;
        case Kind.Metadata:
          hit = metadataValue(req.body, rule.name) === rule.value;
          break;
      }
      if (hit) return i;
    }
    return -1;
  }
}
