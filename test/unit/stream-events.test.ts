// Where the gateway cuts an OpenAI-wire stream before writing it to the client: only after a
// complete SSE event, so a stream that dies mid-event never shows the client half an event.
import { describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import { completeEventsEnd, onlyComments, pipeOpenAIStream } from "../../src/gateway/stream.js";
import { newContext } from "../../src/server/context.js";
import type { HttpResponse } from "../../src/server/response.js";
import { PushBody } from "../../src/upstream/push-body.js";

/** A response that records each write and the end, as the socket would see them. */
class RecordingResponse extends EventEmitter implements HttpResponse {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  readonly writes: string[] = [];
  setHeader(): this {
    return this;
  }
  writeHead(): this {
    this.headersSent = true;
    return this;
  }
  write(chunk: string | Uint8Array): boolean {
    this.writes.push(`write:${Buffer.from(chunk).toString()}`);
    return true;
  }
  end(chunk?: string | Uint8Array): this {
    this.writableEnded = true;
    this.writes.push(`end:${chunk === undefined ? "" : Buffer.from(chunk).toString()}`);
    return this;
  }
  destroy(): this {
    return this;
  }
}

const lastUsage: { value: unknown } = { value: undefined };

async function pipe(feed: (body: PushBody) => void): Promise<string[]> {
  const res = new RecordingResponse();
  const body = new PushBody();
  const ctx = newContext({});
  const done = pipeOpenAIStream(res, ctx, { statusCode: 200, headers: {}, body }, process.hrtime.bigint(), true);
  feed(body);
  await done;
  lastUsage.value = ctx.usage;
  return res.writes;
}

const end = (s: string): number => completeEventsEnd(Buffer.from(s));

describe("completeEventsEnd", () => {
  it("takes a read that ends on an event's blank line whole, with LF or CRLF line ends", () => {
    expect(end("data: a\n\n")).toBe(9);
    expect(end("data: a\n\ndata: b\n\n")).toBe(18);
    expect(end("data: a\r\n\r\n")).toBe(11);
  });

  it("stops after the last complete event when the read ends inside one", () => {
    expect(end("data: a\n\ndata: b")).toBe(9);
    expect(end("data: a\n\ndata: b\n")).toBe(9);
    expect(end("data: a\r\n\r\ndata: b\r\n")).toBe(11);
    expect(end("data: a\n\ndata: b\r\n\r\ndata: c\r")).toBe(20);
  });

  it("finds no event in a read that holds only part of one", () => {
    expect(end("")).toBe(0);
    expect(end("\n")).toBe(0);
    expect(end("data: a\n")).toBe(0);
    expect(end("data: a\r\n\r")).toBe(0);
  });
});

describe("pipeOpenAIStream", () => {
  it("writes each read's whole events at once, holding a partial event until its end arrives", async () => {
    const writes = await pipe((body) => {
      body.push(Buffer.from("data: 1\n\ndata: 2\n\nda"));
      body.push(Buffer.from("ta: 3\n\n"));
      body.push(Buffer.from("data: [DONE]\n\n"));
      body.complete();
    });
    expect(writes).toEqual(["write:data: 1\n\ndata: 2\n\n", "write:data: 3\n\n", "write:data: [DONE]\n\n", "end:"]);
  });

  it("sends the events that came with the upstream's end together with the response's end", async () => {
    const writes = await pipe((body) => {
      body.push(Buffer.from('data: {"n":1}\n\n'));
      body.push(Buffer.from('data: {"n":2,"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n'), true);
      body.complete();
    });
    expect(writes).toEqual(['write:data: {"n":1}\n\n', 'end:data: {"n":2,"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\ndata: [DONE]\n\n']);
    // The usage in those held-back events is still read for the log and the budget.
    expect(lastUsage.value).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  });

  it("still reads the usage when keep-alive comments or blank lines follow it in reads of their own", async () => {
    const usage = 'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n';
    const tails = [
      ["data: [DONE]\n\n", "\n"],
      ["data: [DONE]\n\n", ": ping - 2026-11-25 09:00:00\r\n\r\n", ": ping\n\n"],
      [": ping\n\n", "data: [DONE]\n\n", "\r\n"],
    ];
    for (const tail of tails) {
      const writes = await pipe((body) => {
        body.push(Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'));
        body.push(Buffer.from(usage));
        for (const piece of tail) body.push(Buffer.from(piece));
        body.complete();
      });
      expect(writes.join("")).toContain(usage);
      expect(lastUsage.value, JSON.stringify(tail)).toEqual({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
    }
  });

  it("tells a piece of comments and blank lines from one with an event", () => {
    for (const s of ["\n", "\r\n", ": ping\n\n", ":\n", ": a\r\n: b\r\n\r\n", ": no line end"]) expect(onlyComments(Buffer.from(s)), JSON.stringify(s)).toBe(true);
    for (const s of ["data: [DONE]\n\n", ": ping\n\ndata: x\n\n", "\nevent: e\n\n"]) expect(onlyComments(Buffer.from(s)), JSON.stringify(s)).toBe(false);
  });

  it("delivers the last bytes of an upstream that ends without a blank line, in the end", async () => {
    const writes = await pipe((body) => {
      body.push(Buffer.from("data: 1\n\ndata: [DONE]"), true);
      body.complete();
    });
    expect(writes).toEqual(["end:data: 1\n\ndata: [DONE]"]);
  });
});
