// The benchmark report's CPU ceiling: the most CPU per request (or stream) a proxy may use and
// still carry 85 % of the direct rate on the machine. BENCHMARKS.md argues from it, so its
// arithmetic is checked on a run whose figures are simple to work out by hand.
import { describe, expect, it } from "vitest";

interface Ceiling {
  kind: string;
  unit: string;
  direct_rate: number;
  target_rate: number;
  load_and_mock_us: number;
  ceiling_us: number;
  nginx: Used | undefined;
  relay: Used | undefined;
  gateway: Used;
}

/** CPU µs per unit a proxy used, and the share of the direct rate it carried. */
interface Used {
  us: number;
  share: number;
}

const REPORT = new URL("../../bench/lib/report.mjs", import.meta.url).href;
const { cpuCeilings, markdownReport } = (await import(REPORT)) as { cpuCeilings: (r: unknown) => Ceiling[]; markdownReport: (r: unknown) => string };

const machine = (benchCores: number) => ({ _machine: { bench_cores: benchCores, foreign_cores: 0 } });

// Direct: 10 000 requests/s. Through the gateway: 8 000/s, with the gateway at 0.8 of a core and
// the load client + mock at 0.4 (50 µs per request). 85 % of direct is 8 500/s; 2 cores at that
// rate leave 2e6 / 8 500 - 50 = 185.3 µs per request for a proxy.
const results = {
  machine: { cores: 2, cpu: "test", memory_gib: 1, kernel: "test", node: "v20", nginx: "nginx" },
  config: { mode: "quick", workers: 2, warmupS: 1, durationS: 4, loadThreads: 2, latencyMs: 60, chunks: 20, chunkDelayMs: 5, overheadConnections: 50, overheadS: 4 },
  unary: [
    {
      connections: 1000,
      direct: { rps: 10_000, requests: 40_000, resources: { ...machine(0.3), mock: { cpu_cores: 0.2 } } },
      nginx: { rps: 9_000, requests: 36_000, resources: { ...machine(0.7), mock: { cpu_cores: 0.2 }, nginx: { cpu_cores: 0.27, cpu_us: 1, sys_us: 0 } } },
      relay: { rps: 9_500, requests: 38_000, resources: { ...machine(0.9), mock: { cpu_cores: 0.2 }, relay: { cpu_cores: 0.38, cpu_us: 1, sys_us: 0 } } },
      gateway: { rps: 8_000, requests: 32_000, resources: { ...machine(1.2), mock: { cpu_cores: 0.2 }, gateway: { cpu_cores: 0.8, cpu_us: 1, sys_us: 0, peak_rss_mb_total: 200 } } },
    },
  ],
  stream: [],
  overhead: [],
};

describe("bench report: CPU ceiling for the 85 % targets", () => {
  it("leaves a proxy what the cores hold at 85 % of direct, minus the load client's and the mock's share", () => {
    const [c, ...rest] = cpuCeilings(results);
    expect(rest).toEqual([]);
    expect(c?.kind).toBe("non-streaming");
    expect(c?.target_rate).toBeCloseTo(8_500);
    expect(c?.load_and_mock_us).toBeCloseTo(50);
    expect(c?.ceiling_us).toBeCloseTo(2e6 / 8_500 - 50);
    expect(c?.gateway?.us).toBeCloseTo(100);
    expect(c?.gateway?.share).toBeCloseTo(0.8);
    expect(c?.nginx?.us).toBeCloseTo(30);
    expect(c?.relay?.us).toBeCloseTo(40);
    expect(c?.relay?.share).toBeCloseTo(0.95);
  });

  it("has no ceiling for a load without both a direct and a gateway run", () => {
    expect(cpuCeilings({ ...results, unary: [{ connections: 1000, direct: results.unary[0]?.direct }] })).toEqual([]);
  });

  it("reports long conversations in a table of their own, like the short requests", () => {
    const md = markdownReport({ ...results, long: results.unary });
    const tables = md.split("### ");
    const short = tables.find((t) => t.startsWith("Non-streaming"));
    const long = tables.find((t) => t.startsWith("Long conversations"));
    expect(long).toContain("| 1000 | 10000 | 9000 | 8000 | 80.0% | 88.9% |");
    expect(long?.slice(long.indexOf("\n"))).toBe(short?.slice(short.indexOf("\n")));
    expect(markdownReport(results)).not.toContain("Long conversations");
  });

  it("prints the ceiling next to what nginx, the Node relay and the gateway used", () => {
    const md = markdownReport(results);
    expect(md).toContain("### CPU ceiling for the 85 % targets (1000 connections, 2 cores)");
    expect(md).toContain("| non-streaming (per request) | 10000 | 8500 | 50 | 185 | 30 (90.0%) | 40 (95.0%) | 100 (80.0%) |");
  });

  it("leaves the ceiling's relay column empty for a run without the relay", () => {
    const { relay: _relay, ...noRelay } = results.unary[0] as Record<string, unknown>;
    const md = markdownReport({ ...results, unary: [noRelay] });
    expect(md).toContain("| 30 (90.0%) | – | 100 (80.0%) |");
  });

  it("lists the Node relay's streams next to nginx's", () => {
    const s = (rate: number, res: Record<string, unknown>) => ({ streams_per_s: rate, events_per_s: rate * 23, ok: rate * 4, lost: 0, errors: 0, ttfb_ms: { p50: 61, p99: 70 }, total_ms: { p50: 190, p99: 250 }, resources: { ...machine(1), mock: { cpu_cores: 0.5 }, ...res } });
    const stream = [{ connections: 1000, direct: s(3000, {}), relay: s(2700, { relay: { cpu_cores: 0.54, cpu_us: 2_916_000, sys_us: 0 } }), gateway: s(1800, { gateway: { cpu_cores: 1, cpu_us: 4_000_000, sys_us: 0, peak_rss_mb_total: 280 } }) }];
    const md = markdownReport({ ...results, stream });
    expect(md).toContain("| 1000 | Node relay | 2700 | 90.0% |");
    expect(md).toMatch(/\| streaming \(per stream\) \| 3000 \| 2550 \| [0-9]+ \| -?[0-9]+ \| – \| 200 \(90\.0%\) \| 556 \(60\.0%\) \|/);
  });
});
