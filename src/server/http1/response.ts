// The fast lane's response: writes the status line, headers and body straight to the socket, in
// one write for a whole body and with chunked framing for streams. Behaves like node:http's
// ServerResponse for what the gateway uses (see HttpResponse), including its default headers
// (date, connection, keep-alive) and its events (drain, finish, close).
import { EventEmitter } from "node:events";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { HttpResponse } from "../response.js";
import { isToken } from "./syntax.js";

/** The connection side of a response: told when the response is fully handed to the kernel. */
export interface ResponseOwner {
  responseFinished(res: Http1Response): void;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

// node:http formats the date header once per second too.
let dateLine = "";
let dateUntil = 0;
function dateHeader(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`;
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateLine;
}

const KEEP_ALIVE = "connection: keep-alive\r\nkeep-alive: timeout=65\r\n";
const CLOSE = "connection: close\r\n";
const LAST_CHUNK = "0\r\n\r\n";

export class Http1Response extends EventEmitter implements HttpResponse {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /** Whether the connection stays open after this response. */
  keepAlive: boolean;
  private status = 200;
  private list: string[] = [];
  private early: string[] | undefined;
  /** Whether the status line and headers have gone to the socket (the first write or end). */
  private flushed = false;
  private chunked = false;
  private hasLength = false;
  private closed = false;
  /** The head has a byte >= 0x80 (latin1): it cannot share a UTF-8 string write with the body. */
  private headLatin1 = false;
  private readonly onWritten = (err?: Error | null): void => {
    // The client went away while the last bytes were flushing: not finished ('close' follows).
    // (Node calls a write's callback without an error when the socket was destroyed meanwhile.)
    if (err || this.socket.destroyed) {
      this.socket.destroy();
      return;
    }
    this.writableFinished = true;
    this.owner.responseFinished(this);
  };

  constructor(
    private readonly owner: ResponseOwner,
    private readonly socket: Socket,
    keepAlive: boolean,
  ) {
    super();
    this.keepAlive = keepAlive;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    if (this.headersSent) throw new Error("Cannot set headers after they are sent to the client");
    const text = Array.isArray(value) ? value.join(", ") : String(value);
    checkHeader(name, text);
    const early = (this.early ??= []);
    const key = name.toLowerCase();
    for (let i = 0; i < early.length; i += 2) {
      if (early[i] === key) {
        early.splice(i, 2);
        break;
      }
    }
    early.push(key, text);
    return this;
  }

  writeHead(status: number, headers: string[] = []): this {
    if (this.headersSent) throw new Error("Cannot write headers after they are sent to the client");
    // Names in these lists are the gateway's own literals (HttpResponse.writeHead); values may
    // come from config or upstreams, so they are checked as node:http would.
    for (let i = 1; i < headers.length; i += 2) {
      if (BAD_VALUE.test(headers[i] as string)) throw new TypeError(`Invalid character in header content ["${headers[i - 1] as string}"]`);
    }
    this.headersSent = true;
    this.status = status;
    this.list = headers;
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.writableEnded || this.socket.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.status);
    const size = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
    let head = "";
    if (!this.flushed) head = this.formatHead(-1);
    if (this.headLatin1 && head !== "" && typeof chunk === "string") chunk = Buffer.from(chunk);
    if (size === 0) return head === "" ? true : this.socket.write(head, "latin1");
    if (!this.chunked) {
      if (head === "") return this.socket.write(chunk);
      return this.socket.write(typeof chunk === "string" ? head + chunk : frame(head, chunk, ""));
    }
    const prefix = `${head}${size.toString(16)}\r\n`;
    if (typeof chunk === "string") return this.socket.write(`${prefix}${chunk}\r\n`);
    return this.socket.write(frame(prefix, chunk, "\r\n"));
  }

  end(chunk?: string | Uint8Array): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    if (this.socket.destroyed) return this;
    if (!this.headersSent) this.writeHead(this.status);
    const size = chunk === undefined ? 0 : typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
    const head = this.flushed ? "" : this.formatHead(size);
    if (this.headLatin1 && head !== "" && typeof chunk === "string") chunk = Buffer.from(chunk);
    const tail = this.chunked ? LAST_CHUNK : "";
    if (chunk === undefined || size === 0) {
      this.socket.write(head + tail, "latin1", this.onWritten);
    } else if (typeof chunk === "string") {
      this.socket.write(this.chunked ? `${head}${size.toString(16)}\r\n${chunk}\r\n${tail}` : head + chunk, this.onWritten);
    } else if (this.chunked) {
      this.socket.write(frame(`${head}${size.toString(16)}\r\n`, chunk, `\r\n${tail}`), this.onWritten);
    } else {
      this.socket.write(head === "" ? chunk : frame(head, chunk, ""), this.onWritten);
    }
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }

  /** The connection closed: emit 'close' once (after 'finish' when the response completed). */
  closeOnce(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writableFinished) this.emit("finish");
    this.emit("close");
  }



  /**
   * Status line and headers. bodySize >= 0: the whole body is known (end), so a missing
   * content-length is added; -1: more writes follow, so without a content-length it is chunked.
   */
  private formatHead(bodySize: number): string {
    this.flushed = true;
    let out = statusLine(this.status);
    const list = this.list;
    let connection: string | undefined;
    for (let i = 0; i < list.length; i += 2) {
      const name = list[i] as string;
      const value = list[i + 1] as string;
      // The gateway's header lists use lower-case names (HttpResponse.writeHead).
      if (name === "content-length") this.hasLength = true;
      else if (name === "connection") connection = value;
      out += `${name}: ${value}\r\n`;
    }
    const early = this.early;
    if (early !== undefined) {
      for (let i = 0; i < early.length; i += 2) {
        const name = early[i] as string;
        if (hasName(list, name)) continue;
        const value = early[i + 1] as string;
        if (name === "content-length") this.hasLength = true;
        else if (name === "connection") connection = value;
        out += `${name}: ${value}\r\n`;
      }
    }
    if (connection !== undefined && connection.toLowerCase() === "close") this.keepAlive = false;
    if (!this.hasLength) {
      if (bodySize >= 0) out += `content-length: ${bodySize}\r\n`;
      else {
        this.chunked = true;
        out += "transfer-encoding: chunked\r\n";
      }
    }
    out += dateHeader();
    if (connection === undefined) out += this.keepAlive ? KEEP_ALIVE : CLOSE;
    else if (this.keepAlive) out += "keep-alive: timeout=65\r\n";
    this.headLatin1 = NON_ASCII.test(out);
    return `${out}\r\n`;
  }
}

/**
 * One buffer with the framing around the bytes: one plain write (one syscall, no cork/writev
 * bookkeeping) per response or SSE event. The copy is a few hundred bytes.
 */
function frame(before: string, chunk: Uint8Array, after: string): Buffer {
  const at = before.length;
  const out = Buffer.allocUnsafe(at + chunk.byteLength + after.length);
  out.write(before, 0, "latin1");
  out.set(chunk, at);
  if (after.length > 0) out.write(after, at + chunk.byteLength, "latin1");
  return out;
}

// What node:http accepts in a header (checkInvalidHeaderChar / a token for names).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const NON_ASCII = /[\x80-\xff]/;

function checkHeader(name: string, value: string): void {
  if (!isToken(name, 0, name.length)) throw new TypeError(`Header name must be a valid HTTP token ["${name}"]`);
  if (BAD_VALUE.test(value)) throw new TypeError(`Invalid character in header content ["${name}"]`);
}

function hasName(list: string[], lower: string): boolean {
  for (let i = 0; i < list.length; i += 2) if ((list[i] as string).toLowerCase() === lower) return true;
  return false;
}
