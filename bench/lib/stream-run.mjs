// What the streaming load clients (bench/stream-load.mjs, bench/stream-load-undici.mjs) share:
// their flags, the closed-loop run with its warm-up and grace period, the bookkeeping of every
// stream, and the one-line JSON summary (BENCH_JSON {...}) run.mjs reads. Also the chat request,
// which bench/overhead-load.mjs sends too.
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

export function streamOptions() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      path: { type: "string", default: "/v1/chat/completions" },
      connections: { type: "string", default: "100" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "0" },
      expect: { type: "string", default: "0" },
      grace: { type: "string", default: "30" },
    },
  });
  return {
    url: values.url,
    path: values.path,
    connections: Number(values.connections),
    durationMs: Number(values.duration) * 1000,
    warmupMs: Number(values.warmup) * 1000,
    expect: Number(values.expect),
    graceMs: Number(values.grace) * 1000,
  };
}

/** The benchmark's chat request (bench/wrk-chat.lua sends the same one), streaming or not. */
export function chatRequestBody(stream) {
  return JSON.stringify({
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Explain in one paragraph what an AI gateway does." },
    ],
    max_tokens: 256,
    temperature: 0.7,
    ...(stream ? { stream: true } : {}),
  });
}

export const CHAT_STREAM_BODY = chatRequestBody(true);

/** The last event of a complete stream. */
export const DONE = Buffer.from("data: [DONE]\n\n");

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return +sorted[i].toFixed(2);
}

/** Counts streams that started after the warm-up; `running` tells a client loop to go on. */
export class StreamRun {
  measuring = false;
  stopAt = Infinity;
  ttfb = [];
  total = [];
  stats = { started: 0, completed: 0, ok: 0, http_errors: 0, transport_errors: 0, lost: 0, events: 0, bytes: 0 };
  /**
   * Streams that ended at any time: the warm-up's and the grace period's too. CPU sampled over the
   * client's whole run went into all of them, so CPU per stream divides by this, not by `ok`.
   */
  allStreams = 0;
  errorSamples = [];

  constructor(opts) {
    this.opts = opts;
  }

  get running() {
    return performance.now() < this.stopAt;
  }

  sample(msg) {
    if (this.errorSamples.length < 5) this.errorSamples.push(msg);
  }

  /** A stream that ended: its status, events, bytes, last bytes and timings; `counted` once measuring. */
  finished({ status, events, bytes, endsWithDone, t0, first, t1 }, counted) {
    this.allStreams++;
    if (!counted) return;
    const stats = this.stats;
    stats.completed++;
    if (status !== 200) {
      stats.http_errors++;
      this.sample(`HTTP ${status}`);
      return;
    }
    stats.events += events;
    stats.bytes += bytes;
    if ((this.opts.expect !== 0 && events !== this.opts.expect) || !endsWithDone) {
      stats.lost++;
      this.sample(`stream with ${events} events (expected ${this.opts.expect})`);
      return;
    }
    stats.ok++;
    this.ttfb.push(first - t0);
    this.total.push(t1 - t0);
  }

  failed(err, counted) {
    this.allStreams++;
    if (!counted) return;
    this.stats.completed++;
    this.stats.transport_errors++;
    this.sample(String(err?.code ?? err?.message ?? err));
  }

  /** Runs `loop` once per connection until the duration is over, then prints the summary. */
  async run(loop, extra = {}) {
    const { connections, durationMs, warmupMs, graceMs } = this.opts;
    const tStart = performance.now();
    this.stopAt = tStart + warmupMs + durationMs;
    if (warmupMs > 0) setTimeout(() => (this.measuring = true), warmupMs);
    else this.measuring = true;
    const loops = [];
    for (let i = 0; i < connections; i++) loops.push(loop());
    let graceTimer;
    const finished = await Promise.race([
      Promise.all(loops).then(() => true),
      new Promise((resolve) => {
        graceTimer = setTimeout(resolve, warmupMs + durationMs + graceMs, false);
      }),
    ]);
    clearTimeout(graceTimer);
    const elapsedS = (performance.now() - (tStart + warmupMs)) / 1000;
    const stats = this.stats;
    const unfinished = finished ? 0 : stats.started - stats.completed;
    this.ttfb.sort((a, b) => a - b);
    this.total.sort((a, b) => a - b);
    const result = {
      connections,
      duration_s: +elapsedS.toFixed(3),
      expected_events: this.opts.expect,
      ...extra,
      ...stats,
      unfinished,
      all_streams: this.allStreams,
      errors: stats.http_errors + stats.transport_errors + stats.lost + unfinished,
      streams_per_s: +(stats.ok / elapsedS).toFixed(1),
      events_per_s: +(stats.events / elapsedS).toFixed(0),
      ttfb_ms: { p50: pct(this.ttfb, 50), p90: pct(this.ttfb, 90), p99: pct(this.ttfb, 99), max: pct(this.ttfb, 100) },
      total_ms: { p50: pct(this.total, 50), p90: pct(this.total, 90), p99: pct(this.total, 99), max: pct(this.total, 100) },
      error_samples: this.errorSamples,
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(result)}\n`);
  }
}
