// The worker-thread supervisor (src/server/workers/supervisor.ts) with a stand-in worker: every
// thread accepts on the one port, a crashed thread is replaced while the others keep answering,
// and stop() drains and resolves.
import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Agent, request } from "undici";
import { startSupervisor } from "../../src/server/workers/supervisor.js";
import { until } from "../helpers/until.js";

describe("worker-thread supervisor", () => {
  it("shares one port across threads, replaces a crashed thread and stops cleanly", { timeout: 60_000 }, async () => {
    let logs = "";
    const log = pino({ level: "info" }, new Writable({ write: (chunk: Buffer, _e, cb) => ((logs += chunk.toString()), cb()) }));
    const sup = await startSupervisor({
      workers: 2,
      port: 0,
      host: "127.0.0.1",
      log,
      workerUrl: new URL("../helpers/crashing-worker.mjs", import.meta.url),
      options: {},
      listeningInfo: {},
    });
    await until("both workers listening", () => logs.includes("ferrogw listening"));
    const port = Number(/"port":(\d+)/.exec(logs)?.[1]);
    // One connection per request, so the kernel hands them to whichever thread accepts first.
    const get = async (path: string): Promise<string> => {
      const agent = new Agent();
      try {
        const res = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent });
        return await res.body.text();
      } finally {
        await agent.close();
      }
    };
    const first = [...sup.threadIds];
    expect(first).toHaveLength(2);
    const served = new Set<string>();
    await until("both threads answering", async () => {
      const batch = await Promise.all(Array.from({ length: 8 }, () => get("/")));
      for (const id of batch) served.add(id);
      return served.size === 2;
    });
    expect([...served].map(Number).sort()).toEqual([...first].sort());

    const crashed = await get("/crash");
    await until("a replacement thread", () => sup.threadIds.length === 2 && !sup.threadIds.includes(Number(crashed)));
    expect(logs).toContain("worker exited unexpectedly");
    expect(logs).toContain("deliberate crash");
    // The port survived the crash: every thread, old and new, still accepts.
    const after = new Set<string>();
    await until("both threads answering after the crash", async () => {
      const batch = await Promise.all(Array.from({ length: 8 }, () => get("/")));
      for (const id of batch) after.add(id);
      return after.size === 2;
    });
    expect(after.has(crashed)).toBe(false);

    sup.stop("test");
    expect(await sup.exited).toBe(0);
    expect(sup.threadIds).toHaveLength(0);
  });
});
