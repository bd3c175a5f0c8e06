#!/usr/bin/env node
// The floor of a Node proxy on this machine: node:http server + undici, no gateway logic at all.
// Used to tell what the gateway's own code costs from what Node's HTTP stack costs (BENCHMARKS.md).
//   node bench/minimal-proxy.mjs --port 9000 --upstream http://127.0.0.1:PORT [--mode request|dispatch|none]
//   request:  undici Client.request() + body.arrayBuffer()  (the generic API)
//   dispatch: undici Client.dispatch() collecting the chunks  (what ferrogw's non-streaming path does)
//   none:     no upstream: answer a 630-byte body after 60 ms (the server side alone)
// Clients are kept in a stack, one request per connection at a time, as in src/upstream/pool.ts.
import { createServer } from "node:http";
import { setTimeout } from "node:timers";
import { parseArgs } from "node:util";
import { Client } from "undici";

const { values } = parseArgs({ options: { port: { type: "string", default: "9000" }, upstream: { type: "string" }, mode: { type: "string", default: "dispatch" } } });
const idle = [];
const client = () => {
  let c = idle.pop();
  if (!c) {
    const n = new Client(values.upstream, { pipelining: 1 });
    n.on("drain", () => idle.push(n));
    c = n;
  }
  return c;
};
const PATH = "/v1/chat/completions";
const HEADERS = { "content-type": "application/json" };
const FIXED = Buffer.alloc(630, 32);

createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const send = (buf) => {
      res.writeHead(200, ["content-type", "application/json", "content-length", String(buf.length)]);
      res.end(buf);
    };
    if (values.mode === "none") {
      setTimeout(send, 60, FIXED);
    } else if (values.mode === "request") {
      client()
        .request({ path: PATH, method: "POST", headers: HEADERS, body })
        .then(async (r) => send(Buffer.from(await r.body.arrayBuffer())))
        .catch(() => res.destroy());
    } else {
      const parts = [];
      client().dispatch(
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
            send(parts.length === 1 ? parts[0] : Buffer.concat(parts));
          },
          onError() {
            res.destroy();
          },
        },
      );
    }
  });
}).listen({ port: Number(values.port), host: "127.0.0.1", backlog: 4096 });
