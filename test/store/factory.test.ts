import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { maskDsn, openStores, resolveStoreSpec, StoreConfigError } from "../../src/store/factory.js";
import { MemoryConfigStore, MemoryKeyStore, MemoryRequestLogStore } from "../../src/store/memory.js";
import { PostgresKeyStore } from "../../src/store/postgres.js";
import { SqliteConfigStore, SqliteKeyStore, SqliteRequestLogStore } from "../../src/store/sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "ferrogw-factory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("openStores", () => {
  it("defaults to one SQLite file, ferrogw.db in the working directory, shared by all three stores", async () => {
    const cwd = join(dir, "default");
    const stores = await openStores({}, { cwd });
    expect(stores.keys).toBeInstanceOf(SqliteKeyStore);
    expect(stores.logs).toBeInstanceOf(SqliteRequestLogStore);
    expect(stores.config).toBeInstanceOf(SqliteConfigStore);
    const file = join(cwd, "ferrogw.db");
    expect(stores.describe.keys).toEqual({ backend: "sqlite", location: file });
    expect(existsSync(file)).toBe(true);
    // One shared handle: closing one store leaves the others working.
    await stores.keys.close();
    expect(await stores.config.save({ config: { a: 1 }, author: "t" })).toBe(1);
    await stores.close();
    await stores.close();
  });

  it("takes the DSN as a path (relative to cwd, sqlite: prefixes allowed) and mixes backends", async () => {
    const stores = await openStores(
      {
        API_KEY_STORE_BACKEND: "memory",
        REQUEST_LOG_STORE_BACKEND: "SQLite",
        REQUEST_LOG_STORE_DSN: "sqlite://data/logs.db",
        CONFIG_STORE_DSN: join(dir, "abs", "config.db"),
      },
      { cwd: dir },
    );
    expect(stores.keys).toBeInstanceOf(MemoryKeyStore);
    expect(stores.describe.logs.location).toBe(join(dir, "data", "logs.db"));
    expect(stores.describe.config.location).toBe(join(dir, "abs", "config.db"));
    expect(existsSync(join(dir, "data", "logs.db"))).toBe(true);
    await stores.close();
  });

  it("memory backend needs nothing", async () => {
    const stores = await openStores({ API_KEY_STORE_BACKEND: "memory", REQUEST_LOG_STORE_BACKEND: "memory", CONFIG_STORE_BACKEND: "memory" });
    expect(stores.keys).toBeInstanceOf(MemoryKeyStore);
    expect(stores.logs).toBeInstanceOf(MemoryRequestLogStore);
    expect(stores.config).toBeInstanceOf(MemoryConfigStore);
    await stores.close();
  });

  it("explains configuration mistakes", async () => {
    await expect(openStores({ REQUEST_LOG_STORE_BACKEND: "postgres" }, { cwd: dir })).rejects.toThrow(
      /REQUEST_LOG_STORE_BACKEND=postgres needs REQUEST_LOG_STORE_DSN/,
    );
    await expect(openStores({ CONFIG_STORE_BACKEND: "mysql" }, { cwd: dir })).rejects.toThrow(StoreConfigError);
    await expect(openStores({ CONFIG_STORE_BACKEND: "mysql" }, { cwd: dir })).rejects.toThrow(/sqlite \(default\), postgres or memory/);
    expect(() => resolveStoreSpec("keys", { API_KEY_STORE_BACKEND: "postgres", API_KEY_STORE_DSN: "not a dsn" })).toThrow(/not a PostgreSQL connection string/);
    expect(resolveStoreSpec("keys", { API_KEY_STORE_BACKEND: "postgresql", API_KEY_STORE_DSN: "postgres://u:p@h/db" }).backend).toBe("postgres");
  });

  it("masks passwords when describing a DSN", () => {
    expect(maskDsn("postgres://ferrogw:s3cret@db:5432/ferrogw?sslmode=disable")).toBe("postgres://ferrogw:****@db:5432/ferrogw?sslmode=disable");
    expect(maskDsn("postgres://postgres@127.0.0.1:5432/test")).toBe("postgres://postgres@127.0.0.1:5432/test");
  });

  const DSN = process.env.FERROGW_TEST_POSTGRES_DSN;
  it.skipIf(!DSN)("opens PostgreSQL stores, sharing one pool for one DSN", async () => {
    const schema = `ferrogw_test_factory_${Date.now().toString(36)}_${process.pid}`;
    const env = { API_KEY_STORE_BACKEND: "postgres", API_KEY_STORE_DSN: DSN, REQUEST_LOG_STORE_BACKEND: "postgres", REQUEST_LOG_STORE_DSN: DSN };
    const admin = new pg.Pool({ connectionString: DSN });
    try {
      const stores = await openStores(env, { cwd: join(dir, "pg"), postgresSchema: schema });
      expect(stores.keys).toBeInstanceOf(PostgresKeyStore);
      expect(stores.describe.logs.backend).toBe("postgres");
      expect(stores.config).toBeInstanceOf(SqliteConfigStore);
      await stores.keys.close();
      await stores.logs.insertBatch([]); // the shared pool is still open
      expect((await stores.logs.query()).rows).toEqual([]);
      await stores.close();
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
