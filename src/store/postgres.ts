// PostgreSQL stores (pg Pool). Every table is schema-qualified (`schema` option, default
// "public"), so tests and multi-tenant setups can isolate a run in its own schema. A log batch is
// one INSERT … SELECT FROM unnest(arrays): one round trip and 18 parameters whatever the batch size.
import type { Pool, PoolClient } from "pg";
import { applyKeyPatch, clampLimit, decodeCursor, encodeCursor, roundStat, sortStats } from "./common.js";
import { migratePostgres, POSTGRES_MIGRATIONS, quoteIdent, type PostgresMigration } from "./migrations.js";
import {
  groupExpression,
  KEY_COLUMNS,
  keyValues,
  LOG_COLUMNS,
  LOG_ORDER,
  logWhere,
  postgresDialect,
  STATS_COLUMNS,
  toKeyRecord,
  toLogRow,
  toStat,
  type DbKeyRow,
  type DbLogRow,
  type DbStatRow,
} from "./sql.js";
import {
  DuplicateKeyError,
  type ApiKeyPatch,
  type ApiKeyRecord,
  type ConfigStore,
  type ConfigVersion,
  type ConfigVersionMeta,
  type KeyStore,
  type ListKeysOptions,
  type RequestLogPage,
  type RequestLogQuery,
  type RequestLogRow,
  type RequestLogStore,
  type SaveConfigInput,
  type StatsQuery,
  type UsageStat,
} from "./types.js";

export interface PostgresOptions {
  /** postgres://user:pass@host:5432/db (anything `pg` accepts as connectionString). */
  dsn: string;
  /** Schema holding the tables (created if missing). Default "public". */
  schema?: string;
  /** Pool size, default 10. */
  poolMax?: number;
  /** Override the migration list (tests). */
  migrations?: readonly PostgresMigration[];
  /** Errors of idle pooled connections (the server restarted, …); default: printed to stderr. */
  onError?: (err: Error) => void;
}

/** One pool shared by the stores that point at the same DSN and schema; ended by the last one. */
export class PostgresConnection {
  readonly pool: Pool;
  readonly schema: string;
  private readonly qualified: string;
  private refs = 0;
  private ended: Promise<void> | undefined;

  private constructor(pool: Pool, schema: string) {
    this.pool = pool;
    this.schema = schema;
    this.qualified = quoteIdent(schema);
  }

