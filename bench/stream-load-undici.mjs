#!/usr/bin/env node
// The previous streaming load client, on undici (`npm run bench -- --stream-client undici`). It
// costs 3-4x the CPU per stream of bench/stream-load.mjs, CPU taken from the proxies it measures
// on a 2-core machine; it is kept to compare the two. Same flags and output as stream-load.mjs.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string", default: "/v1/chat/completions" },
    connections: { type: "string", default: "100" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "0" },
    expect: { type: "string", default: "0" },
    "grace": { type: "string", default: "30" },
  },
});

const N = Number(values.connections);
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const expect = Number(values.expect);
const graceMs = Number(values.grace) * 1000;
const BODY = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Explain in one paragraph what an AI gateway does." },
  ],
  max_tokens: 256,
  temperature: 0.7,
  stream: true,
});
const HEADERS = { "content-type": "application/json" };
const DONE = Buffer.from("data: [DONE]\n\n");

const pool = new Pool(values.url, { connections: N, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });

let measuring = false;
let stopAt = Infinity;
const ttfb = [];
const total = [];
const stats = { started: 0, completed: 0, ok: 0, http_errors: 0, transport_errors: 0, lost: 0, events: 0, bytes: 0 };
const errorSamples = [];

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
  const counted = measuring;
  if (counted) stats.started++;
  let first = -1;
  let events = 0;
  let bytes = 0;
  let endsNl = false;
  let tail = Buffer.alloc(0);
  try {
    const { statusCode, body } = await pool.request({ path: values.path, method: "POST", headers: HEADERS, body: BODY });
    if (statusCode !== 200) {
      await body.dump();
      if (counted) {
        stats.completed++;
        stats.http_errors++;
        if (errorSamples.length < 5) errorSamples.push(`HTTP ${statusCode}`);
      }
      return;
    }
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
    const t1 = performance.now();
    if (!counted) return;
    stats.completed++;
    stats.events += events;
    stats.bytes += bytes;
    const complete = (expect === 0 || events === expect) && tail.subarray(-DONE.length).equals(DONE);
    if (!complete) {
      stats.lost++;
      if (errorSamples.length < 5) errorSamples.push(`stream with ${events} events (expected ${expect})`);
      return;
    }
    stats.ok++;
    ttfb.push(first - t0);
    total.push(t1 - t0);
  } catch (err) {
    if (counted) {
      stats.completed++;
      stats.transport_errors++;
      if (errorSamples.length < 5) errorSamples.push(String(err?.code ?? err?.message ?? err));
    }
  }
}

async function loop() {
  while (performance.now() < stopAt) await oneStream();
}

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return +sorted[i].toFixed(2);
}

const tStart = performance.now();
stopAt = tStart + warmupMs + durationMs;
if (warmupMs > 0) setTimeout(() => (measuring = true), warmupMs);
else measuring = true;
let tMeasure = tStart + warmupMs;
const loops = [];
for (let i = 0; i < N; i++) loops.push(loop());
const all = Promise.all(loops);
const finished = await Promise.race([all.then(() => true), sleep(warmupMs + durationMs + graceMs).then(() => false)]);
const tEnd = performance.now();
const elapsedS = (tEnd - tMeasure) / 1000;
ttfb.sort((a, b) => a - b);
total.sort((a, b) => a - b);
const result = {
  connections: N,
  duration_s: +elapsedS.toFixed(3),
  expected_events: expect,
  ...stats,
  unfinished: finished ? 0 : stats.started - stats.completed,
  errors: stats.http_errors + stats.transport_errors + stats.lost + (finished ? 0 : stats.started - stats.completed),
  streams_per_s: +(stats.ok / elapsedS).toFixed(1),
  events_per_s: +(stats.events / elapsedS).toFixed(0),
  ttfb_ms: { p50: pct(ttfb, 50), p90: pct(ttfb, 90), p99: pct(ttfb, 99), max: pct(ttfb, 100) },
  total_ms: { p50: pct(total, 50), p90: pct(total, 90), p99: pct(total, 99), max: pct(total, 100) },
  error_samples: errorSamples,
};
process.stdout.write(`BENCH_JSON ${JSON.stringify(result)}\n`);
await pool.destroy();
process.exit(0);
