// Parses an HTTP/1.1 request head for the fast lane. It recognises only the plain, common shape
// (HTTP/1.1, token method, origin-form target, well-formed header lines, a content-length body or
// none) and answers "not mine" for everything else, which then goes to node:http unchanged. So it
// never accepts what node:http would refuse, and never reads a request differently.
import type { IncomingHttpHeaders } from "node:http";
import { isToken, sliceOws } from "./syntax.js";

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

/**
 * No control character other than tab in buf[0, end), and every CR starts a CRLF line end (so no
 * bare CR or LF). A byte loop: a regex over the decoded head took 2-3 times as long.
 */
function plainBytes(buf: Buffer, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = buf[i] as number;
    if (c < 32) {
      if (c === 9) continue;
      if (c === 13 && buf[i + 1] === 10) {
        i++;
        continue;
      }
      return false;
    }
    if (c === 127) return false;
  }
  return true;
}
// Headers whose duplicates node:http drops (it keeps the first); all others are joined.
const FIRST_WINS = new Set(["age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host", "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization", "referer", "retry-after", "server", "user-agent"]);
// Any of these makes the request node:http's: they change how the body or the connection is read.
const NOT_PLAIN = new Set(["transfer-encoding", "expect", "upgrade"]);
const DIGITS = /^[0-9]{1,15}$/;
// node:http (llhttp) takes spaces or tabs before a content-length's digits but only spaces after.
const CONTENT_LENGTH = /^[ \t]*[0-9]{1,15} *$/;
// An origin-form target: a slash, then visible ASCII only (node:http refuses CR, tab and bytes >= 0x80).
const TARGET = /^\/[\x21-\x7e]*$/;
const CLOSE = /(?:^|,)\s*close\s*(?:,|$)/i;

/**
 * `end` is the index of the blank line's CRLFCRLF in `buf`. Returns the parsed head, or undefined
 * when the request is not a plain one (the caller hands the connection to node:http).
 */
export function parseRequestHead(buf: Buffer, end: number): RequestHead | undefined {
  if (!plainBytes(buf, end)) return undefined;
  const text = buf.toString("latin1", 0, end);
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(0, lineEnd);
  const sp1 = line.indexOf(" ");
  const sp2 = line.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.slice(sp2 + 1) !== "HTTP/1.1") return undefined;
  const method = line.slice(0, sp1);
  const url = line.slice(sp1 + 1, sp2);
  if (!isToken(method, 0, method.length) || !TARGET.test(url)) return undefined;

  const headers: IncomingHttpHeaders = {};
  const raw = headers as Record<string, string>;
  let pos = lineEnd + 2;
  while (pos < text.length) {
    let next = text.indexOf("\r\n", pos);
    if (next < 0) next = text.length;
    const colon = text.indexOf(":", pos);
    // No colon, or a name that is not a token (a continuation line, a space before the colon).
    if (colon < 0 || colon > next || !isToken(text, pos, colon)) return undefined;
    const key = text.slice(pos, colon).toLowerCase();
    if (NOT_PLAIN.has(key)) return undefined;
    if (key === "content-length" && !CONTENT_LENGTH.test(text.slice(colon + 1, next))) return undefined;
    // Optional whitespace is spaces and tabs only: String#trim would also strip NBSP (0xA0) and
    // turn "5\xA0" into a valid content-length that node:http refuses (a smuggling difference).
    const value = sliceOws(text, colon + 1, next);
    pos = next + 2;
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
