// /admin/logs and /admin/stats, served from the request log store.
import { badRequest } from "../server/errors.js";
import { InvalidCursorError, MAX_PAGE_SIZE, type RequestLogStore, type StatsGroupBy } from "../store/types.js";
import type { AdminRouter } from "./router.js";

const GROUPS: readonly StatsGroupBy[] = ["key", "model", "provider", "hour", "day"];

export function mountUsageRoutes(router: AdminRouter, logs: RequestLogStore, beforeRead: () => Promise<void>): void {
  router.add("GET", "/admin/logs", async (r) => {
    await beforeRead();
    const q = r.query;
    try {
      const page = await logs.query({
        since: q.time("since"),
        until: q.time("until"),
        keyId: q.string("key_id"),
        model: q.string("model"),
        provider: q.string("provider"),
        status: q.int("status", 100, 599),
        errorOnly: q.bool("errors"),
        limit: q.int("limit", 1, MAX_PAGE_SIZE),
        cursor: q.string("cursor"),
      });
      return { data: page.rows, next_cursor: page.nextCursor ?? null };
    } catch (err) {
      if (err instanceof InvalidCursorError) throw badRequest("'cursor' is not a cursor this gateway issued.", "invalid_cursor", "cursor");
      throw err;
    }
  });

  router.add("GET", "/admin/stats", async (r) => {
    await beforeRead();
    const q = r.query;
    const groupBy = q.oneOf("group_by", GROUPS) ?? "model";
    const data = await logs.stats({
      since: q.time("since"),
      until: q.time("until"),
      groupBy,
      keyId: q.string("key_id"),
      model: q.string("model"),
      provider: q.string("provider"),
    });
    const totals = data.reduce(
      (t, s) => ({
        requests: t.requests + s.requests,
        errors: t.errors + s.errors,
        tokens_in: t.tokens_in + s.tokens_in,
        tokens_out: t.tokens_out + s.tokens_out,
        cost_usd: t.cost_usd + s.cost_usd,
      }),
      { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cost_usd: 0 },
    );
    return { group_by: groupBy, data, totals };
  });
}
