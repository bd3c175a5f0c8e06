// Pieces every backend shares so they behave identically: the opaque page cursor, page-size
// clamping, what counts as an error, time buckets and the order of stats rows.
import {
  DEFAULT_PAGE_SIZE,
  type ApiKeyPatch,
  type ApiKeyRecord,
  InvalidCursorError,
  MAX_PAGE_SIZE,
  type StatsGroupBy,
  type UsageStat,
} from "./types.js";

/** Position of a row in (time DESC, id DESC, seq DESC) order; seq is the store's insertion number. */
export interface CursorPosition {
  time: number;
  id: string;
  seq: number;
}

export function encodeCursor(pos: CursorPosition): string {
  return Buffer.from(JSON.stringify([pos.time, pos.id, pos.seq]), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new InvalidCursorError();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new InvalidCursorError();
  const [time, id, seq] = parsed as unknown[];
  if (typeof time !== "number" || !Number.isSafeInteger(time)) throw new InvalidCursorError();
  if (typeof id !== "string") throw new InvalidCursorError();
  if (typeof seq !== "number" || !Number.isSafeInteger(seq)) throw new InvalidCursorError();
  return { time, id, seq };
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

/** The one definition of a failed request, used by errorOnly and by stats.errors. */
export function isErrorRow(row: { status: number; error: string | null }): boolean {
  return row.status >= 400 || row.error !== null;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function bucketStart(time: number, groupBy: "hour" | "day"): number {
  const size = groupBy === "hour" ? HOUR_MS : DAY_MS;
  return Math.floor(time / size) * size;
}

export function isTimeGrouping(groupBy: StatsGroupBy): groupBy is "hour" | "day" {
  return groupBy === "hour" || groupBy === "day";
}

/** Same order for every backend (SQL collations differ, so this runs in JS on the few groups). */
export function sortStats(stats: UsageStat[], groupBy: StatsGroupBy): UsageStat[] {
  if (isTimeGrouping(groupBy)) return stats.sort((a, b) => Number(a.group) - Number(b.group));
  return stats.sort((a, b) => {
    if (a.requests !== b.requests) return b.requests - a.requests;
    if (a.group === b.group) return 0;
    if (a.group === null) return 1;
    if (b.group === null) return -1;
    return String(a.group) < String(b.group) ? -1 : 1;
  });
}

/** Rounds away float noise from SQL SUM/AVG so every backend reports the same numbers. */
export function roundStat(n: number, digits = 9): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === "") return fallback;
  return JSON.parse(text) as T;
}

/** The record after a patch (undefined fields keep their value), updatedAt bumped. */
export function applyKeyPatch(rec: ApiKeyRecord, patch: ApiKeyPatch, now = Date.now()): ApiKeyRecord {
  const next: ApiKeyRecord = { ...rec, updatedAt: Math.max(now, rec.updatedAt) };
  for (const [k, v] of Object.entries(patch) as [keyof ApiKeyPatch, unknown][]) {
    if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  }
  return next;
}
