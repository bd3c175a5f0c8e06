// In-process stores: nothing survives a restart. For tests, demos and stateless deployments
// (keys then come from MASTER_KEY only). Records are copied in and out so callers cannot mutate
// the store's state by accident.
import {
  applyKeyPatch,
  bucketStart,
  clampLimit,
  decodeCursor,
  encodeCursor,
  isErrorRow,
  isTimeGrouping,
  roundStat,
  sortStats,
  type CursorPosition,
} from "./common.js";
import {
  DuplicateKeyError,
  type ApiKeyPatch,
  type ApiKeyRecord,
  type ConfigStore,
  type ConfigVersion,
  type ConfigVersionMeta,
  type KeyStore,
  type ListKeysOptions,
  type RequestLogFilters,
  type RequestLogPage,
  type RequestLogQuery,
  type RequestLogRow,
  type RequestLogStore,
  type SaveConfigInput,
  type StatsQuery,
  type UsageStat,
} from "./types.js";

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<string, ApiKeyRecord>();
  private readonly idByHash = new Map<string, string>();

  async create(record: ApiKeyRecord): Promise<ApiKeyRecord> {
    if (this.byId.has(record.id) || this.idByHash.has(record.keyHash)) throw new DuplicateKeyError();
    this.byId.set(record.id, copy(record));
    this.idByHash.set(record.keyHash, record.id);
    return copy(record);
  }

  async getByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const id = this.idByHash.get(keyHash);
    const rec = id === undefined ? undefined : this.byId.get(id);
    return rec && copy(rec);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const rec = this.byId.get(id);
    return rec && copy(rec);
  }

  async list(opts: ListKeysOptions = {}): Promise<ApiKeyRecord[]> {
    return [...this.byId.values()]
      .filter((r) => opts.includeRevoked === true || r.revokedAt === null)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(copy);
  }

  async revoke(id: string, at: number = Date.now()): Promise<ApiKeyRecord | undefined> {
    const rec = this.byId.get(id);
    if (!rec) return undefined;
    if (rec.revokedAt === null) {
      rec.revokedAt = at;
      rec.updatedAt = Math.max(rec.updatedAt, at);
    }
    return copy(rec);
  }

  async update(id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord | undefined> {
    const rec = this.byId.get(id);
    if (!rec) return undefined;
    if (patch.keyHash !== undefined && patch.keyHash !== rec.keyHash) {
      if (this.idByHash.has(patch.keyHash)) throw new DuplicateKeyError();
      this.idByHash.delete(rec.keyHash);
      this.idByHash.set(patch.keyHash, id);
    }
    const next = applyKeyPatch(rec, copy(patch));
    this.byId.set(id, next);
    return copy(next);
  }

  async touchLastUsed(id: string, at: number): Promise<void> {
    const rec = this.byId.get(id);
    if (rec && (rec.lastUsedAt === null || at > rec.lastUsedAt)) rec.lastUsedAt = at;
  }

  async close(): Promise<void> {}
}

interface StoredRow {
  seq: number;
  row: RequestLogRow;
}

const position = (r: StoredRow): CursorPosition => ({ time: r.row.time, id: r.row.id, seq: r.seq });

/** Row order of every backend: (time, id, seq) descending. Negative: a comes first. */
function compareDesc(a: CursorPosition, b: CursorPosition): number {
  if (a.time !== b.time) return b.time - a.time;
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return b.seq - a.seq;
}

function matches(row: RequestLogRow, f: RequestLogFilters): boolean {
  if (f.since !== undefined && row.time < f.since) return false;
  if (f.until !== undefined && row.time >= f.until) return false;
  if (f.keyId !== undefined && row.keyId !== f.keyId) return false;
  if (f.model !== undefined && row.model !== f.model) return false;
  if (f.provider !== undefined && row.provider !== f.provider) return false;
  if (f.status !== undefined && row.status !== f.status) return false;
  if (f.errorOnly === true && !isErrorRow(row)) return false;
  return true;
}