  /** Connects (failing fast if the server is unreachable) and migrates. */
  static async open(opts: PostgresOptions): Promise<PostgresConnection> {
    const schema = opts.schema ?? "public";
    // Imported here, not at the top: with SQLite stores (the default) no worker loads pg.
    const { default: pg } = await import("pg");
    const pool = new pg.Pool({
      connectionString: opts.dsn,
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: "ferrogw",
    });
    const onError =
      opts.onError ?? ((err: Error) => console.error(`ferrogw: PostgreSQL pool error (the connection will be replaced): ${err.message}`));
    pool.on("error", onError);
    try {
      await migratePostgres(pool, schema, opts.migrations ?? POSTGRES_MIGRATIONS);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return new PostgresConnection(pool, schema);
  }

  /** Schema-qualified table name. */
  t(table: string): string {
    return `${this.qualified}.${table}`;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  async release(): Promise<void> {
    this.refs--;
    if (this.refs <= 0) {
      this.ended ??= this.pool.end();
      await this.ended;
    }
  }

  /** Runs fn inside BEGIN/COMMIT on one pooled client. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}

abstract class PostgresStore {
  protected readonly conn: PostgresConnection;
  private closed = false;

  constructor(conn: PostgresConnection) {
    this.conn = conn.retain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.release();
  }
}

const isUniqueViolation = (e: unknown): boolean => (e as { code?: unknown }).code === "23505";

export class PostgresKeyStore extends PostgresStore implements KeyStore {
  private get table(): string {
    return this.conn.t("api_keys");
  }

  async create(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    try {
      await this.conn.pool.query(
        `INSERT INTO ${this.table} (${KEY_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13, $14)`,
        keyValues(record),
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new DuplicateKeyError();
      throw e;
    }
    return structuredClone(record);
  }

  async getByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const res = await this.conn.pool.query<DbKeyRow>(`SELECT ${KEY_COLUMNS} FROM ${this.table} WHERE key_hash = $1`, [keyHash]);
    const row = res.rows[0];
    return row && toKeyRecord(row);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const res = await this.conn.pool.query<DbKeyRow>(`SELECT ${KEY_COLUMNS} FROM ${this.table} WHERE id = $1`, [id]);
    const row = res.rows[0];
    return row && toKeyRecord(row);
  }

  async list(opts: ListKeysOptions = {}): Promise<ApiKeyRecord[]> {
    const where = opts.includeRevoked === true ? "" : "WHERE revoked_at IS NULL";
    const res = await this.conn.pool.query<DbKeyRow>(`SELECT ${KEY_COLUMNS} FROM ${this.table} ${where} ORDER BY created_at, id COLLATE "C"`);
    return res.rows.map(toKeyRecord);
  }

  async revoke(id: string, at: number = Date.now()): Promise<ApiKeyRecord | undefined> {
    await this.conn.pool.query(
      `UPDATE ${this.table} SET revoked_at = $1, updated_at = GREATEST(updated_at, $1) WHERE id = $2 AND revoked_at IS NULL`,
      [at, id],
    );
    return this.get(id);
  }

  async update(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined> {
    try {
      return await this.conn.transaction(async (client) => {
        const res = await client.query<DbKeyRow>(`SELECT ${KEY_COLUMNS} FROM ${this.table} WHERE id = $1 FOR UPDATE`, [id]);
        const row = res.rows[0];
        if (!row) return undefined;
        const next = applyKeyPatch(toKeyRecord(row), patch);
        const v = keyValues(next);
        await client.query(
          `UPDATE ${this.table} SET name = $1, key_hash = $2, key_prefix = $3, updated_at = $4, expires_at = $5,
             allowed_models = $6::jsonb, metadata = $7::jsonb, rate_limit_rpm = $8, budget_usd = $9, budget_period = $10
           WHERE id = $11`,
          [v[1], v[2], v[3], v[5], v[6], v[9], v[10], v[11], v[12], v[13], id],
        );
        return next;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new DuplicateKeyError();
      throw e;
    }
  }

  async touchLastUsed(id: string, at: number): Promise<void> {
    await this.conn.pool.query(`UPDATE ${this.table} SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, [
      at,
      id,
    ]);
  }
}

/** INTEGER/BIGINT columns: a stray fraction or NaN must not fail the whole batch. */
const int = (n: number): number => (Number.isFinite(n) ? Math.round(n) : 0);

export class PostgresRequestLogStore extends PostgresStore implements RequestLogStore {
  private get table(): string {
    return this.conn.t("request_logs");
  }

  async insertBatch(rows: readonly RequestLogRow[]): Promise<void> {
    if (rows.length === 0) return;
    // Column arrays; unnest zips them back into rows in order, so seq follows the batch order.
    await this.conn.pool.query(
      `INSERT INTO ${this.table} (id, time, key_id, model, provider, target, status, latency_ms, upstream_latency_ms,
         tokens_in, tokens_out, cost_usd, cache_hit, error, attempts, stream, request_body, response_body)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
         $8::float8[], $9::float8[], $10::int[], $11::int[], $12::float8[], $13::bool[], $14::text[], $15::int[],
         $16::bool[], $17::text[], $18::text[])`,
      [
        rows.map((r) => r.id),
        rows.map((r) => int(r.time)),
        rows.map((r) => r.keyId),
        rows.map((r) => r.model),
        rows.map((r) => r.provider),
        rows.map((r) => r.target),
        rows.map((r) => int(r.status)),
        rows.map((r) => r.latencyMs),
        rows.map((r) => r.upstreamLatencyMs),
        rows.map((r) => int(r.tokensIn)),
        rows.map((r) => int(r.tokensOut)),
        rows.map((r) => r.costUsd),
        rows.map((r) => r.cacheHit),
        rows.map((r) => r.error),
        rows.map((r) => int(r.attempts)),
        rows.map((r) => r.stream),
        rows.map((r) => r.requestBody),
        rows.map((r) => r.responseBody),
      ],
    );
  }

  async query(q: RequestLogQuery = {}): Promise<RequestLogPage> {
    const limit = clampLimit(q.limit);
    const where = logWhere(q, q.cursor === undefined ? undefined : decodeCursor(q.cursor), postgresDialect);
    const res = await this.conn.pool.query<DbLogRow>(
      `SELECT ${LOG_COLUMNS} FROM ${this.table} ${where.sql} ${LOG_ORDER} LIMIT $${where.params.length + 1}`,
      [...where.params, limit + 1],
    );
    const page = res.rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      rows: page.map(toLogRow),
      nextCursor: res.rows.length > limit && last ? encodeCursor({ time: Number(last.time), id: last.id, seq: Number(last.seq) }) : undefined,
    };
  }

  async stats(q: StatsQuery): Promise<UsageStat[]> {
    const where = logWhere(q, undefined, postgresDialect);
    const res = await this.conn.pool.query<DbStatRow>(
      `SELECT ${groupExpression(q.groupBy)} AS grp, ${STATS_COLUMNS} FROM ${this.table} ${where.sql} GROUP BY grp`,
      where.params,
    );
    return sortStats(
      res.rows.map((r) => toStat(r, q.groupBy)),
      q.groupBy,
    );
  }

  async spendByKey(keyId: string, since: number): Promise<number> {
    const res = await this.conn.pool.query<{ total: number }>(
      `SELECT COALESCE(SUM(cost_usd), 0)::float8 AS total FROM ${this.table} WHERE key_id = $1 AND time >= $2`,
      [keyId, Math.ceil(since)],
    );
    return roundStat(Number(res.rows[0]?.total ?? 0));
  }
}

interface DbConfigRow {
  version: number;
  created_at: string | number;
  author: string;
  comment: string | null;
  config?: unknown;
}

const toMeta = (r: DbConfigRow): ConfigVersionMeta => ({
  version: Number(r.version),
  createdAt: Number(r.created_at),
  author: r.author,
  comment: r.comment,
});

export class PostgresConfigStore extends PostgresStore implements ConfigStore {
  private get table(): string {
    return this.conn.t("config_versions");
  }

  async save(input: SaveConfigInput): Promise<number> {
    const res = await this.conn.pool.query<{ version: number }>(
      `INSERT INTO ${this.table} (created_at, author, comment, config) VALUES ($1, $2, $3, $4::json) RETURNING version`,
      [input.createdAt ?? Date.now(), input.author, input.comment ?? null, JSON.stringify(input.config ?? null)],
    );
    return Number(res.rows[0]?.version);
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    const res = await this.conn.pool.query<DbConfigRow>(`SELECT version, created_at, author, comment, config FROM ${this.table} WHERE version = $1`, [
      version,
    ]);
    const row = res.rows[0];
    return row && { ...toMeta(row), config: row.config };
  }

  async latest(): Promise<ConfigVersion | undefined> {
    const res = await this.conn.pool.query<DbConfigRow>(
      `SELECT version, created_at, author, comment, config FROM ${this.table} ORDER BY version DESC LIMIT 1`,
    );
    const row = res.rows[0];
    return row && { ...toMeta(row), config: row.config };
  }

  async list(limit = 50): Promise<ConfigVersionMeta[]> {
    const res = await this.conn.pool.query<DbConfigRow>(
      `SELECT version, created_at, author, comment FROM ${this.table} ORDER BY version DESC LIMIT $1`,
      [Math.max(0, limit)],
    );
    return res.rows.map(toMeta);
  }
}

export interface PostgresStores {
  connection: PostgresConnection;
  keys: PostgresKeyStore;
  logs: PostgresRequestLogStore;
  config: PostgresConfigStore;
}

/** All three stores on one pool; each store's close() releases its share of the pool. */
export async function openPostgresStores(opts: PostgresOptions): Promise<PostgresStores> {
  const connection = await PostgresConnection.open(opts);
  return {
    connection,
    keys: new PostgresKeyStore(connection),
    logs: new PostgresRequestLogStore(connection),
    config: new PostgresConfigStore(connection),
  };
}
