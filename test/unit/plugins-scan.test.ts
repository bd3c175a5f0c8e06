// The output scanner and stream handling: a match split across stream chunks at any point is
// found whole, streams and non-streams give the same text, stream ⇄ completion round trips.
import { describe, expect, it } from "vitest";
import type { ChatCompletion, ChatCompletionChunk } from "../../src/api/types.js";
import type { RequestContext } from "../../src/server/context.js";
import { escapeRegExp, formatResetDuration, canonicalJson, scanText, type Scanner } from "../../src/plugins/common.js";
import { OutputFilter } from "../../src/plugins/output-filter.js";
import { StreamAccumulator, completionToChunks } from "../../src/plugins/stream-accumulator.js";
import { PluginContext, type OutputDispatcher } from "../../src/plugins/types.js";
import { cacheKey } from "../../src/plugins/response-cache.js";

const words = ["top secret", "secret", "shh"];
const source = words.map(escapeRegExp).join("|");
const scanner: Scanner = { re: new RegExp(source, "gi"), window: 10, replacement: () => "***" };

function fakeContext(): PluginContext {
  const dispatcher: OutputDispatcher = {
    needsCompletion: false,
    needsChunks: () => true,
    transformCompletion: () => false,
    streamChunk: () => true,
    streamEnd: () => undefined,
  };
  const ctx = { id: "r1", headers: {}, keyId: undefined } as unknown as RequestContext;
  return new PluginContext(dispatcher, ctx, { model: "m", messages: [{ role: "user", content: "x" }] });
}

function chunk(content: string | undefined, finish: ChatCompletionChunk["choices"][number]["finish_reason"] = null): ChatCompletionChunk {
  return { id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }] };
}

/** Streams `text` split at the given cut points through the filter; returns emitted text and final finish_reason. */
function streamThrough(filter: OutputFilter, text: string, cuts: number[]): { text: string; finish: string | null } {
  const pc = fakeContext();
  const pieces: string[] = [];
  let prev = 0;
  for (const c of [...cuts, text.length]) {
    pieces.push(text.slice(prev, c));
    prev = c;
  }
  let out = "";
  let finish: string | null = null;
  const all = [chunk(""), ...pieces.map((p) => chunk(p)), chunk(undefined, "stop")];
  for (const c of all) {
    if (!filter.chunk(pc, c)) continue;
    for (const ch of c.choices) {
      out += ch.delta.content ?? "";
      finish = ch.finish_reason ?? finish;
    }
  }
  for (const c of filter.end(pc) ?? []) out += c.choices[0]?.delta.content ?? "";
  return { text: out, finish };
}

describe("scanText", () => {
  it("redacts all matches, longest word first", () => {
    expect(scanText(scanner, "", "a Top Secret and a secret, shh!", "redact", true)).toEqual({ out: "a *** and a ***, ***!", pending: "", blocked: false, changed: true });
  });

  it("holds back a possible match at the end of a chunk", () => {
    const r = scanText(scanner, "", "this is top sec", "redact", false);
    expect(r.out + r.pending).toBe("this is top sec");
    expect(r.pending).toContain("top sec");
    const r2 = scanText(scanner, r.pending, "ret stuff", "redact", true);
    expect(r.out + r2.out).toBe("this is *** stuff");
  });

  it("block mode stops at the first match", () => {
    expect(scanText(scanner, "", "fine, then SHH and more", "block", true)).toMatchObject({ out: "fine, then ", blocked: true });
  });
});

describe("OutputFilter on streams", () => {
  const text = "Here is the top secret plan, shh. A secretive secret.";
  const expectedRedact = "Here is the *** plan, ***. A ***ive ***.";

  it("redact: every way of splitting the text gives the non-streaming result", () => {
    const filter = new OutputFilter(scanner, "redact", 0);
    const c: ChatCompletion = { id: "x", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, finish_reason: "stop", logprobs: null }] };
    expect(filter.completion(c)).toBe(true);
    expect(c.choices[0]?.message.content).toBe(expectedRedact);
    for (let i = 1; i < text.length; i++) {
      for (const j of [i + 1, i + 3, i + 7]) {
        if (j >= text.length) continue;
        expect(streamThrough(filter, text, [i, j])).toEqual({ text: expectedRedact, finish: "stop" });
      }
    }
  });

  it("block: the stream ends before the first match with content_filter, for every split", () => {
    const filter = new OutputFilter(scanner, "block", 0);
    for (let i = 1; i < text.length; i++) expect(streamThrough(filter, text, [i])).toEqual({ text: "Here is the ", finish: "content_filter" });
  });

  it("flushes held-back text when the stream ends without a finish_reason", () => {
    const filter = new OutputFilter(scanner, "redact", 0);
    const pc = fakeContext();
    const c = chunk("nothing to see sh");
    filter.chunk(pc, c);
    const rest = filter.end(pc);
    expect((c.choices[0]?.delta.content ?? "") + (rest?.[0]?.choices[0]?.delta.content ?? "")).toBe("nothing to see sh");
  });
});

describe("stream ⇄ completion", () => {
  it("a completion replayed as chunks assembles back into the same completion", () => {
    const c: ChatCompletion = {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 5,
      model: "gpt-4o-mini",
      system_fingerprint: "fp",
      choices: [
        { index: 0, message: { role: "assistant", content: "hello", refusal: null }, finish_reason: "stop", logprobs: null },
        {
          index: 1,
          message: { role: "assistant", content: null, refusal: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
          finish_reason: "tool_calls",
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
    const chunks = completionToChunks(c, true);
    expect(chunks.at(-1)?.usage).toEqual(c.usage);
    expect(completionToChunks(c, false).some((x) => x.usage)).toBe(false);
    const acc = new StreamAccumulator();
    for (const ch of chunks) acc.push(ch);
    expect(acc.finish()).toEqual(c);
  });
});

describe("helpers", () => {
  it("formats reset durations like OpenAI", () => {
    expect(formatResetDuration(250)).toBe("250ms");
    expect(formatResetDuration(6000)).toBe("6s");
    expect(formatResetDuration(90_000)).toBe("1m30s");
    expect(formatResetDuration(3_600_000)).toBe("1h0m0s");
  });

  it("canonical JSON and the cache key ignore key order, stream and user", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], e: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    const a = cacheKey({ model: "m", messages: [{ role: "user", content: "x" }], temperature: 0, stream: true, user: "u1" });
    const b = cacheKey({ temperature: 0, messages: [{ content: "x", role: "user" }], model: "m" });
    expect(a).toBe(b);
    expect(cacheKey({ model: "m", messages: [{ role: "user", content: "x" }], temperature: 0.1 })).not.toBe(b);
  });
});
