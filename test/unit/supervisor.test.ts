// The worker-thread supervisor (src/server/workers/supervisor.ts) with a stand-in worker: every
// thread accepts on the one port, a crashed thread is replaced while the others keep answering,
// and stop() drains and resolves. A replacement starts from the config the others run when one
// was applied since start-up, not from the file.
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Agent, request } from "undici";
import { startSupervisor } from "../../src/server/workers/supervisor.js";
import { until } from "../helpers/until.js";

/** The supervisor with two stand-in workers; `logs()` is everything it logged so far. */
async function standInSupervisor(): Promise<{ sup: Awaited<ReturnType<typeof startSupervisor>>; logs: () => string }> {
  let text = "";
  const log = pino({ level: "info" }, new Writable({ write: (chunk: Buffer, _e, cb) => ((text += chunk.toString()), cb()) }));
  const sup = await startSupervisor({
    workers: 2,
    port: 0,
    host: "127.0.0.1",
    log,
    workerUrl: new URL("../helpers/crashing-worker.mjs", import.meta.url),
    options: {},
    listeningInfo: {},
  });
  return { sup, logs: () => text };
}

describe("worker-thread supervisor", () => {
  it("shares one port across threads, replaces a crashed thread and stops cleanly", { timeout: 60_000 }, async () => {
    const { sup, logs } = await standInSupervisor();
    await until("both workers listening", () => logs().includes("ferrogw listening"));
    const port = Number(/"port":(\d+)/.exec(logs())?.[1]);
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
    expect(logs()).toContain("worker exited unexpectedly");
    expect(logs()).toContain("deliberate crash");
    // An error that is not a real Error crosses the thread boundary as a bare copy of its fields:
    // the supervisor still logs what there is, not `err: {}`.
    const crashedOdd = await get("/crash-sqlite");
    await until("a replacement for the odd crash", () => sup.threadIds.length === 2 && !sup.threadIds.includes(Number(crashedOdd)));
    expect(logs()).toMatch(/"worker failed".*SQLITE_ERROR|SQLITE_ERROR.*"worker failed"/);
    // The port survived the crash: every thread, old and new, still accepts.
    const after = new Set<string>();
    await until("both threads answering after the crash", async () => {
      const batch = await Promise.all(Array.from({ length: 8 }, () => get("/")));
      for (const id of batch) after.add(id);
      return after.size === 2;
    });
    expect(after.has(crashed)).toBe(false);
    // Every thread so far started before any config was applied: from the file.
    const before = JSON.parse(await get("/applied")) as { applied: unknown };
    expect(before.applied).toBeNull();

    // A worker applies a config and tells the others (the supervisor listens too); then a thread
    // crashes, and its replacement starts from that config.
    const applier = Number(await get("/apply"));
    await new Promise((r) => setTimeout(r, 300)); // the broadcast reaches the supervisor's loop
    const crashedAgain = await get("/crash");
    await until("a second replacement", () => sup.threadIds.length === 2 && !sup.threadIds.includes(Number(crashedAgain)));
    const replacement = sup.threadIds.find((id) => !after.has(String(id))) as number;
    let seen: { thread: number; applied: unknown } | undefined;
    await until("the replacement answering", async () => {
      const batch = (await Promise.all(Array.from({ length: 8 }, () => get("/applied")))).map((t) => JSON.parse(t) as { thread: number; applied: unknown });
      seen = batch.find((b) => b.thread === replacement);
      return seen !== undefined;
    });
    expect(seen?.applied).toEqual({ raw: { strategy: { mode: "fallback" }, from: applier }, version: 7 });

    sup.stop("test");
    expect(await sup.exited).toBe(0);
    expect(sup.threadIds).toHaveLength(0);
  });

  it("retries a replacement that fails to start instead of stopping the gateway", { timeout: 60_000 }, async () => {
    const { sup, logs } = await standInSupervisor();
    const flag = join(mkdtempSync(join(tmpdir(), "fgw-sup-")), "fail-once");
    try {
      await until("both workers listening", () => logs().includes("ferrogw listening"));
      const port = Number(/"port":(\d+)/.exec(logs())?.[1]);
      // The next thread to start (the replacement) fails before listening, once.
      process.env.CRASHING_WORKER_FAIL_ONCE = flag;
      writeFileSync(flag, "");
      const agent = new Agent();
      const crashed = await (await request(`http://127.0.0.1:${port}/crash`, { dispatcher: agent })).body.text();
      await agent.close();
      await until("a replacement that starts", () => sup.threadIds.length === 2 && !sup.threadIds.includes(Number(crashed)) && !existsSync(flag), 30_000);
      await until("the second try listening", () => (logs().match(/worker exited unexpectedly/g) ?? []).length === 2);
      expect(logs()).not.toContain("a worker failed to start; stopping");
      sup.stop("test");
      expect(await sup.exited).toBe(0);
    } finally {
      delete process.env.CRASHING_WORKER_FAIL_ONCE;
    }
  });
});
