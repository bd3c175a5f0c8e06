// The upstream HTTP/1.1 client (src/upstream/connection.ts through the pool) against raw servers
// that send exactly the bytes under test: the request it writes, every body framing cut at awkward
// places, interim responses, keep-alive reuse and its limits, timeouts, disconnects, cancellation
// and TLS. Test certificate: test/helpers/tls (self-signed for 127.0.0.1, valid until 2126).
import { afterEach, describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import * as errors from "../../src/upstream/errors.js";
import { Cancellation } from "../../src/server/cancellation.js";
import { UpstreamPool } from "../../src/upstream/pool.js";
import { onRequests } from "../helpers/raw-requests.js";
import { until } from "../helpers/until.js";

const TLS_DIR = new URL("../helpers/tls/", import.meta.url);
const cert = readFileSync(new URL("cert.pem", TLS_DIR));
const key = readFileSync(new URL("key.pem", TLS_DIR));

interface Upstream {
  pool: UpstreamPool;
  /** Every request head + body the server received, per connection. */
  received: string[];
  connections: number;
  /** TLS only: whether each connection resumed an earlier session. */
  resumed: boolean[];
  server: Server;
}

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/**
 * A server that reads one request (head + content-length body) at a time and answers it with
 * `reply(socket, index)`, which writes whatever bytes the test wants.
 */
async function upstream(reply: (socket: Socket, n: number, request: string) => void, tls = false): Promise<Upstream> {
  const up: Upstream = { pool: undefined as unknown as UpstreamPool, received: [], connections: 0, resumed: [], server: undefined as unknown as Server };
  let n = 0;
  const onSocket = (socket: Socket): void => {
    up.connections++;
    if ("isSessionReused" in socket) up.resumed.push((socket as TLSSocket).isSessionReused());
    onRequests(socket, (request) => {
      up.received.push(request);
      reply(socket, n++, request);
    });
  };
  const server = tls ? createTlsServer({ cert, key }, onSocket) : createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  up.server = server;
  up.pool = new UpstreamPool(`${tls ? "https" : "http"}://127.0.0.1:${port}`, tls ? { ca: cert } : undefined);
  cleanups.push(
    () => up.pool.destroy(),
    () => new Promise((r) => server.close(r)),
  );
  return up;
}

const call = (over: Partial<Parameters<UpstreamPool["requestBuffered"]>[0]> = {}) => ({
  path: "/v1/x?y=1",
  method: "POST",
  headers: { "content-type": "application/json" },
  body: '{"a":"é"}',
  cancel: new Cancellation(),
  headersTimeout: 5000,
  bodyTimeout: 5000,
  ...over,
});

/** Writes `data` one piece at a time, `size` bytes each, a little apart. */
async function dribble(socket: Socket, data: string, size: number): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    socket.write(data.slice(i, i + size));
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A pool to a server that takes TCP connections and never answers the TLS handshake: its
 * connections stay connecting until the 10 s connect timeout. `held`: the server's side of each.
 */
async function silentTlsPool(): Promise<{ pool: UpstreamPool; held: Socket[] }> {
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const { port } = silent.address() as { port: number };
  cleanups.push(() => {
    for (const s of held) s.destroy();
    return new Promise((r) => silent.close(r));
  });
  return { pool: new UpstreamPool(`https://127.0.0.1:${port}`, { ca: cert }), held };
}

const ok = (body: string, extra = ""): string => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("upstream connection: the request it writes", () => {
  it("writes the request line, host with the port, the headers and the body's byte length", async () => {
    const up = await upstream((s) => s.write(ok("{}")));
    await up.pool.requestBuffered(call({ headers: Object.freeze({ "content-type": "application/json", authorization: "Bearer sk-1" }) }));
    const port = (up.server.address() as { port: number }).port;
    expect(up.received[0]).toBe(`POST /v1/x?y=1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\nauthorization: Bearer sk-1\r\ncontent-length: 10\r\n\r\n{"a":"é"}`.replace("é", "\xc3\xa9"));
  });

  it("refuses a header value that would split the request, and sends nothing", async () => {
    const up = await upstream((s) => s.write(ok("{}")));
    await expect(up.pool.requestBuffered(call({ headers: { "x-evil": "a\r\nx-injected: 1" } }))).rejects.toBeInstanceOf(errors.InvalidArgumentError);
    expect(up.received).toEqual([]);
  });

  it("sends a Host header the provider configured instead of the one from the URL, once", async () => {
    const up = await upstream((s) => s.write(ok("{}")));
    await up.pool.requestBuffered(call({ headers: { Host: "api.internal", "content-type": "application/json" } }));
    expect(up.received[0]?.match(/^host:/gim)).toHaveLength(1);
    expect(up.received[0]).toContain("\r\nHost: api.internal\r\n");
  });

  it("refuses a request target or method that would break the request line", async () => {
    const up = await upstream((s) => s.write(ok("{}")));
    await expect(up.pool.requestBuffered(call({ path: "/v1/x HTTP/1.1\r\nx-injected: 1\r\n\r\n" }))).rejects.toBeInstanceOf(errors.InvalidArgumentError);
    await expect(up.pool.requestBuffered(call({ method: "GET /x" }))).rejects.toBeInstanceOf(errors.InvalidArgumentError);
    expect(up.received).toEqual([]);
  });

  it("sends GET without a body or content-length", async () => {
    const up = await upstream((s) => s.write(ok("[]")));
    const res = await up.pool.requestBuffered(call({ method: "GET", body: undefined, path: "/models" }));
    expect(res.body.buffer().toString()).toBe("[]");
    expect(up.received[0]).not.toContain("content-length");
  });
});

describe("upstream connection: response framing", () => {
  it("reads a content-length body delivered a few bytes at a time", async () => {
    const body = JSON.stringify({ text: "x".repeat(300) });
    const up = await upstream((s) => void dribble(s, ok(body, "x-dup: 1\r\nx-dup: 2\r\n"), 7));
    const res = await up.pool.requestBuffered(call());
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-dup"]).toEqual(["1", "2"]);
    expect(res.body.buffer().toString()).toBe(body);
  });

  it("decodes a chunked body with extensions and trailers, cut at every awkward place", async () => {
    const wire = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: t\r\n\r\n";
    const up = await upstream((s) => void dribble(s, wire, 3));
    const res = await up.pool.requestStreaming(call());
    expect(await res.body.text()).toBe("hello 0123456789");
    // The connection is reused: the chunked end was found exactly.
    await up.pool.requestStreaming(call()).then((r) => r.body.text());
    expect(up.connections).toBe(1);
  });

  it("streams chunks to the reader as they arrive, before the response ends", async () => {
    let sock: Socket | undefined;
    const up = await upstream((s) => {
      sock = s;
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nb\r\ndata: one\n\n\r\n");
    });
    const res = await up.pool.requestStreaming(call());
    const got: string[] = [];
    let ended = false;
    res.body.pipeTo({ data: (c) => got.push(c.toString()) > 0, end: () => (ended = true), error: () => {} });
    await until("the first event", () => got.join("") === "data: one\n\n");
    expect(ended).toBe(false);
    sock?.write("b\r\ndata: two\n\n\r\n0\r\n\r\n");
    await until("the end", () => ended);
    expect(got.join("")).toBe("data: one\n\ndata: two\n\n");
  });

  it("hands over the chunks of one read as one piece, so a busy proxy writes them to its client at once", async () => {
    let sock: Socket | undefined;
    const up = await upstream((s) => {
      sock = s;
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    });
    const res = await up.pool.requestStreaming(call());
    const got: string[] = [];
    let ended = false;
    res.body.pipeTo({ data: (c) => got.push(c.toString()) > 0, end: () => (ended = true), error: () => {} });
    // Three events that were queued upstream while the reader was busy: one TCP write.
    sock?.write("b\r\ndata: one\n\n\r\nb\r\ndata: two\n\n\r\nd\r\ndata: three\n\n\r\n");
    await until("the three events", () => got.length > 0);
    expect(got).toEqual(["data: one\n\ndata: two\n\ndata: three\n\n"]);
    sock?.write("b\r\ndata: end\n\n\r\n0\r\n\r\n");
    await until("the end", () => ended);
    expect(got).toEqual(["data: one\n\ndata: two\n\ndata: three\n\n", "data: end\n\n"]);
  });

  it("reads chunk sizes as hex digits with optional blanks before an extension, and nothing looser", async () => {
    const good = await upstream((s) => s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n 3 \t;ext=1\r\nabc\r\n0000a\r\n0123456789\r\n0\r\n\r\n"));
    expect(await (await good.pool.requestStreaming(call())).body.text()).toBe("abc0123456789");
    // A no-break space is not a blank (String#trim would say it is), nor are 13 digits a size.
    for (const line of ["3\xA0", "0000000000003", "-3", "3x", ";ext"]) {
      const up = await upstream((s) => s.write(Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${line}\r\nabc\r\n0\r\n\r\n`, "latin1")));
      const res = await up.pool.requestStreaming(call());
      await expect(res.body.text(), line).rejects.toThrow("invalid chunk size");
    }
  });

  it("delivers the chunks that arrived intact before a broken one, then the error", async () => {
    const up = await upstream((s) => s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\nzz\r\n"));
    const res = await up.pool.requestStreaming(call());
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      res.body.pipeTo({
        data: (c) => seen.push(c.toString()) > 0,
        end: () => resolve(),
        error: (err) => {
          seen.push(`error: ${err.message}`);
          resolve();
        },
      });
    });
    expect(seen).toEqual(["abcde", "error: invalid chunk size"]);
  });

  it("reads a body without a length until the server closes, and does not reuse that connection", async () => {
    const up = await upstream((s) => {
      s.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end");
    });
    const res = await up.pool.requestBuffered(call());
    expect(res.body.buffer().toString()).toBe("until the end");
    await up.pool.requestBuffered(call());
    expect(up.connections).toBe(2);
  });

  it("skips an interim 100 Continue and answers with the final response", async () => {
    const up = await upstream((s) => s.write(`HTTP/1.1 100 Continue\r\n\r\n${ok('{"final":true}')}`));
    const res = await up.pool.requestBuffered(call());
    expect(res.statusCode).toBe(200);
    expect(res.body.buffer().toString()).toBe('{"final":true}');
  });

  it("passes error statuses and their bodies through", async () => {
    const up = await upstream((s) => s.write(`HTTP/1.1 429 Too Many Requests\r\nretry-after: 3\r\ncontent-length: 2\r\n\r\n{}`));
    const res = await up.pool.requestBuffered(call());
    expect(res.statusCode).toBe(429);
    expect(res.headers["retry-after"]).toBe("3");
  });

  const malformed: Array<[string, string]> = [
    ["a bad chunk size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"],
    ["a transfer-encoding that only ends in 'chunked'", "HTTP/1.1 200 OK\r\ntransfer-encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
    ["a space before a header's colon", "HTTP/1.1 200 OK\r\ncontent-length : 3\r\n\r\nabc"],
    ["a folded header line", "HTTP/1.1 200 OK\r\nx-a: 1\r\n 2\r\ncontent-length: 3\r\n\r\nabc"],
    ["a status that is not three digits", "HTTP/1.1 1e2 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc"],
    ["trailers without end", `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n${"x-t: 1\r\n".repeat(10_000)}`],
  ];
  for (const [name, wire] of malformed) {
    it(`fails with a parser error on ${name}`, async () => {
      const up = await upstream((s) => s.write(wire));
      const err = await up.pool.requestBuffered(call()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err instanceof errors.HTTPParserError || err instanceof errors.HeadersOverflowError).toBe(true);
    });
  }

  it("reads chunked when a response also has a content-length, and does not reuse that connection", async () => {
    const up = await upstream((s) => s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 100\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe("abc");
    await up.pool.requestBuffered(call());
    expect(up.connections).toBe(2);
  });
});

describe("upstream connection: keep-alive", () => {
  it("reuses one connection for requests one after another", async () => {
    const up = await upstream((s, n) => s.write(ok(`{"n":${n}}`)));
    for (let i = 0; i < 3; i++) expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe(`{"n":${i}}`);
    expect(up.connections).toBe(1);
    expect(up.pool.poolStats).toMatchObject({ connected: 1, free: 1, running: 0 });
  });

  it("opens a connection per concurrent request", async () => {
    const up = await upstream((s, n) => setTimeout(() => s.write(ok(`{"n":${n}}`)), 30));
    await Promise.all([1, 2, 3].map(() => up.pool.requestBuffered(call())));
    expect(up.connections).toBe(3);
  });

  it("does not reuse a connection the server said it would close", async () => {
    const up = await upstream((s) => s.write(ok("{}", "connection: close\r\n")));
    await up.pool.requestBuffered(call());
    await up.pool.requestBuffered(call());
    expect(up.connections).toBe(2);
  });

  it("does not reuse a connection whose close came on a second connection header line", async () => {
    // Header lines of one name make one list (RFC 9110 5.3): "keep-alive" and "close" is "keep-alive, close".
    const up = await upstream((s) => s.end(ok("{}", "connection: keep-alive\r\nConnection: close\r\n")));
    await up.pool.requestBuffered(call());
    expect((await up.pool.requestBuffered(call())).statusCode).toBe(200);
    expect(up.connections).toBe(2);
  });

  it("does not reuse a connection answered before its request body was all written", async () => {
    // The server answers at the request head and reads no more: the rest of our body would be
    // read as the start of the next request sent on that connection.
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      s.once("data", () => {
        s.pause();
        s.write(ok('{"early":true}'));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const pool = new UpstreamPool(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    cleanups.push(
      () => pool.destroy(),
      () => sockets.forEach((s) => s.destroy()),
      () => new Promise((r) => server.close(r)),
    );
    const first = await pool.requestBuffered(call({ body: Buffer.alloc(8 * 1024 * 1024, 97) }));
    expect(first.body.buffer().toString()).toBe('{"early":true}');
    await pool.requestBuffered(call());
    expect(sockets).toHaveLength(2);
  });

  it("does not hand out an idle connection past its idle limit, even before the sweep closes it", async () => {
    const up = await upstream((s) => s.write(ok("{}", "keep-alive: timeout=3\r\n")));
    await up.pool.requestBuffered(call());
    // timeout=3 less the 2 s margin: one second idle at most. Time jumps past it, and the next
    // request is sent at once, before the quarter-second sweep can see it.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 1500 });
    try {
      await up.pool.requestBuffered(call());
    } finally {
      vi.useRealTimers();
    }
    expect(up.connections).toBe(2);
  });

  it("closes an idle connection before the server's keep-alive timeout runs out", async () => {
    const up = await upstream((s) => s.write(ok("{}", "keep-alive: timeout=3\r\n")));
    await up.pool.requestBuffered(call());
    expect(up.pool.poolStats.connected).toBe(1);
    // timeout=3 less the 2 s safety margin: closed after about a second.
    await until("the idle connection to close", () => up.pool.poolStats.connected === 0, 5000);
  });

  it("gives the next request a connection that reads, after a reader paused on the last piece", async () => {
    // A streaming call's body is not read until somebody asks: the whole error answer arrives
    // while its reader is paused, then the connection goes back to the pool.
    const up = await upstream((s, n) => s.write(n === 0 ? "HTTP/1.1 400 Bad Request\r\ncontent-length: 15\r\n\r\n{\"error\":\"bad\"}" : ok('{"next":true}')));
    const first = await up.pool.requestStreaming(call());
    await new Promise((r) => setTimeout(r, 20));
    expect(await first.body.text()).toBe('{"error":"bad"}');
    const second = await up.pool.requestBuffered(call({ headersTimeout: 2000 }));
    expect(second.body.buffer().toString()).toBe('{"next":true}');
    expect(up.connections).toBe(1);
  });

  it.each([
    ["HTTP", false],
    ["HTTPS", true],
  ])("does not count connections the server closed as free (%s)", async (_scheme, tls) => {
    const up = await upstream((s) => {
      s.write(ok("{}"));
      setTimeout(() => s.destroy(), 10);
    }, tls);
    await Promise.all([1, 2, 3].map(() => up.pool.requestBuffered(call())));
    await until("the closes to be seen", () => up.pool.poolStats.connected === 0);
    expect(up.pool.poolStats.free).toBe(0);
  });

  it.each([
    ["HTTP", false],
    ["HTTPS", true],
  ])("opens a new connection when the server closed an idle one (%s)", async (_scheme, tls) => {
    const up = await upstream((s) => {
      s.write(ok("{}"));
      setTimeout(() => s.destroy(), 10);
    }, tls);
    await up.pool.requestBuffered(call());
    await until("the close to be seen", () => up.pool.poolStats.connected === 0);
    await up.pool.requestBuffered(call());
    expect(up.connections).toBe(2);
  });
});

describe("upstream connection: a reused connection the server closed", () => {
  // The server may close an idle connection just as we send on it (its own idle timeout, a
  // restart): the request never reached it, so it goes again on a new connection, once.
  it.each([
    ["closes", (s: Socket) => s.destroy()],
    ["resets", (s: Socket) => s.resetAndDestroy()],
  ])("sends the request again on a new connection when the server %s it before any byte of the answer", async (_, drop) => {
    const up = await upstream((s, n) => (n === 1 ? drop(s) : s.write(ok(`{"n":${n}}`))));
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"n":0}');
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"n":2}');
    expect(up.connections).toBe(2);
    expect(up.received).toHaveLength(3);
    expect(up.received[2]).toBe(up.received[1]);
  });

  it("does the same for the first request on a connection opened ahead of requests (warm)", async () => {
    const up = await upstream((s, n) => (n === 0 ? s.destroy() : s.write(ok(`{"n":${n}}`))));
    up.pool.warm(1);
    await until("the warm connection", () => up.pool.poolStats.free === 1);
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"n":1}');
    expect(up.connections).toBe(2);
    expect(up.received).toHaveLength(2);
  });

  it("does the same for a stream, before its head", async () => {
    const up = await upstream((s, n) => (n === 1 ? s.destroy() : s.write(ok(`{"n":${n}}`))));
    await up.pool.requestBuffered(call());
    const res = await up.pool.requestStreaming(call());
    expect(res.statusCode).toBe(200);
    expect(up.connections).toBe(2);
  });

  it("does not send it again when the server held it for a while before closing (it may have been working on it)", async () => {
    const up = await upstream((s, n) => (n === 1 ? setTimeout(() => s.destroy(), 700) : s.write(ok("{}"))));
    await up.pool.requestBuffered(call());
    await expect(up.pool.requestBuffered(call())).rejects.toBeInstanceOf(errors.SocketError);
    expect(up.received).toHaveLength(2);
  });

  it("does not send it again once part of the answer arrived", async () => {
    const up = await upstream((s, n) => (n === 1 ? s.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc") : s.write(ok("{}"))));
    await up.pool.requestBuffered(call());
    await expect(up.pool.requestBuffered(call())).rejects.toBeInstanceOf(errors.SocketError);
    expect(up.received).toHaveLength(2);
  });

  it("does not send it again when a new connection closes, nor a second time", async () => {
    const fresh = await upstream((s) => s.destroy());
    await expect(fresh.pool.requestBuffered(call())).rejects.toBeInstanceOf(errors.SocketError);
    expect(fresh.received).toHaveLength(1);

    const twice = await upstream((s, n) => (n === 0 ? s.write(ok("{}")) : s.destroy()));
    await twice.pool.requestBuffered(call());
    await expect(twice.pool.requestBuffered(call())).rejects.toBeInstanceOf(errors.SocketError);
    expect(twice.received).toHaveLength(3);
    expect(twice.connections).toBe(2);
  });

  it("does not send it again after the caller cancelled", async () => {
    const cancel = new Cancellation();
    const up = await upstream((s, n) => {
      if (n === 0) s.write(ok("{}"));
      else {
        cancel.abort();
        s.destroy();
      }
    });
    await up.pool.requestBuffered(call());
    await expect(up.pool.requestBuffered(call({ cancel }))).rejects.toBeInstanceOf(errors.RequestAbortedError);
    expect(up.received).toHaveLength(2);
  });
});

describe("upstream connection: failures", () => {
  it("times out waiting for the response head", async () => {
    const up = await upstream(() => {});
    await expect(up.pool.requestBuffered(call({ headersTimeout: 300 }))).rejects.toBeInstanceOf(errors.HeadersTimeoutError);
  });

  it("times out when the body stops arriving", async () => {
    const up = await upstream((s) => s.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"));
    await expect(up.pool.requestBuffered(call({ bodyTimeout: 300 }))).rejects.toBeInstanceOf(errors.BodyTimeoutError);
  });

  it("fails when the server closes in the middle of a body", async () => {
    const up = await upstream((s) => s.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"));
    await expect(up.pool.requestBuffered(call())).rejects.toBeInstanceOf(errors.SocketError);
  });

  it("fails with the system error when nothing listens", async () => {
    const up = await upstream(() => {});
    await new Promise((r) => up.server.close(r));
    const pool = new UpstreamPool(up.pool.origin);
    cleanups.push(() => pool.destroy());
    await expect(pool.requestBuffered(call())).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("still times out a request in flight after the pool starts closing, and the close completes", async () => {
    const up = await upstream(() => {});
    const pending = up.pool.requestBuffered(call({ headersTimeout: 300 }));
    await until("the request to arrive", () => up.received.length === 1);
    const closed = up.pool.close();
    await expect(pending).rejects.toBeInstanceOf(errors.HeadersTimeoutError);
    await closed;
    expect(up.pool.poolStats.connected).toBe(0);
  });

  it("cancelling aborts the request and closes its connection", async () => {
    let closed = false;
    const up = await upstream((s) => s.on("close", () => (closed = true)));
    const cancel = new Cancellation();
    const pending = up.pool.requestBuffered(call({ cancel }));
    await until("the request to arrive", () => up.received.length === 1);
    cancel.abort();
    await expect(pending).rejects.toBeInstanceOf(errors.RequestAbortedError);
    await until("the server to see the close", () => closed);
  });
});

// Budgets charge a cancelled request when the upstream may have been working on it (it bills
// what it received): the pool tells the request's cancellation (cutOffUpstream).
describe("upstream connection: what a cancel cut off", () => {
  /** Cancels a whole-body call once `ready` resolves; whether the pool called it cut off. */
  async function cancelBuffered(pool: UpstreamPool, ready: () => Promise<unknown>): Promise<boolean> {
    const cancel = new Cancellation();
    const pending = pool.requestBuffered(call({ cancel }));
    await ready();
    cancel.abort();
    await expect(pending).rejects.toBeInstanceOf(errors.RequestAbortedError);
    return cancel.cutOffUpstream;
  }

  /** Cancels a streaming call once its head (with this status) is in; whether it was cut off. */
  async function cancelStream(pool: UpstreamPool, status: number): Promise<boolean> {
    const cancel = new Cancellation();
    const res = await pool.requestStreaming(call({ cancel }));
    expect(res.statusCode).toBe(status);
    const failed = new Promise((resolve) => res.body.pipeTo({ data: () => true, end: () => resolve("ended"), error: resolve }));
    cancel.abort();
    expect(await failed).toBeInstanceOf(errors.RequestAbortedError);
    return cancel.cutOffUpstream;
  }

  it("a request the upstream has, with no answer yet: cut off", async () => {
    const up = await upstream(() => undefined, true);
    expect(await cancelBuffered(up.pool, () => until("the request to arrive", () => up.received.length === 1))).toBe(true);
  });

  it("a stream whose answer has begun: cut off", async () => {
    const up = await upstream((s) => s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nb\r\ndata: one\n\n\r\n"));
    expect(await cancelStream(up.pool, 200)).toBe(true);
  });

  it("a TLS handshake the server never finishes: not cut off (the request never left)", async () => {
    const { pool, held } = await silentTlsPool();
    cleanups.push(() => pool.destroy());
    expect(await cancelBuffered(pool, () => until("the connection to be taken", () => held.length === 1))).toBe(false);
  });

  it("an error answer still arriving: not cut off (providers do not bill those)", async () => {
    const up = await upstream((s) => s.write('HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"error":'));
    expect(await cancelStream(up.pool, 500)).toBe(false);
  });
});

describe("upstream connection: opened ahead of requests (warm)", () => {
  it("joins the idle connections once connected, and the next request takes it", async () => {
    const up = await upstream((s) => s.write(ok('{"warm":true}')));
    up.pool.warm(2);
    await until("both to connect", () => up.pool.poolStats.free === 2);
    expect(up.connections).toBe(2);
    expect(up.received).toHaveLength(0);
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"warm":true}');
    expect(up.connections).toBe(2);
  });

  it("waits no longer than the upstream's last keep-alive hint allows", async () => {
    // timeout=3 leaves 1 s (the client closes 2 s early); the sweep checks every 250 ms.
    const up = await upstream((s) => s.write(ok("{}", "keep-alive: timeout=3\r\n")));
    await up.pool.requestBuffered(call());
    up.pool.warm(2);
    await until("the warm connection", () => up.pool.poolStats.free === 2);
    await until("both idle connections to close after 1 s", () => up.pool.poolStats.connected === 0, 5_000);
  });

  it("one that cannot connect is dropped without a word", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const { port } = probe.address() as { port: number };
    await new Promise((r) => probe.close(r));
    const pool = new UpstreamPool(`http://127.0.0.1:${port}`);
    cleanups.push(() => pool.destroy());
    pool.warm(1);
    expect(pool.poolStats.warming).toBe(1);
    await until("the refused connection to go", () => pool.poolStats.warming === 0);
    expect(pool.poolStats).toMatchObject({ connected: 0, pending: 0, free: 0, running: 0 });
  });

  it("closing the pool does not wait for one still connecting", async () => {
    const { pool, held } = await silentTlsPool();
    pool.warm(1);
    await until("the connection to be taken", () => held.length === 1);
    expect(pool.poolStats.warming).toBe(1);
    const closed = await Promise.race([pool.close().then(() => "closed"), new Promise((r) => setTimeout(r, 3000, "still waiting"))]);
    expect(closed).toBe("closed");
  });
});

describe("upstream connection: TLS", () => {
  it("talks HTTPS, checks the certificate, and resumes the TLS session on a new connection", async () => {
    const up = await upstream((s, n) => s.write(ok(`{"n":${n}}`, "connection: close\r\n")), true);
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"n":0}');
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"n":1}');
    expect(up.received[0]).toContain("POST /v1/x?y=1 HTTP/1.1\r\n");
    expect(up.resumed).toEqual([false, true]);
  });

  it("streams over TLS, stopping reads while its reader is full, and reuses the connection after", async () => {
    // 60 KB: several TLS records, so several reads, each followed by a pause.
    const events = Array.from({ length: 300 }, (_, i) => `data: {"i":${i},"pad":"${"x".repeat(180)}"}\n\n`);
    const chunked = events.map((e) => `${Buffer.byteLength(e).toString(16)}\r\n${e}\r\n`).join("");
    const up = await upstream((s, n) => s.write(n === 0 ? `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${chunked}0\r\n\r\n` : ok('{"next":true}')), true);
    const res = await up.pool.requestStreaming(call());
    const got: string[] = [];
    await new Promise<void>((resolve, reject) =>
      res.body.pipeTo({
        data: (c) => {
          got.push(c.toString());
          // Full after every piece: reads stop until the reader asks again.
          setTimeout(() => res.body.resume(), 1);
          return false;
        },
        end: resolve,
        error: reject,
      }),
    );
    expect(got.join("")).toBe(events.join(""));
    expect(got.length).toBeGreaterThan(1);
    expect((await up.pool.requestBuffered(call())).body.buffer().toString()).toBe('{"next":true}');
    expect(up.connections).toBe(1);
  });

  it("refuses a certificate it cannot verify", async () => {
    const up = await upstream((s) => s.write(ok("{}")), true);
    const pool = new UpstreamPool(up.pool.origin);
    cleanups.push(() => pool.destroy());
    await expect(pool.requestBuffered(call())).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SELF_SIGNED/) });
  });
});

