// The benchmark's streaming load client (bench/stream-load.mjs) decides "no lost chunk" for the
// performance issue, so it is tested like product code: against raw servers that cut the stream
// at awkward places, lose an event, stop before [DONE], fail, or close the connection.
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { onRequests } from "../helpers/raw-requests.js";

const CLIENT = fileURLToPath(new URL("../../bench/stream-load.mjs", import.meta.url));
const EVENTS = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n', 'data: {"n":3}\n\n', "data: [DONE]\n\n"];
const SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const wholeStream = (events: readonly string[]): string => SSE_HEAD + events.map(chunk).join("") + "0\r\n\r\n";

interface LoadResult {
  ok: number;
  all_streams: number;
  lost: number;
  http_errors: number;
  transport_errors: number;
  errors: number;
  events: number;
  streams_per_s: number;
  ttfb_ms: { p50: number | null };
  error_samples: string[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server that answers each request (head + content-length body) with `reply`. */
async function serve(reply: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => onRequests(socket, () => reply(socket)));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Writes `data` in pieces of `size` bytes, a millisecond apart. */
async function dribble(socket: Socket, data: string, size: number): Promise<void> {
  for (let i = 0; i < data.length && !socket.destroyed; i += size) {
    socket.write(data.slice(i, i + size));
    await new Promise((r) => setTimeout(r, 1));
  }
}

function load(url: string, expectEvents = EVENTS.length, warmupS = 0): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const args = [CLIENT, "--url", url, "--connections", "3", "--duration", "0.6", "--warmup", String(warmupS), "--expect", String(expectEvents), "--grace", "5"];
    execFile(process.execPath, args, (err, stdout) => {
      if (err) return reject(err);
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
      if (!line) return reject(new Error(`no summary in ${stdout}`));
      resolve(JSON.parse(line.slice(11)) as LoadResult);
    });
  });
}

describe("bench stream load client", () => {
  it("counts every event of streams cut at every awkward place, over keep-alive connections", async () => {
    const url = await serve((s) => void dribble(s, wholeStream(EVENTS), 7));
    const r = await load(url);
    expect(r.ok).toBeGreaterThan(3);
    expect(r.errors).toBe(0);
    expect(r.events).toBe(r.ok * EVENTS.length);
    expect(r.ttfb_ms.p50).not.toBeNull();
  });

  it("counts the warm-up's streams apart: not measured, but in all_streams (CPU per stream divides by it)", async () => {
    const url = await serve((s) => void s.write(wholeStream(EVENTS)));
    const r = await load(url, EVENTS.length, 0.4);
    expect(r.ok).toBeGreaterThan(3);
    expect(r.errors).toBe(0);
    // Streams of the 0.4 s warm-up ended too; they are not in ok, but they cost the same CPU.
    expect(r.all_streams).toBeGreaterThan(r.ok);
  });

  it("counts a stream that lost an event as lost", async () => {
    const url = await serve((s) => s.write(wholeStream([EVENTS[0], EVENTS[2], EVENTS[3]] as string[])));
    const r = await load(url);
    expect(r.ok).toBe(0);
    expect(r.lost).toBeGreaterThan(0);
    expect(r.error_samples[0]).toBe("stream with 3 events (expected 4)");
  });

  it("counts a stream that ends without [DONE] as lost, even with the right number of events", async () => {
    const url = await serve((s) => s.write(wholeStream([...EVENTS.slice(0, 3), 'data: {"n":4}\n\n'])));
    const r = await load(url);
    expect(r.ok).toBe(0);
    expect(r.lost).toBeGreaterThan(0);
  });

  it("counts error statuses and connections closed mid-stream as errors", async () => {
    const failing = await serve((s) => s.write('HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"error":1}'));
    const r = await load(failing);
    expect(r.ok).toBe(0);
    expect(r.http_errors).toBeGreaterThan(0);
    expect(r.error_samples[0]).toBe("HTTP 502");

    const cut = await serve((s) => s.end(SSE_HEAD + chunk(EVENTS[0] as string)));
    const c = await load(cut);
    expect(c.ok).toBe(0);
    expect(c.transport_errors).toBeGreaterThan(0);
  });
});
