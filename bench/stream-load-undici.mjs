#!/usr/bin/env node
// The previous streaming load client, on undici (`npm run bench -- --stream-client undici`). It
// costs more CPU per stream than bench/stream-load.mjs (about 490 against 300 µs at 1000
// connections), CPU taken from the proxies it measures on a 2-core machine; it is kept to compare
// the two. Same flags and output as stream-load.mjs (bench/lib/stream-run.mjs).
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { CHAT_STREAM_BODY, DONE, StreamRun, streamOptions } from "./lib/stream-run.mjs";

const opts = streamOptions();
const run = new StreamRun(opts);
const HEADERS = { "content-type": "application/json" };
const pool = new Pool(opts.url, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });

/** Counts "\n\n" event terminators across chunk boundaries. */
function countEvents(buf, prevEndsWithNl) {
  let n = 0;
  if (prevEndsWithNl && buf.length > 0 && buf[0] === 10) n++;
  let i = buf.indexOf("\n\n");
  while (i >= 0) {
    n++;
    i = buf.indexOf("\n\n", i + 2);
  }
  return n;
}

async function oneStream() {
  const t0 = performance.now();
  const counted = run.measuring;
  if (counted) run.stats.started++;
  let first = -1;
  let events = 0;
  let bytes = 0;
  let endsNl = false;
  let tail = Buffer.alloc(0);
  try {
    const { statusCode, body } = await pool.request({ path: opts.path, method: "POST", headers: HEADERS, body: CHAT_STREAM_BODY });
    if (statusCode === 200) {
      await new Promise((resolve, reject) => {
        body.on("data", (chunk) => {
          if (first < 0) first = performance.now();
          events += countEvents(chunk, endsNl);
          bytes += chunk.length;
          endsNl = chunk[chunk.length - 1] === 10;
          tail = chunk.length >= DONE.length ? chunk : Buffer.concat([tail, chunk]).subarray(-DONE.length);
        });
        body.on("end", resolve);
        body.on("error", reject);
      });
    } else await body.dump();
    const endsWithDone = tail.subarray(-DONE.length).equals(DONE);
    run.finished({ status: statusCode, events, bytes, endsWithDone, t0, first, t1: performance.now() }, counted);
  } catch (err) {
    run.failed(err, counted);
  }
}

async function loop() {
  while (run.running) await oneStream();
}

await run.run(loop, { client: "undici" });
await pool.destroy();
process.exit(0);
