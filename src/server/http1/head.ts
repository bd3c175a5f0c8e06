// Parses an HTTP/1.1 request head for the fast lane. It recognises only the plain, common shape
// (HTTP/1.1, token method, origin-form target, well-formed header lines, a content-length body or
// none) and answers "not mine" for everything else, which then goes to node:http unchanged. So it
// never accepts what node:http would refuse, and never reads a request differently.
import type { IncomingHttpHeaders } from "node:http";

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Bytes of the head, the blank line included: the body starts here. */
  readonly headLength: number;
  readonly contentLength: number;
  /** false when the client sent `connection: close`. */
  readonly keepAlive: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Control characters other than tab, anywhere in the head (CR and LF are checked per line).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CTL = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/;
// Headers whose duplicates node:http drops (it keeps the first); all others are joined.
const FIRST_WINS = new Set(["age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host", "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization", "referer", "retry-after", "server", "user-agent"]);
// Any of these makes the request node:http's: they change how the body or the connection is read.
const NOT_PLAIN = new Set(["transfer-encoding", "expect", "upgrade"]);
const DIGITS = /^[0-9]{1,15}$/;
// An origin-form target: a slash, then visible ASCII only (node:http refuses CR, tab and bytes >= 0x80).
const TARGET = /^\/[\x21-\x7e]*$/;
// Optional whitespace is spaces and tabs only: String#trim would also strip NBSP (0xA0) and turn
// "5\xA0" into a valid content-length that node:http refuses (a request-smuggling difference).
const OWS = /^[ \t]+|[ \t]+$/g;
const CLOSE = /(?:^|,)\s*close\s*(?:,|$)/i;

/**
 * `end` is the index of the blank line's CRLFCRLF in `buf`. Returns the parsed head, or undefined
 * when the request is not a plain one (the caller hands the connection to node:http).
 */
export function parseRequestHead(buf: Buffer, end: number): RequestHead | undefined {
  const text = buf.toString("latin1", 0, end);
  if (CTL.test(text)) return undefined;
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(0, lineEnd);
  const sp1 = line.indexOf(" ");
  const sp2 = line.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.slice(sp2 + 1) !== "HTTP/1.1") return undefined;
  const method = line.slice(0, sp1);
  const url = line.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method) || !TARGET.test(url)) return undefined;

  const headers: IncomingHttpHeaders = {};
  const raw = headers as Record<string, string>;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let next = text.indexOf("\r\n", pos);
    if (next < 0) next = text.length;
    const h = text.slice(pos, next);
    pos = next + 2;
    const colon = h.indexOf(":");
    // No colon, a bare CR or LF, or a continuation line (obs-fold): not plain.
    if (colon <= 0 || h.includes("\n") || h.includes("\r")) return undefined;
    const name = h.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const key = name.toLowerCase();
    if (NOT_PLAIN.has(key)) return undefined;
    const value = h.slice(colon + 1).replace(OWS, "");
    const prev = raw[key];
    if (prev === undefined) raw[key] = value;
    // node:http refuses a repeated content-length, even with the same value.
    else if (key === "content-length") return undefined;
    else if (!FIRST_WINS.has(key)) raw[key] = key === "cookie" ? `${prev}; ${value}` : `${prev}, ${value}`;
  }
  if (raw.host === undefined) return undefined;
  const cl = raw["content-length"];
  if (cl !== undefined && !DIGITS.test(cl)) return undefined;
  const conn = raw.connection;
  const keepAlive = conn === undefined || !CLOSE.test(conn);
  return { method, url, headers, headLength: end + 4, contentLength: cl === undefined ? 0 : Number(cl), keepAlive };
}
