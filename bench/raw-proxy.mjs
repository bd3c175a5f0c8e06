#!/usr/bin/env node
// Experiment: the floor of a Node proxy that skips node:http and undici and speaks HTTP/1.1 on
// raw sockets (net), for content-length bodies only. Tells how much of a proxy's cost is Node's
// HTTP stack rather than the kernel and the event loop.
//   node bench/raw-proxy.mjs --port 9000 --upstream http://127.0.0.1:PORT --server raw|http --client raw|undici
import { createServer as createHttpServer } from "node:http";
import { connect, createServer } from "node:net";
import { parseArgs } from "node:util";
import { Client } from "undici";

const { values } = parseArgs({ options: { port: { type: "string", default: "9000" }, upstream: { type: "string" }, server: { type: "string", default: "raw" }, client: { type: "string", default: "raw" } } });
const up = new URL(values.upstream);
const PATH = "/v1/chat/completions";
const CRLF2 = Buffer.from("\r\n\r\n");

function contentLength(head) {
  const s = head.toString("latin1").toLowerCase();
  const i = s.indexOf("\r\ncontent-length:");
  if (i < 0) return 0;
  return Number.parseInt(s.slice(i + 17, s.indexOf("\r\n", i + 17)).trim(), 10);
}

// ---- raw client: a stack of idle sockets, one request at a time on each
const idle = [];
class RawConn {
  constructor() {
    this.sock = connect({ host: up.hostname, port: Number(up.port), noDelay: true });
    this.buf = null;
    this.need = -1;
    this.headLen = 0;
    this.cb = null;
    this.sock.on("data", (d) => this.onData(d));
    this.sock.on("error", () => this.fail());
    this.sock.on("close", () => this.fail());
  }
  fail() {
    const cb = this.cb;
    this.cb = null;
    if (cb) cb(null);
  }
  send(body, cb) {
    this.cb = cb;
    this.buf = null;
    this.need = -1;
    this.sock.write(Buffer.concat([Buffer.from(`POST ${PATH} HTTP/1.1\r\nhost: ${up.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, "latin1"), body]));
  }
  onData(d) {
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (this.need < 0) {
      const e = this.buf.indexOf(CRLF2);
      if (e < 0) return;
      this.headLen = e + 4;
      this.need = this.headLen + contentLength(this.buf.subarray(0, e));
    }
    if (this.buf.length < this.need) return;
    const out = this.buf.subarray(this.headLen, this.need);
    const cb = this.cb;
    this.cb = null;
    idle.push(this);
    cb(out);
  }
}
function rawUpstream(body, cb) {
  (idle.pop() ?? new RawConn()).send(body, cb);
}

const undiciIdle = [];
function undiciUpstream(body, cb) {
  let c = undiciIdle.pop();
  if (!c) {
    const n = new Client(values.upstream, { pipelining: 1 });
    n.on("drain", () => undiciIdle.push(n));
    c = n;
  }
  const parts = [];
  c.dispatch(
    { path: PATH, method: "POST", headers: { "content-type": "application/json" }, body },
    {
      onConnect() {},
      onHeaders() {
        return true;
      },
      onData(d) {
        parts.push(d);
        return true;
      },
      onComplete() {
        cb(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      },
      onError() {
        cb(null);
      },
    },
  );
}
const upstream = values.client === "raw" ? rawUpstream : undiciUpstream;

if (values.server === "http") {
  createHttpServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      upstream(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), (buf) => {
        if (!buf) return res.destroy();
        res.writeHead(200, ["content-type", "application/json", "content-length", String(buf.length)]);
        res.end(buf);
      });
    });
  }).listen({ port: Number(values.port), host: "127.0.0.1", backlog: 4096 });
} else {
  createServer({ noDelay: true }, (sock) => {
    let buf = null;
    let need = -1;
    let headLen = 0;
    sock.on("error", () => {});
    sock.on("data", (d) => {
      buf = buf ? Buffer.concat([buf, d]) : d;
      if (need < 0) {
        const e = buf.indexOf(CRLF2);
        if (e < 0) return;
        headLen = e + 4;
        need = headLen + contentLength(buf.subarray(0, e));
      }
      if (buf.length < need) return;
      const body = buf.subarray(headLen, need);
      buf = null;
      need = -1;
      upstream(body, (out) => {
        if (!out) return sock.destroy();
        sock.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${out.length}\r\n\r\n`, "latin1"), out]));
      });
    });
  }).listen({ port: Number(values.port), host: "127.0.0.1", backlog: 4096 });
}
