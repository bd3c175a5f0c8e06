// Reads a request body with a hard size limit, so a huge upload is refused early with 413.
// Event listeners rather than `for await`: the async iterator cost a promise and a stream
// wrapper per request on the hot path (bench/, BENCHMARKS.md).
import type { IncomingMessage } from "node:http";
import { GatewayError, badRequest } from "./errors.js";

const tooLarge = (limit: number): GatewayError =>
  new GatewayError(413, "invalid_request_error", "request_too_large", `Request body exceeds the limit of ${limit} bytes.`);

/**
 * A JSON request body, parsed, with what it was parsed from, forwarded as is when nothing changes
 * the request: a short body as its text (one string write with the upstream request's head), a
 * long one as its bytes. The bytes sit outside the JS heap, where GC never copies them while the
 * request waits on the upstream, and go out in one writev with the head, not encoded again.
 */
export interface JsonBody {
  readonly value: unknown;
  readonly raw: string | Buffer;
}

/** Bodies from this size on are kept and forwarded as bytes (see JsonBody). */
const FORWARD_AS_BYTES = 4096;

function parse(first: Buffer | undefined, chunks: Buffer[] | undefined, size: number): JsonBody {
  if (size === 0 || first === undefined) throw badRequest("Request body is empty; expected a JSON object.", "invalid_json");
  const bytes = chunks === undefined ? first : Buffer.concat(chunks, size);
  const text = bytes.toString("utf8");
  try {
    return { value: JSON.parse(text), raw: size < FORWARD_AS_BYTES ? text : bytes };
  } catch (e) {
    throw badRequest(`Request body is not valid JSON: ${(e as Error).message}`, "invalid_json");
  }
}

/** A body the fast lane already holds whole (src/server/http1/). */
export function parseJsonBody(body: Buffer, limit: number): JsonBody {
  if (body.length > limit) throw tooLarge(limit);
  return parse(body, undefined, body.length);
}

export function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const done = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        // The rest is left unread; the 413 goes out with `connection: close`.
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      done();
      try {
        resolve(parse(first, chunks, size));
      } catch (e) {
        reject(e);
      }
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(new Error("request closed before its body was read"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}
