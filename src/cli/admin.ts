// `ferrogw admin …` and `ferrogw plugins`: client commands against a running gateway's admin API.
import { callGateway } from "./client.js";
import { emit, table, type GlobalOptions } from "./output.js";

export interface ApiKeyJson {
  id: string;
  name: string;
  key_prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  allowed_models: string[] | null;
  rate_limit_rpm: number | null;
  budget_usd: number | null;
  budget_period: string | null;
  metadata: Record<string, unknown>;
  /** Only in the answer to create/rotate: the full key, shown once. */
  key?: string;
}

const keyState = (k: ApiKeyJson): string =>
  k.revoked_at ? "revoked" : k.expires_at && Date.parse(k.expires_at) <= Date.now() ? "expired" : "active";

export async function keysList(opts: GlobalOptions & { all?: boolean }): Promise<void> {
  const res = await callGateway<{ data: ApiKeyJson[] }>(opts, "GET", `/admin/keys${opts.all ? "?include_revoked=true" : ""}`);
  emit(opts, res.data, () =>
    table(
      ["ID", "NAME", "PREFIX", "STATE", "MODELS", "CREATED", "EXPIRES"],
      res.data.map((k) => [k.id, k.name, k.key_prefix, keyState(k), k.allowed_models?.join(",") ?? "all", k.created_at, k.expires_at]),
      opts.color,
    ),
  );
}

export interface CreateKeyFlags {
  models?: string;
  expiresInDays?: string;
  rpm?: string;
  budgetUsd?: string;
  budgetPeriod?: string;
}

export async function keysCreate(opts: GlobalOptions, name: string, flags: CreateKeyFlags): Promise<void> {
  const body: Record<string, unknown> = { name };
  if (flags.models) body.allowed_models = flags.models.split(",").map((m) => m.trim()).filter(Boolean);
  if (flags.expiresInDays) body.expires_in_days = Number(flags.expiresInDays);
  if (flags.rpm) body.rate_limit_rpm = Number(flags.rpm);
  if (flags.budgetUsd) body.budget_usd = Number(flags.budgetUsd);
  if (flags.budgetPeriod) body.budget_period = flags.budgetPeriod;
  const k = await callGateway<ApiKeyJson>(opts, "POST", "/admin/keys", body);
  emit(opts, k, () => `Created key ${k.id} (${k.name}).\n\n  ${k.key ?? ""}\n\nStore it now: it is shown once and the gateway keeps only its hash.\n`);
}

export async function keysRevoke(opts: GlobalOptions, id: string): Promise<void> {
  const k = await callGateway<ApiKeyJson>(opts, "POST", `/admin/keys/${encodeURIComponent(id)}/revoke`);
  emit(opts, k, () => `Revoked key ${k.id} (${k.name}) at ${k.revoked_at ?? "?"}.\n`);
}

interface StatsJson {
  group_by: string;
  data: Array<{ group: string | number | null; requests: number; errors: number; tokens_in: number; tokens_out: number; cost_usd: number; avg_latency_ms: number }>;
  totals: { requests: number; errors: number; tokens_in: number; tokens_out: number; cost_usd: number };
}

export async function stats(opts: GlobalOptions & { groupBy?: string; since?: string }): Promise<void> {
  const params = new URLSearchParams();
  if (opts.groupBy) params.set("group_by", opts.groupBy);
  if (opts.since) params.set("since", opts.since);
  const res = await callGateway<StatsJson>(opts, "GET", `/admin/stats?${params.toString()}`);
  emit(opts, res, () => {
    const label = (g: string | number | null): string =>
      g === null ? "(none)" : typeof g === "number" ? new Date(g).toISOString() : g;
    const rows = res.data.map((s) => [label(s.group), s.requests, s.errors, s.tokens_in, s.tokens_out, s.cost_usd.toFixed(6), s.avg_latency_ms.toFixed(1)]);
    rows.push(["TOTAL", res.totals.requests, res.totals.errors, res.totals.tokens_in, res.totals.tokens_out, res.totals.cost_usd.toFixed(6), ""]);
    return table([res.group_by.toUpperCase(), "REQUESTS", "ERRORS", "TOKENS IN", "TOKENS OUT", "COST USD", "AVG MS"], rows, opts.color);
  });
}

interface PluginJson {
  name: string;
  type: string;
  stages: string[];
  enabled: boolean;
  description?: string;
}

export async function plugins(opts: GlobalOptions): Promise<void> {
  const res = await callGateway<{ data: PluginJson[] }>(opts, "GET", "/admin/plugins");
  emit(opts, res.data, () =>
    table(["NAME", "TYPE", "STAGES", "ENABLED", "DESCRIPTION"], res.data.map((p) => [p.name, p.type, p.stages.join(","), p.enabled, p.description]), opts.color),
  );
}
