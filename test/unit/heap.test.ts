// `--heap-growth` / FERROGW_HEAP_GROWTH: the flag wins over the environment, 50 by default, and a
// value that is not a whole percentage is refused with a message naming the flag.
import { describe, expect, it } from "vitest";
import { DEFAULT_HEAP_GROWTH_PERCENT, resolveHeapGrowth } from "../../src/server/heap.js";

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
