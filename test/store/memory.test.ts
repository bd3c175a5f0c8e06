import { describe, expect, it } from "vitest";
import { MemoryConfigStore, MemoryKeyStore, MemoryRequestLogStore } from "../../src/store/memory.js";
import { sampleRows, storeConformance } from "./conformance.js";

describe("memory stores", () => {
  storeConformance({
    async open() {
      const keys = new MemoryKeyStore();
      const logs = new MemoryRequestLogStore();
      const config = new MemoryConfigStore();
      return { keys, logs, config, close: async () => undefined };
    },
  });

  it("bounds the request log, dropping the oldest rows", async () => {
    const logs = new MemoryRequestLogStore({ maxRows: 50 });
    const rows = sampleRows(120);
    await logs.insertBatch(rows.slice(0, 60));
    await logs.insertBatch(rows.slice(60));
    const all = await logs.query({ limit: 1000 });
    expect(all.rows).toHaveLength(50);
    expect(Math.min(...all.rows.map((r) => r.time))).toBe(Math.min(...rows.slice(70).map((r) => r.time)));
  });

  it("hands out copies, not its own objects", async () => {
    const logs = new MemoryRequestLogStore();
    const row = sampleRows(1)[0]!;
    await logs.insertBatch([row]);
    row.model = "mutated";
    const got = (await logs.query()).rows[0]!;
    expect(got.model).not.toBe("mutated");
    got.model = "mutated again";
    expect((await logs.query()).rows[0]?.model).not.toBe("mutated again");
  });
});
