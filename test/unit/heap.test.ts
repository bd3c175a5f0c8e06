// V8 settings of `ferrogw serve`. `--heap-growth` / FERROGW_HEAP_GROWTH: the flag wins over the
// environment, 50 by default, and a value that is not a whole percentage is refused with a message
// naming the flag. `--semi-space` / FERROGW_SEMI_SPACE_MB likewise, and a worker thread started
// after it is applied really gets young semi-spaces of that size. `--parallel-gc` / FERROGW_PARALLEL_GC: off by default, and when off a
// scavenge really runs without helper threads (seen in V8's own GC trace of a child process).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DEFAULT_HEAP_GROWTH_PERCENT, DEFAULT_SEMI_SPACE_MB, resolveHeapGrowth, resolveParallelGc, resolveSemiSpace } from "../../src/server/heap.js";

describe("heap growth setting", () => {
  it("takes the flag, then FERROGW_HEAP_GROWTH, then the default", () => {
    expect(resolveHeapGrowth("80", { FERROGW_HEAP_GROWTH: "20" })).toBe(80);
    expect(resolveHeapGrowth(undefined, { FERROGW_HEAP_GROWTH: "20" })).toBe(20);
    expect(resolveHeapGrowth(undefined, {})).toBe(DEFAULT_HEAP_GROWTH_PERCENT);
    expect(resolveHeapGrowth("0", {})).toBe(0);
  });

  it("refuses what is not a whole percentage", () => {
    for (const bad of ["abc", "-5", "12.5", "5000"]) expect(() => resolveHeapGrowth(bad, {})).toThrow(/--heap-growth must be a whole number/);
  });
});

const HEAP_MODULE = new URL("../../dist/server/heap.js", import.meta.url).href;

/** Background (helper-thread) milliseconds of each scavenge after the setting is applied, in a worker thread. */
function helperMsPerScavenge(parallel: boolean): number[] {
  // A large live set makes V8 split the scavenge into several tasks when helpers are allowed.
  const script = `
    const { applyParallelGc } = await import(${JSON.stringify(HEAP_MODULE)});
    const { Worker } = await import("node:worker_threads");
    applyParallelGc(${parallel});
    process.stdout.write("APPLIED\\n");
    new Worker("let keep = []; for (let i = 0; i < 4e6; i++) { keep.push({ a: i, b: [i] }); if (keep.length > 300000) keep = []; }", { eval: true });
  `;
  const out = spawnSync(process.execPath, ["--trace-gc-nvp", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  expect(out.status).toBe(0);
  const after = out.stdout.slice(out.stdout.indexOf("APPLIED"));
  return [...after.matchAll(/gc=s .*?background\.scavenge\.parallel=([\d.]+)/g)].map((m) => Number(m[1]));
}

describe("parallel GC setting", () => {
  it("is off unless the flag or FERROGW_PARALLEL_GC asks for it", () => {
    expect(resolveParallelGc(undefined, {})).toBe(false);
    expect(resolveParallelGc(undefined, { FERROGW_PARALLEL_GC: "1" })).toBe(true);
    expect(resolveParallelGc(undefined, { FERROGW_PARALLEL_GC: "0" })).toBe(false);
    expect(resolveParallelGc(true, { FERROGW_PARALLEL_GC: "0" })).toBe(true);
    expect(() => resolveParallelGc(undefined, { FERROGW_PARALLEL_GC: "yes please" })).toThrow(/FERROGW_PARALLEL_GC must be 1 or 0/);
  });

  it("runs scavenges without helper threads when off, and with them when on", () => {
    const off = helperMsPerScavenge(false);
    expect(off.length).toBeGreaterThan(3);
    expect(off.every((ms) => ms === 0)).toBe(true);
    const on = helperMsPerScavenge(true);
    expect(on.some((ms) => ms > 0)).toBe(true);
  }, 120_000);
});

/** The young generation's size (both semi-spaces, MB) a worker thread reaches under allocation, with `--semi-space mb` applied first. */
function workerYoungGenMb(mb: number): number {
  const script = `
    const { applySemiSpace } = await import(${JSON.stringify(HEAP_MODULE)});
    const { Worker } = await import("node:worker_threads");
    applySemiSpace(${mb});
    const code = "const v8 = require('v8'); let keep = []; for (let i = 0; i < 1.2e7; i++) { keep.push({ a: i, b: [i] }); if (keep.length > 300000) keep = []; }" +
      " require('worker_threads').parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);";
    new Worker(code, { eval: true, execArgv: [] }).on("message", (bytes) => process.stdout.write("NEW_SPACE " + bytes + "\\n"));
  `;
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  expect(out.stderr).toBe("");
  expect(out.status).toBe(0);
  return Number(/NEW_SPACE (\d+)/.exec(out.stdout)?.[1]) / 1048576;
}

describe("semi-space setting", () => {
  it("takes the flag, then FERROGW_SEMI_SPACE_MB, then the default, and refuses nonsense", () => {
    expect(resolveSemiSpace("32", { FERROGW_SEMI_SPACE_MB: "8" })).toBe(32);
    expect(resolveSemiSpace(undefined, { FERROGW_SEMI_SPACE_MB: "8" })).toBe(8);
    expect(resolveSemiSpace(undefined, {})).toBe(DEFAULT_SEMI_SPACE_MB);
    expect(resolveSemiSpace("0", {})).toBe(0);
    for (const bad of ["big", "-1", "2.5", "4096"]) expect(() => resolveSemiSpace(bad, {})).toThrow(/--semi-space must be a whole number of MB/);
  });

  it("sizes the young generation of worker threads started afterwards", () => {
    // V8's default is 16 MB per semi-space (32 MB of new space); the setting moves it both ways.
    expect(workerYoungGenMb(DEFAULT_SEMI_SPACE_MB)).toBe(2 * DEFAULT_SEMI_SPACE_MB);
    expect(workerYoungGenMb(8)).toBe(16);
    // Sizes are rounded up to a power of two by V8.
    expect(workerYoungGenMb(24)).toBe(64);
  }, 120_000);
});
