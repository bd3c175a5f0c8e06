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

let channel: BroadcastChannel | undefined;
function peers(): BroadcastChannel {
  if (!channel) {
    channel = new BroadcastChannel("ferrogw-workers");
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
