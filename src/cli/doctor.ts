// `ferrogw doctor`: checks this environment: config valid, provider keys present, each provider
// reachable, stores reachable. Every check prints ok/fail with the reason; exit 1 if any failed.
import { request } from "undici";
import { buildProviders } from "../providers/registry.js";
import { loadConfigOrDefault } from "../config/load.js";
import type { GatewayConfig } from "../config/schema.js";
import { resolveConfigPath } from "./config-path.js";
import { emit, green, red, table, type GlobalOptions } from "./output.js";

export interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

/** Any HTTP answer at all means the host is reachable; only transport failures count against it. */
async function reachable(url: URL): Promise<string | undefined> {
  try {
    const res = await request(url.origin, { method: "GET", headersTimeout: 3000, bodyTimeout: 3000 });
    await res.body.dump();
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/** Opens the configured stores (running their migrations) and closes them again. */
async function storeChecks(): Promise<Check[]> {
  const { openStores } = await import("../store/factory.js");
  try {
    const stores = await openStores(process.env);
    const where = Object.entries(stores.describe).map(([kind, s]) => `${kind}: ${s.backend} ${s.location}`);
    await stores.close();
    return [{ check: "stores", ok: true, detail: where.join("; ") }];
  } catch (err) {
    return [{ check: "stores", ok: false, detail: (err as Error).message }];
  }
}

/** Connects to each MCP server (a stdio one is started and stopped again) and lists its tools. */
async function mcpChecks(servers: GatewayConfig["mcp_servers"]): Promise<Check[]> {
  const { McpHub } = await import("../mcp/hub.js");
  const hub = McpHub.for(servers, process.env);
  if (hub === undefined) return [];
  await hub.settled();
  const checks = hub.servers.map((s): Check => {
    const ok = s.state === "ready";
    return { check: `mcp ${s.name}`, ok, detail: ok ? `${s.transport}, ${s.tools.length} tool(s): ${s.tools.map((t) => t.name).join(", ")}` : `${s.transport}: ${s.lastError ?? "not connected"}` };
  });
  await hub.release();
  return checks;
}

export type ExtraChecks = () => Promise<Check[]>;

export async function doctor(opts: GlobalOptions & { config?: string }, extraChecks?: ExtraChecks): Promise<void> {
  const checks: Check[] = [];
  const path = resolveConfigPath(opts.config);
  const loaded = loadConfigOrDefault(path);
  if (!loaded.ok) {
    checks.push({ check: "config", ok: false, detail: `${path}: ${loaded.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}` });
  } else {
    checks.push({ check: "config", ok: true, detail: path ?? "no file: built-in default (providers from the environment)" });
    const providers = buildProviders(loaded.config);
    checks.push({
      check: "provider keys",
      ok: providers.byName.size > 0,
      detail: providers.byName.size > 0 ? `configured: ${[...providers.byName.keys()].join(", ")}` : "no provider key found (e.g. OPENAI_API_KEY)",
    });
    for (const w of providers.warnings) checks.push({ check: "provider", ok: false, detail: w });
    const results = await Promise.all(
      [...providers.byName.values()].map(async (p) => ({ p, err: await reachable(p.baseUrl) })),
    );
    for (const { p, err } of results)
      checks.push({ check: `reach ${p.name}`, ok: err === undefined, detail: err === undefined ? p.baseUrl.origin : `${p.baseUrl.origin}: ${err}` });
    checks.push(...(await mcpChecks(loaded.config.mcp_servers)));
  }
  checks.push(...(await storeChecks()));
  if (extraChecks) checks.push(...(await extraChecks()));
  const failed = checks.filter((c) => !c.ok).length;
  emit(opts, { ok: failed === 0, checks }, () =>
    table(
      ["CHECK", "RESULT", "DETAIL"],
      checks.map((c) => [c.check, c.ok ? green(opts.color, "ok") : red(opts.color, "FAIL"), c.detail]),
      opts.color,
    ),
  );
  if (failed > 0) process.exitCode = 1;
}
