#!/usr/bin/env node
// `npm run bench` — the product brief's benchmark method, reproduced on this machine:
//   a fixed-latency mock upstream (60 ms, keep-alive, ~630-byte chat.completion body, and a
//   20-chunk stream 5 ms apart) in its own process; load from wrk at 50/150/300/500/1000
//   connections, each level for a bounded time, sent in the same run (1) directly to the mock
//   (the ceiling), (2) through nginx as a plain reverse proxy (what a proxy costs here) and
//   (3) through ferrogw; RPS, p50, p99, errors, the gateway's peak RSS and CPU µs per request,
//   and the gateway's RPS as a ratio of both. At the highest level, also through a Node TCP relay
//   with no HTTP (bench/tcp-relay.mjs): the least any Node proxy costs on the machine. Then streaming (own load client: streams/s, TTFB,
//   lost chunks), long conversations (17 KB requests) at the highest level, and the in-process
//   overhead header, bare and with the plugin set.
//
//   npm run bench                 full mode (the numbers in BENCHMARKS.md; ~8 minutes)
//   npm run bench -- --quick      a few seconds per level, for development
//   npm run bench -- --profile    run the gateway under --cpu-prof at one level and print the
//                                 top self-time functions (see BENCHMARKS.md)
// Other flags: --profile-kinds unary,stream,long (what --profile loads) --levels 50,150 --stream-levels 100,1000 --duration S --warmup S --workers N
// (gateway workers; default = cores) --mock-workers N --only unary,stream,long,overhead
// --stream-client raw|undici (the streaming load client; undici is the old, heavier one)
// Results: bench/results/<timestamp>.json and .md (gitignored).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { request } from "undici";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { nginxConfig } from "./lib/nginx.mjs";
import { formatSummary, summarise } from "./lib/profile.mjs";
import { freePort, runCommand, startProcess, stopProcess, TreeSampler, waitFor } from "./lib/procs.mjs";
import { markdownReport, evaluateTargets } from "./lib/report.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BENCH = join(ROOT, "bench");
const GATEWAY_BIN = join(ROOT, "dist", "cli", "main.js");
const MOCK_BIN = join(ROOT, "dist-bench", "bench", "mock-main.js");

const { values: opt } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    levels: { type: "string" },
    "stream-levels": { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    workers: { type: "string" },
    "mock-workers": { type: "string", default: "1" },
    "mock-mode": { type: "string", default: "raw" },
    "stream-client": { type: "string", default: "raw" },
    "load-threads": { type: "string", default: "2" },
    only: { type: "string", default: "unary,stream,long,overhead" },
    targets: { type: "string", default: "direct,nginx,relay,gateway" },
    "profile-level": { type: "string", default: "1000" },
    "profile-kinds": { type: "string", default: "unary,stream" },
    tries: { type: "string" },
    "foreign-max": { type: "string", default: "0.15" },
  },
});

const quick = opt.quick;
const cfg = {
  mode: opt.profile ? "profile" : quick ? "quick" : "full",
  levels: (opt.levels ?? "50,150,300,500,1000").split(",").map(Number),
  streamLevels: (opt["stream-levels"] ?? "100,1000").split(",").map(Number),
  durationS: Number(opt.duration ?? (quick ? 4 : 15)),
  warmupS: Number(opt.warmup ?? (quick ? 1 : 3)),
  overheadS: quick ? 4 : 10,
  workers: Number(opt.workers ?? availableParallelism()),
  mockWorkers: Number(opt["mock-workers"]),
  mockMode: opt["mock-mode"],
  streamClient: opt["stream-client"],
  loadThreads: Number(opt["load-threads"]),
  latencyMs: 60,
  chunks: 20,
  chunkDelayMs: 5,
  overheadConnections: 50,
  only: new Set(opt.only.split(",")),
  // A run during which other processes on the machine used more than foreignMax cores is
  // repeated (up to `tries` times in all) and the least disturbed one is kept.
  tries: Number(opt.tries ?? (quick ? 1 : 3)),
  foreignMax: Number(opt["foreign-max"]),
  targets: opt.targets.split(","),
};

const log = (msg) => process.stdout.write(`${msg}\n`);

