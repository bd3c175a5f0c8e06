#!/usr/bin/env node
// A/B of two gateway builds (or one build with two settings) in one run: both gateways run side by
// side against one mock and take turns (A B, B A, A B, ...) under the same load, so machine noise
// falls on both alike. Per round: rate, p99 and the gateway's CPU per request (or per stream)
// from /proc; at the end the median CPU, every rate, and each gateway's peak RSS.
//
//   node bench/ab.mjs --a /path/to/old/dist --b dist --kind unary --connections 1000 --rounds 6
//   node bench/ab.mjs --a dist --b dist --b-env FERROGW_HEAP_GROWTH=0 --kind stream
//   node bench/ab.mjs --a dist --b dist --b-node-flag=--single-threaded-gc
//   node bench/ab.mjs --a OLD/dist --b dist --wrk-script bench/wrk-long-chat.lua   # 17 KB requests
//   node bench/ab.mjs --a OLD/dist --b dist --kind overhead --connections 50 --plugins   # the plugin set
//   node bench/ab.mjs --a dist --b dist --upstream-tls   # the mock serves HTTPS, as real providers do
//   node bench/ab.mjs --a dist --b dist --b-upstream-tls # what HTTPS to the provider costs: A plain, B HTTPS
//
// --kind unary (wrk), stream (bench/stream-load.mjs) or overhead (X-Gateway-Overhead-Ms p50 as
// the rate column). Build an older commit with: git worktree add /tmp/old <rev> && cd /tmp/old &&
// ln -s "$PWD/../<repo>/node_modules" node_modules && npx tsc -p tsconfig.build.json
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { clearInterval, setInterval } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { request } from "undici";
import { cpuMicros, freePort, rssKb } from "./lib/procs.mjs";

const run = promisify(execFile);
const BENCH = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string" },
    "a-env": { type: "string", multiple: true, default: [] },
    "b-env": { type: "string", multiple: true, default: [] },
    // Node/V8 command-line flags for one side (V8's GC flags are not accepted in NODE_OPTIONS).
    "a-node-flag": { type: "string", multiple: true, default: [] },
    "b-node-flag": { type: "string", multiple: true, default: [] },
    kind: { type: "string", default: "unary" },
    // unary only: the wrk script that sends the request (bench/wrk-long-chat.lua: a 17 KB conversation)
    "wrk-script": { type: "string", default: join(BENCH, "wrk-chat.lua") },
    connections: { type: "string", default: "1000" },
    rounds: { type: "string", default: "4" },
    duration: { type: "string", default: "6" },
    workers: { type: "string", default: "2" },
    // both gateways with the product brief's plugin set (bench/plugins.yaml)
    plugins: { type: "boolean", default: false },
    // the mock serves HTTPS with the test certificate, which the gateways trust (NODE_EXTRA_CA_CERTS):
    // for both gateways, or for B only (B then calls a second mock, the same but over HTTPS)
    "upstream-tls": { type: "boolean", default: false },
    "b-upstream-tls": { type: "boolean", default: false },
  },
});
if (!opt.a || !opt.b) {
  process.stderr.write("usage: node bench/ab.mjs --a DIST --b DIST [--kind unary|stream|overhead] [--connections N] [--rounds R] [--duration S] [--workers W] [--a-env K=V] [--b-env K=V] [--a-node-flag=F] [--b-node-flag=F] [--plugins] [--wrk-script FILE] [--upstream-tls | --b-upstream-tls]\n");
  process.exit(2);
}

if (opt["upstream-tls"] && opt["b-upstream-tls"]) {
  process.stderr.write("--upstream-tls (both over HTTPS) and --b-upstream-tls (B only) are alternatives\n");
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), "ferrogw-ab-"));
const TLS_DIR = join(BENCH, "..", "test", "helpers", "tls");
const MOCK = join(BENCH, "..", "dist-bench", "bench", "mock-main.js");
const MOCK_ARGS = ["--latency", "60", "--chunks", "20", "--chunk-delay", "5", "--mode", "raw"];
const TLS_ARGS = ["--tls", `${join(TLS_DIR, "cert.pem")},${join(TLS_DIR, "key.pem")}`];
const mockPort = await freePort();
const mock = spawn(process.execPath, [MOCK, "--port", String(mockPort), ...MOCK_ARGS, ...(opt["upstream-tls"] ? TLS_ARGS : [])], { stdio: "ignore" });
const bTlsPort = opt["b-upstream-tls"] ? await freePort() : undefined;
const bTlsMock = bTlsPort === undefined ? undefined : spawn(process.execPath, [MOCK, "--port", String(bTlsPort), ...MOCK_ARGS, ...TLS_ARGS], { stdio: "ignore" });
const plugins = opt.plugins ? readFileSync(join(BENCH, "plugins.yaml"), "utf8") : "";
function writeConfig(name, baseUrl) {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, `strategy: { mode: single }\ntargets: [{ virtual_key: openai }]\nproviders:\n  openai:\n    base_url: ${baseUrl}\n    api_key: sk-bench-not-a-real-key-0000\n${plugins}`);
  return file;
}
const mainUrl = `${opt["upstream-tls"] ? "https" : "http"}://127.0.0.1:${mockPort}/v1`;
const configs = { A: writeConfig("A", mainUrl), B: writeConfig("B", bTlsPort === undefined ? mainUrl : `https://127.0.0.1:${bTlsPort}/v1`) };

