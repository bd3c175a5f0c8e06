// The binary AWS event-stream framing (application/vnd.amazon.eventstream) that ConverseStream
// answers with: each message is [total length u32][headers length u32][prelude CRC][headers]
// [payload][message CRC], big-endian. Messages are split here and decoded (CRCs checked) by
// @smithy/eventstream-codec; each becomes a StreamEvent {event: :event-type, data: payload}.
import { createRequire } from "node:module";
import type * as SmithyEventStream from "@smithy/eventstream-codec";
import type { EventStreamCodec, Message, MessageHeaderValue } from "@smithy/eventstream-codec";
import type * as SmithyUtf8 from "@smithy/util-utf8";
import type { StreamEvent } from "../../providers/types.js";
import type { EventDecoder } from "../decode.js";

const PRELUDE = 12;
/** AWS caps one event-stream message at 16 MiB; anything larger is corrupt input. */
const MAX_MESSAGE = 16 * 1024 * 1024;

// Made on first use: only Bedrock streams need it, and every worker loads this module.
let eventCodec: { codec: EventStreamCodec; fromUtf8: (s: string) => Uint8Array } | undefined;
function smithy(): NonNullable<typeof eventCodec> {
  if (!eventCodec) {
    const require = createRequire(import.meta.url);
    const { EventStreamCodec: Codec } = require("@smithy/eventstream-codec") as typeof SmithyEventStream;
    const utf8 = require("@smithy/util-utf8") as typeof SmithyUtf8;
    eventCodec = { codec: new Codec(utf8.toUtf8, utf8.fromUtf8), fromUtf8: utf8.fromUtf8 };
  }
  return eventCodec;
}
const text = new TextDecoder();

function header(h: MessageHeaderValue | undefined): string | undefined {
  return h && h.type === "string" ? h.value : undefined;
}

/** One decoded message as a StreamEvent; exceptions keep their name so the translator can raise them. */
export function messageToEvent(msg: Message): StreamEvent {
  const messageType = header(msg.headers[":message-type"]) ?? "event";
  const data = text.decode(msg.body);
  if (messageType === "exception") return { event: header(msg.headers[":exception-type"]) ?? "unknownException", data };
  if (messageType === "error") {
    // Service errors carry their text in headers, not the payload.
    const code = header(msg.headers[":error-code"]) ?? "InternalServerException";
    const message = header(msg.headers[":error-message"]) ?? "stream error";
    return { event: code.endsWith("Exception") ? code : `${code}Exception`, data: JSON.stringify({ message }) };
  }
  return { event: header(msg.headers[":event-type"]), data };
}

export class AwsEventStreamDecoder implements EventDecoder {
  private buf: Uint8Array = new Uint8Array(0);

  feed(chunk: Uint8Array): StreamEvent[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const out: StreamEvent[] = [];
    let offset = 0;
    while (this.buf.length - offset >= PRELUDE) {
      const view = new DataView(this.buf.buffer, this.buf.byteOffset + offset, 4);
      const length = view.getUint32(0, false);
      if (length < 16 || length > MAX_MESSAGE) throw new Error(`invalid event-stream message length ${length}`);
      if (this.buf.length - offset < length) break;
      out.push(messageToEvent(smithy().codec.decode(this.buf.subarray(offset, offset + length))));
      offset += length;
    }
    // Keep only the unfinished tail (copied, so the consumed chunk can be collected).
    this.buf = offset === 0 ? this.buf : this.buf.slice(offset);
    return out;
  }

  end(): StreamEvent[] {
    if (this.buf.length > 0) throw new Error(`event stream ended inside a message (${this.buf.length} bytes left)`);
    return [];
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Encodes one event-stream message; used by the mock upstream and the tests. */
export function encodeEvent(eventType: string, payload: string, messageType: "event" | "exception" = "event"): Uint8Array {
  const headers: Message["headers"] =
    messageType === "event"
      ? {
          ":event-type": { type: "string", value: eventType },
          ":content-type": { type: "string", value: "application/json" },
          ":message-type": { type: "string", value: "event" },
        }
      : {
          ":exception-type": { type: "string", value: eventType },
          ":content-type": { type: "string", value: "application/json" },
          ":message-type": { type: "string", value: "exception" },
        };
  const { codec, fromUtf8 } = smithy();
  return codec.encode({ headers, body: fromUtf8(payload) });
}
