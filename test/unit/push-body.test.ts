// Streaming upstream bodies (src/upstream/push-body.ts) through the real pool and a local HTTP
// server: chunks in order, early chunks kept, backpressure that really stops upstream reads,
// cancellation by the reader or the client, and the async-iterator and text() views.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Cancellation } from "../../src/server/cancellation.js";
import { UpstreamPool } from "../../src/upstream/pool.js";
import { PushBody } from "../../src/upstream/push-body.js";

const servers: Server[] = [];
const pools: UpstreamPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<UpstreamPool> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const pool = new UpstreamPool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  pools.push(pool);
  return pool;
}

/** An upstream that writes `total` bytes as fast as its socket takes them; serverBlocked(): it had to wait. */
async function flooding(total: number): Promise<{ pool: UpstreamPool; serverBlocked: () => boolean }> {
  let blocked = false;
  const pool = await upstream((_req, res) => {
    res.writeHead(200);
    const block = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += block.length;
        if (!res.write(block)) {
          blocked = true;
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  return { pool, serverBlocked: () => blocked };
}

const call = (cancel = new Cancellation()) => ({ path: "/", method: "GET" as const, headers: {}, body: undefined, cancel, headersTimeout: 5000, bodyTimeout: 5000 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function collect(body: PushBody): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    body.pipeTo({ data: (c) => got.push(c.toString()) > 0, end: () => resolve(got), error: reject });
  });
}

describe("PushBody through the pool", () => {
  it("delivers chunks in order as they arrive, then ends", async () => {
    const pool = await upstream(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (let i = 0; i < 5; i++) {
        res.write(`data: ${i}\n\n`);
        await sleep(10);
      }
      res.end();
    });
    const reply = await pool.requestStreaming(call());
    expect(reply.statusCode).toBe(200);
    expect(reply.headers["content-type"]).toBe("text/event-stream");
    expect((await collect(reply.body)).join("")).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
  });

  it("keeps what arrived before anyone read it (text())", async () => {
    const pool = await upstream((_req, res) => res.end("early bytes"));
    const reply = await pool.requestStreaming(call());
    await sleep(50);
    expect(await reply.body.text()).toBe("early bytes");
  });

  it("a small body read before anyone attaches does not hold the connection", async () => {
    const pool = await upstream(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 0\n\n");
      await sleep(10);
      res.end("data: 1\n\n");
    });
    const reply = await pool.requestStreaming(call());
    // Nobody reads for a while: the upstream's answer is still read to the end, and its
    // connection is free for the next request.
    await expect.poll(() => pool.poolStats.free).toBe(1);
    expect((await collect(reply.body)).join("")).toBe("data: 0\n\ndata: 1\n\n");
  });

  it("a large body nobody reads yet stops upstream reads until it is read", async () => {
    const total = 16 * 1024 * 1024;
    const { pool, serverBlocked } = await flooding(total);
    const reply = await pool.requestStreaming(call());
    await expect.poll(serverBlocked).toBe(true);
    await sleep(100);
    expect(pool.poolStats.running).toBe(1);
    let received = 0;
    await new Promise<void>((resolve, reject) =>
      reply.body.pipeTo({
        data: (c) => (received += c.length) > 0,
        end: resolve,
        error: reject,
      }),
    );
    expect(received).toBe(total);
  });

  it("backpressure: a sink that says false stops upstream reads until resume()", async () => {
    const total = 64 * 1024 * 1024;
    const { pool, serverBlocked } = await flooding(total);
    const reply = await pool.requestStreaming(call());
    let received = 0;
    let paused = true;
    const done = new Promise<void>((resolve, reject) =>
      reply.body.pipeTo({
        data: (c) => {
          received += c.length;
          return !paused;
        },
        end: resolve,
        error: reject,
      }),
    );
    await sleep(300);
    // Paused after the first chunk: the server's socket filled up and it had to wait.
    expect(serverBlocked()).toBe(true);
    expect(received).toBeLessThan(total / 4);
    paused = false;
    reply.body.resume();
    await done;
    expect(received).toBe(total);
  });

  it("breaking out of async iteration cancels the upstream request", async () => {
    let closedEarly = false;
    const pool = await upstream((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("tick\n"), 5);
      res.on("close", () => {
        clearInterval(timer);
        closedEarly = !res.writableEnded;
      });
    });
    const reply = await pool.requestStreaming(call());
    let n = 0;
    for await (const chunk of reply.body) {
      expect(chunk.toString()).toContain("tick");
      if (++n === 3) break;
    }
    await expect.poll(() => closedEarly).toBe(true);
  });

  it("cancelling mid-body (the client went away) fails the body", async () => {
    const pool = await upstream((_req, res) => {
      res.writeHead(200);
      res.write("first\n");
    });
    const ac = new Cancellation();
    const reply = await pool.requestStreaming(call(ac));
    const read = collect(reply.body);
    await sleep(30);
    ac.abort();
    await expect(read).rejects.toThrow(/aborted/i);
  });

  it("PushBody.from adapts any body (an exchange's in-memory reply)", async () => {
    const source = {
      text: () => Promise.resolve("ab"),
      arrayBuffer: () => Promise.resolve(new ArrayBuffer(0)),
      async *[Symbol.asyncIterator]() {
        yield Buffer.from("a");
        await sleep(5);
        yield Buffer.from("b");
      },
    };
    expect(await collect(PushBody.from(source))).toEqual(["a", "b"]);
    const own = new PushBody();
    expect(PushBody.from(own)).toBe(own);
  });
});
