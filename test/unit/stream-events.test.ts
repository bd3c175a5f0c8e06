// Where the gateway cuts an OpenAI-wire stream before writing it to the client: only after a
// complete SSE event, so a stream that dies mid-event never shows the client half an event.
import { describe, expect, it } from "vitest";
import { completeEventsEnd } from "../../src/gateway/stream.js";

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