describe("upstream connection: the wire clock", () => {
  it("times a reply from the request leaving to the answer's last read, and keeps each exchange's own clock", async () => {
    const up = await upstream((s, n) => {
      // The first answer comes 40 ms after the request, in two reads 20 ms apart.
      if (n === 0) {
        setTimeout(() => s.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab"), 40);
        setTimeout(() => s.write("cd"), 60);
      } else s.write(ok("{}"));
    });
    const before = performance.now();
    const first = await up.pool.requestBuffered(call());
    const after = performance.now();
    const clock = first.clock;
    expect(clock).toBeDefined();
    if (!clock) return;
    expect(clock.sentAt).toBeGreaterThanOrEqual(before);
    expect(clock.readAt).toBeLessThanOrEqual(after);
    expect(clock.readAt - clock.sentAt).toBeGreaterThanOrEqual(55);
    const readAt = clock.readAt;
    // The next exchange on the same connection gets a clock of its own and leaves this one alone.
    const second = await up.pool.requestBuffered(call());
    expect(up.connections).toBe(1);
    expect(second.clock).not.toBe(clock);
    expect(clock.readAt).toBe(readAt);
    expect(second.clock?.sentAt).toBeGreaterThanOrEqual(readAt);
  });

  it("stamps a stream's clock at every read, so the wait for its first event can be read off at that event", async () => {
    let sock: Socket | undefined;
    const up = await upstream((s) => {
      sock = s;
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    });
    const res = await up.pool.requestStreaming(call());
    const clock = res.clock;
    if (!clock) throw new Error("no clock on a streaming reply");
    const atEvent: number[] = [];
    res.body.pipeTo({ data: () => atEvent.push(clock.readAt - clock.sentAt) > 0, end: () => {}, error: () => {} });
    await new Promise((r) => setTimeout(r, 30));
    sock?.write("b\r\ndata: one\n\n\r\n");
    await until("the event", () => atEvent.length === 1);
    expect(atEvent[0]).toBeGreaterThanOrEqual(25);
  });
});
