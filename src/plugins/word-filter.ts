// word-filter: blocks requests whose messages contain a blocked word or phrase (substring match,
// case-insensitive unless case_sensitive), and with check_output also filters what the model
// says, streams included. All words are one regex, compiled once; the matched word is logged,
// never echoed to the client (that would leak the list).
import { z } from "zod";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage } from "../api/types.js";
import { GatewayError } from "../server/errors.js";
import { escapeRegExp, matchMessage, type Scanner } from "./common.js";
import { OutputFilter } from "./output-filter.js";
import { rejected } from "./metrics.js";
import type { Plugin, PluginContext, PluginDeps } from "./types.js";

export const wordFilterSchema = z.strictObject({
  blocked_words: z.array(z.string().min(1, "blocked words must not be empty")).default([]),
  case_sensitive: z.boolean().default(false),
  /** Also filter the model's output (non-streaming and streaming). */
  check_output: z.boolean().default(false),
  /** Output only: "block" ends the answer before the word (finish_reason content_filter); "redact" masks it. */
  output_action: z.enum(["block", "redact"]).default("block"),
  /** What a redacted word becomes. */
  mask: z.string().default("***"),
});
export type WordFilterConfig = z.output<typeof wordFilterSchema>;

export class WordFilter implements Plugin {
  readonly name = "word-filter";
  readonly type = "guardrail" as const;
  readonly keepsRequest = true as const;
  private readonly test: RegExp | undefined;
  beforeRequest?: (pc: PluginContext) => void;
  transformResponse?: (pc: PluginContext, completion: ChatCompletion) => boolean;
  onStreamChunk?: (pc: PluginContext, chunk: ChatCompletionChunk) => boolean;
  onStreamEnd?: (pc: PluginContext) => ChatCompletionChunk[] | undefined;

  constructor(
    cfg: WordFilterConfig,
    private readonly deps: PluginDeps,
  ) {
    const words = [...new Set(cfg.blocked_words)].sort((a, b) => b.length - a.length);
    if (words.length === 0) return;
    const source = words.map(escapeRegExp).join("|");
    const flags = cfg.case_sensitive ? "" : "i";
    this.test = new RegExp(source, flags);
    if (deps.stages.has("before_request")) this.beforeRequest = this.checkInput;
    if (cfg.check_output || deps.stages.has("after_response")) {
      const mask = cfg.mask;
      const scanner: Scanner = { re: new RegExp(source, `${flags}g`), window: words[0]?.length ?? 1, replacement: () => mask };
      const out = new OutputFilter(scanner, cfg.output_action, deps.slot);
      this.transformResponse = (_pc, c) => out.completion(c);
      this.onStreamChunk = (pc, chunk) => out.chunk(pc, chunk);
      this.onStreamEnd = (pc) => out.end(pc);
    }
  }

  private checkInput(pc: PluginContext): void {
    const re = this.test;
    if (!re) return;
    const messages = pc.req.messages;
    for (let i = 0; i < messages.length; i++) {
      const hit = matchMessage(re, messages[i] as ChatMessage);
      if (hit) {
        this.deps.logger.info({ request_id: pc.ctx.id, plugin: this.name, matched: hit[0] }, "word-filter: blocked request");
        rejected(this.name, "content_policy_violation");
        throw new GatewayError(400, "invalid_request_error", "content_policy_violation", "Request blocked by content policy.", {
          param: `messages[${i}]`,
        });
      }
    }
  }
}
