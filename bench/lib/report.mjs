// Turns one run's results into the targets' verdicts and the Markdown tables of BENCHMARKS.md.

const fmt = (n, d = 0) => (n === null || n === undefined || Number.isNaN(n) ? "–" : Number(n).toFixed(d));
const pct = (r) => (r === null || r === undefined || Number.isNaN(r) ? "–" : `${(100 * r).toFixed(1)}%`);

/** CPU other processes on the machine used during a run, in cores (see TreeSampler). */
const other = (r) => (r?.resources?._machine?.foreign_cores === undefined || r?.resources?._machine?.foreign_cores === null ? "–" : fmt(r.resources._machine.foreign_cores, 2));

function verdict(ok) {
  if (ok === undefined) return "not measured";
  return ok ? "**met**" : "**not met**";
}

/** The issue's targets, each with its measured value and met / not met. */
/**
 * The gateway's peak RSS divided by its workers: the workers are threads of one process (the
 * supervisor thread included), so the process total is what N workers cost.
 */
function rssPerWorker(res, workers) {
  return res.peak_rss_mb_total / Math.max(1, workers);
}

export function evaluateTargets(results) {
  const out = [];
  const u1000 = results.unary.find((r) => r.connections === 1000);
  if (u1000?.direct && u1000.gateway) {
    const d = u1000.direct;
    const g = u1000.gateway;
    const ratio = g.rps / d.rps;
    out.push({ target: "1000 conns non-streaming: gateway RPS ≥ 85% of direct", value: `${pct(ratio)} (${fmt(g.rps)} vs ${fmt(d.rps)} rps)`, met: ratio >= 0.85 });
    const p99r = g.p99_ms / d.p99_ms;
    out.push({ target: "1000 conns non-streaming: p99 ≤ 1.5× direct p99", value: `${fmt(p99r, 2)}× (${fmt(g.p99_ms, 1)} vs ${fmt(d.p99_ms, 1)} ms)`, met: p99r <= 1.5 });
    out.push({ target: "1000 conns non-streaming: zero errors", value: `${g.errors} errors`, met: g.errors === 0 });
    const rss = rssPerWorker(g.resources.gateway, results.config.workers);
    out.push({ target: "1000 conns: peak RSS ≤ 150 MB per worker", value: `${fmt(rss, 1)} MB (${fmt(g.resources.gateway.peak_rss_mb_total, 1)} MB for ${results.config.workers} workers)`, met: rss <= 150 });
  }
  const u150 = results.unary.find((r) => r.connections === 150);
  if (u150?.direct && u150.gateway) {
    const added = u150.gateway.p50_ms - u150.direct.p50_ms;
    out.push({ target: "150 conns: p50 added latency ≤ 1 ms over direct", value: `${fmt(added, 2)} ms (${fmt(u150.gateway.p50_ms, 2)} vs ${fmt(u150.direct.p50_ms, 2)} ms)`, met: added <= 1 });
  }
  const w = results.config.workers;
  for (const o of results.overhead) {
    const limit = o.plugins ? 50 : 20;
    const what = `in-process overhead p50 ≤ ${limit} µs ${o.plugins ? "with the plugin set" : "bare"} (--workers ${o.workers}${o.workers === w ? ", as benchmarked" : ""})`;
    if (o.available) out.push({ target: what, value: `${fmt(o.overhead_us.p50, 1)} µs (p99 ${fmt(o.overhead_us.p99, 1)} µs)`, met: o.overhead_us.p50 <= limit });
    else out.push({ target: what, value: `not yet available: ${o.reason}`, met: undefined });
  }
  const s100 = results.stream.find((r) => r.connections === 100);
  if (s100?.direct && s100.gateway) {
    const added = s100.gateway.ttfb_ms.p50 - s100.direct.ttfb_ms.p50;
    out.push({ target: "streaming, 100 conns: added TTFB p50 ≤ 1 ms", value: `${fmt(added, 2)} ms (${fmt(s100.gateway.ttfb_ms.p50, 2)} vs ${fmt(s100.direct.ttfb_ms.p50, 2)} ms)`, met: added <= 1 });
  }
  const s1000 = results.stream.find((r) => r.connections === 1000);
  if (s1000?.direct && s1000.gateway) {
    const d = s1000.direct;
    const g = s1000.gateway;
    const ratio = g.streams_per_s / d.streams_per_s;
    out.push({ target: "streaming, 1000 conns: ≥ 85% of direct streams/s", value: `${pct(ratio)} (${fmt(g.streams_per_s)} vs ${fmt(d.streams_per_s)} streams/s)`, met: ratio >= 0.85 });
    out.push({ target: "streaming, 1000 conns: no lost chunk", value: `${g.lost} incomplete streams, ${g.errors} errors`, met: g.lost === 0 && g.errors === 0 });
    const p99r = g.total_ms.p99 / d.total_ms.p99;
    out.push({ target: "streaming, 1000 conns: p99 ≤ 1.5× direct", value: `${fmt(p99r, 2)}× (${fmt(g.total_ms.p99)} vs ${fmt(d.total_ms.p99)} ms)`, met: p99r <= 1.5 });
  }
  return out;
}

