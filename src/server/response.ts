// What the request path writes a response to. node:http's ServerResponse is one; the fast lane's
// Http1Response (src/server/http1/) is the other. Only what the gateway's handlers use.
import type { EventEmitter } from "node:events";

export interface HttpResponse extends EventEmitter {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  /** Headers as a flat [name, value, ...] list with lower-case names, merged over those set with setHeader. */
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  destroy(): unknown;
}
