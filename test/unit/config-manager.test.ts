// ConfigManager when the config store cannot record a new version (a SQLite file locked by
// another process past its busy timeout, Postgres restarting): the reload must not half-happen
// (running the new config but never recorded or announced) nor escape as an unhandled rejection,
// which would kill the worker and the request log rows it holds. And what becomes of the
// runtime a reload replaced: closed once no request runs on it, or at shutdown.
import { describe, expect, it, vi } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { validateConfig } from "../../src/config/load.js";
import { ConfigManager, type RuntimeHolder } from "../../src/gateway/config-manager.js";
import { buildRuntime, type Runtime } from "../../src/gateway/runtime.js";
import { MemoryConfigStore } from "../../src/store/memory.js";
import type { SaveConfigInput } from "../../src/store/types.js";

const ENV = { OPENAI_API_KEY: "sk-test" };
const A = { strategy: { mode: "single" }, targets: [{ virtual_key: "openai" }] };
const B = { ...A, aliases: { fast: "gpt-4o-mini" } };

function runtimeOf(raw: unknown): Runtime {
  const loaded = validateConfig(raw, ENV);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return buildRuntime(loaded.config, ENV);
}

/** A config store whose writes fail while `locked` is set. */
class FlakyStore extends MemoryConfigStore {
  locked = false;
  override save(input: SaveConfigInput): Promise<number> {
    if (this.locked) return Promise.reject(new Error("database is locked"));
    return super.save(input);
  }
}

function setup(): { holder: RuntimeHolder & { current: Runtime }; store: FlakyStore; manager: ConfigManager; logs: string[]; file: string; cleanup: () => void } {
  const initial = runtimeOf(A);
  const holder = {
    current: initial,
    setRuntime(rt: Runtime) {
      this.current = rt;
    },
    get currentRuntime() {
      return this.current;
    },
  };
  const logs: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => logs.push(line) });
  const dir = mkdtempSync(join(tmpdir(), "fgw-cm-"));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(A));
  const store = new FlakyStore();
  const manager = new ConfigManager(holder, store, log, ENV, A, file);
  return { holder, store, manager, logs, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Counts the calls of a runtime's close(). */
function countCloses(rt: Runtime): { count: number } {
  const closes = { count: 0 };
  rt.close = () => {
    closes.count++;
    return Promise.resolve();
  };
  return closes;
}

describe("ConfigManager warnings", () => {
  it("logs what an applied config leaves off, as the start-up log does", async () => {
    const { manager, logs, cleanup } = setup();
    try {
      const withImplicitPlugin = { plugins: [{ name: "word-filter", stage: "before_request", config: { blocked_words: ["x"] } }] };
      expect(await manager.apply(withImplicitPlugin, "admin")).toMatchObject({ ok: true });
      expect(logs.join("")).toContain("plugins[0] (word-filter, before_request) has no enabled key: it is off");
    } finally {
      cleanup();
    }
  });
});

describe("ConfigManager when the config store cannot record a version", () => {
  it("rejects the apply and keeps running the config it had, unrecorded nowhere", async () => {
    const { holder, store, manager, cleanup } = setup();
    try {
      const before = holder.currentRuntime;
      store.locked = true;
      await expect(manager.apply(B, "admin")).rejects.toThrow("database is locked");
      expect(holder.currentRuntime).toBe(before);
      expect(manager.currentRaw).toEqual(A);
      store.locked = false;
      const ok = await manager.apply(B, "admin");
      expect(ok).toEqual({ ok: true, version: 1 });
      expect(holder.currentRuntime).not.toBe(before);
      expect(manager.currentRaw).toEqual(B);
    } finally {
      cleanup();
    }
  });

  it("logs a file reload it could not record instead of throwing, and applies it on the next try", async () => {
    const { holder, store, manager, logs, file, cleanup } = setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): void => {
      unhandled.push(err);
    };
    process.on("unhandledRejection", onUnhandled);
    try {
      const before = holder.currentRuntime;
      writeFileSync(file, JSON.stringify(B));
      store.locked = true;
      manager.reloadInBackground();
      for (let i = 0; i < 100 && !logs.some((l) => l.includes("config reload not applied")); i++) await new Promise((r) => setTimeout(r, 5));
      expect(logs.join("")).toContain("database is locked");
      expect(holder.currentRuntime).toBe(before);
      store.locked = false;
      expect(await manager.reloadFromFile()).toEqual({ ok: true, version: 1 });
      expect(manager.currentRaw).toEqual(B);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      cleanup();
    }
  });

  it("keeps a replaced runtime open while a request still runs on it, then closes it", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "Date"] });
    const { holder, manager, cleanup } = setup();
    try {
      const first = holder.currentRuntime;
      const closes = countCloses(first);
      first.active.requests = 1; // a long stream that began before the reload
      await manager.apply(B, "admin");
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(closes.count).toBe(0);
      first.active.requests = 0;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(closes.count).toBe(1);
    } finally {
      vi.useRealTimers();
      cleanup();
    }
  });

  it("closes the runtimes a reload replaced when asked at shutdown", async () => {
    const { holder, manager, cleanup } = setup();
    try {
      const first = holder.currentRuntime;
      const closes = countCloses(first);
      await manager.apply(B, "admin");
      await manager.closeRetired();
      expect(closes.count).toBe(1);
      await manager.closeRetired();
      expect(closes.count).toBe(1);
    } finally {
      cleanup();
    }
  });
});
