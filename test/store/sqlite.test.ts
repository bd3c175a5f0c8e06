import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { migrateSqlite, SQLITE_MIGRATIONS, type SqliteMigration } from "../../src/store/migrations.js";
import { openSqliteStores, SqliteConnection, SqliteKeyStore } from "../../src/store/sqlite.js";
import { MigrationError } from "../../src/store/types.js";
import { storeConformance, type OpenedStores } from "./conformance.js";

const dir = mkdtempSync(join(tmpdir(), "ferrogw-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const paths = new WeakMap<OpenedStores, string>();

function open(path: string): OpenedStores {
  const st = openSqliteStores(path);
  const opened: OpenedStores = {
    keys: st.keys,
    logs: st.logs,
    config: st.config,
    close: async () => {
      await Promise.all([st.keys.close(), st.logs.close(), st.config.close()]);
    },
  };
  paths.set(opened, path);
  return opened;
}

const pathOf = (s: OpenedStores): string => {
  const p = paths.get(s);
  if (!p) throw new Error("unknown store set");
  return p;
};

describe("SQLite stores", () => {
  storeConformance({
    open: async () => open(join(dir, `conf-${++n}.db`)),
    reopen: async (prev) => open(pathOf(prev)),
    migrations: {
      async appliedVersions(s) {
        const db = new BetterSqlite3(pathOf(s), { readonly: true });
        try {
          return (db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[]).map((r) => r.version);
        } finally {
          db.close();
        }
      },
      async markFutureVersion(s, version) {
        const db = new BetterSqlite3(pathOf(s));
        try {
          db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)").run(version);
        } finally {
          db.close();
        }
      },
    },
  });

  it("uses WAL mode and creates missing directories", () => {
    const conn = SqliteConnection.open(join(dir, "nested", "deeper", "wal.db")).retain();
    expect(conn.db.pragma("journal_mode", { simple: true })).toBe("wal");
    conn.release();
    expect(conn.db.open).toBe(false);
  });

  it("shares one connection between stores and closes it with the last one", async () => {
    const st = openSqliteStores(join(dir, "shared.db"));
    expect(st.connection.db.open).toBe(true);
    await st.keys.close();
    await st.keys.close(); // idempotent: does not release twice
    await st.logs.insertBatch([]);
    expect(await st.config.save({ config: {}, author: "a" })).toBe(1);
    await st.logs.close();
    expect(st.connection.db.open).toBe(true);
    await st.config.close();
    expect(st.connection.db.open).toBe(false);
  });

  it("works on :memory:", async () => {
    const st = openSqliteStores(":memory:");
    expect(await st.config.save({ config: { x: 1 }, author: "a" })).toBe(1);
    await Promise.all([st.keys.close(), st.logs.close(), st.config.close()]);
  });

  describe("migrations", () => {
    const extra: SqliteMigration = { version: 4, name: "extra", up: "CREATE TABLE extra_table (x INTEGER)" };

    it("applies only pending migrations, in order, once", () => {
      const db = new BetterSqlite3(":memory:");
      expect(migrateSqlite(db)).toEqual([1, 2, 3]);
      expect(migrateSqlite(db)).toEqual([]);
      expect(migrateSqlite(db, [...SQLITE_MIGRATIONS, extra])).toEqual([4]);
      expect(migrateSqlite(db, [...SQLITE_MIGRATIONS, extra])).toEqual([]);
      const rows = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();
      expect(rows).toEqual([
        { version: 1, name: "api_keys" },
        { version: 2, name: "request_logs" },
        { version: 3, name: "config_versions" },
        { version: 4, name: "extra" },
      ]);
      // Now the code "forgets" migration 4: the database is newer than the build.
      expect(() => migrateSqlite(db)).toThrow(MigrationError);
      expect(() => migrateSqlite(db)).toThrow(/version 4, newer than this ferrogw build knows \(3\)/);
      db.close();
    });

    it("rolls back a failing migration completely and names it", () => {
      const db = new BetterSqlite3(":memory:");
      const broken: SqliteMigration = { version: 4, name: "broken", up: "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;" };
      expect(() => migrateSqlite(db, [...SQLITE_MIGRATIONS, broken])).toThrow(/migration 4 \(broken\) failed/);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
      expect(db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get()).toEqual({ v: 3 });
      db.close();
    });

    it("rejects a migration list that is not strictly increasing", () => {
      const db = new BetterSqlite3(":memory:");
      expect(() => migrateSqlite(db, [extra, ...SQLITE_MIGRATIONS])).toThrow(MigrationError);
      db.close();
    });

    it("opening through the store migrates a fresh file and is idempotent", async () => {
      const path = join(dir, "idem.db");
      for (let i = 0; i < 3; i++) {
        const conn = SqliteConnection.open(path);
        const keys = new SqliteKeyStore(conn);
        expect(await keys.list()).toEqual([]);
        await keys.close();
      }
      const db = new BetterSqlite3(path);
      expect(db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get()).toEqual({ n: 3 });
      db.close();
    });
  });
});
