// V8 settings of `ferrogw serve`. `--heap-growth` / FERROGW_HEAP_GROWTH: the flag wins over the
// environment, 50 by default, and a value that is not a whole percentage is refused with a message
// naming the flag. `--parallel-gc` / FERROGW_PARALLEL_GC: off by default, and when off a
// scavenge really runs without helper threads (seen in V8's own GC trace of a child process).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DEFAULT_HEAP_GROWTH_PERCENT, resolveHeapGrowth, resolveParallelGc } from "../../src/server/heap.js";

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
