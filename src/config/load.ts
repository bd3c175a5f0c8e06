// Loads a config file (YAML or JSON), resolves ${ENV} references in string values and validates
// it. Every problem is reported with its path so `ferrogw validate` can list them all at once.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { ZodError } from "zod";
import { validatePlugins } from "../plugins/config.js";
import { configSchema, type GatewayConfig } from "./schema.js";

export interface ConfigIssue {
  path: string;
  message: string;
}

/** `raw` is the document as written (before ${ENV} interpolation): what config history stores, so no secret lands in it. */
export type LoadResult = { ok: true; config: GatewayConfig; raw: unknown } | { ok: false; issues: ConfigIssue[] };

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Sections whose ${VAR} the reference resolves only when it builds them, so a variable they name
 * may well be unset: an MCP server (src/mcp/server.ts) or tracing (src/observability/tracing.ts)
 * whose variable is unset does not start, and the rest of the config still runs.
 */
const UNBUILT_SECTIONS = new Set(["mcp_servers", "observability"]);

/** The variables named by ${VAR} references left in `value` (unset, in a section above). */
export function unresolvedEnvRefs(value: unknown): string[] {
  const names: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") for (const m of v.matchAll(ENV_REF)) names.push(m[1] as string);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return [...new Set(names)];
}

/** Off: `enabled: false`, or no `enabled` at all (the reference's Go bool). */
const isDisabledPlugin = (v: unknown): boolean => typeof v === "object" && v !== null && (v as { enabled?: unknown }).enabled !== true;

/**
 * Replaces ${VAR} and ${VAR:-default} in every string; a bare $ is literal. An unset variable
 * is an error where the gateway will use the value; in what it never builds (the sections above,
 * a plugin that is off) the reference is left as written.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: string, issues: ConfigIssue[], required = true): unknown {
  if (typeof value === "string") {
    return value.replace(ENV_REF, (whole, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== "") return v;
      if (fallback !== undefined) return fallback;
      if (required) issues.push({ path, message: `environment variable ${name} is not set` });
      return whole;
    });
  }
  if (Array.isArray(value)) {
    const plugins = path === "plugins";
    return value.map((v, i) => interpolateEnv(v, env, `${path}[${i}]`, issues, required && !(plugins && isDisabledPlugin(v))));
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateEnv(v, env, path ? `${path}.${k}` : k, issues, required && !(path === "" && UNBUILT_SECTIONS.has(k)));
    return out;
  }
  return value;
}

export function formatZodIssues(error: ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown key(s): ${issue.keys.join(", ")}`;
    return { path: path || "(root)", message };
  });
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let raw: unknown;
  try {
    raw = source.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    return { ok: false, issues: [{ path: "(file)", message: `cannot parse ${source}: ${(e as Error).message}` }] };
  }
  return validateConfig(raw ?? {}, env);
}

/**
 * An omitted strategy mode is `single`, as in the reference, when targets are listed. Without
 * targets (ours: every provider with a key), the gateway tries them in order: `fallback`.
 */
function withDefaultMode(doc: unknown): unknown {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return doc;
  const d = doc as { strategy?: unknown; targets?: unknown };
  const strategy = d.strategy ?? {};
  if (typeof strategy !== "object" || strategy === null || (strategy as { mode?: unknown }).mode !== undefined) return doc;
  const listed = Array.isArray(d.targets) && d.targets.length > 0;
  return { ...d, strategy: { ...strategy, mode: listed ? "single" : "fallback" } };
}

/** What a valid config may still get wrong, for `ferrogw validate` and the start-up log. */
export function configWarnings(config: GatewayConfig): string[] {
  const out: string[] = [];
  if (config.strategy.mode === "single" && config.targets.length > 1)
    out.push(`strategy single (the default without strategy.mode) asks one target per request, the first that serves the model; when it fails no other target is asked (set strategy.mode: fallback for that)`);
  config.observability?.exporters?.forEach((x, i) => {
    // As in the reference, which ships none built in: named exporters come from plugins it loads.
    if (x.enabled) out.push(`observability.exporters[${i}] (${x.name}): no such exporter is built in; skipped`);
  });
  config.plugins.forEach((p, i) => {
    if (p.enabled === undefined) out.push(`plugins[${i}] (${p.name}, ${p.stage}) has no enabled key: it is off, as in the reference gateway (write enabled: true to run it)`);
  });
  return out;
}

export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const issues: ConfigIssue[] = [];
  const resolved = withDefaultMode(interpolateEnv(raw, env, "", issues));
  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) issues.push(...formatZodIssues(parsed.error));
  else issues.push(...validatePlugins(parsed.data.plugins));
  if (issues.length > 0 || !parsed.success) return { ok: false, issues };
  return { ok: true, config: parsed.data, raw };
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return { ok: false, issues: [{ path: "(file)", message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }] };
  }
  return parseConfigText(text, path, env);
}

/** The config used when no file exists: every provider whose key is in the environment, fallback order. */
export function defaultConfig(): GatewayConfig {
  const result = validateConfig({});
  if (!result.ok) throw new Error("built-in default config is invalid");
  return result.config;
}

/** The file at `path`, or the built-in default when there is none. */
export function loadConfigOrDefault(path: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadResult {
  if (!path) return { ok: true, config: defaultConfig(), raw: {} };
  return loadConfigFile(path, env);
}
