// Versioned schema migrations, one ordered list per dialect. Applied versions are recorded in
// `schema_migrations(version, name, applied_at)`; each pending migration runs once, in its own
// transaction, under a lock so two gateways starting together do not race; running again is a
// no-op. A database that has a version this build does not know is refused with a clear error
// instead of being used with the wrong schema.
//
// Rules for adding a migration: append to BOTH lists with the next version number; never edit or
// reorder a migration that has shipped. Timestamps are BIGINT epoch ms in both dialects.
import type { Database } from "better-sqlite3";
import type { Pool } from "pg";
import { MigrationError } from "./types.js";

export interface Migration<Up> {
  version: number;
  name: string;
  up: Up;
}

export type SqliteMigration = Migration<string>;
/** `up` receives the quoted schema name, e.g. `"public"`, and returns the DDL. */
export type PostgresMigration = Migration<(schema: string) => string>;

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "api_keys",
    up: `
      CREATE TABLE api_keys (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        key_hash       TEXT NOT NULL UNIQUE,
        key_prefix     TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        expires_at     INTEGER,
        revoked_at     INTEGER,
        last_used_at   INTEGER,
        allowed_models TEXT,
        metadata       TEXT NOT NULL DEFAULT '{}',
        rate_limit_rpm INTEGER,
        budget_usd     REAL,
        budget_period  TEXT
      );
      CREATE INDEX api_keys_created_idx ON api_keys (created_at, id);
    `,
  },
  {
    version: 2,
    name: "request_logs",
    // seq is the rowid: the insertion order, used only to break (time, id) ties in the cursor.
    up: `
      CREATE TABLE request_logs (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL,
        time                INTEGER NOT NULL,
        key_id              TEXT,
        model               TEXT,
        provider            TEXT,
        target              TEXT,
        status              INTEGER NOT NULL,
        latency_ms          REAL NOT NULL DEFAULT 0,
        upstream_latency_ms REAL NOT NULL DEFAULT 0,
        tokens_in           INTEGER NOT NULL DEFAULT 0,
        tokens_out          INTEGER NOT NULL DEFAULT 0,
        cost_usd            REAL NOT NULL DEFAULT 0,
        cache_hit           INTEGER NOT NULL DEFAULT 0,
        error               TEXT,
        attempts            INTEGER NOT NULL DEFAULT 0,
        stream              INTEGER NOT NULL DEFAULT 0,
        request_body        TEXT,
        response_body       TEXT
      );
      CREATE INDEX request_logs_time_idx ON request_logs (time, id);
      CREATE INDEX request_logs_key_time_idx ON request_logs (key_id, time);
    `,
  },
  {
    version: 3,
    name: "config_versions",
    // AUTOINCREMENT: a version number is never reused, even after deletes.
    up: `
      CREATE TABLE config_versions (
        version    INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        author     TEXT NOT NULL,
        comment    TEXT,
        config     TEXT NOT NULL
      );
    `,
  },
];

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: "api_keys",
    up: (s) => `
      CREATE TABLE ${s}.api_keys (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        key_hash       TEXT NOT NULL UNIQUE,
        key_prefix     TEXT NOT NULL,
        created_at     BIGINT NOT NULL,
        updated_at     BIGINT NOT NULL,
        expires_at     BIGINT,
        revoked_at     BIGINT,
        last_used_at   BIGINT,
        allowed_models JSONB,
        metadata       JSONB NOT NULL DEFAULT '{}'::jsonb,
        rate_limit_rpm INTEGER,
        budget_usd     DOUBLE PRECISION,
        budget_period  TEXT
      );
      CREATE INDEX api_keys_created_idx ON ${s}.api_keys (created_at, id);
    `,
  },
  {
    version: 2,
    name: "request_logs",
    // id COLLATE "C": byte order, so cursor order does not depend on the database's locale.
    up: (s) => `
      CREATE TABLE ${s}.request_logs (
        seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id                  TEXT COLLATE "C" NOT NULL,
        time                BIGINT NOT NULL,
        key_id              TEXT,
        model               TEXT,
        provider            TEXT,
        target              TEXT,
        status              INTEGER NOT NULL,
        latency_ms          DOUBLE PRECISION NOT NULL DEFAULT 0,
        upstream_latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        tokens_in           INTEGER NOT NULL DEFAULT 0,
        tokens_out          INTEGER NOT NULL DEFAULT 0,
        cost_usd            DOUBLE PRECISION NOT NULL DEFAULT 0,
        cache_hit           BOOLEAN NOT NULL DEFAULT false,
        error               TEXT,
        attempts            INTEGER NOT NULL DEFAULT 0,
        stream              BOOLEAN NOT NULL DEFAULT false,
        request_body        TEXT,
        response_body       TEXT
      );
      CREATE INDEX request_logs_time_idx ON ${s}.request_logs (time DESC, id DESC, seq DESC);
      CREATE INDEX request_logs_key_time_idx ON ${s}.request_logs (key_id, time);
    `,
  },
  {
    version: 3,
    name: "config_versions",
    // JSON (not JSONB) keeps the document exactly as saved, key order included, for diffs.
    up: (s) => `
      CREATE TABLE ${s}.config_versions (
        version    INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        created_at BIGINT NOT NULL,
        author     TEXT NOT NULL,
        comment    TEXT,
        config     JSON NOT NULL
      );
    `,
  },
];

