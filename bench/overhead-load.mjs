#!/usr/bin/env node
// In-process overhead: sends non-streaming chat requests over N keep-alive connections for a
// bounded time and collects the gateway's X-Gateway-Overhead-Ms header (time inside the gateway,
// upstream time excluded). Prints one JSON line: BENCH_JSON {...} with p50/p90/p99 in µs.
//   node bench/overhead-load.mjs --url http://127.0.0.1:8080 --connections 50 --duration 10
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { chatRequestBody } from "./lib/stream-run.mjs";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string", default: "/v1/chat/completions" },
    connections: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    stream: { type: "boolean", default: false },
  },
});

const N = Number(values.connections);
const BODY = chatRequestBody(values.stream);
const HEADERS = { "content-type": "application/json" };
const pool = new Pool(values.url, { connections: N, pipelining: 1 });

const samples = [];
let errors = 0;
let missing = 0;
let measuring = false;
const t0 = performance.now();
const warmupMs = Number(values.warmup) * 1000;
const stopAt = t0 + warmupMs + Number(values.duration) * 1000;
setTimeout(() => (measuring = true), warmupMs);

async function loop() {
  while (performance.now() < stopAt) {
    try {
      const { statusCode, headers, body } = await pool.request({ path: values.path, method: "POST", headers: HEADERS, body: BODY });
      await body.dump();
      if (!measuring) continue;
      if (statusCode !== 200) {
        errors++;
        continue;
      }
      const h = headers["x-gateway-overhead-ms"];
      if (typeof h !== "string") {
        missing++;
        continue;
      }
      samples.push(Number(h) * 1000);
    } catch {
      if (measuring) errors++;
    }
  }
}

await Promise.all(Array.from({ length: N }, loop));
samples.sort((a, b) => a - b);
const pct = (p) => (samples.length ? +samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)].toFixed(1) : null);
const mean = samples.length ? +(samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(1) : null;
process.stdout.write(
  `BENCH_JSON ${JSON.stringify({ connections: N, requests: samples.length, errors, missing_header: missing, overhead_us: { p50: pct(50), p90: pct(90), p99: pct(99), mean, max: pct(100) } })}\n`,
);
await pool.destroy();
process.exit(0);
