// A stand-in gateway worker for the supervisor test: answers with its thread id, crashes (an
// uncaught exception, as a bug would) after answering /crash (and /crash-sqlite), tells the other threads about a
// config on /apply (as a worker does after an admin API change), shows on /applied the
// config the supervisor handed it at start, and fails to start once when told to (below).
import { existsSync, unlinkSync } from "node:fs";
import { createServer } from "node:http";
import { BroadcastChannel, parentPort, threadId, workerData } from "node:worker_threads";

const peers = new BroadcastChannel("ferrogw-workers");
peers.unref();

const server = createServer((req, res) => {
  if (req.url === "/applied") return res.end(JSON.stringify({ thread: threadId, applied: workerData.appliedConfig ?? null }));
  if (req.url === "/apply") {
    peers.postMessage({ kind: "config-applied", raw: { strategy: { mode: "fallback" }, from: threadId }, version: 7 });
    return res.end(String(threadId));
  }
  res.end(String(threadId));
  if (req.url === "/crash") setImmediate(() => {
    throw new Error("deliberate crash");
  });
  // What better-sqlite3 throws: an object made an error by hand, its message not enumerable.
  if (req.url === "/crash-sqlite") setImmediate(() => {
    const err = Object.create(Error.prototype);
    Object.defineProperty(err, "message", { value: "no such table: nope", writable: true, configurable: true });
    err.code = "SQLITE_ERROR";
    throw err;
  });
});
// A worker that meets a passing failure while starting (a store locked for a moment): with the
// file named here present, this worker removes it and fails before listening.
const failOnce = process.env.CRASHING_WORKER_FAIL_ONCE;
if (failOnce && existsSync(failOnce)) {
  unlinkSync(failOnce);
  throw new Error("deliberate start-up failure");
}
server.listen({ fd: workerData.fd }, () => {
  const { address, port } = server.address();
  parentPort.postMessage({ ferrogw: "listening", address, port });
});
parentPort.on("message", (m) => {
  if (m?.ferrogw === "stop") server.close(() => process.exit(0));
});