// ---- setup -------------------------------------------------------------------------------

const setup = await runCommand("bash", [join(BENCH, "setup.sh")]);
if (setup.code !== 0) {
  process.stderr.write(setup.stderr);
  process.stderr.write("bench: wrk and nginx are needed; bench/setup.sh could not provide them (see above).\n");
  process.exit(1);
}
const tools = Object.fromEntries(
  setup.stdout
    .trim()
    .split("\n")
    .map((l) => l.split("="))
    .map(([k, ...v]) => [k, v.join("=")]),
);
for (const [bin, hint] of [
  [GATEWAY_BIN, "npm run build"],
  [MOCK_BIN, "npx tsc -p tsconfig.bench.json"],
]) {
  if (!existsSync(bin)) {
    process.stderr.write(`bench: ${bin} is missing; run '${hint}' (npm run bench does both)\n`);
    process.exit(1);
  }
}

const tmp = mkdtempSync(join(tmpdir(), "ferrogw-bench-"));
const resultsDir = join(BENCH, "results");
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: availableParallelism(),
  memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
  kernel: release(),
  node: process.version,
  wrk: tools.wrk,
  nginx: tools.nginx_version,
};
log(`ferrogw bench (${cfg.mode}) on ${machine.cores} × ${machine.cpu}, ${machine.memory_gib} GiB, node ${machine.node}, ${machine.nginx}`);
log(`temp dir: ${tmp}`);

const procs = [];
async function cleanup() {
  for (const p of procs.reverse()) await stopProcess(p, 5000).catch(() => undefined);
}
process.on("SIGINT", () => {
  void cleanup().then(() => process.exit(130));
});

// ---- processes ---------------------------------------------------------------------------

async function startMock() {
  const port = await freePort();
  const args = [MOCK_BIN, "--port", String(port), "--latency", String(cfg.latencyMs), "--chunks", String(cfg.chunks), "--chunk-delay", String(cfg.chunkDelayMs), "--mode", cfg.mockMode, "--workers", String(cfg.mockWorkers)];
  const p = await startProcess("mock", process.execPath, args, { logFile: join(tmp, "mock.log"), readyLine: /mock listening \S+ mode=\S+ pid=\d+ body_bytes=(\d+) frames=(\d+)/ });
  procs.push(p);
  return { proc: p, port, bodyBytes: Number(p.match[1]), frames: Number(p.match[2]) };
}

/** The Node floor (bench/tcp-relay.mjs): as many worker processes as nginx and the gateway have. */
async function startRelay(upstreamPort) {
  const port = await freePort();
  const args = [join(BENCH, "tcp-relay.mjs"), "--port", String(port), "--upstream-port", String(upstreamPort), "--workers", String(cfg.workers)];
  const p = await startProcess("relay", process.execPath, args, { logFile: join(tmp, "relay.log"), readyLine: /relay listening/ });
  procs.push(p);
  return { proc: p, port };
}

async function startNginx(upstreamPort) {
  const port = await freePort();
  const streamPort = await freePort();
  const dir = join(tmp, "nginx");
  mkdirSync(dir, { recursive: true });
  const conf = nginxConfig({ dir, workers: cfg.workers, port, streamPort, upstreamPort });
  const p = await startProcess("nginx", tools.nginx, ["-p", dir, "-e", join(dir, "nginx-error.log"), "-c", conf], { logFile: join(tmp, "nginx.log") });
  procs.push(p);
  await waitFor(
    "nginx",
    async () => {
      const r = await request(`http://127.0.0.1:${port}/health-probe`);
      await r.body.dump();
      return true;
    },
    10_000,
  );
  return { proc: p, port, streamPort };
}

function gatewayConfig(mockPort, extra = {}) {
  return {
    strategy: { mode: "single" },
    targets: [{ virtual_key: "openai" }],
    providers: { openai: { base_url: `http://127.0.0.1:${mockPort}/v1`, api_key: "sk-bench-not-a-real-key-0000" } },
    ...extra,
  };
}