const TARGET_SHARE = 0.85;

/**
 * The most CPU a proxy may spend per request (or stream) and still carry 85 % of the direct rate
 * at 1000 connections, even if every core of the machine were busy: at that rate the load client
 * and the mock need their own CPU per unit (measured in the gateway's run), and the rest of the
 * cores is all a proxy can have. A proxy that costs more than this cannot meet the target on the
 * machine, however it is written. `bench_cores` is every process of the benchmark (load client,
 * mock, proxies); the load client's share is what remains after the mock and the proxy.
 */
export function cpuCeilings(results) {
  const cores = results.machine.cores;
  const rows = [];
  const entry = (kind, unit, row, rateOf) => {
    const d = row?.direct;
    const g = row?.gateway;
    if (!d || !g) return;
    const perUnit = (x, cpuCores) => (cpuCores * 1e6) / rateOf(x);
    const target = TARGET_SHARE * rateOf(d);
    const gm = g.resources._machine.bench_cores - g.resources.gateway.cpu_cores;
    const loadAndMock = perUnit(g, gm);
    const ceiling = (cores * 1e6) / target - loadAndMock;
    /** What a proxy used per unit, and the share of the direct rate it carried. */
    const used = (name) => {
      const x = row[name];
      return x ? { us: perUnit(x, x.resources[name].cpu_cores), share: rateOf(x) / rateOf(d) } : undefined;
    };
    rows.push({
      kind,
      unit,
      direct_rate: rateOf(d),
      target_rate: target,
      load_and_mock_us: loadAndMock,
      ceiling_us: ceiling,
      nginx: used("nginx"),
      relay: used("relay"),
      gateway: used("gateway"),
    });
  };
  entry("non-streaming", "request", results.unary.find((r) => r.connections === 1000), (x) => x.rps);
  entry("streaming", "stream", results.stream.find((r) => r.connections === 1000), (x) => x.streams_per_s);
  return rows;
}

/** CPU per request or stream, with its user and system parts when the sampler has them. */
function perUnit(res, n, digits) {
  const total = fmt(res.cpu_us / n, digits);
  if (res.sys_us === undefined) return total;
  return `${total} (${fmt((res.cpu_us - res.sys_us) / n, 0)} + ${fmt(res.sys_us / n, 0)})`;
}

/** A table of wrk levels: direct, nginx and gateway side by side, one row per level. */
function wrkTable(rows, c) {
  let md = "";
  md += "| conns | direct RPS | nginx RPS | gateway RPS | gw/direct | gw/nginx | direct p50 / p99 ms | nginx p50 / p99 ms | gateway p50 / p99 ms | errors d/n/g | gw peak RSS per worker (total) | gw CPU µs/req (user + system) | nginx CPU µs/req (user + system) | mock CPU (direct) | other load d/n/g (cores) |\n";
  md += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const r of rows) {
    const d = r.direct;
    const n = r.nginx;
    const g = r.gateway;
    const gr = g?.resources.gateway;
    const nr = n?.resources.nginx;
    md += `| ${r.connections} | ${fmt(d?.rps)} | ${fmt(n?.rps)} | ${fmt(g?.rps)} | ${d && g ? pct(g.rps / d.rps) : "–"} | ${n && g ? pct(g.rps / n.rps) : "–"} `;
    md += `| ${fmt(d?.p50_ms, 2)} / ${fmt(d?.p99_ms, 2)} | ${fmt(n?.p50_ms, 2)} / ${fmt(n?.p99_ms, 2)} | ${fmt(g?.p50_ms, 2)} / ${fmt(g?.p99_ms, 2)} `;
    md += `| ${d?.errors ?? "–"}/${n?.errors ?? "–"}/${g?.errors ?? "–"} | ${gr ? `${fmt(rssPerWorker(gr, c.workers))} MB (${fmt(gr.peak_rss_mb_total)} MB)` : "–"} `;
    md += `| ${g ? perUnit(gr, g.requests, 1) : "–"} | ${n ? perUnit(nr, n.requests, 1) : "–"} | ${d ? `${fmt(d.resources.mock.cpu_cores * 100)}% of a core` : "–"} | ${[d, n, g].map(other).join("/")} |\n`;
  }
  return `${md}\n`;
}

