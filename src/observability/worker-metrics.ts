// /metrics for the whole gateway when it runs several worker threads: the worker that answers
// the scrape asks the others for their metrics over a BroadcastChannel and sums them, so counters
// do not jump between one worker's values and another's from scrape to scrape.
import { BroadcastChannel } from "node:worker_threads";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import { workerInfo } from "../server/workers/thread-info.js";

type Snapshot = Array<MetricObjectWithValues<MetricValue<string>>>;

interface CollectRequest {
  kind: "collect";
  id: string;
}
interface CollectReply {
  kind: "reply";
  id: string;
  metrics: Snapshot;
}

/** How long a scrape waits for the other workers (a busy or restarting one is left out). */
const COLLECT_TIMEOUT_MS = 1000;

/**
 * The process_* metrics describe the whole process, which every worker thread reports alike:
 * summing them would count the process once per worker.
 */
function processWide(snapshot: Snapshot): Snapshot {
  for (const m of snapshot) if (m.name.startsWith("ferrogw_process_process_")) (m as { aggregator: string }).aggregator = "max";
  return snapshot;
}

let channel: BroadcastChannel | undefined;
const pending = new Map<string, { replies: Snapshot[]; done: () => void }>();
let seq = 0;

/** In a worker thread: answers the other workers' collect requests with `snapshot()`. */
export function shareWorkerMetrics(snapshot: () => Promise<Snapshot>): void {
  if (!workerInfo() || channel) return;
  const ch = new BroadcastChannel("ferrogw-metrics");
  ch.unref();
  channel = ch;
  ch.onmessage = (event: unknown) => {
    const msg = (event as { data: CollectRequest | CollectReply }).data;
    if (msg.kind === "collect") {
      void snapshot().then((metrics) => ch.postMessage({ kind: "reply", id: msg.id, metrics: processWide(metrics) } satisfies CollectReply));
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    p.replies.push(msg.metrics);
    if (p.replies.length >= (workerInfo()?.workers ?? 1) - 1) p.done();
  };
}

/** The gateway's metrics in Prometheus text: this worker's own plus every other worker's, summed. */
export async function gatewayMetrics(own: Snapshot): Promise<string | undefined> {
  const info = workerInfo();
  if (!info || !channel || info.workers < 2) return undefined;
  const id = `${info.fd}:${++seq}`;
  const replies: Snapshot[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, COLLECT_TIMEOUT_MS);
    pending.set(id, {
      replies,
      done: () => {
        clearTimeout(timer);
        resolve();
      },
    });
    channel?.postMessage({ kind: "collect", id } satisfies CollectRequest);
  });
  pending.delete(id);
  return AggregatorRegistry.aggregate([processWide(own), ...replies]).metrics();
}
