// The request-log writer's queue in /metrics. Rows are written off the request path in batches,
// so a slow or unreachable store shows first as a growing queue, then as dropped rows once the
// queue is full: both are worth an alert before anyone goes looking for a missing log row.
// Read from the writer's counters when scraped; the request path does nothing for them.
import { Counter, Gauge, type Registry } from "prom-client";
import type { RequestLogWriterStats } from "../store/request-log-writer.js";

type CountField = "written" | "dropped" | "failedBatches";

/** A counter whose value is read from `read()` at scrape time (the writer keeps the count). */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      const n = read();
      if (n > 0) this.inc(n);
    },
  });
}

export function registerRequestLogMetrics(registry: Registry, stats: () => RequestLogWriterStats): void {
  new Gauge({
    name: "ferrogw_request_log_pending_rows",
    help: "Request log rows waiting to be written or being written",
    registers: [registry],
    collect() {
      this.set(stats().buffered);
    },
  });
  const counters: ReadonlyArray<[CountField, string, string]> = [
    ["written", "ferrogw_request_log_written_rows_total", "Request log rows the store confirmed"],
    ["dropped", "ferrogw_request_log_dropped_rows_total", "Request log rows lost: queue full while the store was failing, or unwritten at shutdown"],
    ["failedBatches", "ferrogw_request_log_failed_batches_total", "Request log batches the store refused (they are retried)"],
  ];
  for (const [field, name, help] of counters) mirroredCounter(registry, name, help, () => stats()[field]);
}
