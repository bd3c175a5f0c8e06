// The request-log SQL shared by SQLite and PostgreSQL: filters, keyset cursor, stats grouping
// and row mapping. Only placeholders and table qualification differ between the dialects.
import { DAY_MS, HOUR_MS, parseJson, roundStat, type CursorPosition } from "./common.js";
import type {
  ApiKeyRecord,
  BudgetPeriod,
  RequestLogFilters,
  RequestLogRow,
  StatsGroupBy,
  UsageStat,
} from "./types.js";

export type ParamType = "bigint" | "int" | "text";

export interface Dialect {
  /** Placeholder for the next parameter (`?` or `$n::type`). */
  param(index: number, type: ParamType): string;
}

export const sqliteDialect: Dialect = { param: () => "?" };
export const postgresDialect: Dialect = { param: (i, type) => `$${i}::${type}` };

export interface Where {
  sql: string;
  params: unknown[];
}

export function logWhere(f: RequestLogFilters, after: CursorPosition | undefined, d: Dialect): Where {
  const parts: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown, type: ParamType): string => {
    params.push(v);
    return d.param(params.length, type);
  };
  // Times are integer ms; a fractional bound is widened to the same set of rows.
  if (f.since !== undefined) parts.push(`time >= ${p(Math.ceil(f.since), "bigint")}`);
  if (f.until !== undefined) parts.push(`time < ${p(Math.ceil(f.until), "bigint")}`);
  if (f.keyId !== undefined) parts.push(`key_id = ${p(f.keyId, "text")}`);
  if (f.model !== undefined) parts.push(`model = ${p(f.model, "text")}`);
  if (f.provider !== undefined) parts.push(`provider = ${p(f.provider, "text")}`);
  if (f.status !== undefined) parts.push(`status = ${p(Math.trunc(f.status), "int")}`);
  if (f.errorOnly === true) parts.push(`(status >= 400 OR error IS NOT NULL)`);
  if (after) parts.push(`(time, id, seq) < (${p(after.time, "bigint")}, ${p(after.id, "text")}, ${p(after.seq, "bigint")})`);
  return { sql: parts.length ? `WHERE ${parts.join(" AND ")}` : "", params };
}

export const LOG_COLUMNS =
  "seq, id, time, key_id, model, provider, target, status, latency_ms, upstream_latency_ms, tokens_in, tokens_out, cost_usd, cache_hit, error, attempts, stream, request_body, response_body";

export const LOG_ORDER = "ORDER BY time DESC, id DESC, seq DESC";

/** Whitelisted grouping expressions (never user text in SQL). */
export function groupExpression(groupBy: StatsGroupBy): string {
  switch (groupBy) {
    case "key":
      return "key_id";
    case "model":
      return "model";
    case "provider":
      return "provider";
    case "hour":
      return `(time / ${HOUR_MS}) * ${HOUR_MS}`;
    case "day":
      return `(time / ${DAY_MS}) * ${DAY_MS}`;
  }
}

export const STATS_COLUMNS = `COUNT(*) AS requests,
  SUM(CASE WHEN status >= 400 OR error IS NOT NULL THEN 1 ELSE 0 END) AS errors,
  COALESCE(SUM(tokens_in), 0) AS tokens_in,
  COALESCE(SUM(tokens_out), 0) AS tokens_out,
  COALESCE(SUM(cost_usd), 0) AS cost_usd,
  COALESCE(AVG(latency_ms), 0) AS avg_latency_ms`;

/** A request_logs row as either driver returns it (pg: BIGINT as string, booleans native; SQLite: 0/1). */
export interface DbLogRow {
  seq: number | string | bigint;
  id: string;
  time: number | string | bigint;
  key_id: string | null;
  model: string | null;
  provider: string | null;
  target: string | null;
  status: number;
  latency_ms: number;
  upstream_latency_ms: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  cache_hit: number | boolean;
  error: string | null;
  attempts: number;
  stream: number | boolean;
  request_body: string | null;
  response_body: string | null;
}

