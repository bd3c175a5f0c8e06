// The supervisor's side of worker-shared memory state (src/server/workers/shared-state.ts), with
// real worker threads that speak its protocol: a budget reservation held by a worker that dies
// before settling it is given back, so it does not count against the budget for good.
import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { serveState } from "../../src/server/workers/shared-state.js";
import { memoryBudgetStore } from "../../src/state/memory.js";

/** A worker that sends the given state calls one after another, then exits with `code`. */
function workerCalling(calls: Array<{ method: string; args: unknown[] }>, code: number): Worker {
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    let seq = 0;
    const next = () => {
      const call = workerData.calls[seq];
      if (!call) process.exit(workerData.code);
      parentPort.postMessage({ ferrogw: "state", seq: ++seq, store: { kind: "budget", id: workerData.store, size: 100 }, method: call.method, args: call.args });
    };
    parentPort.on("message", next);
    next();
  `;
  return new Worker(source, { eval: true, workerData: { calls, code, store: STORE } });
}

const STORE = "shared-state-test";

async function run(calls: Array<{ method: string; args: unknown[] }>, code: number): Promise<void> {
  const w = workerCalling(calls, code);
  serveState(w);
  await new Promise((r) => w.once("exit", r));
}

describe("shared budget state across worker threads", () => {
  it("gives back what a worker reserved and never settled when it dies", async () => {
    const store = memoryBudgetStore(STORE, 100);
    await run([{ method: "reserve", args: ["k1", 300, 1000] }], 0);
    await run(
      [
        { method: "reserve", args: ["k1", 500, 1000] },
        { method: "reserve", args: ["k1", 100, 1000] },
        { method: "settle", args: ["k1", 100, 40, 0] },
      ],
      1,
    );
    // What each worker reserved and did not settle (300, then 500) is given back when it exits;
    // the settled 100 became 40 spent.
    expect(store.get("k1")).toEqual({ spent: 40, reserved: 0 });
  });

  it("leaves reservations another worker holds alone", async () => {
    const store = memoryBudgetStore(STORE, 100);
    store.reserve("k2", 200, 1000); // a live worker's request, still upstream
    await run([{ method: "reserve", args: ["k2", 50, 1000] }], 1);
    expect(store.get("k2")).toEqual({ spent: 0, reserved: 200 });
  });
});
