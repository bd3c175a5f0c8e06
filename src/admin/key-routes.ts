// /admin/keys: create (the key is in this one answer and nowhere else), list, get, update,
// revoke, rotate. Records are shown without their hash.
import { z } from "zod";
import type { ApiKeyService } from "../auth/api-keys.js";
import { formatZodIssues } from "../config/load.js";
import { broadcast } from "../server/broadcast.js";
import { GatewayError, notFound } from "../server/errors.js";
import type { ApiKeyRecord } from "../store/types.js";
import { AdminResponse, type AdminRouter } from "./router.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function keyJson(r: Readonly<ApiKeyRecord>, key?: string): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    key_prefix: r.keyPrefix,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
    expires_at: iso(r.expiresAt),
    revoked_at: iso(r.revokedAt),
    last_used_at: iso(r.lastUsedAt),
    allowed_models: r.allowedModels,
    metadata: r.metadata,
    rate_limit_rpm: r.rateLimitRpm,
    budget_usd: r.budgetUsd,
    budget_period: r.budgetPeriod,
    ...(key ? { key } : {}),
  };
}

const keyFields = {
  allowed_models: z.array(z.string().min(1)).nullable().optional(),
  expires_at: z.union([z.string().datetime({ offset: true }), z.number().int().positive()]).nullable().optional(),
  expires_in_days: z.number().positive().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  rate_limit_rpm: z.number().int().positive().nullable().optional(),
  budget_usd: z.number().positive().nullable().optional(),
  budget_period: z.enum(["daily", "weekly", "monthly", "total"]).nullable().optional(),
};
const createSchema = z.strictObject({ name: z.string().trim().min(1).max(200), ...keyFields });
const updateSchema = z.strictObject({ name: z.string().trim().min(1).max(200).optional(), ...keyFields });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = formatZodIssues(r.error)[0];
  throw new GatewayError(400, "invalid_request_error", "invalid_value", `${issue?.path}: ${issue?.message}`, { param: issue?.path ?? null });
}

function expiry(b: { expires_at?: string | number | null; expires_in_days?: number }): number | null | undefined {
  if (b.expires_in_days !== undefined) return Date.now() + b.expires_in_days * 86_400_000;
  if (b.expires_at === null) return null;
  if (b.expires_at === undefined) return undefined;
  return typeof b.expires_at === "number" ? b.expires_at : Date.parse(b.expires_at);
}

function changed(keyId: string): void {
  broadcast({ kind: "keys-changed", keyId });
}

export function mountKeyRoutes(router: AdminRouter, keys: ApiKeyService): void {
  router.add("POST", "/admin/keys", async (r) => {
    const b = parse(createSchema, await r.body());
    const created = await keys.create({
      name: b.name,
      expiresAt: expiry(b) ?? null,
      allowedModels: b.allowed_models ?? null,
      metadata: b.metadata ?? {},
      rateLimitRpm: b.rate_limit_rpm ?? null,
      budgetUsd: b.budget_usd ?? null,
      budgetPeriod: b.budget_period ?? (b.budget_usd ? "total" : null),
    });
    changed(created.record.id);
    return new AdminResponse(201, keyJson(created.record, created.key));
  });

  router.add("GET", "/admin/keys", async (r) => ({ data: (await keys.list({ includeRevoked: r.query.bool("include_revoked") ?? false })).map((k) => keyJson(k)) }));

  router.add("GET", "/admin/keys/:id", async (r) => {
    const k = await keys.get(r.params.id ?? "");
    if (!k) throw notFound(`API key ${r.params.id} does not exist.`, "key_not_found");
    return keyJson(k);
  });

  router.add("PATCH", "/admin/keys/:id", async (r) => {
    const b = parse(updateSchema, await r.body());
    const patch: Parameters<ApiKeyService["update"]>[1] = {};
    if (b.name !== undefined) patch.name = b.name;
    const exp = expiry(b);
    if (exp !== undefined) patch.expiresAt = exp;
    if (b.allowed_models !== undefined) patch.allowedModels = b.allowed_models;
    if (b.metadata !== undefined) patch.metadata = b.metadata;
    if (b.rate_limit_rpm !== undefined) patch.rateLimitRpm = b.rate_limit_rpm;
    if (b.budget_usd !== undefined) patch.budgetUsd = b.budget_usd;
    if (b.budget_period !== undefined) patch.budgetPeriod = b.budget_period;
    const k = await keys.update(r.params.id ?? "", patch);
    if (!k) throw notFound(`API key ${r.params.id} does not exist.`, "key_not_found");
    changed(k.id);
    return keyJson(k);
  });

  const revoke = async (id: string): Promise<Record<string, unknown>> => {
    const k = await keys.revoke(id);
    if (!k) throw notFound(`API key ${id} does not exist.`, "key_not_found");
    changed(k.id);
    return keyJson(k);
  };
  router.add("POST", "/admin/keys/:id/revoke", (r) => revoke(r.params.id ?? ""));
  router.add("DELETE", "/admin/keys/:id", (r) => revoke(r.params.id ?? ""));

  router.add("POST", "/admin/keys/:id/rotate", async (r) => {
    const rotated = await keys.rotate(r.params.id ?? "");
    if (!rotated) throw notFound(`API key ${r.params.id} does not exist.`, "key_not_found");
    changed(rotated.record.id);
    return keyJson(rotated.record, rotated.key);
  });
}
