// Tells the other workers of this gateway about a change made in one of them (a config applied
// through the admin API, an API key revoked). Workers send to the primary, which relays to every
// other worker. Without cluster there is nobody to tell, and send is a no-op.
import cluster, { type Worker } from "node:cluster";

export type BroadcastMessage =
  | { kind: "config-applied"; raw: unknown; version: number | undefined }
  | { kind: "keys-changed"; keyId: string | undefined }
  | { kind: "reload-file" };

interface Envelope {
  ferrogw: "broadcast";
  msg: BroadcastMessage;
}

const isEnvelope = (m: unknown): m is Envelope => typeof m === "object" && m !== null && (m as Envelope).ferrogw === "broadcast";

export function broadcast(msg: BroadcastMessage): void {
  if (!cluster.isWorker || !process.send) return;
  const env: Envelope = { ferrogw: "broadcast", msg };
  process.send(env);
}

export function onBroadcast(handler: (msg: BroadcastMessage) => void): void {
  if (!cluster.isWorker) return;
  process.on("message", (m: unknown) => {
    if (isEnvelope(m)) handler(m.msg);
  });
}

/** Primary side: relays a worker's broadcast to all the other workers. */
export function relayBroadcasts(from: Worker): void {
  from.on("message", (m: unknown) => {
    if (!isEnvelope(m)) return;
    for (const w of Object.values(cluster.workers ?? {})) if (w && w.id !== from.id && w.isConnected()) w.send(m);
  });
}

/** Primary side: asks exactly one worker to do something all of them will then hear about. */
export function sendToOneWorker(msg: BroadcastMessage): boolean {
  const w = Object.values(cluster.workers ?? {}).find((x) => x?.isConnected());
  if (!w) return false;
  const env: Envelope = { ferrogw: "broadcast", msg };
  w.send(env);
  return true;
}