export interface MemoryRequestLogOptions {
  /** The oldest rows are dropped beyond this many (default 100 000) so memory stays bounded. */
  maxRows?: number;
}

export class MemoryRequestLogStore implements RequestLogStore {
  private rows: StoredRow[] = [];
  private seq = 0;
  private readonly maxRows: number;

  constructor(opts: MemoryRequestLogOptions = {}) {
    this.maxRows = opts.maxRows ?? 100_000;
  }

  async insertBatch(rows: readonly RequestLogRow[]): Promise<void> {
    const copies = rows.map((row) => ({ seq: ++this.seq, row: copy(row) }));
    this.rows.push(...copies);
    if (this.rows.length > this.maxRows) this.rows = this.rows.slice(this.rows.length - this.maxRows);
  }

  async query(q: RequestLogQuery = {}): Promise<RequestLogPage> {
    const limit = clampLimit(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const selected = this.rows
      .filter((r) => matches(r.row, q) && (after === undefined || compareDesc(after, position(r)) < 0))
      .sort((a, b) => compareDesc(position(a), position(b)))
      .slice(0, limit + 1);
    const page = selected.slice(0, limit);
    const last = page[page.length - 1];
    return {
      rows: page.map((r) => copy(r.row)),
      nextCursor: selected.length > limit && last ? encodeCursor(position(last)) : undefined,
    };
  }

  async stats(q: StatsQuery): Promise<UsageStat[]> {
    const groups = new Map<string | number | null, UsageStat & { latencySum: number }>();
    for (const { row } of this.rows) {
      if (!matches(row, q)) continue;
      const group = isTimeGrouping(q.groupBy)
        ? bucketStart(row.time, q.groupBy)
        : q.groupBy === "key"
          ? row.keyId
          : q.groupBy === "model"
            ? row.model
            : row.provider;
      let g = groups.get(group);
      if (!g) {
        g = { group, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cost_usd: 0, avg_latency_ms: 0, latencySum: 0 };
        groups.set(group, g);
      }
      g.requests++;
      if (isErrorRow(row)) g.errors++;
      g.tokens_in += row.tokensIn;
      g.tokens_out += row.tokensOut;
      g.cost_usd += row.costUsd;
      g.latencySum += row.latencyMs;
    }
    const out: UsageStat[] = [...groups.values()].map(({ latencySum, ...s }) => ({
      ...s,
      cost_usd: roundStat(s.cost_usd),
      avg_latency_ms: roundStat(latencySum / s.requests, 6),
    }));
    return sortStats(out, q.groupBy);
  }

  async spendByKey(keyId: string, since: number): Promise<number> {
    let sum = 0;
    for (const { row } of this.rows) if (row.keyId === keyId && row.time >= since) sum += row.costUsd;
    return roundStat(sum);
  }

  async close(): Promise<void> {}
}

export class MemoryConfigStore implements ConfigStore {
  private readonly versions: ConfigVersion[] = [];

  async save(input: SaveConfigInput): Promise<number> {
    const last = this.versions[this.versions.length - 1];
    const version = (last?.version ?? 0) + 1;
    this.versions.push({
      version,
      createdAt: input.createdAt ?? Date.now(),
      author: input.author,
      comment: input.comment ?? null,
      config: copy(input.config),
    });
    return version;
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    const v = this.versions.find((x) => x.version === version);
    return v && copy(v);
  }

  async latest(): Promise<ConfigVersion | undefined> {
    const v = this.versions[this.versions.length - 1];
    return v && copy(v);
  }

  async list(limit = 50): Promise<ConfigVersionMeta[]> {
    return this.versions
      .slice()
      .reverse()
      .slice(0, Math.max(0, limit))
      .map(({ version, createdAt, author, comment }) => ({ version, createdAt, author, comment }));
  }

  async close(): Promise<void> {}
}
