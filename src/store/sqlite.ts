// SQLite stores (better-sqlite3): one embedded file, WAL mode so readers (admin queries) never
// block the log writer, statements prepared once, a log batch inserted in one transaction.
// better-sqlite3 is synchronous; the async interface keeps the backends interchangeable, and the
// hot path never waits on it (keys are cached, logs are written by the batched writer).
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Database, Statement } from "better-sqlite3";
import { applyKeyPatch, clampLimit, decodeCursor, encodeCursor, roundStat, sortStats } from "./common.js";
import { migrateSqlite, SQLITE_MIGRATIONS, type SqliteMigration } from "./migrations.js";
import {
  groupExpression,
  KEY_COLUMNS,
  keyValues,
  LOG_COLUMNS,
  LOG_ORDER,
  logWhere,
  sqliteDialect,
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

export interface SqliteOpenOptions {
  /** Override the migration list (tests). */
  migrations?: readonly SqliteMigration[];
}

/** One database handle shared by the stores that point at the same file; closed by the last one. */
export class SqliteConnection {
  readonly db: Database;
  readonly path: string;
  private refs = 0;
  private readonly statements = new Map<string, Statement>();

  private constructor(db: Database, path: string) {
    this.db = db;
    this.path = path;
  }

  /** Opens (creating the file and its directory if needed) and migrates. ":memory:" works too. */
  static open(path: string, opts: SqliteOpenOptions = {}): SqliteConnection {
    const file = path === ":memory:" ? path : resolve(path);
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const db = new BetterSqlite3(file);
    try {
      db.pragma("journal_mode = WAL");
      // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
      // last transactions. Request logs are not worth an fsync per batch.
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      migrateSqlite(db, opts.migrations ?? SQLITE_MIGRATIONS, `SQLite (${file})`);
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteConnection(db, file);
  }

  /** A prepared statement, compiled once per SQL text. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    this.refs--;
    if (this.refs <= 0 && this.db.open) {
      this.statements.clear();
      this.db.close();
    }
  }
}

/** Base for the three stores: holds a reference on the connection; close() releases it once. */
abstract class SqliteStore {
  protected readonly conn: SqliteConnection;
  private closed = false;

  constructor(conn: SqliteConnection) {
    this.conn = conn.retain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.conn.release();
  }
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT");
}

export class SqliteKeyStore extends SqliteStore implements KeyStore {
  async create(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    try {
      this.conn.stmt(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...keyValues(record));
    } catch (e) {
      if (isUniqueViolation(e)) throw new DuplicateKeyError();
      throw e;
    }
    return structuredClone(record);
  }

  async getByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.conn.stmt(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = ?`).get(keyHash) as DbKeyRow | undefined;
    return row && toKeyRecord(row);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.getSync(id);
  }

  private getSync(id: string): ApiKeyRecord | undefined {
    const row = this.conn.stmt(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`).get(id) as DbKeyRow | undefined;
    return row && toKeyRecord(row);
  }

  async list(opts: ListKeysOptions = {}): Promise<ApiKeyRecord[]> {
    const where = opts.includeRevoked === true ? "" : "WHERE revoked_at IS NULL";
    const rows = this.conn.stmt(`SELECT ${KEY_COLUMNS} FROM api_keys ${where} ORDER BY created_at, id`).all() as DbKeyRow[];
    return rows.map(toKeyRecord);
  }

  async revoke(id: string, at: number = Date.now()): Promise<ApiKeyRecord | undefined> {
    this.conn.stmt("UPDATE api_keys SET revoked_at = ?, updated_at = MAX(updated_at, ?) WHERE id = ? AND revoked_at IS NULL").run(at, at, id);
    return this.getSync(id);
  }

  async update(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined> {
    const tx = this.conn.db.transaction((): ApiKeyRecord | undefined => {
      const rec = this.getSync(id);
      if (!rec) return undefined;
      const next = applyKeyPatch(rec, patch);
      const v = keyValues(next);
      this.conn
        .stmt(
          `UPDATE api_keys SET name = ?, key_hash = ?, key_prefix = ?, updated_at = ?, expires_at = ?, allowed_models = ?,
             metadata = ?, rate_limit_rpm = ?, budget_usd = ?, budget_period = ? WHERE id = ?`,
        )
        .run(v[1], v[2], v[3], v[5], v[6], v[9], v[10], v[11], v[12], v[13], id);
      return next;
    });
    try {
      return tx.immediate();
    } catch (e) {
      if (isUniqueViolation(e)) throw new DuplicateKeyError();
      throw e;
    }
  }

  async touchLastUsed(id: string, at: number): Promise<void> {
    this.conn.stmt("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)").run(at, id, at);
  }
}

const ROWS_PER_INSERT = 50;

function pushRow(out: unknown[], r: RequestLogRow): void {
  out.push(r.id, r.time, r.keyId, r.model, r.provider, r.target, r.status, r.latencyMs, r.upstreamLatencyMs, r.tokensIn, r.tokensOut, r.costUsd, r.cacheHit ? 1 : 0, r.error, r.attempts, r.stream ? 1 : 0, r.requestBody, r.responseBody);
}

export class SqliteRequestLogStore extends SqliteStore implements RequestLogStore {
  private readonly insertMany: (rows: readonly RequestLogRow[]) => void;

  constructor(conn: SqliteConnection) {
    super(conn);
    const columns = `INSERT INTO request_logs (id, time, key_id, model, provider, target, status, latency_ms, upstream_latency_ms,
         tokens_in, tokens_out, cost_usd, cache_hit, error, attempts, stream, request_body, response_body) VALUES `;
    const placeholders = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const insertOne = conn.stmt(columns + placeholders);
    // Rows go in ROWS_PER_INSERT at a time: one statement step per group instead of one per row
    // (the per-row insert was ~5 % of a worker's CPU at 1000 connections).
    const insertGroup = conn.stmt(columns + Array(ROWS_PER_INSERT).fill(placeholders).join(", "));
    const params: unknown[] = [];
    this.insertMany = conn.db.transaction((rows: readonly RequestLogRow[]) => {
      let i = 0;
      for (; i + ROWS_PER_INSERT <= rows.length; i += ROWS_PER_INSERT) {
        params.length = 0;
        for (let j = i; j < i + ROWS_PER_INSERT; j++) pushRow(params, rows[j] as RequestLogRow);
        insertGroup.run(params);
      }
      for (; i < rows.length; i++) {
        params.length = 0;
        pushRow(params, rows[i] as RequestLogRow);
        insertOne.run(params);
      }
    });
  }

  async insertBatch(rows: readonly RequestLogRow[]): Promise<void> {
    if (rows.length > 0) this.insertMany(rows);
  }

  async query(q: RequestLogQuery = {}): Promise<RequestLogPage> {
    const limit = clampLimit(q.limit);
    const where = logWhere(q, q.cursor === undefined ? undefined : decodeCursor(q.cursor), sqliteDialect);
    const rows = this.conn.stmt(`SELECT ${LOG_COLUMNS} FROM request_logs ${where.sql} ${LOG_ORDER} LIMIT ?`).all(...where.params, limit + 1) as DbLogRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      rows: page.map(toLogRow),
      nextCursor: rows.length > limit && last ? encodeCursor({ time: Number(last.time), id: last.id, seq: Number(last.seq) }) : undefined,
    };
  }

  async stats(q: StatsQuery): Promise<UsageStat[]> {
    const where = logWhere(q, undefined, sqliteDialect);
    const rows = this.conn
      .stmt(`SELECT ${groupExpression(q.groupBy)} AS grp, ${STATS_COLUMNS} FROM request_logs ${where.sql} GROUP BY grp`)
      .all(...where.params) as DbStatRow[];
    return sortStats(
      rows.map((r) => toStat(r, q.groupBy)),
      q.groupBy,
    );
  }

  async spendByKey(keyId: string, since: number): Promise<number> {
    const row = this.conn.stmt("SELECT COALESCE(SUM(cost_usd), 0) AS total FROM request_logs WHERE key_id = ? AND time >= ?").get(keyId, since) as {
      total: number;
    };
    return roundStat(row.total);
  }
}

interface DbConfigRow {
  version: number;
  created_at: number;
  author: string;
  comment: string | null;
  config?: string;
}

const toMeta = (r: DbConfigRow): ConfigVersionMeta => ({ version: r.version, createdAt: r.created_at, author: r.author, comment: r.comment });

export class SqliteConfigStore extends SqliteStore implements ConfigStore {
  async save(input: SaveConfigInput): Promise<number> {
    const res = this.conn
      .stmt("INSERT INTO config_versions (created_at, author, comment, config) VALUES (?, ?, ?, ?)")
      .run(input.createdAt ?? Date.now(), input.author, input.comment ?? null, JSON.stringify(input.config ?? null));
    return Number(res.lastInsertRowid);
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    const row = this.conn.stmt("SELECT version, created_at, author, comment, config FROM config_versions WHERE version = ?").get(version) as
      | DbConfigRow
      | undefined;
    return row && { ...toMeta(row), config: JSON.parse(row.config ?? "null") as unknown };
  }

  async latest(): Promise<ConfigVersion | undefined> {
    const row = this.conn.stmt("SELECT version, created_at, author, comment, config FROM config_versions ORDER BY version DESC LIMIT 1").get() as
      | DbConfigRow
      | undefined;
    return row && { ...toMeta(row), config: JSON.parse(row.config ?? "null") as unknown };
  }

  async list(limit = 50): Promise<ConfigVersionMeta[]> {
    const rows = this.conn.stmt("SELECT version, created_at, author, comment FROM config_versions ORDER BY version DESC LIMIT ?").all(Math.max(0, limit)) as DbConfigRow[];
    return rows.map(toMeta);
  }
}

export interface SqliteStores {
  connection: SqliteConnection;
  keys: SqliteKeyStore;
  logs: SqliteRequestLogStore;
  config: SqliteConfigStore;
}

/** All three stores on one file; each store's close() releases its share of the connection. */
export function openSqliteStores(path: string, opts: SqliteOpenOptions = {}): SqliteStores {
  const connection = SqliteConnection.open(path, opts);
  return {
    connection,
    keys: new SqliteKeyStore(connection),
    logs: new SqliteRequestLogStore(connection),
    config: new SqliteConfigStore(connection),
  };
}
