// The benchmark's mock upstream, run as its own process so it never shares the gateway's event
// loop. Two modes:
//   --mode lean (default): a fixed-latency OpenAI upstream whose answers are precomputed from the
//     mock's own OpenAI format (test/mock-upstream/openai.ts): one ~600-byte chat.completion body
//     and one list of SSE frames, both built once at start. Per request it only drains the body,
//     looks for "stream":true and answers after the latency. This keeps the mock's CPU per request
//     low so the ceiling measured "direct to mock" is the machine's, not the mock's.
//   --mode raw: the same answers as lean, written by hand on raw sockets (net) instead of node:http:
//     HTTP/1.1 keep-alive, content-length request bodies, the JSON answer with content-length and
//     the stream with chunked framing. It costs about a third of lean's CPU per request, which on
//     a 2-core machine shared with the gateway and the load generator is CPU the proxies under
//     test get back (BENCHMARKS.md measures both).
//   --mode full: the test suite's MockUpstream (parses every request, echoes it), record = false.
// Flags: --port N --host H --latency MS --chunks N --chunk-delay MS --text S --workers N
//   --tls CERT,KEY (raw mode): serve HTTPS, as real providers do, to measure the upstream TLS path
// With --workers > 1 it runs N processes on the same port (node:cluster).
import cluster from "node:cluster";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { createServer as createNetServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { parseArgs } from "node:util";
import { openaiFormat } from "../test/mock-upstream/openai.js";
import type { MockReply } from "../test/mock-upstream/format.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    latency: { type: "string", default: "60" },
    chunks: { type: "string", default: "20" },
    "chunk-delay": { type: "string", default: "5" },
    text: { type: "string" },
    mode: { type: "string", default: "lean" },
    workers: { type: "string", default: "1" },
    tls: { type: "string" },
  },
});

const port = Number(values.port);
const host = values.host;
const latencyMs = Number(values.latency);
const chunks = Number(values.chunks);
const chunkDelayMs = Number(values["chunk-delay"]);
const workers = Math.max(1, Number(values.workers));
// A short assistant answer: with the usage block the body is ~630 bytes, and its 77 characters
// split into exactly 20 stream pieces (so --chunks 20 yields 20 content frames).
const text = values.text ?? "A gateway routes each request, retries on failure, and keeps one wire format.";
const reply: MockReply = { model: "gpt-4o-mini", text, usage: { input: 24, output: Math.ceil(text.length / 4) }, stop: "end" };
const body = Buffer.from(openaiFormat.chatBody(reply));
const frames = openaiFormat.chatStream(reply, chunks).map((f) => Buffer.from(f));

function ready(actualPort: number): void {
  // run.mjs waits for this line on stdout; a cluster worker tells its primary instead.
  if (cluster.isWorker) {
    process.send?.("ready");
    return;
  }
  process.stdout.write(`mock listening ${host}:${actualPort} mode=${values.mode} pid=${process.pid} body_bytes=${body.length} frames=${frames.length}\n`);
}

async function startFull(): Promise<void> {
  const { MockUpstream } = await import("../test/mock-upstream/server.js");
  const mock = new MockUpstream({ latencyMs, chunkDelayMs, chunks, text });
  mock.record = false;
  const url = await mock.start(port, host);
  ready(Number(new URL(url).port));
}

