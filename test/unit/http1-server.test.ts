// The fast lane (src/server/http1/) against real sockets: what it serves itself, what it hands to
// node:http (and that node:http then answers exactly as it would alone), keep-alive, pipelining,
// bodies in pieces, streaming with chunked framing, client disconnects and shutdown.
import { afterEach, describe, expect, it } from "vitest";
import { createServer as createHttpServer, type Server as NodeHttpServer, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { Client } from "undici";
import { Http1Server, type FastLane, type FastRequest } from "../../src/server/http1/server.js";
import type { Http1Response } from "../../src/server/http1/response.js";
import { until } from "../helpers/until.js";

interface Harness {
  port: number;
  seen: FastRequest[];
  fallbackSeen: string[];
  server: Http1Server;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

type Handler = (req: FastRequest, res: Http1Response) => void;

const echo: Handler = (req, res) => {
  const body = JSON.stringify({ method: req.method, url: req.url, body: req.body.toString(), auth: req.headers.authorization ?? null, x: req.headers["x-multi"] ?? null });
  res.writeHead(200, ["content-type", "application/json", "content-length", String(Buffer.byteLength(body))]);
  res.end(body);
};

async function start(handle: Handler = echo, opts: { keepAliveTimeoutMs?: number; headersTimeoutMs?: number; sendTimeoutMs?: number; maxBody?: number } = {}): Promise<Harness> {
  const seen: FastRequest[] = [];
  const fallbackSeen: string[] = [];
  const fallback: NodeHttpServer = createHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      fallbackSeen.push(`${req.method} ${req.url} ${Buffer.concat(parts).toString()}`);
      res.setHeader("x-served-by", "node");
      res.end(`node:${Buffer.concat(parts).toString()}`);
    });
  });
  const lane: FastLane = {
    accepts: (method, path) => path.startsWith("/fast"),
    maxBodyBytes: () => opts.maxBody ?? 1024,
    handle: (req, res) => {
      seen.push(req);
      handle(req, res);
    },
  };
  const server = new Http1Server(lane, fallback, {
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 65_000,
    headersTimeoutMs: opts.headersTimeoutMs ?? 60_000,
    sendTimeoutMs: opts.sendTimeoutMs ?? 60_000,
  });
  const addr = await server.listen({ port: 0, host: "127.0.0.1", backlog: 511 });
  cleanups.push(async () => {
    const stopped = server.stopAccepting();
    server.destroyAll();
    await stopped;
  });
  return { port: addr.port, seen, fallbackSeen, server };
}

