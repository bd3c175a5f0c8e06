// Entry module of a gateway worker thread (started by src/server/workers/supervisor.ts).
import { serveWorker } from "./serve.js";
import { workerInfo } from "../server/workers/thread-info.js";

const info = workerInfo();
if (!info) throw new Error("worker-thread.js is started by the ferrogw supervisor");
await serveWorker(info);
