// Helpers shared by the plugins: config pieces, message text, canonical JSON, and the scanner
// that finds (and blocks or redacts) matches in text that may arrive in stream chunks.
import { z } from "zod";
import type { ChatMessage, ChatRequest } from "../api/types.js";
import type { RedisTarget, StateBackend } from "../state/index.js";
import type { PluginDeps } from "./types.js";

/** Config keys every stateful plugin takes. */
export const stateConfig = {
  backend: z.enum(["memory", "redis"]).default("memory"),
  /** redis://host:port; defaults to the REDIS_URL environment variable. */
  redis_url: z.string().min(1).optional(),
  /** Prefix of every Redis key this plugin writes. */
  key_prefix: z.string().default("ferrogw:"),
};

export function redisTarget(cfg: { backend: StateBackend; redis_url?: string | undefined; key_prefix: string }, deps: PluginDeps): RedisTarget | undefined {
  if (cfg.backend !== "redis") return undefined;
  const url = cfg.redis_url ?? deps.env.REDIS_URL;
  if (!url) {
    deps.issues.push({ path: `${deps.path}.redis_url`, message: "backend redis needs redis_url or the REDIS_URL environment variable" });
    return undefined;
  }
  if (!/^rediss?:\/\//.test(url)) {
    deps.issues.push({ path: `${deps.path}.redis_url`, message: `not a redis:// or rediss:// URL` });
    return undefined;
  }
  return { url, prefix: cfg.key_prefix };
}

/** The first match of a non-global regex in a message's text (string content or text parts). */
export function matchMessage(re: RegExp, m: ChatMessage): RegExpExecArray | null {
  const c = m.content;
  if (typeof c === "string") return re.exec(c);
  if (Array.isArray(c)) {
    for (const part of c) {
      if (part.type !== "text") continue;
      const r = re.exec(part.text);
      if (r) return r;
    }
  }
  return null;
}

/** Total characters of the text in all messages. */
export function inputChars(req: ChatRequest): number {
  let n = 0;
  for (const m of req.messages) {
    const c = m.content;
    if (typeof c === "string") n += c.length;
    else if (Array.isArray(c)) for (const part of c) if (part.type === "text" && typeof part.text === "string") n += part.text.length;
  }
  return n;
}

/** JSON with object keys sorted at every level, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + (value[i] === undefined ? "null" : canonicalJson(value[i]));
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? "" : ","}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** OpenAI's duration style for x-ratelimit-reset-*: "250ms", "6s", "1m30s". */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const totalS = Math.ceil(ms / 1000);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What a scanner finds in text, and what it puts in place of a match. */
export interface Scanner {
  /** A global regex (flag g), compiled once at construction. */
  readonly re: RegExp;
  /** The longest possible match, in characters: what a stream holds back. */
  readonly window: number;
  /** Whether a regex match is a real finding (e.g. a Luhn-valid card number). */
  accept?(m: RegExpExecArray): boolean;
  /** The replacement for a match in redact mode. */
  replacement(m: RegExpExecArray): string;
}

export interface ScanResult {
  /** Text safe to emit now. */
  out: string;
  /** Text held back: it may be the start of a match that the next chunk completes. */
  pending: string;
  /** block mode: a match was found; `out` stops right before it. */
  blocked: boolean;
  /** redact mode: something was replaced. */
  changed: boolean;
}

/**
 * Scans `pending + text`. Block mode stops at the first match; redact mode replaces matches.
 * Unless `final`, the last `window - 1` characters (and any match touching the end) are held
 * back, so a match split across stream chunks is still found whole.
 */
export function scanText(scanner: Scanner, pending: string, text: string, mode: "block" | "redact", final: boolean): ScanResult {
  const s = pending + text;
  const re = scanner.re;
  re.lastIndex = 0;
  let cut = final ? s.length : Math.max(0, s.length - (scanner.window - 1));
  let out = "";
  let last = 0;
  let changed = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index >= cut) break;
    if (scanner.accept && !scanner.accept(m)) continue;
    const end = m.index + m[0].length;
    if (!final && end === s.length) {
      cut = m.index;
      break;
    }
    if (mode === "block") return { out: s.slice(0, m.index), pending: "", blocked: true, changed: true };
    if (end > cut) cut = end;
    out += s.slice(last, m.index) + scanner.replacement(m);
    last = end;
    changed = true;
  }
  out += s.slice(last, cut);
  return { out, pending: s.slice(cut), blocked: false, changed };
}
