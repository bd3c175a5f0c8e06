import { goRegExp } from "../../config/go-regexp.js";
import type { GatewayConfig } from "../../config/schema.js";
import { CIRCUIT_OPEN, NOT_SERVED, type Choice, type RouteRequest, type Strategy } from "../strategy.js";
import type { Target } from "../target.js";
import { headerValue, userTexts, metadataValue } from "./match.js";

type ContentCondition = NonNullable<GatewayConfig["strategy"]["content_conditions"]>[number];

const enum Kind {
  Regex,
  Contains,
  NotContains,
  Model,
  Header,
  Metadata,
}

interface Rule {
  readonly kind: Kind;
  readonly re: RegExp | undefined;
  /** Lower-cased needle for (not_)contains; the exact value otherwise. */
  readonly value: string;
  /** Header name (lower-cased) or metadata key. */
  readonly field: string;
  readonly target: Target | undefined;
  readonly choice: Choice;
}

const KINDS: Record<ContentCondition["type"], Kind> = {
  prompt_regex: Kind.Regex,
  prompt_contains: Kind.Contains,
  prompt_not_contains: Kind.NotContains,
  model: Kind.Model,
  header: Kind.Header,
  metadata: Kind.Metadata,
};

/**
 * content_conditions in order, first match wins; the matched rule's target is the only one
 * asked. prompt_regex / prompt_contains / prompt_not_contains look at the last user message
 * (contains is case-insensitive; a regex may start with Go-style inline flags such as `(?i)`);
 * `model`, `header` (field = header name) and `metadata` (field = metadata key) compare exactly.
 * No match: the first target that serves the model (open circuits passed over).
 */
export class ContentBasedStrategy implements Strategy {
  readonly mode = "content-based" as const;
  private readonly rules: readonly Rule[];
  private readonly defaults: readonly Choice[];

  constructor(targets: readonly Target[], conditions: readonly ContentCondition[]) {
    const byKey = new Map<string, Target>();
    for (const t of targets) if (!byKey.has(t.key)) byKey.set(t.key, t);
    this.rules = conditions.map((c, i): Rule => {
      const kind = KINDS[c.type];
      const target = byKey.get(c.target_key);
      let re: RegExp | undefined;
      if (kind === Kind.Regex) {
        const { source, flags } = goRegExp(c.value);
        re = new RegExp(source, flags);
      }
      const value = kind === Kind.Contains || kind === Kind.NotContains ? c.value.toLowerCase() : c.value;
      const field = kind === Kind.Header ? (c.field ?? "").toLowerCase() : (c.field ?? "");
      const variant = `content_conditions[${i}]`;
      return { kind, re, value, field, target, choice: Object.freeze({ targets: target ? [target] : [], variant }) };
    });
    this.defaults = targets.map((t) => Object.freeze({ targets: [t], variant: "default" }));
  }

  choose(candidates: readonly Target[], req: RouteRequest): Choice {
    let texts: string[] | undefined;
    let lower: string[] | undefined;
    for (const rule of this.rules) {
      let hit: boolean;
      switch (rule.kind) {
        case Kind.Regex:
          texts ??= userTexts(req.body);
          hit = anyMatches(rule.re as RegExp, texts);
          break;
        case Kind.Contains:
        case Kind.NotContains:
          texts ??= userTexts(req.body);
          lower ??= lowerCased(texts);
          // not_contains: no user message contains it.
          hit = anyIncludes(lower, rule.value) === (rule.kind === Kind.Contains);
          break;
        case Kind.Model:
          hit = req.model === rule.value;
          break;
        case Kind.Header:
          hit = headerValue(req.headers, rule.field) === rule.value;
          break;
        case Kind.Metadata:
          hit = metadataValue(req.body, rule.field) === rule.value;
          break;
      }
      if (hit) return matched(rule.target, rule.choice, candidates);
    }
    const now = Date.now();
    for (const t of candidates) if (t.selectable(now)) return this.defaults[t.index] ?? { targets: [t], variant: "default" };
    return CIRCUIT_OPEN;
  }
}

function anyMatches(re: RegExp, texts: readonly string[]): boolean {
  for (const t of texts) if (re.test(t)) return true;
  return false;
}

function anyIncludes(texts: readonly string[], value: string): boolean {
  for (const t of texts) if (t.includes(value)) return true;
  return false;
}

function lowerCased(texts: readonly string[]): string[] {
  const out = new Array<string>(texts.length);
  for (let i = 0; i < texts.length; i++) out[i] = (texts[i] as string).toLowerCase();
  return out;
}

/** A rule's target is asked and no other: not serving the model is 404, an open circuit 503. */
export function matched(target: Target | undefined, choice: Choice, candidates: readonly Target[]): Choice {
  if (target === undefined || !candidates.includes(target)) return NOT_SERVED;
  return target.selectable(Date.now()) ? choice : CIRCUIT_OPEN;
}