const children = bTlsMock ? [mock, bTlsMock] : [mock];
const killAll = () => {
  for (const p of children) if (p.exitCode === null) p.kill("SIGTERM");
};
process.on("exit", killAll);

async function startGateway(name, dist, envPairs, nodeFlags) {
  const port = await freePort();
  const trust = opt["upstream-tls"] || opt["b-upstream-tls"] ? { NODE_EXTRA_CA_CERTS: join(TLS_DIR, "cert.pem") } : {};
  const env = { ...process.env, LOG_LEVEL: "warn", ...trust, ...Object.fromEntries(envPairs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])) };
  const proc = spawn(process.execPath, [...nodeFlags, join(resolve(dist), "cli", "main.js"), "serve", "--config", configs[name], "--port", String(port), "--host", "127.0.0.1", "--workers", opt.workers], { stdio: "ignore", env, cwd: mkdtempSync(join(tmp, `${name}-`)) });
  children.push(proc);
  for (let i = 0; i < 200; i++) {
    try {
      const res = await request(`http://127.0.0.1:${port}/health`);
      await res.body.dump();
      if (res.statusCode === 200) return { name, proc, port, rounds: [], peakKb: 0 };
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`gateway ${name} did not start`);
}

async function load(port) {
  const url = `http://127.0.0.1:${port}`;
  if (opt.kind === "overhead") {
    const { stdout } = await run(process.execPath, [join(BENCH, "overhead-load.mjs"), "--url", url, "--connections", opt.connections, "--duration", opt.duration]);
    const j = JSON.parse(stdout.split("BENCH_JSON ")[1]);
    return { n: j.requests, rate: j.overhead_us.p50, p99: j.overhead_us.p99 };
  }
  if (opt.kind === "stream") {
    const { stdout } = await run(process.execPath, [join(BENCH, "stream-load.mjs"), "--url", url, "--connections", opt.connections, "--duration", opt.duration, "--warmup", "1"], { maxBuffer: 1 << 24 });
    const j = JSON.parse(stdout.split("BENCH_JSON ")[1]);
    // every stream of the run, warm-up included: the CPU sampled around load() went into all of them
    return { n: j.all_streams, rate: j.streams_per_s, p99: j.total_ms.p99 };
  }
  // p99: the latency distribution's own line, not a "…99%" in the thread-stats columns.
  const { stdout } = await run("wrk", ["-t2", `-c${opt.connections}`, `-d${opt.duration}s`, "--timeout", "10s", "--latency", "-s", resolve(opt["wrk-script"]), `${url}/v1/chat/completions`]);
  return { n: Number(/(\d+) requests in/.exec(stdout)?.[1]), rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]), p99: /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] };
}

const gws = [await startGateway("A", opt.a, opt["a-env"], opt["a-node-flag"]), await startGateway("B", opt.b, opt["b-env"], opt["b-node-flag"])];
const sampler = setInterval(() => {
  for (const g of gws) g.peakKb = Math.max(g.peakKb, rssKb(g.proc.pid));
}, 200);
try {
  await sleep(500);
  for (let r = 0; r < Number(opt.rounds); r++) {
    for (const g of r % 2 === 0 ? gws : [...gws].reverse()) {
      const c0 = cpuMicros(g.proc.pid);
      const x = await load(g.port);
      const cpu = Math.round((cpuMicros(g.proc.pid) - c0) / Math.max(1, x.n));
      g.rounds.push({ ...x, cpu });
      process.stdout.write(`${g.name} round ${r + 1}: rate ${x.rate}  p99 ${x.p99}  cpu ${cpu} µs/${opt.kind === "stream" ? "stream" : "request"}\n`);
    }
  }
  for (const g of gws) {
    const cpus = g.rounds.map((x) => x.cpu).sort((p, q) => p - q);
    process.stdout.write(`${g.name}: median cpu ${cpus[Math.floor(cpus.length / 2)]} µs, rates ${g.rounds.map((x) => x.rate).join(" ")}, peak RSS ${Math.round(g.peakKb / 1024)} MB\n`);
  }
} finally {
  clearInterval(sampler);
  killAll();
}