async function startGateway(name, config, { nodeArgs = [], workers = cfg.workers } = {}) {
  const port = await freePort();
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, toYaml(config));
  const logFile = join(tmp, `${name}.log`);
  // Its own working directory, so the default SQLite stores (ferrogw.db) land in the temp dir.
  const cwd = join(tmp, name);
  mkdirSync(cwd, { recursive: true });
  const p = await startProcess(name, process.execPath, [...nodeArgs, GATEWAY_BIN, "serve", "--config", file, "--port", String(port), "--host", "127.0.0.1", "--workers", String(workers)], {
    logFile,
    cwd,
    env: { ...process.env, LOG_LEVEL: "info", NODE_ENV: "production" },
  });
  procs.push(p);
  try {
    await waitFor(
      "gateway /health",
      async () => {
        if (p.exited) throw Object.assign(new Error("exited"), { fatal: true });
        const r = await request(`http://127.0.0.1:${port}/health`);
        await r.body.dump();
        return r.statusCode === 200;
      },
      // generous: a loaded machine takes seconds to load the gateway's modules in every worker
      90_000,
    );
  } catch {
    await stopProcess(p, 2000);
    const text = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
    return { failed: true, log: text.slice(-2000) };
  }
  return { proc: p, port, workers };
}

// ---- load runs ---------------------------------------------------------------------------

