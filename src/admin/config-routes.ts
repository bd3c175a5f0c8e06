// /admin/config: get, put, validate, history, diff, rollback.
import type { ConfigManager } from "../gateway/config-manager.js";
import { badRequest, GatewayError, notFound } from "../server/errors.js";
import { redactConfig } from "./redact.js";
import { AdminResponse, type AdminRouter } from "./router.js";

function invalid(issues: Array<{ path: string; message: string }>): GatewayError {
  const first = issues[0];
  return new GatewayError(400, "invalid_request_error", "invalid_config", `Invalid config: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
    param: first?.path ?? null,
  });
}

function versionParam(v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw badRequest("The version must be a positive integer.", "invalid_value", "version");
  return n;
}

export function mountConfigRoutes(router: AdminRouter, manager: ConfigManager): void {
  router.add("GET", "/admin/config", async () => ({ version: manager.currentVersion ?? null, config: redactConfig(manager.currentRaw) }));

  router.add("PUT", "/admin/config", async (r) => {
    const body = await r.body();
    const result = await manager.apply(body, r.principal, r.query.string("comment"));
    if (!result.ok) throw invalid(result.issues);
    return { applied: true, version: result.version ?? null };
  });

  router.add("POST", "/admin/config/validate", async (r) => {
    const result = manager.validate(await r.body());
    return result.ok ? { valid: true, issues: [] } : { valid: false, issues: result.issues };
  });

  router.add("GET", "/admin/config/history", async (r) => ({ data: await manager.history(r.query.int("limit", 1, 1000)) }));

  router.add("GET", "/admin/config/history/:version", async (r) => {
    const v = await manager.get(versionParam(r.params.version));
    if (!v) throw notFound(`Config version ${r.params.version} does not exist.`, "version_not_found");
    return { ...v, config: redactConfig(v.config) };
  });

  router.add("GET", "/admin/config/diff", async (r) => {
    const from = versionParam(r.query.string("from"));
    const toRaw = r.query.string("to");
    const changes = await manager.diff(from, toRaw === undefined ? undefined : versionParam(toRaw));
    if (!changes) throw notFound("One of the versions does not exist.", "version_not_found");
    return { from, to: toRaw === undefined ? "current" : Number(toRaw), changes: redactConfig(changes) };
  });

  router.add("POST", "/admin/config/rollback", async (r) => {
    const body = (await r.body()) as { version?: unknown };
    const version = versionParam(typeof body.version === "number" ? String(body.version) : undefined);
    const result = await manager.rollback(version, r.principal);
    if (!result) throw notFound(`Config version ${version} does not exist.`, "version_not_found");
    if (!result.ok) throw invalid(result.issues);
    return new AdminResponse(200, { rolled_back_to: version, version: result.version ?? null });
  });

  router.add("POST", "/admin/config/reload", async () => {
    const result = await manager.reloadFromFile();
    if (!result.ok) throw invalid(result.issues);
    return { reloaded: true, version: result.version ?? null };
  });
}