/** Quotes an SQL identifier (schema name). */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63 || name.includes("\0")) throw new Error(`invalid SQL identifier: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

function checkOrder<T>(migrations: readonly Migration<T>[]): number {
  let prev = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= prev) throw new MigrationError(`migration versions must be increasing integers (at ${m.name})`);
    prev = m.version;
  }
  return prev;
}

function tooNew(dbVersion: number, known: number, where: string): MigrationError {
  return new MigrationError(
    `the ${where} schema is at version ${dbVersion}, newer than this ferrogw build knows (${known}): ` +
      `it was migrated by a newer ferrogw. Upgrade ferrogw, or point it at another database.`,
  );
}

const BOOTSTRAP_SQLITE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;

/** Applies pending migrations; returns the versions applied by this call. */
export function migrateSqlite(db: Database, migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS, where = "SQLite"): number[] {
  const known = checkOrder(migrations);
  db.exec(BOOTSTRAP_SQLITE);
  const appliedVersions = (): Set<number> =>
    new Set((db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version));
  const current = Math.max(0, ...appliedVersions());
  if (current > known) throw tooNew(current, known, where);

  const done: number[] = [];
  for (const m of migrations) {
    // IMMEDIATE takes the write lock first, so a second process waits and then sees it applied.
    const apply = db.transaction(() => {
      if (appliedVersions().has(m.version)) return false;
      db.exec(m.up);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
      return true;
    });
    try {
      if (apply.immediate()) done.push(m.version);
    } catch (e) {
      throw new MigrationError(`${where} migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
    }
  }
  return done;
}

/** Applies pending migrations inside `schema` (created if missing); returns the versions applied. */
export async function migratePostgres(
  pool: Pool,
  schema: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number[]> {
  const known = checkOrder(migrations);
  const s = quoteIdent(schema);
  const client = await pool.connect();
  const lockKey = `ferrogw.migrate.${schema}`;
  let locked = false;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    locked = true;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
    );
    const res = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const applied = new Set(res.rows.map((r) => r.version));
    const current = Math.max(0, ...applied);
    if (current > known) throw tooNew(current, known, `PostgreSQL (schema ${schema})`);

    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      try {
        await client.query("BEGIN");
        await client.query(m.up(s));
        await client.query(`INSERT INTO ${s}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw new MigrationError(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
      }
      done.push(m.version);
    }
    return done;
  } finally {
    if (locked) await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]).catch(() => undefined);
    client.release();
  }
}
