// Runs the store conformance suite against a real PostgreSQL. FERROGW_TEST_POSTGRES_DSN points at
// it (CI: postgres://postgres@127.0.0.1:5432/test). Unset outside CI: skipped with a reason. Set
// but unreachable: the suite fails. Every run works in its own throwaway schemas, dropped at the end.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratePostgres, POSTGRES_MIGRATIONS, type PostgresMigration } from "../../src/store/migrations.js";
import { openPostgresStores, PostgresConnection, PostgresKeyStore } from "../../src/store/postgres.js";
import { MigrationError } from "../../src/store/types.js";
import { storeConformance, type OpenedStores } from "./conformance.js";

const DSN = process.env.FERROGW_TEST_POSTGRES_DSN;
if (!DSN && !process.env.CI) console.warn("skipping Postgres store suite: FERROGW_TEST_POSTGRES_DSN not set");
const suite = DSN || process.env.CI ? describe : describe.skip;

const runId = `ferrogw_test_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
let n = 0;
const schemas: string[] = [];
const newSchema = (): string => {
  const s = `${runId}_${++n}`;
  schemas.push(s);
  return s;
};

suite("PostgreSQL stores", () => {
  let admin: pg.Pool;
  const schemaOf = new WeakMap<OpenedStores, string>();

  beforeAll(async () => {
    if (!DSN) throw new Error("CI is set but FERROGW_TEST_POSTGRES_DSN is not: the PostgreSQL store suite cannot run");
    admin = new pg.Pool({ connectionString: DSN, max: 2, connectionTimeoutMillis: 10_000 });
    admin.on("error", () => undefined);
    try {
      await admin.query("SELECT 1");
    } catch (e) {
      throw new Error(`PostgreSQL at FERROGW_TEST_POSTGRES_DSN is unreachable: ${(e as Error).message}`);
    }
  });

  afterAll(async () => {
    if (!admin) return;
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
  });

  const open = async (schema: string): Promise<OpenedStores> => {
    const st = await openPostgresStores({ dsn: DSN ?? "", schema, poolMax: 4 });
    const opened: OpenedStores = {
      keys: st.keys,
      logs: st.logs,
      config: st.config,
      close: async () => {
        await Promise.all([st.keys.close(), st.logs.close(), st.config.close()]);
      },
    };
    schemaOf.set(opened, schema);
    return opened;
  };
  const schemaFor = (s: OpenedStores): string => {
    const schema = schemaOf.get(s);
    if (!schema) throw new Error("unknown store set");
    return schema;
  };

  storeConformance({
    open: () => open(newSchema()),
    reopen: (prev) => open(schemaFor(prev)),
    migrations: {
      async appliedVersions(s) {
        const res = await admin.query<{ version: number }>(`SELECT version FROM "${schemaFor(s)}".schema_migrations ORDER BY version`);
        return res.rows.map((r) => r.version);
      },
      async markFutureVersion(s, version) {
        await admin.query(`INSERT INTO "${schemaFor(s)}".schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)`, [version]);
      },
    },
  });

  describe("migrations", () => {
    it("applies only pending migrations, once, even when two processes race", async () => {
      const schema = newSchema();
      const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: DSN, max: 2 }));
      try {
        const results = await Promise.all(pools.map((p) => migratePostgres(p, schema)));
        expect(results.flat().sort()).toEqual([1, 2, 3]);
        const extra: PostgresMigration = { version: 4, name: "extra", up: (s) => `CREATE TABLE ${s}.extra_table (x INTEGER)` };
        expect(await migratePostgres(pools[0]!, schema, [...POSTGRES_MIGRATIONS, extra])).toEqual([4]);
        expect(await migratePostgres(pools[0]!, schema, [...POSTGRES_MIGRATIONS, extra])).toEqual([]);
        await expect(migratePostgres(pools[0]!, schema)).rejects.toThrow(/version 4, newer than this ferrogw build knows \(3\)/);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    it("rolls back a failing migration completely and names it", async () => {
      const schema = newSchema();
      const pool = new pg.Pool({ connectionString: DSN, max: 1 });
      try {
        const broken: PostgresMigration = { version: 4, name: "broken", up: (s) => `CREATE TABLE ${s}.half (x INTEGER); THIS IS NOT SQL;` };
        await expect(migratePostgres(pool, schema, [...POSTGRES_MIGRATIONS, broken])).rejects.toThrow(MigrationError);
        const half = await admin.query("SELECT to_regclass($1) AS t", [`"${schema}".half`]);
        expect(half.rows[0]).toEqual({ t: null });
        const max = await admin.query(`SELECT MAX(version) AS v FROM "${schema}".schema_migrations`);
        expect(max.rows[0]).toEqual({ v: 3 });
      } finally {
        await pool.end();
      }
    });

    it("shares one pool between stores and ends it with the last one", async () => {
      const conn = await PostgresConnection.open({ dsn: DSN ?? "", schema: newSchema() });
      const a = new PostgresKeyStore(conn);
      const b = new PostgresKeyStore(conn);
      await a.close();
      await a.close();
      expect(await b.list()).toEqual([]);
      await b.close();
      expect(conn.pool.ended).toBe(true);
    });

    it("fails fast with a clear error when the server is unreachable", async () => {
      const err = await PostgresConnection.open({ dsn: "postgres://postgres@127.0.0.1:1/test", schema: "x" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/ECONNREFUSED|connect/);
    });
  });
});