export function markdownReport(results) {
  const m = results.machine;
  const c = results.config;
  let md = `## Run ${results.started} (${c.mode} mode)\n\n`;
  md += `Machine: ${m.cores} × ${m.cpu}, ${m.memory_gib} GiB, Linux ${m.kernel}, Node ${m.node}, ${m.nginx}, wrk. `;
  md += `Load generator, mock, nginx and gateway share the ${m.cores} cores. Gateway \`--workers ${c.workers}\`, nginx \`worker_processes ${c.workers}\`, `;
  md += `mock: ${results.mock?.processes ?? 1} process (${results.mock?.mode} mode, ${c.latencyMs} ms, ${results.mock?.body_bytes}-byte body; streams: ${results.mock?.events_per_stream} SSE events, ${c.chunks} content chunks ${c.chunkDelayMs} ms apart). `;
  md += `Each level: ${c.warmupS} s warm-up, then ${c.durationS} s measured; wrk -t${c.loadThreads}; streams: the ${c.streamClient ?? "raw"} load client.\n\n`;

  if (results.unary.length) {
    md += "### Non-streaming (wrk)\n\n";
    md += wrkTable(results.unary, c);
  }

  if (results.long?.length) {
    md += "### Long conversations (wrk, `bench/wrk-long-chat.lua`: a 17 KB chat history per request)\n\n";
    md += wrkTable(results.long, c);
  }

  if (results.stream.length) {
    md += "### Streaming (bench/stream-load.mjs)\n\n";
    md += "| conns | via | streams/s | ratio to direct | events/s | TTFB p50 / p99 ms | total p50 / p99 ms | incomplete streams | errors | proxy CPU µs/stream (user + system) | mock CPU (cores) | gw peak RSS per worker | other load (cores) |\n";
    md += "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const r of results.stream) {
      for (const t of ["direct", "nginx", "relay", "gateway"]) {
        const x = r[t];
        if (!x) continue;
        const proxy = t === "direct" ? undefined : x.resources[t];
        md += `| ${r.connections} | ${t === "relay" ? "Node relay" : t} | ${fmt(x.streams_per_s)} | ${r.direct ? pct(x.streams_per_s / r.direct.streams_per_s) : "–"} | ${fmt(x.events_per_s)} `;
        md += `| ${fmt(x.ttfb_ms.p50, 2)} / ${fmt(x.ttfb_ms.p99, 2)} | ${fmt(x.total_ms.p50, 1)} / ${fmt(x.total_ms.p99, 1)} | ${x.lost} | ${x.errors} `;
        md += `| ${proxy !== undefined && x.ok ? perUnit(proxy, x.all_streams ?? x.ok, 0) : "–"} | ${fmt(x.resources.mock?.cpu_cores, 2)} | ${t === "gateway" ? `${fmt(rssPerWorker(x.resources.gateway, c.workers))} MB` : "–"} | ${other(x)} |\n`;
      }
    }
    md += "\n";
  }

  if (results.overhead.length) {
    md += `### In-process overhead (X-Gateway-Overhead-Ms, ${c.overheadConnections} connections, ${c.overheadS} s)\n\n`;
    md += "| configuration | workers | p50 µs | p90 µs | p99 µs | requests |\n|---|---:|---:|---:|---:|---:|\n";
    for (const o of results.overhead) {
      if (o.available) md += `| ${o.name} | ${o.workers} | ${fmt(o.overhead_us.p50, 1)} | ${fmt(o.overhead_us.p90, 1)} | ${fmt(o.overhead_us.p99, 1)} | ${o.requests} |\n`;
      else md += `| ${o.name} | ${o.workers} | not yet available | | | ${o.reason} |\n`;
    }
    md += "\n";
  }

  const ceilings = cpuCeilings(results);
  if (ceilings.length) {
    md += `### CPU ceiling for the 85 % targets (1000 connections, ${m.cores} cores)\n\n`;
    md += "| load | direct rate /s | 85 % of it | load client + mock CPU µs per unit | ceiling for a proxy, µs per unit | nginx used (share of direct) | Node relay used (share) | gateway used (share) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    const used = (u) => (u ? `${fmt(u.us)} (${pct(u.share)})` : "–");
    for (const x of ceilings) {
      md += `| ${x.kind} (per ${x.unit}) | ${fmt(x.direct_rate)} | ${fmt(x.target_rate)} | ${fmt(x.load_and_mock_us)} | ${fmt(x.ceiling_us)} | ${used(x.nginx)} | ${used(x.relay)} | ${used(x.gateway)} |\n`;
    }
    md += "\nThe ceiling is what a proxy may spend per unit if the load client, the mock and the proxy kept every core busy at 85 % of the direct rate. A proxy above it cannot meet that target on this machine. The Node relay (`bench/tcp-relay.mjs`) copies bytes between a client connection and its own upstream connection with no HTTP at all: the least any Node proxy costs here.\n\n";
  }

  if (results.targets?.length) {
    md += "### Targets\n\n| target | measured | verdict |\n|---|---|---|\n";
    for (const t of results.targets) md += `| ${t.target} | ${t.value} | ${verdict(t.met)} |\n`;
    md += "\n";
  }
  return md;
}
