// Tells the other workers of this gateway about a change made in one of them (a config applied
// through the admin API, an API key revoked), over a BroadcastChannel that every worker thread
// joins. The supervisor asks one worker to act (a config file reload) by posting to it directly.
// Outside a worker thread there is nobody to tell, and both are no-ops.
import { BroadcastChannel, parentPort } from "node:worker_threads";
import { isGatewayWorker } from "./workers/thread-info.js";

export type BroadcastMessage =
  | { kind: "config-applied"; raw: unknown; version: number | undefined }
  | { kind: "keys-changed"; keyId: string | undefined };

/** Supervisor → one worker: "reload the config file, then tell the others". */
export interface ReloadFileMessage {
  ferrogw: "reload-file";
}

export const reloadFileMessage: ReloadFileMessage = { ferrogw: "reload-file" };
const isReloadFile = (m: unknown): m is ReloadFileMessage => typeof m === "object" && m !== null && (m as ReloadFileMessage).ferrogw === "reload-file";

const CHANNEL = "ferrogw-workers";

let channel: BroadcastChannel | undefined;
function peers(): BroadcastChannel {
  if (!channel) {
    channel = new BroadcastChannel(CHANNEL);
    // Listening must not keep a stopping worker alive.
    channel.unref();
  }
  return channel;
}

export function broadcast(msg: BroadcastMessage): void {
  if (isGatewayWorker()) peers().postMessage(msg);
}

export function onBroadcast(handler: (msg: BroadcastMessage) => void, onReloadFile: () => void): void {
  if (!isGatewayWorker()) return;
  peers().onmessage = (event: unknown) => handler((event as { data: BroadcastMessage }).data);
  parentPort?.on("message", (m: unknown) => {
    if (isReloadFile(m)) onReloadFile();
  });
}

/**
 * The supervisor listens too, for the config the workers run now (applied through the admin API
 * or reloaded from the file): a worker that replaces a crashed one starts from it, not from the
 * file. Returns the function that stops listening.
 */
export function watchAppliedConfig(onApplied: (applied: AppliedConfig) => void): () => void {
  const ch = new BroadcastChannel(CHANNEL);
  ch.unref();
  ch.onmessage = (event: unknown) => {
    const msg = (event as { data: BroadcastMessage }).data;
    if (msg.kind === "config-applied") onApplied({ raw: msg.raw, version: msg.version });
  };
  return () => ch.close();
}

/** A config document the workers run, and its version in the config store (if recorded). */
export interface AppliedConfig {
  raw: unknown;
  version: number | undefined;
}
