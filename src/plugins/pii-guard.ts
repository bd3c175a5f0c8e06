// pii-guard: finds personal data and credentials in messages — email addresses, phone numbers,
// payment card numbers (Luhn-checked) and API-key-like strings — and blocks the request or
// redacts them before the request goes upstream. With check_output it also scans the answer
// (streams hold back up to 384 characters so a split match is still caught).
import { z } from "zod";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage } from "../api/types.js";
import { badRequest } from "../server/errors.js";
import { scanText, type Scanner } from "./common.js";
import { rejected } from "./metrics.js";
import { OutputFilter } from "./output-filter.js";
import type { Plugin, PluginContext, PluginDeps } from "./types.js";
import { luhnValid } from "../store/redact.js";

export const PII_KINDS = ["email", "phone", "card", "api_key"] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export const piiGuardSchema = z.strictObject({
  /** What to look for. */
  detect: z.array(z.enum(PII_KINDS)).min(1).default([...PII_KINDS]),
  /** block: refuse the request (400 pii_detected); redact: replace each finding with [REDACTED_<KIND>]. */
  action: z.enum(["block", "redact"]).default("block"),
  /** Also scan the model's output; findings there are handled per `action`. */
  check_output: z.boolean().default(false),
});
export type PiiGuardConfig = z.output<typeof piiGuardSchema>;

// Bounded quantifiers keep every match under WINDOW characters (what a stream holds back).
const PATTERNS: Record<PiiKind, string> = {
  api_key:
    "\\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,160}|AIza[0-9A-Za-z_-]{35}|gh[pousr]_[A-Za-z0-9]{36,100}|xox[abposr]-[A-Za-z0-9-]{10,120}|AKIA[0-9A-Z]{16}|fgw_[0-9a-f]{32}|gsk_[A-Za-z0-9]{20,120}|xai-[A-Za-z0-9]{20,120}|eyJ[A-Za-z0-9_-]{10,100}\\.[A-Za-z0-9_-]{10,100}\\.[A-Za-z0-9_-]{10,100})",
  email: "[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\\.){1,4}[A-Za-z]{2,24}",
  card: "(?<![\\d-])(?:\\d[ -]?){12,18}\\d(?![\\d])",
  phone: "(?<![\\w+])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}(?:[ .-]?\\d{2,4}){1,4}(?![\\w])",
};
/** Alternation order: the more specific patterns first. */
const ORDER: readonly PiiKind[] = ["api_key", "email", "card", "phone"];
const WINDOW = 384;
const LABEL: Record<PiiKind, string> = { email: "an email address", phone: "a phone number", card: "a payment card number", api_key: "an API key" };

function kindOf(m: RegExpExecArray): PiiKind | undefined {
  const g = m.groups;
  if (!g) return undefined;
  for (const k of PII_KINDS) if (g[k] !== undefined) return k;
  return undefined;
}

function accept(m: RegExpExecArray): boolean {
  const kind = kindOf(m);
  if (kind === "card") {
    const digits = m[0].replace(/[ -]/g, "");
    return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
  }
  if (kind === "phone") {
    const digits = m[0].replace(/\D/g, "").length;
    return m[0].startsWith("+") ? digits >= 8 && digits <= 15 : digits >= 10 && digits <= 15;
  }
  return kind !== undefined;
}

export class PiiGuard implements Plugin {
  readonly name = "pii-guard";
  readonly type = "guardrail" as const;
  private readonly scanner: Scanner;
  beforeRequest?: (pc: PluginContext) => void;
  transformResponse?: (pc: PluginContext, completion: ChatCompletion) => boolean;
  onStreamChunk?: (pc: PluginContext, chunk: ChatCompletionChunk) => boolean;
  onStreamEnd?: (pc: PluginContext) => ChatCompletionChunk[] | undefined;

  constructor(
    private readonly cfg: PiiGuardConfig,
    deps: PluginDeps,
  ) {
    const kinds = ORDER.filter((k) => cfg.detect.includes(k));
    const re = new RegExp(kinds.map((k) => `(?<${k}>${PATTERNS[k]})`).join("|"), "g");
    this.scanner = { re, window: WINDOW, accept, replacement: (m) => `[REDACTED_${(kindOf(m) ?? "pii").toUpperCase()}]` };
    if (deps.stages.has("before_request")) this.beforeRequest = this.checkInput;
    if (cfg.check_output || deps.stages.has("after_response")) {
      const out = new OutputFilter(this.scanner, cfg.action, deps.slot);
      this.transformResponse = (_pc, c) => out.completion(c);
      this.onStreamChunk = (pc, chunk) => out.chunk(pc, chunk);
      this.onStreamEnd = (pc) => out.end(pc);
    }
  }

  private checkInput(pc: PluginContext): void {
    const messages = pc.req.messages;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as ChatMessage;
      const c = m.content;
      if (typeof c === "string") {
        const r = this.scan(c, i);
        if (r !== undefined) m.content = r;
      } else if (Array.isArray(c)) {
        for (const part of c) {
          if (part.type !== "text") continue;
          const r = this.scan(part.text, i);
          if (r !== undefined) part.text = r;
        }
      }
    }
  }

  /** Returns the redacted text when something changed; throws in block mode. */
  private scan(text: string, index: number): string | undefined {
    const r = scanText(this.scanner, "", text, this.cfg.action, true);
    if (r.blocked) {
      this.scanner.re.lastIndex = 0;
      let what = "personal data";
      let m: RegExpExecArray | null;
      while ((m = this.scanner.re.exec(text)) !== null) {
        if (accept(m)) {
          what = LABEL[kindOf(m) ?? "email"];
          break;
        }
      }
      rejected(this.name, "pii_detected");
      throw badRequest(`Request blocked: messages[${index}] contains ${what}. Remove it and try again.`, "pii_detected", `messages[${index}]`);
    }
    return r.changed ? r.out : undefined;
  }
}
