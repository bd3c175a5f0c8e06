#!/usr/bin/env node
// Streaming load client (wrk cannot count SSE events): keeps N chat-completion streams open in a
// closed loop for a bounded time, one keep-alive connection each, counts the SSE events of every
// stream (each must equal --expect and end with [DONE]: "no lost chunk"), and measures time to
// first body byte and total time per stream. Prints one JSON line: BENCH_JSON {...}.
//   node bench/stream-load.mjs --url http://127.0.0.1:8080 --connections 1000 --duration 15 --expect 23
//
// It speaks HTTP/1.1 on raw sockets, like wrk, because on a 2-core machine every microsecond the
// load client spends is taken from the proxy it measures: the undici client this replaced
// (bench/stream-load-undici.mjs) cost several times the CPU per stream of the proxies under test.
// Reads land in one shared buffer (`onread`); chunked framing is decoded in place and events are
// counted by their "\n\n" terminators without copying the data.
import net from "node:net";
import { performance } from "node:perf_hooks";
import { CHAT_STREAM_BODY, DONE, StreamRun, streamOptions } from "./lib/stream-run.mjs";

const opts = streamOptions();
const target = new URL(opts.url);
const HOST = target.hostname;
const PORT = Number(target.port || 80);
const REQUEST = Buffer.from(
  `POST ${opts.path} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(CHAT_STREAM_BODY)}\r\n\r\n${CHAT_STREAM_BODY}`,
);
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const LF = 10;
const run = new StreamRun(opts);

// Response parser states.
const IDLE = 0;
const HEAD = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_DATA_END = 4;
const TRAILERS = 5;
const LENGTH_BODY = 6;
const UNTIL_CLOSE = 7;

class StreamClient {
  socket = undefined;
  state = IDLE;
  head = "";
  status = 0;
  keepAlive = true;
  remaining = 0; // bytes left in the current chunk or content-length body
  sizeLine = "";
  trailerLine = 0; // length of the trailer line being read, to see the blank one
  counted = false;
  t0 = 0;
  first = -1;
  events = 0;
  bytes = 0;
  lastWasLf = false;
  tail = Buffer.alloc(DONE.length);
  tailLen = 0;
  onDone = undefined;
  error = undefined;

