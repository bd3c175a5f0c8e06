// The persistence interfaces: API keys, the request log and config history. Every backend
// (memory, SQLite, PostgreSQL) implements these and passes the same conformance suite
// (test/store/conformance.ts). Timestamps are epoch milliseconds (UTC) everywhere in the API.

// ---------------------------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------------------------

export type BudgetPeriod = "daily" | "weekly" | "monthly" | "total";

export interface ApiKeyRecord {
  /** Stable public identifier ("key_" + 24 hex), used in logs, stats and the admin API. */
  id: string;
  name: string;
  /** SHA-256 of the full key, lowercase hex. The key itself is never stored. */
  keyHash: string;
  /** The first characters of the key (e.g. "sk-ferro-AbC"), for display only. */
  keyPrefix: string;
  createdAt: number;
  updatedAt: number;
  /** null: never expires. The key is rejected once `now >= expiresAt`. */
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  /** null: every model. Otherwise exact model ids, or prefixes ending in "*" ("anthropic/*"). */
  allowedModels: string[] | null;
  /** Free-form per-key metadata (team, owner, …); JSON-serialisable. */
  metadata: Record<string, unknown>;
  /** Per-key requests per minute, enforced by the rate-limit plugin. null: no per-key limit. */
  rateLimitRpm: number | null;
  /** Per-key spend cap in USD over `budgetPeriod`, enforced by the budget plugin. null: none. */
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod | null;
}

/** What `update` may change. Rotation replaces keyHash and keyPrefix together. */
export type ApiKeyPatch = Partial<
  Pick<
    ApiKeyRecord,
    "name" | "keyHash" | "keyPrefix" | "expiresAt" | "allowedModels" | "metadata" | "rateLimitRpm" | "budgetUsd" | "budgetPeriod"
  >
>;

export interface ListKeysOptions {
  /** Revoked keys are left out unless this is true. Expired keys are always listed. */
  includeRevoked?: boolean;
}

export interface KeyStore {
  /** Inserts a new key. Throws if the id or the hash already exists. */
  create(record: ApiKeyRecord): Promise<ApiKeyRecord>;
  getByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Oldest first (createdAt, then id). */
  list(opts?: ListKeysOptions): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked (idempotent: a second call keeps the first time). undefined if unknown. */
  revoke(id: string, at?: number): Promise<ApiKeyRecord | undefined>;
  /** Applies the patch and bumps updatedAt. undefined if unknown. */
  update(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined>;
  /** Records that the key was used; callers throttle it (it is a write). */
  touchLastUsed?(id: string, at: number): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Request log
// ---------------------------------------------------------------------------------------------

export interface RequestLogRow {
  /** The request id (X-Request-Id). Client-supplied ids may repeat; the store keeps every row. */
  id: string;
  /** When the request arrived. */
  time: number;
  keyId: string | null;
  model: string | null;
  provider: string | null;
  target: string | null;
  status: number;
  /** Total time in the gateway, upstream included. */
  latencyMs: number;
  /** Time spent waiting on upstreams, summed over attempts. */
  upstreamLatencyMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  cacheHit: boolean;
  /** Error code (e.g. "upstream_timeout"), null on success. */
  error: string | null;
  attempts: number;
  stream: boolean;
  /** Only when body logging is configured, and already redacted (see src/store/redact.ts). */
  requestBody: string | null;
  responseBody: string | null;
}

export interface RequestLogFilters {
  /** Inclusive lower bound on `time`. */
  since?: number;
  /** Exclusive upper bound on `time`. */
  until?: number;
  keyId?: string;
  model?: string;
  provider?: string;
  status?: number;
  /** Only failed requests: status >= 400 or an error code. */
  errorOnly?: boolean;
}

export interface RequestLogQuery extends RequestLogFilters {
  /** Page size, 1..MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE). */
  limit?: number;
  /** `nextCursor` of the previous page. Invalid → InvalidCursorError. */
  cursor?: string;
}

export interface RequestLogPage {
  /** Newest first: (time, id) descending, ties broken by insertion order (newest first). */
  rows: RequestLogRow[];
  /** Opaque; undefined on the last page. */
  nextCursor: string | undefined;
}

export type StatsGroupBy = "key" | "model" | "provider" | "hour" | "day";

export interface StatsQuery {
  since?: number;
  until?: number;
  groupBy: StatsGroupBy;
  keyId?: string;
  model?: string;
  provider?: string;
}

export interface UsageStat {
  /**
   * key/model/provider: the value (null for requests without one, e.g. anonymous callers).
   * hour/day: the UTC bucket start as epoch ms.
   */
  group: string | number | null;
  requests: number;
  /** status >= 400 or an error code. */
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  avg_latency_ms: number;
}

export interface RequestLogStore {
  /** Inserts every row or none (one transaction / one statement). */
  insertBatch(rows: readonly RequestLogRow[]): Promise<void>;
  query(q?: RequestLogQuery): Promise<RequestLogPage>;
  /**
   * Time buckets ascending; key/model/provider by requests descending, then group ascending
   * (nulls last).
   */
  stats(q: StatsQuery): Promise<UsageStat[]>;
  /** Total cost in USD of the key's requests with time >= since. */
  spendByKey(keyId: string, since: number): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

// ---------------------------------------------------------------------------------------------
// Config history
// ---------------------------------------------------------------------------------------------

export interface ConfigVersionMeta {
  /** 1, 2, 3, … strictly increasing, never reused. */
  version: number;
  createdAt: number;
  author: string;
  comment: string | null;
}

export interface ConfigVersion extends ConfigVersionMeta {
  /** The config document as applied (JSON value). Store the un-interpolated file, not secrets. */
  config: unknown;
}

export interface SaveConfigInput {
  config: unknown;
  author: string;
  comment?: string | null;
  /** Defaults to now. */
  createdAt?: number;
}

export interface ConfigStore {
  /** Stores a new version and returns its number. */
  save(input: SaveConfigInput): Promise<number>;
  get(version: number): Promise<ConfigVersion | undefined>;
  latest(): Promise<ConfigVersion | undefined>;
  /** Newest first; default limit 50. */
  list(limit?: number): Promise<ConfigVersionMeta[]>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Errors shared by the backends
// ---------------------------------------------------------------------------------------------

/** A cursor that this store did not produce (admin API: 400). */
export class InvalidCursorError extends Error {
  constructor(message = "invalid cursor") {
    super(message);
    this.name = "InvalidCursorError";
  }
}

/** create() with an id or key hash that already exists. */
export class DuplicateKeyError extends Error {
  constructor(message = "an API key with this id or hash already exists") {
    super(message);
    this.name = "DuplicateKeyError";
  }
}

/** Opening a database whose schema is newer than this build knows, or a failed migration. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}
