// The request-log queue in /metrics: pending rows, rows written, rows dropped, batches refused.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerRequestLogMetrics } from "../../src/observability/request-log-metrics.js";
import { RequestLogWriter } from "../../src/store/request-log-writer.js";
import type { RequestLogRow } from "../../src/store/types.js";
import { logRow as row } from "../helpers/log-row.js";

/** A store that can be switched off; counts the rows it accepted. */
class SwitchableStore {
  down = true;
  rows = 0;
  async insertBatch(rows: readonly RequestLogRow[]): Promise<void> {
    if (this.down) throw new Error("store is down");
    this.rows += rows.length;
  }
}

const quiet = { warn: (): void => undefined, error: (): void => undefined };

function value(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  if (!m) throw new Error(`${name} is not in the metrics:\n${text}`);
  return Number(m[1]);
}

describe("request log metrics", () => {
  it("show the queue growing and rows dropped while the store is down, then the rows written", async () => {
    const store = new SwitchableStore();
    const writer = new RequestLogWriter({ store, batchSize: 10, maxBuffered: 20, flushIntervalMs: 5, initialBackoffMs: 5, maxBackoffMs: 10, logger: quiet });
    const registry = new Registry();
    registerRequestLogMetrics(registry, () => writer.stats);

    for (let i = 0; i < 30; i++) writer.enqueue(row(i));
    await expect(writer.flush()).rejects.toThrow("store is down");
    let text = await registry.metrics();
    expect(value(text, "ferrogw_request_log_pending_rows")).toBe(20);
    expect(value(text, "ferrogw_request_log_dropped_rows_total")).toBe(10);
    expect(value(text, "ferrogw_request_log_failed_batches_total")).toBeGreaterThanOrEqual(1);
    expect(value(text, "ferrogw_request_log_written_rows_total")).toBe(0);

    store.down = false;
    await writer.flush();
    text = await registry.metrics();
    expect(store.rows).toBe(20);
    expect(value(text, "ferrogw_request_log_pending_rows")).toBe(0);
    expect(value(text, "ferrogw_request_log_written_rows_total")).toBe(20);
    // A second scrape reports the same totals, not twice them.
    expect(value(await registry.metrics(), "ferrogw_request_log_written_rows_total")).toBe(20);
    await writer.close();
  });
});
