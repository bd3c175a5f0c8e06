// A stand-in gateway worker for the supervisor test: answers with its thread id, and crashes
// (an uncaught exception, as a bug would) after answering /crash.
import { createServer } from "node:http";
import { parentPort, threadId, workerData } from "node:worker_threads";

const server = createServer((req, res) => {
  res.end(String(threadId));
  if (req.url === "/crash") setImmediate(() => {
    throw new Error("deliberate crash");
  });
});
server.listen({ fd: workerData.fd }, () => {
  const { address, port } = server.address();
  parentPort.postMessage({ ferrogw: "listening", address, port });
});
parentPort.on("message", (m) => {
  if (m?.ferrogw === "stop") server.close(() => process.exit(0));
});