export function toLogRow(r: DbLogRow): RequestLogRow {
  return {
    id: r.id,
    time: Number(r.time),
    keyId: r.key_id,
    model: r.model,
    provider: r.provider,
    target: r.target,
    status: r.status,
    latencyMs: r.latency_ms,
    upstreamLatencyMs: r.upstream_latency_ms,
    tokensIn: r.tokens_in,
    tokensOut: r.tokens_out,
    costUsd: r.cost_usd,
    cacheHit: r.cache_hit === true || r.cache_hit === 1,
    error: r.error,
    attempts: r.attempts,
    stream: r.stream === true || r.stream === 1,
    requestBody: r.request_body,
    responseBody: r.response_body,
  };
}

export interface DbStatRow {
  grp: string | number | bigint | null;
  requests: number | string;
  errors: number | string | null;
  tokens_in: number | string;
  tokens_out: number | string;
  cost_usd: number | string;
  avg_latency_ms: number | string;
}

/** A key row as either driver returns it (JSON columns: text in SQLite, parsed by pg). */
export interface DbKeyRow {
  id: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  created_at: number | string;
  updated_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  last_used_at: number | string | null;
  allowed_models: string | string[] | null;
  metadata: string | Record<string, unknown>;
  rate_limit_rpm: number | null;
  budget_usd: number | null;
  budget_period: string | null;
}

export const KEY_COLUMNS =
  "id, name, key_hash, key_prefix, created_at, updated_at, expires_at, revoked_at, last_used_at, allowed_models, metadata, rate_limit_rpm, budget_usd, budget_period";

const BUDGET_PERIODS: ReadonlySet<string> = new Set<BudgetPeriod>(["daily", "weekly", "monthly", "total"]);
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toKeyRecord(r: DbKeyRow): ApiKeyRecord {
  return {
    id: r.id,
    name: r.name,
    keyHash: r.key_hash,
    keyPrefix: r.key_prefix,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    expiresAt: num(r.expires_at),
    revokedAt: num(r.revoked_at),
    lastUsedAt: num(r.last_used_at),
    allowedModels: typeof r.allowed_models === "string" ? parseJson<string[] | null>(r.allowed_models, null) : r.allowed_models,
    metadata: typeof r.metadata === "string" ? parseJson<Record<string, unknown>>(r.metadata, {}) : r.metadata,
    rateLimitRpm: r.rate_limit_rpm,
    budgetUsd: r.budget_usd,
    budgetPeriod: r.budget_period !== null && BUDGET_PERIODS.has(r.budget_period) ? (r.budget_period as BudgetPeriod) : null,
  };
}

/** Values in KEY_COLUMNS order, JSON columns serialised. */
export function keyValues(k: ApiKeyRecord): unknown[] {
  return [
    k.id,
    k.name,
    k.keyHash,
    k.keyPrefix,
    k.createdAt,
    k.updatedAt,
    k.expiresAt,
    k.revokedAt,
    k.lastUsedAt,
    k.allowedModels === null ? null : JSON.stringify(k.allowedModels),
    JSON.stringify(k.metadata),
    k.rateLimitRpm,
    k.budgetUsd,
    k.budgetPeriod,
  ];
}

export function toStat(r: DbStatRow, groupBy: StatsGroupBy): UsageStat {
  const requests = Number(r.requests);
  return {
    group: r.grp === null ? null : groupBy === "hour" || groupBy === "day" ? Number(r.grp) : String(r.grp),
    requests,
    errors: Number(r.errors ?? 0),
    tokens_in: Number(r.tokens_in),
    tokens_out: Number(r.tokens_out),
    cost_usd: roundStat(Number(r.cost_usd)),
    avg_latency_ms: roundStat(Number(r.avg_latency_ms), 6),
  };
}
