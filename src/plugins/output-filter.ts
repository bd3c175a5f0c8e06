// Applies a Scanner to what the model says: non-streaming completions, and streams chunk by chunk
// (holding back just enough text that a match split across chunks is still caught whole). Block
// mode ends the choice before the match with finish_reason "content_filter", as OpenAI does for
// filtered output; redact mode replaces each match.
import type { ChatCompletion, ChatCompletionChunk } from "../api/types.js";
import { scanText, type Scanner } from "./common.js";
import type { PluginContext } from "./types.js";

interface ChoiceScan {
  pending: string;
  blocked: boolean;
  finished: boolean;
}

interface StreamScan {
  choices: Map<number, ChoiceScan>;
  id: string;
  created: number;
  model: string;
}

export class OutputFilter {
  constructor(
    private readonly scanner: Scanner,
    private readonly mode: "block" | "redact",
    private readonly slot: number,
  ) {}

  completion(c: ChatCompletion): boolean {
    let changed = false;
    for (const choice of c.choices) {
      const content = choice.message.content;
      if (typeof content !== "string" || content === "") continue;
      const r = scanText(this.scanner, "", content, this.mode, true);
      if (r.blocked) {
        choice.message.content = r.out;
        choice.finish_reason = "content_filter";
        delete choice.message.tool_calls;
        changed = true;
      } else if (r.changed) {
        choice.message.content = r.out;
        changed = true;
      }
    }
    return changed;
  }

  chunk(pc: PluginContext, chunk: ChatCompletionChunk): boolean {
    let st = pc.get<StreamScan>(this.slot);
    const choices = chunk.choices;
    let drop: Set<number> | undefined;
    for (const c of choices) {
      const d = c.delta;
      const text = typeof d?.content === "string" ? d.content : "";
      let cs = st?.choices.get(c.index);
      if (text === "" && !cs) continue;
      if (!st) {
        st = { choices: new Map(), id: chunk.id, created: chunk.created, model: chunk.model };
        pc.set(this.slot, st);
      }
      if (!cs) {
        cs = { pending: "", blocked: false, finished: false };
        st.choices.set(c.index, cs);
      }
      if (cs.blocked) {
        (drop ??= new Set()).add(c.index);
        continue;
      }
      const final = c.finish_reason !== null && c.finish_reason !== undefined;
      if (text === "" && cs.pending === "" && !final) continue;
      const r = scanText(this.scanner, cs.pending, text, this.mode, final);
      if (r.blocked) {
        d.content = r.out;
        delete d.tool_calls;
        c.finish_reason = "content_filter";
        cs.blocked = true;
        cs.pending = "";
      } else {
        if (text !== "" || r.out !== "") d.content = r.out;
        cs.pending = r.pending;
      }
      if (final) cs.finished = true;
    }
    if (drop) {
      chunk.choices = choices.filter((c) => !drop.has(c.index));
      if (chunk.choices.length === 0 && !chunk.usage) return false;
    }
    return true;
  }

  end(pc: PluginContext): ChatCompletionChunk[] | undefined {
    const st = pc.get<StreamScan>(this.slot);
    if (!st) return undefined;
    let out: ChatCompletionChunk[] | undefined;
    for (const [index, cs] of st.choices) {
      if (cs.blocked || cs.finished || cs.pending === "") continue;
      const r = scanText(this.scanner, cs.pending, "", this.mode, true);
      cs.pending = "";
      (out ??= []).push({
        id: st.id,
        object: "chat.completion.chunk",
        created: st.created,
        model: st.model,
        choices: [{ index, delta: { content: r.out }, finish_reason: r.blocked ? "content_filter" : null, logprobs: null }],
      });
    }
    return out;
  }
}
