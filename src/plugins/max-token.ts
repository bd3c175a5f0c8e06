// max-token: caps what one request may ask for — max_tokens (or max_completion_tokens), the
// number of messages, and optionally the total characters of the input.
import { z } from "zod";
import { badRequest } from "../server/errors.js";
import { inputChars } from "./common.js";
import { rejected } from "./metrics.js";
import type { Plugin, PluginContext } from "./types.js";

export const maxTokenSchema = z.strictObject({
  max_tokens: z.number().int().positive().default(4096),
  max_messages: z.number().int().positive().default(100),
  /** Total characters of all message text; 0 = no limit. */
  max_input_length: z.number().int().min(0).default(0),
});
export type MaxTokenConfig = z.output<typeof maxTokenSchema>;

export class MaxToken implements Plugin {
  readonly name = "max-token";
  readonly type = "guardrail" as const;
  readonly keepsRequest = true as const;

  constructor(private readonly cfg: MaxTokenConfig) {}

  beforeRequest(pc: PluginContext): void {
    const req = pc.req;
    const cfg = this.cfg;
    const field = typeof req.max_completion_tokens === "number" ? "max_completion_tokens" : "max_tokens";
    const asked = req[field];
    if (typeof asked === "number" && asked > cfg.max_tokens) {
      rejected(this.name, "max_tokens_exceeded");
      throw badRequest(`'${field}' is ${asked}, above this gateway's limit of ${cfg.max_tokens}.`, "max_tokens_exceeded", field);
    }
    if (req.messages.length > cfg.max_messages) {
      rejected(this.name, "too_many_messages");
      throw badRequest(`The request has ${req.messages.length} messages, above this gateway's limit of ${cfg.max_messages}.`, "too_many_messages", "messages");
    }
    if (cfg.max_input_length > 0) {
      const n = inputChars(req);
      if (n > cfg.max_input_length) {
        rejected(this.name, "input_too_long");
        throw badRequest(`The messages hold ${n} characters, above this gateway's limit of ${cfg.max_input_length}.`, "input_too_long", "messages");
      }
    }
  }
}
