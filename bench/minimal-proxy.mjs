#!/usr/bin/env node
// The floor of a Node proxy on this machine: no gateway logic at all, only HTTP in and out. Used
// to tell what the gateway's own code costs from what an HTTP stack costs (BENCHMARKS.md).
//   node bench/minimal-proxy.mjs --port 9000 --upstream http://127.0.0.1:PORT [--server http|raw] [--mode request|dispatch|raw|none]
// --server: the client side.
//   http: node:http's server
//   raw:  HTTP/1.1 by hand on net sockets (content-length bodies only), like src/server/http1/
// --mode: the upstream side.
//   request:  undici Client.request() + body.arrayBuffer()  (the generic API)
//   dispatch: undici Client.dispatch() collecting the chunks
//   raw:      HTTP/1.1 by hand on net sockets (content-length answers only), like src/upstream/connection.ts
//   none:     no upstream: answer a 630-byte body after 60 ms (the server side alone)
// Upstream connections are kept in a stack, one request at a time on each, as in src/upstream/pool.ts.
import { createServer as createHttpServer } from "node:http";
import { connect, createServer } from "node:net";
import { setTimeout } from "node:timers";
import { parseArgs } from "node:util";
import { Client } from "undici";

const { values } = parseArgs({ options: { port: { type: "string", default: "9000" }, upstream: { type: "string" }, mode: { type: "string", default: "dispatch" }, server: { type: "string", default: "http" } } });
const PATH = "/v1/chat/completions";
const HEADERS = { "content-type": "application/json" };
const FIXED = Buffer.alloc(630, 32);
const CRLF2 = Buffer.from("\r\n\r\n");

function contentLength(head) {
  const s = head.toString("latin1").toLowerCase();
  const i = s.indexOf("\r\ncontent-length:");
  if (i < 0) return 0;
  return Number.parseInt(s.slice(i + 17, s.indexOf("\r\n", i + 17)).trim(), 10);
}

/** Calls `onMessage(body)` for each whole content-length message read from `socket`. */
function readMessages(socket, onMessage) {
  let buf = null;
  let need = -1;
  let headLen = 0;
  socket.on("data", (d) => {
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
    onMessage(body);
  });
}

// ---- upstream side: each takes the request body and calls back with the answer (null: failed)
const idle = [];
function undiciClient() {
  let c = idle.pop();
  if (!c) {
    const n = new Client(values.upstream, { pipelining: 1 });
    n.on("drain", () => idle.push(n));
    c = n;
  }
  return c;
}

function viaRequest(body, done) {
  undiciClient()
    .request({ path: PATH, method: "POST", headers: HEADERS, body })
    .then(async (r) => done(Buffer.from(await r.body.arrayBuffer())))
    .catch(() => done(null));
}

function viaDispatch(body, done) {
  const parts = [];
  undiciClient().dispatch(
    { path: PATH, method: "POST", headers: HEADERS, body },
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
        done(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      },
      onError() {
        done(null);
      },
    },
  );
}

const up = values.upstream ? new URL(values.upstream) : undefined;
const rawIdle = [];
function viaRaw(body, done) {
  let conn = rawIdle.pop();
  if (!conn) {
    const sock = connect({ host: up.hostname, port: Number(up.port), noDelay: true });
    conn = { sock, done: null };
    const c = conn;
    const fail = () => {
      const cb = c.done;
      c.done = null;
      cb?.(null);
    };
    sock.on("error", fail);
    sock.on("close", fail);
    readMessages(sock, (answer) => {
      const cb = c.done;
      c.done = null;
      rawIdle.push(c);
      cb?.(answer);
    });
  }
  conn.done = done;
  conn.sock.write(Buffer.concat([Buffer.from(`POST ${PATH} HTTP/1.1\r\nhost: ${up.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, "latin1"), body]));
}

const viaNone = (_body, done) => setTimeout(done, 60, FIXED);
const upstream = { request: viaRequest, dispatch: viaDispatch, raw: viaRaw, none: viaNone }[values.mode];
if (!upstream) throw new Error(`unknown --mode ${values.mode}`);

// ---- client side
if (values.server === "raw") {
  createServer({ noDelay: true }, (sock) => {
    sock.on("error", () => {});
    readMessages(sock, (body) =>
      upstream(body, (answer) => {
        if (!answer) return sock.destroy();
        sock.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${answer.length}\r\n\r\n`, "latin1"), answer]));
      }),
    );
  }).listen({ port: Number(values.port), host: "127.0.0.1", backlog: 4096 });
} else {
  createHttpServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      upstream(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), (answer) => {
        if (!answer) return res.destroy();
        res.writeHead(200, ["content-type", "application/json", "content-length", String(answer.length)]);
        res.end(answer);
      });
    });
  }).listen({ port: Number(values.port), host: "127.0.0.1", backlog: 4096 });
}