function startLean(): void {
  const jsonHeaders = { "content-type": "application/json", "content-length": String(body.length) };
  const sseHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache" };
  const STREAM_TRUE = Buffer.from('"stream":true');

  function answer(res: ServerResponse, stream: boolean): void {
    if (res.destroyed) return;
    if (!stream) {
      res.writeHead(200, jsonHeaders);
      res.end(body);
      return;
    }
    res.writeHead(200, sseHeaders);
    res.write(frames[0]);
    let i = 1;
    const next = (): void => {
      if (res.destroyed) return;
      if (i === frames.length - 1) {
        res.end(frames[i]);
        return;
      }
      res.write(frames[i++]);
      setTimeout(next, chunkDelayMs);
    };
    if (frames.length === 1) res.end();
    else setTimeout(next, chunkDelayMs);
  }

  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req: IncomingMessage, res: ServerResponse) => {
    let stream = false;
    req.on("data", (c: Buffer) => {
      if (!stream && c.indexOf(STREAM_TRUE) >= 0) stream = true;
    });
    req.on("end", () => {
      setTimeout(answer, latencyMs, res, stream);
    });
  });
  // A deep accept queue (see GatewayServer.listen): 1000 connections arrive at once.
  server.listen({ port, host, backlog: 4096 }, () => {
    const addr = server.address();
    ready(typeof addr === "object" && addr ? addr.port : port);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

function startRaw(): void {
  const jsonAnswer = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\nkeep-alive: timeout=65\r\n\r\n`), body]);
  const sseHead = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\nkeep-alive: timeout=65\r\n\r\n";
  const chunked = frames.map((f) => Buffer.concat([Buffer.from(`${f.length.toString(16)}\r\n`), f, Buffer.from("\r\n")]));
  const first = Buffer.concat([Buffer.from(sseHead), chunked[0] ?? Buffer.alloc(0), ...(chunked.length === 1 ? [Buffer.from("0\r\n\r\n")] : [])]);
  const last = Buffer.concat([chunked[chunked.length - 1] ?? Buffer.alloc(0), Buffer.from("0\r\n\r\n")]);
  const CRLF2 = Buffer.from("\r\n\r\n");
  const STREAM_TRUE = Buffer.from('"stream":true');
  const LENGTH = /\r\ncontent-length:\s*(\d+)/i;

  function stream(socket: Socket, i: number): void {
    if (socket.destroyed) return;
    if (i === chunked.length - 1) {
      socket.write(last);
      return;
    }
    socket.write(chunked[i] as Buffer);
    setTimeout(stream, chunkDelayMs, socket, i + 1);
  }
  function answer(socket: Socket, wantsStream: boolean): void {
    if (socket.destroyed) return;
    if (!wantsStream) socket.write(jsonAnswer);
    else {
      socket.write(first);
      if (chunked.length > 1) setTimeout(stream, chunkDelayMs, socket, 1);
    }
  }

  const onConnection = (socket: Socket): void => {
    let buf: Buffer | undefined;
    socket.on("error", () => {});
    socket.on("data", (d: Buffer) => {
      buf = buf === undefined ? d : Buffer.concat([buf, d]);
      // Requests are answered one at a time in order; a pipelined one waits in buf.
      for (;;) {
        const end: number = buf.indexOf(CRLF2);
        if (end < 0) return;
        const m = LENGTH.exec(buf.toString("latin1", 0, end));
        const total: number = end + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        const wantsStream = buf.indexOf(STREAM_TRUE, end + 4) >= 0 && buf.indexOf(STREAM_TRUE, end + 4) < total;
        buf = buf.length === total ? undefined : buf.subarray(total);
        setTimeout(answer, latencyMs, socket, wantsStream);
        if (buf === undefined) return;
      }
    });
  };
  const [certFile, keyFile] = values.tls?.split(",") ?? [];
  const server =
    certFile !== undefined && keyFile !== undefined
      ? createTlsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (socket) => {
          socket.setNoDelay(true);
          onConnection(socket);
        })
      : createNetServer({ noDelay: true }, onConnection);
  server.listen({ port, host, backlog: 4096 }, () => {
    const addr = server.address();
    ready(typeof addr === "object" && addr ? addr.port : port);
  });
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (values.tls !== undefined && values.mode !== "raw") throw new Error("--tls needs --mode raw");
if (values.tls !== undefined && values.tls.split(",").length !== 2) throw new Error("--tls takes CERT,KEY");

if (workers > 1 && cluster.isPrimary) {
  if (port === 0) throw new Error("--workers > 1 needs a fixed --port");
  let up = 0;
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork();
    w.on("message", (m: unknown) => {
      if (m === "ready" && ++up === workers) ready(port);
    });
  }
  const stop = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  if (values.mode === "full") await startFull();
  else if (values.mode === "raw") startRaw();
  else startLean();
}