  connect() {
    return new Promise((resolve) => {
      const socket = net.connect({
        host: HOST,
        port: PORT,
        noDelay: true,
        onread: { buffer: READ_BUFFER, callback: (n, buf) => this.read(buf, n) },
      });
      this.socket = socket;
      socket.once("connect", () => resolve(true));
      socket.on("error", (err) => {
        this.error = err;
      });
      socket.on("close", () => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        if (this.state === UNTIL_CLOSE) this.finish();
        else if (this.state !== IDLE) this.fail(this.error ?? new Error("connection closed mid-response"));
        resolve(false);
      });
    });
  }

  /** One stream; resolves when its response has been read to the end (or failed). */
  async run() {
    if (!this.socket && !(await this.connect())) {
      this.begin();
      this.fail(this.error ?? new Error("connect failed"));
      return;
    }
    await new Promise((resolve) => {
      this.onDone = resolve;
      this.begin();
      this.socket.write(REQUEST);
    });
  }

  begin() {
    this.counted = run.measuring;
    if (this.counted) run.stats.started++;
    this.t0 = performance.now();
    this.state = HEAD;
    this.head = "";
    this.first = -1;
    this.events = 0;
    this.bytes = 0;
    this.lastWasLf = false;
    this.tailLen = 0;
    this.error = undefined;
  }

  read(buf, n) {
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case HEAD: {
          const before = this.head.length;
          this.head += buf.latin1Slice(i, n);
          const end = this.head.indexOf("\r\n\r\n");
          if (end < 0) {
            i = n;
            break;
          }
          i += end + 4 - before;
          this.parseHead(this.head.slice(0, end));
          break;
        }
        case CHUNK_SIZE: {
          const lf = buf.indexOf(LF, i);
          if (lf < 0 || lf >= n) {
            this.sizeLine += buf.latin1Slice(i, n);
            i = n;
            break;
          }
          const line = this.sizeLine + buf.latin1Slice(i, lf);
          this.sizeLine = "";
          i = lf + 1;
          const size = parseInt(line, 16);
          if (Number.isNaN(size)) return this.abort(new Error(`bad chunk size line ${JSON.stringify(line)}`));
          if (size === 0) {
            this.state = TRAILERS;
            this.trailerLine = 0;
          } else {
            this.remaining = size;
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA:
        case LENGTH_BODY:
        case UNTIL_CLOSE: {
          const end = this.state === UNTIL_CLOSE ? n : Math.min(n, i + this.remaining);
          this.body(buf, i, end);
          this.remaining -= end - i;
          i = end;
          if (this.remaining === 0) {
            if (this.state === CHUNK_DATA) {
              this.state = CHUNK_DATA_END;
              this.remaining = 2;
            } else if (this.state === LENGTH_BODY) this.finish();
          }
          break;
        }
        case CHUNK_DATA_END: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = CHUNK_SIZE;
          break;
        }
        case TRAILERS: {
          // Trailer lines until a blank one; the final CRLF ends the response.
          const lf = buf.indexOf(LF, i);
          if (lf < 0 || lf >= n) {
            this.trailerLine += n - i;
            i = n;
            break;
          }
          const lineLength = this.trailerLine + (lf - i);
          i = lf + 1;
          this.trailerLine = 0;
          if (lineLength <= 1) this.finish();
          break;
        }
        default:
          // Bytes with no request outstanding: the server broke the protocol.
          return this.abort(new Error("unexpected bytes between responses"));
      }
    }
  }

  parseHead(head) {
    this.status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    this.keepAlive = !/\r\nconnection:\s*close/.test(lower);
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      this.state = CHUNK_SIZE;
      this.sizeLine = "";
      return;
    }
    const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (length) {
      this.remaining = Number(length[1]);
      this.state = LENGTH_BODY;
      if (this.remaining === 0) this.finish();
    } else {
      this.keepAlive = false;
      this.state = UNTIL_CLOSE;
    }
  }

  /** Body bytes buf[from, to): counts event terminators and keeps the last bytes for [DONE]. */
  body(buf, from, to) {
    if (from === to) return;
    if (this.first < 0) this.first = performance.now();
    this.bytes += to - from;
    let at = buf.indexOf(LF, from);
    if (this.lastWasLf && buf[from] === LF) {
      this.events++;
      at = buf.indexOf(LF, from + 1);
    }
    while (at >= 0 && at < to) {
      if (at + 1 < to && buf[at + 1] === LF) {
        this.events++;
        at = buf.indexOf(LF, at + 2);
      } else at = buf.indexOf(LF, at + 1);
    }
    this.lastWasLf = buf[to - 1] === LF;
    // The last DONE.length bytes of the body so far.
    const len = to - from;
    if (len >= DONE.length) {
      buf.copy(this.tail, 0, to - DONE.length, to);
      this.tailLen = DONE.length;
    } else {
      const keep = Math.min(this.tailLen, DONE.length - len);
      this.tail.copy(this.tail, 0, this.tailLen - keep, this.tailLen);
      buf.copy(this.tail, keep, from, to);
      this.tailLen = keep + len;
    }
  }

  finish() {
    const t1 = performance.now();
    this.state = IDLE;
    if (!this.keepAlive) this.drop();
    const endsWithDone = this.tailLen === DONE.length && this.tail.equals(DONE);
    run.finished({ status: this.status, events: this.events, bytes: this.bytes, endsWithDone, t0: this.t0, first: this.first, t1 }, this.counted);
    this.settle();
  }

  fail(err) {
    this.state = IDLE;
    run.failed(err, this.counted);
    this.settle();
  }

  abort(err) {
    this.drop();
    this.fail(err);
  }

  drop() {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  settle() {
    const done = this.onDone;
    this.onDone = undefined;
    done?.();
  }
}

async function loop() {
  const client = new StreamClient();
  while (run.running) {
    await client.run();
    // A refused or reset connection is retried after a pause, not in a tight loop.
    if (!client.socket) await new Promise((r) => setTimeout(r, 10));
  }
  client.drop();
}

await run.run(loop, { client: "raw" });
process.exit(0);