async function wrk(url, connections, durationS, script = "wrk-chat.lua") {
  const threads = Math.min(cfg.loadThreads, connections);
  const r = await runCommand(tools.wrk, ["-t", String(threads), "-c", String(connections), "-d", `${durationS}s`, "--timeout", "10s", "-s", join(BENCH, script), url], {
    timeoutMs: (durationS + 60) * 1000,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!line) throw new Error(`wrk produced no summary (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  const j = JSON.parse(line.slice(9));
  const errors = j.errors.connect + j.errors.read + j.errors.write + j.errors.status + j.errors.timeout;
  return {
    requests: j.requests,
    rps: +(j.requests / (j.duration_us / 1e6)).toFixed(1),
    p50_ms: j.latency_us.p50 / 1000,
    p90_ms: j.latency_us.p90 / 1000,
    p99_ms: j.latency_us.p99 / 1000,
    max_ms: j.latency_us.max / 1000,
    errors,
    error_detail: j.errors,
  };
}

async function streamLoad(url, connections, durationS, warmupS, expect) {
  const r = await runCommand(
    process.execPath,
    [join(BENCH, cfg.streamClient === "undici" ? "stream-load-undici.mjs" : "stream-load.mjs"), "--url", url, "--connections", String(connections), "--duration", String(durationS), "--warmup", String(warmupS), "--expect", String(expect)],
    { timeoutMs: (durationS + warmupS + 90) * 1000 },
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`stream-load produced no summary (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(line.slice(11));
}

async function overheadLoad(url, connections, durationS) {
  const r = await runCommand(process.execPath, [join(BENCH, "overhead-load.mjs"), "--url", url, "--connections", String(connections), "--duration", String(durationS), "--warmup", "2"], {
    timeoutMs: (durationS + 60) * 1000,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`overhead-load produced no summary (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(line.slice(11));
}

/**
 * Runs `fn` while sampling CPU and RSS of the mock, nginx and gateway process trees, and the CPU
 * other processes on the machine used meanwhile; repeats a disturbed run (see cfg.tries).
 */
async function sampled(groups, fn) {
  let best;
  for (let i = 1; i <= cfg.tries; i++) {
    const sampler = new TreeSampler(groups);
    sampler.start();
    const result = await fn();
    const r = { ...result, resources: sampler.stop(), tries: i };
    const foreign = r.resources._machine.foreign_cores ?? 0;
    if (!best || foreign < (best.resources._machine.foreign_cores ?? 0)) best = r;
    if (foreign <= cfg.foreignMax) break;
    if (i < cfg.tries) {
      log(`    (other processes used ${foreign} cores during that run; repeating it)`);
      await sleep(2000);
    }
  }
  return best;
}

// ---- the run -----------------------------------------------------------------------------

const results = { machine, config: { ...cfg, only: [...cfg.only] }, started: new Date().toISOString(), unary: [], stream: [], long: [], overhead: [], profile: null };

try {
  const mock = await startMock();
  log(`mock: port ${mock.port}, ${cfg.mockWorkers} process(es), mode ${cfg.mockMode}, body ${mock.bodyBytes} bytes, ${mock.frames} SSE events per stream`);
  results.mock = { body_bytes: mock.bodyBytes, events_per_stream: mock.frames, processes: cfg.mockWorkers, mode: cfg.mockMode };

  if (opt.profile) {
    results.profile = await profileRun(mock);
  } else {
    const nginx = cfg.targets.includes("nginx") ? await startNginx(mock.port) : undefined;
    if (nginx) log(`nginx: ports ${nginx.port} (buffered) / ${nginx.streamPort} (proxy_buffering off), ${cfg.workers} workers`);
    const relay = cfg.targets.includes("relay") ? await startRelay(mock.port) : undefined;
    if (relay) log(`Node floor: bench/tcp-relay.mjs on port ${relay.port}, ${cfg.workers} workers, at the highest level of each section`);
    const gw = await startGateway("gateway", gatewayConfig(mock.port));
    if (gw.failed) throw new Error(`gateway did not start:\n${gw.log}`);
    log(`gateway: port ${gw.port}, --workers ${gw.workers}`);
    const groups = { mock: mock.proc.pid, nginx: nginx?.proc.pid, relay: relay?.proc.pid, gateway: gw.proc.pid };
    const urls = {
      direct: `http://127.0.0.1:${mock.port}`,
      nginx: nginx && `http://127.0.0.1:${nginx.port}`,
      relay: relay && `http://127.0.0.1:${relay.port}`,
      gateway: `http://127.0.0.1:${gw.port}`,
    };
    const streamUrls = { ...urls, nginx: nginx && `http://127.0.0.1:${nginx.streamPort}` };
    // The relay is a reference for the CPU-ceiling table: only the highest level of each section.
    const runs = (t, c, levels) => urls[t] !== undefined && (t !== "relay" || c === Math.max(...levels));

    if (cfg.only.has("unary")) {
      log(`\n== non-streaming: ${cfg.levels.join("/")} connections, ${cfg.durationS}s each (+${cfg.warmupS}s warm-up) ==`);
      for (const c of cfg.levels) {
        const row = { connections: c };
        for (const t of cfg.targets) {
          if (!runs(t, c, cfg.levels)) continue;
          const url = `${urls[t]}/v1/chat/completions`;
          if (cfg.warmupS > 0) await wrk(url, c, cfg.warmupS);
          await sleep(300);
          row[t] = await sampled(groups, () => wrk(url, c, cfg.durationS));
          const r = row[t];
          log(
            `  c=${String(c).padStart(4)} ${t.padEnd(7)} ${String(Math.round(r.rps)).padStart(6)} rps  p50 ${r.p50_ms.toFixed(2).padStart(7)} ms  p99 ${r.p99_ms.toFixed(2).padStart(7)} ms  err ${r.errors}` +
              `  cpu: mock ${r.resources.mock.cpu_cores}` +
              (t === "nginx" ? ` nginx ${r.resources.nginx.cpu_cores}` : "") +
              (t === "relay" ? ` relay ${r.resources.relay.cpu_cores} (${Math.round(r.resources.relay.cpu_us / r.requests)} µs/req)` : "") +
              (t === "gateway" ? ` gw ${r.resources.gateway.cpu_cores} (${Math.round(r.resources.gateway.cpu_us / r.requests)} µs/req, RSS ${r.resources.gateway.peak_rss_mb_max_process} MB)` : "") +
              ` other ${r.resources._machine.foreign_cores}`,
          );
          await sleep(500);
        }
        results.unary.push(row);
      }
    }

    if (cfg.only.has("stream")) {
      log(`\n== streaming: ${cfg.streamLevels.join("/")} connections, ${cfg.chunks} chunks ${cfg.chunkDelayMs} ms apart, ${cfg.durationS}s each ==`);
      for (const c of cfg.streamLevels) {
        const row = { connections: c };
        for (const t of cfg.targets) {
          if (!runs(t, c, cfg.streamLevels)) continue;
          await sleep(300);
          row[t] = await sampled(groups, () => streamLoad(streamUrls[t], c, cfg.durationS, cfg.warmupS, mock.frames));
          const r = row[t];
          log(
            `  c=${String(c).padStart(4)} ${t.padEnd(7)} ${String(Math.round(r.streams_per_s)).padStart(6)} streams/s  ${String(r.events_per_s).padStart(7)} events/s  TTFB p50 ${r.ttfb_ms.p50} p99 ${r.ttfb_ms.p99} ms  total p50 ${r.total_ms.p50} p99 ${r.total_ms.p99} ms  lost ${r.lost} err ${r.errors}` +
              (t === "gateway" ? `  gw cpu ${r.resources.gateway.cpu_cores} RSS ${r.resources.gateway.peak_rss_mb_max_process} MB` : "") +
              ` other ${r.resources._machine.foreign_cores}`,
          );
          await sleep(500);
        }
        results.stream.push(row);
      }
    }

    if (cfg.only.has("overhead")) {
      log(`\n== in-process overhead (X-Gateway-Overhead-Ms), ${cfg.overheadConnections} connections, ${cfg.overheadS}s ==`);
      const bare = await overheadLoad(urls.gateway, cfg.overheadConnections, cfg.overheadS);
      results.overhead.push({ name: "bare", plugins: false, workers: cfg.workers, available: true, ...bare });
      log(`  bare, --workers ${cfg.workers}:    p50 ${bare.overhead_us.p50} µs  p99 ${bare.overhead_us.p99} µs  (${bare.requests} requests, ${bare.errors} errors)`);
      await stopProcess(gw.proc);
      // The plugin row at the benchmarked worker count and at one worker: the rate-limit buckets
      // are shared memory between worker threads, so the two should be alike.
      const counts = cfg.workers > 1 ? [cfg.workers, 1] : [1];
      if (cfg.workers > 1) results.overhead.push(await overheadRow(mock, false, 1));
      for (const w of counts) results.overhead.push(await overheadRow(mock, true, w));
    } else {
      await stopProcess(gw.proc);
    }

    if (cfg.only.has("long")) {
      // A real chat history instead of one short message: the cost of carrying request bodies
      // (memory above all) shows here, at the highest non-streaming level. Last, on a gateway of
      // its own: the heap a long-conversation run leaves behind (in the gateway and the mock)
      // would weigh on whatever ran after it.
      const c = Math.max(...cfg.levels);
      const lgw = await startGateway("gateway-long", gatewayConfig(mock.port));
      if (lgw.failed) throw new Error(`gateway did not start:\n${lgw.log}`);
      const lgroups = { ...groups, gateway: lgw.proc.pid };
      const lurls = { ...urls, gateway: `http://127.0.0.1:${lgw.port}` };
      log(`\n== long conversations (17 KB requests, bench/wrk-long-chat.lua): ${c} connections, ${cfg.durationS}s ==`);
      const row = { connections: c };
      for (const t of cfg.targets) {
        if (!lurls[t] || t === "relay") continue;
        const url = `${lurls[t]}/v1/chat/completions`;
        if (cfg.warmupS > 0) await wrk(url, c, cfg.warmupS, "wrk-long-chat.lua");
        await sleep(300);
        row[t] = await sampled(lgroups, () => wrk(url, c, cfg.durationS, "wrk-long-chat.lua"));
        const r = row[t];
        log(
          `  c=${String(c).padStart(4)} ${t.padEnd(7)} ${String(Math.round(r.rps)).padStart(6)} rps  p50 ${r.p50_ms.toFixed(2).padStart(7)} ms  p99 ${r.p99_ms.toFixed(2).padStart(7)} ms  err ${r.errors}` +
            (t === "gateway" ? ` gw ${Math.round(r.resources.gateway.cpu_us / r.requests)} µs/req, RSS ${r.resources.gateway.peak_rss_mb_total} MB` : ""),
        );
        await sleep(500);
      }
      results.long.push(row);
      await stopProcess(lgw.proc);
    }
  }
} finally {
  await cleanup();
}

async function overheadRow(mock, withPlugins, workers) {
  const extra = withPlugins ? parseYaml(readFileSync(join(BENCH, "plugins.yaml"), "utf8")) : {};
  const label = `${withPlugins ? "plugins" : "bare"}, --workers ${workers}`;
  const gw = await startGateway(`gateway-${withPlugins ? "plugins" : "bare"}-${workers}`, gatewayConfig(mock.port, extra), { workers });
  const row = { name: withPlugins ? "plugins (word-filter, max-token, rate-limit, request-logger)" : "bare", plugins: withPlugins, workers };
  if (gw.failed) {
    const why = gw.log.split("\n").filter((l) => /config|plugin/i.test(l)).slice(0, 3).join(" | ") || "gateway did not start";
    log(`  ${label}: not yet available (the gateway refused the plugin config: ${why.slice(0, 300)})`);
    return { ...row, available: false, reason: `config rejected: ${why.slice(0, 500)}` };
  }
  try {
    if (withPlugins) {
      // The word filter must block this request; if it does not, the plugins are not running.
      const probe = await request(`http://127.0.0.1:${gw.port}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "please say bench-blocked-word" }] }),
      });
      await probe.body.dump();
      if (probe.statusCode === 200) {
        log(`  ${label}: not yet available (config accepted, but the word-filter did not block its probe: plugins are not applied)`);
        return { ...row, available: false, reason: "config accepted but plugins are not applied (word-filter probe answered 200)" };
      }
    }
    const r = await overheadLoad(`http://127.0.0.1:${gw.port}`, cfg.overheadConnections, cfg.overheadS);
    log(`  ${label}: p50 ${r.overhead_us.p50} µs  p99 ${r.overhead_us.p99} µs  (${r.requests} requests, ${r.errors} errors)`);
    return { ...row, available: true, ...r };
  } finally {
    await stopProcess(gw.proc);
  }
}

async function profileRun(mock) {
  const level = Number(opt["profile-level"]);
  const out = {};
  const kinds = opt["profile-kinds"].split(",");
  const unknown = kinds.filter((k) => !["unary", "stream", "long"].includes(k));
  if (unknown.length > 0) throw new Error(`--profile-kinds: unknown ${unknown.join(", ")} (unary, stream, long)`);
  for (const kind of kinds) {
    const dir = join(tmp, `prof-${kind}`);
    mkdirSync(dir, { recursive: true });
    const gw = await startGateway(`gateway-prof-${kind}`, gatewayConfig(mock.port), { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
    if (gw.failed) throw new Error(`gateway did not start:\n${gw.log}`);
    log(`\n== profile: ${kind} at ${level} connections, ${cfg.durationS}s, gateway --workers ${gw.workers} ==`);
    const url = `http://127.0.0.1:${gw.port}`;
    let r;
    if (kind === "unary" || kind === "long") {
      const script = kind === "long" ? "wrk-long-chat.lua" : "wrk-chat.lua";
      await wrk(`${url}/v1/chat/completions`, level, cfg.warmupS, script);
      r = await wrk(`${url}/v1/chat/completions`, level, cfg.durationS, script);
      log(`  ${Math.round(r.rps)} rps, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors}`);
    } else {
      r = await streamLoad(url, level, cfg.durationS, cfg.warmupS, mock.frames);
      log(`  ${r.streams_per_s} streams/s, total p50 ${r.total_ms.p50} ms p99 ${r.total_ms.p99} ms, lost ${r.lost}, errors ${r.errors}`);
    }
    await stopProcess(gw.proc, 20_000);
    const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(dir, f));
    // One profile per thread: the supervisor's is nearly idle, the workers' are the interesting ones.
    const s = summarise(files);
    log(formatSummary(s, 25));
    const keep = join(resultsDir, `${stamp}-${kind}`);
    mkdirSync(keep, { recursive: true });
    for (const f of files) writeFileSync(join(keep, f.split("/").pop()), readFileSync(f));
    out[kind] = { load: r, files: files.length, saved_to: keep, summary: { ...s, frames: s.frames.slice(0, 40) } };
  }
  return out;
}

results.finished = new Date().toISOString();
if (!opt.profile) {
  results.targets = evaluateTargets(results);
  const md = markdownReport(results);
  writeFileSync(join(resultsDir, `${stamp}.md`), md);
  log(`\n${md}`);
}
writeFileSync(join(resultsDir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
log(`results: bench/results/${stamp}.json${opt.profile ? "" : ` and .md`}`);
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