/** A raw connection: write bytes, read everything the server sends until `done` says so. */
function raw(port: number, allowHalfOpen = false): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen });
  let got = "";
  socket.on("data", (d: Buffer) => {
    got += d.toString("latin1");
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  cleanups.push(() => {
    socket.destroy();
  });
  return { socket, received: () => got, closed };
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;

/** Keeps adding a header line every 100 ms (a head that never ends) until the server closes. */
async function trickleUntilClosed(c: ReturnType<typeof raw>): Promise<void> {
  const timer = setInterval(() => c.socket.write("x-a: 1\r\n"), 100);
  try {
    await c.closed;
  } finally {
    clearInterval(timer);
  }
}

describe("fast lane: requests it serves", () => {
  it("serves a plain POST with the node:http-compatible response head", async () => {
    const h = await start();
    const client = new Client(`http://127.0.0.1:${h.port}`);
    cleanups.push(() => client.close());
    const res = await client.request({ path: "/fast/a?q=1", method: "POST", body: "hello", headers: { authorization: "Bearer k", "x-multi": ["a", "b"] } });
    const json = (await res.body.json()) as Record<string, unknown>;
    expect(json).toEqual({ method: "POST", url: "/fast/a?q=1", body: "hello", auth: "Bearer k", x: "a, b" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(JSON.stringify(json))));
    expect(res.headers.connection).toBe("keep-alive");
    expect(res.headers["keep-alive"]).toBe("timeout=65");
    expect(new Date(res.headers.date as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(h.fallbackSeen).toEqual([]);
  });

  it("serves a content-length with the blanks node:http allows around its digits", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write("POST /fast/a HTTP/1.1\r\nhost: x\r\ncontent-length:\t 2 \r\n\r\nok");
    await until("the answer", () => c.received().includes('"body":"ok"'));
    expect(h.seen.map((r) => r.url)).toEqual(["/fast/a"]);
  });

  it("keeps the connection for the next request and answers pipelined requests in order", async () => {
    const h = await start();
    const c = raw(h.port);
    const req = (n: number): string => `POST /fast/${n} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n${String(n).padStart(2, "0")}`;
    c.socket.write(req(1) + req(2) + req(3));
    await until("the socket to show it", () => count(c.received(), "HTTP/1.1 200 OK") === 3);
    const bodies = [...c.received().matchAll(/"body":"(\d\d)"/g)].map((m) => m[1]);
    expect(bodies).toEqual(["01", "02", "03"]);
    expect(h.seen).toHaveLength(3);
  });

  it("waits for a head and a body that arrive in pieces", async () => {
    const h = await start();
    const c = raw(h.port);
    const whole = "POST /fast/p HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\nhello world";
    for (const piece of [whole.slice(0, 7), whole.slice(7, 30), whole.slice(30, whole.length - 3), whole.slice(-3)]) {
      c.socket.write(piece);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until("the socket to show it", () => c.received().includes("hello world"));
    expect(h.seen.map((r) => r.body.toString())).toEqual(["hello world"]);
  });

  it("frames streamed writes as chunks and ends the stream with the last chunk", async () => {
    const h = await start((_req, res) => {
      res.writeHead(200, ["content-type", "text/event-stream"]);
      res.write("data: one\n\n");
      setTimeout(() => {
        res.write(Buffer.from("data: two\n\n"));
        res.end("data: [DONE]\n\n");
      }, 20);
    });
    const client = new Client(`http://127.0.0.1:${h.port}`);
    cleanups.push(() => client.close());
    const res = await client.request({ path: "/fast/s", method: "GET" });
    expect(res.headers["transfer-encoding"]).toBe("chunked");
    expect(await res.body.text()).toBe("data: one\n\ndata: two\n\ndata: [DONE]\n\n");
  });

  it("closes after the response when the client asks for connection: close", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write("GET /fast/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    await c.closed;
    expect(c.received()).toContain("\r\nconnection: close\r\n");
    expect(c.received()).toContain('"url":"/fast/x"');
  });

  it("serves nothing more on a connection once a response said connection: close", async () => {
    const h = await start();
    // A client that keeps writing after the server's FIN, as a pipelining client may.
    const c = raw(h.port, true);
    // A request pipelined behind the close, and one sent after the answer: neither may be served.
    c.socket.write("GET /fast/first HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\nGET /fast/pipelined HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the first answer", () => c.received().includes("/fast/first"));
    c.socket.end("GET /fast/after HTTP/1.1\r\nhost: x\r\n\r\n\r\n");
    await c.closed;
    expect(h.seen.map((r) => r.url)).toEqual(["/fast/first"]);
    expect(count(c.received(), "HTTP/1.1 ")).toBe(1);
  });

  it("answers 408 when a body stops arriving for longer than the keep-alive timeout", async () => {
    const h = await start(echo, { keepAliveTimeoutMs: 200 });
    const c = raw(h.port);
    c.socket.write("POST /fast/slow HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc");
    await c.closed; // the sweep runs every second
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.seen).toEqual([]);
  });

  it("tells the handler when the client goes away mid-response", async () => {
    let res: Http1Response | undefined;
    const h = await start((_req, r) => {
      res = r;
      r.writeHead(200, ["content-type", "text/event-stream"]);
      r.write("data: one\n\n");
    });
    const c = raw(h.port);
    c.socket.write("GET /fast/s HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the socket to show it", () => c.received().includes("data: one"));
    const closed = new Promise<boolean>((resolve) => res?.on("close", () => resolve(res?.writableFinished ?? true)));
    c.socket.destroy();
    expect(await closed).toBe(false);
  });

  /** Streams 1 MB pieces, waiting for 'drain' when the socket is full, until `total` MB are out. */
  const firehose =
    (total: number, seen: { res?: Http1Response; sent: number }): Handler =>
    (_req, r) => {
      seen.res = r;
      r.writeHead(200, ["content-type", "text/event-stream"]);
      const piece = Buffer.alloc(1 << 20, 0x61);
      const more = (): void => {
        while (seen.sent < total && !r.writableEnded) {
          seen.sent++;
          if (seen.sent === total) r.end(piece);
          else if (!r.write(piece)) return;
        }
      };
      r.on("drain", more);
      more();
    };

  it("cuts a response the client stopped reading, once the send timeout passes without progress", async () => {
    const seen: { res?: Http1Response; sent: number } = { sent: 0 };
    const h = await start(firehose(1000, seen), { sendTimeoutMs: 300 });
    const c = raw(h.port);
    c.socket.write("GET /fast/s HTTP/1.1\r\nhost: x\r\n\r\n");
    c.socket.pause();
    await until("the handler to start", () => seen.res !== undefined);
    const finished = new Promise<boolean>((resolve) => seen.res?.on("close", () => resolve(seen.res?.writableFinished ?? true)));
    expect(await finished).toBe(false);
    c.socket.resume();
    await c.closed;
    expect(seen.sent).toBeLessThan(1000);
  });

  it("does not cut a client that keeps reading, however long the response takes", async () => {
    const seen: { res?: Http1Response; sent: number } = { sent: 0 };
    const h = await start(firehose(64, seen), { sendTimeoutMs: 300 });
    const c = raw(h.port);
    c.socket.write("GET /fast/s HTTP/1.1\r\nhost: x\r\n\r\n");
    // Reads in bursts with pauses longer than a sweep, for well over the send timeout.
    const reader = setInterval(() => (c.socket.isPaused() ? c.socket.resume() : c.socket.pause()), 150);
    cleanups.push(() => clearInterval(reader));
    await until("the handler to start", () => seen.res !== undefined);
    const finished = new Promise<boolean>((resolve) => seen.res?.on("close", () => resolve(seen.res?.writableFinished ?? false)));
    expect(await finished).toBe(true);
    expect(seen.sent).toBe(64);
  });

  it("does not cut a client that keeps reading one large body, written at once, for longer than the send timeout", async () => {
    let res: Http1Response | undefined;
    const body = Buffer.alloc(8 << 20, 0x61);
    const h = await start(
      (_req, r) => {
        res = r;
        r.writeHead(200, ["content-type", "application/octet-stream", "content-length", String(body.length)]);
        r.end(body);
      },
      { sendTimeoutMs: 300 },
    );
    // A client that reads steadily but slowly (a few seconds for the body).
    const socket = connect({ port: h.port, host: "127.0.0.1" });
    socket.on("error", () => {});
    cleanups.push(() => {
      socket.destroy();
    });
    let got = 0;
    const reader = setInterval(() => {
      let n = 0;
      let chunk: Buffer | null;
      while (n < 256 * 1024 && (chunk = socket.read() as Buffer | null) !== null) n += chunk.length;
      got += n;
    }, 50);
    cleanups.push(() => clearInterval(reader));
    socket.write("GET /fast/big HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the handler to start", () => res !== undefined);
    const started = Date.now();
    const finished = new Promise<boolean>((resolve) => res?.on("close", () => resolve(res?.writableFinished ?? false)));
    expect(await finished).toBe(true);
    expect(got).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThan(2000);
  });

  it("cuts a response node:http serves (a handed-over connection) when its client stops reading", async () => {
    let sent = 0;
    let res: ServerResponse | undefined;
    const fallback = createHttpServer((_req, r) => {
      res = r;
      r.writeHead(200, { "content-type": "text/event-stream" });
      const piece = Buffer.alloc(1 << 20, 0x61);
      const more = (): void => {
        while (sent < 1000 && !r.writableEnded && r.write(piece)) sent++;
      };
      r.on("drain", more);
      more();
    });
    const lane: FastLane = { accepts: () => false, maxBodyBytes: () => 1024, handle: () => undefined };
    const server = new Http1Server(lane, fallback, { keepAliveTimeoutMs: 65_000, headersTimeoutMs: 60_000, sendTimeoutMs: 300 });
    const addr = await server.listen({ port: 0, host: "127.0.0.1", backlog: 511 });
    cleanups.push(async () => {
      const stopped = server.stopAccepting();
      server.destroyAll();
      await stopped;
    });
    const c = raw(addr.port);
    c.socket.write("GET /slow HTTP/1.0\r\nhost: x\r\n\r\n");
    c.socket.pause();
    await until("node:http to start answering", () => res !== undefined);
    const finished = new Promise<boolean>((resolve) => res?.on("close", () => resolve(res?.writableFinished ?? true)));
    expect(await finished).toBe(false);
    c.socket.resume();
    await c.closed;
    expect(sent).toBeLessThan(1000);
  });

  it("closes keep-alive connections left idle past the timeout", async () => {
    const h = await start(echo, { keepAliveTimeoutMs: 200 });
    const c = raw(h.port);
    c.socket.write("GET /fast/x HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the socket to show it", () => c.received().includes("/fast/x"));
    await c.closed; // the sweep runs every second
  });

  it("answers 408 and closes when a request head trickles in for longer than the headers timeout", async () => {
    const h = await start(echo, { headersTimeoutMs: 300 });
    const c = raw(h.port);
    c.socket.write("GET /fast/x HTTP/1.1\r\n");
    await trickleUntilClosed(c);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(h.seen).toEqual([]);
  });

  it("assembles a large body that arrives in many small pieces", async () => {
    const h = await start(echo, { maxBody: 1 << 20 });
    const c = raw(h.port);
    const payload = Array.from({ length: 40_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    c.socket.write(`POST /fast/big HTTP/1.1\r\nhost: x\r\ncontent-length: ${payload.length}\r\n\r\n`);
    for (let i = 0; i < payload.length; i += 997) c.socket.write(payload.slice(i, i + 997));
    c.socket.write("GET /fast/after HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("both answers", () => count(c.received(), "HTTP/1.1 200 OK") === 2);
    expect(h.seen[0]?.body.toString()).toBe(payload);
    expect(h.seen[1]?.url).toBe("/fast/after");
  });

  it("times out a head that trickles in after a complete request on the same connection", async () => {
    const h = await start(echo, { headersTimeoutMs: 300 });
    const c = raw(h.port);
    c.socket.write("GET /fast/one HTTP/1.1\r\nhost: x\r\n\r\nGET /fast/two HTTP/1.1\r\n");
    await trickleUntilClosed(c);
    expect(c.received()).toContain('"url":"/fast/one"');
    expect(c.received()).toContain("HTTP/1.1 408 ");
    expect(h.seen.map((r) => r.url)).toEqual(["/fast/one"]);
  });

  it("reads nothing more after answering 408", async () => {
    const h = await start(echo, { headersTimeoutMs: 300 });
    const c = raw(h.port);
    c.socket.write("GET /fast/x HTTP/1.1\r\n");
    await until("the 408", () => c.received().startsWith("HTTP/1.1 408"));
    c.socket.write("host: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 100));
    expect(h.seen).toEqual([]);
  });

  it("does not report a response as finished when the client resets while it is being written", async () => {
    let res: Http1Response | undefined;
    const h = await start((_req, r) => {
      res = r;
      r.writeHead(200, ["content-type", "application/octet-stream"]);
      r.end(Buffer.alloc(32 * 1024 * 1024, 120));
    });
    const c = raw(h.port);
    c.socket.pause();
    c.socket.write("GET /fast/big HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the handler", () => res !== undefined);
    const events: string[] = [];
    res?.on("finish", () => events.push("finish"));
    const closed = new Promise<boolean>((resolve) => res?.on("close", () => resolve(res?.writableFinished ?? true)));
    await new Promise((r) => setTimeout(r, 100));
    c.socket.resetAndDestroy();
    expect(await closed).toBe(false);
    expect(events).toEqual([]);
  });

  it("refuses header values node:http would refuse, and writes latin1 values as latin1", async () => {
    let thrown: unknown;
    const h = await start((_req, res) => {
      try {
        res.writeHead(200, ["x-bad", "a\r\nx-injected: 1"]);
      } catch (err) {
        thrown = err;
      }
      res.writeHead(200, ["x-name", "caf\u00e9", "content-type", "text/plain"]);
      res.end("é");
    });
    const c = raw(h.port);
    c.socket.write("GET /fast/h HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the answer", () => c.received().includes("\r\n\r\n"));
    await until("the body", () => c.received().endsWith("\xc3\xa9"));
    expect(thrown).toBeInstanceOf(TypeError);
    expect(c.received()).not.toContain("x-injected");
    expect(c.received()).toContain("x-name: caf\xe9\r\n");
    expect(c.received()).toContain("content-length: 2\r\n");
  });

  it("on shutdown closes idle connections and lets a request in flight finish with connection: close", async () => {
    const pending: Array<() => void> = [];
    const h = await start((req, res) => {
      pending.push(() => echo(req, res));
    });
    const idle = raw(h.port);
    idle.socket.write("GET /fast/warm HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the first request to arrive", () => pending.length === 1);
    pending[0]?.();
    await until("the first answer", () => idle.received().includes("/fast/warm"));
    const busy = raw(h.port);
    busy.socket.write("GET /fast/busy HTTP/1.1\r\nhost: x\r\n\r\n");
    await until("the second request to arrive", () => pending.length === 2);
    const stopped = h.server.stopAccepting();
    await idle.closed;
    pending[1]?.();
    await busy.closed;
    expect(busy.received()).toContain("\r\nconnection: close\r\n");
    expect(busy.received()).toContain("/fast/busy");
    await stopped;
  });
  it("on shutdown waits for a body still arriving and answers it, and counts it as in flight", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write("POST /fast/upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nhello");
    await until("the head to be accepted", () => h.server.receiving === 1);
    const stopped = h.server.stopAccepting();
    await new Promise((r) => setTimeout(r, 50));
    expect(c.socket.readyState).toBe("open");
    c.socket.write("world");
    await c.closed;
    expect(h.seen.map((r) => r.body.toString())).toEqual(["helloworld"]);
    expect(c.received()).toContain("\r\nconnection: close\r\n");
    expect(h.server.receiving).toBe(0);
    await stopped;
  });

  it("on shutdown closes a connection partway through a request head", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write("GET /fast/x HTTP/1.1\r\nhost: x\r\n");
    await until("the bytes to arrive", () => h.server.receiving === 0 && c.socket.bytesWritten > 0);
    await new Promise((r) => setTimeout(r, 50));
    const stopped = h.server.stopAccepting();
    await c.closed;
    expect(h.seen).toEqual([]);
    await stopped;
  });
});

describe("fast lane: requests it hands to node:http", () => {
  const cases: Array<[string, string]> = [
    ["a route the gateway did not mark fast", "POST /admin/x HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc"],
    ["a chunked upload", "POST /fast/c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
    ["HTTP/1.0", "POST /fast/old HTTP/1.0\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc"],
    ["a body over the fast lane's limit", `POST /fast/big HTTP/1.1\r\nhost: x\r\ncontent-length: 2000\r\n\r\n${"a".repeat(2000)}`],
  ];
  for (const [name, request] of cases) {
    it(`hands over ${name}, with every byte`, async () => {
      const h = await start();
      const c = raw(h.port);
      c.socket.write(request);
      await until("the socket to show it", () => h.fallbackSeen.length === 1);
      const body = request.includes("chunked") ? "abc" : request.slice(request.indexOf("\r\n\r\n") + 4);
      expect(h.fallbackSeen[0]?.endsWith(` ${body}`)).toBe(true);
      await until("the socket to show it", () => c.received().includes(`node:${body}`));
      expect(h.seen).toEqual([]);
    });
  }

  it("answers Expect: 100-continue through node:http", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write("POST /fast/e HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n");
    await until("the socket to show it", () => c.received().startsWith("HTTP/1.1 100 Continue"));
    c.socket.write("abc");
    await until("the socket to show it", () => c.received().includes("node:abc"));
  });

  it("hands over a connection after fast requests on it, at a request boundary", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write("GET /fast/1 HTTP/1.1\r\nhost: x\r\n\r\nPOST /other HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nok");
    await until("the socket to show it", () => c.received().includes("node:ok"));
    expect(c.received().indexOf('"url":"/fast/1"')).toBeLessThan(c.received().indexOf("node:ok"));
    expect(h.fallbackSeen).toEqual(["POST /other ok"]);
  });

  const malformed: Array<[string, string]> = [
    ["a space before a header's colon", "GET /fast/x HTTP/1.1\r\nhost : x\r\n\r\n"],
    ["a folded header line", "GET /fast/x HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  2\r\n\r\n"],
    ["a bare LF inside the head", "GET /fast/x HTTP/1.1\r\nhost: x\nx-a: 1\r\n\r\n"],
    ["two different content-lengths", "POST /fast/x HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab"],
    ["a non-numeric content-length", "POST /fast/x HTTP/1.1\r\nhost: x\r\ncontent-length: 1x\r\n\r\na"],
    // String#trim strips NBSP; node:http does not, so "5\xA0" must not read as 5 (request smuggling).
    ["a content-length followed by a non-breaking space", "POST /fast/x HTTP/1.1\r\nhost: x\r\ncontent-length: 5\xa0\r\n\r\nhelloGET /fast/y HTTP/1.1\r\nhost: x\r\n\r\n"],
    // llhttp takes spaces or tabs before the digits but only spaces after them.
    ["a content-length followed by a tab", "POST /fast/x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\t\r\n\r\nab"],
    ["a content-length followed by a space and a tab", "POST /fast/x HTTP/1.1\r\nhost: x\r\ncontent-length: 2 \t\r\n\r\nab"],
    ["the same content-length twice", "POST /fast/x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nab"],
    ["a bare CR in the request target", "GET /fast/a\rX:y HTTP/1.1\r\nhost: x\r\n\r\n"],
    ["a tab in the request target", "GET /fast/a\tb HTTP/1.1\r\nhost: x\r\n\r\n"],
  ];
  for (const [name, request] of malformed) {
    it(`lets node:http refuse ${name} with 400`, async () => {
      const h = await start();
      const c = raw(h.port);
      c.socket.write(Buffer.from(request, "latin1"));
      await until("the socket to show it", () => c.received().startsWith("HTTP/1.1 400"));
      expect(h.seen).toEqual([]);
    });
  }

  it("lets node:http answer a head over 16 KB with 431", async () => {
    const h = await start();
    const c = raw(h.port);
    c.socket.write(`GET /fast/x HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(17 * 1024)}\r\n\r\n`);
    await until("the socket to show it", () => c.received().startsWith("HTTP/1.1 431"));
    expect(h.seen).toEqual([]);
  });
});
