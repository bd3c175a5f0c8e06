// The plugins section of the config: which plugins, at which stages, with which (validated)
// config. Used when the config is loaded (`ferrogw validate` lists these issues with the rest)
// and when the pipeline is built.
import type { ConfigIssue } from "../config/load.js";
import type { PluginConfig } from "../config/schema.js";
import { canonicalJson } from "./common.js";
import { PLUGINS, pluginDescriptor, type PluginDescriptor } from "./registry.js";
import type { Stage } from "./types.js";

export interface Resolved {
  descriptor: PluginDescriptor;
  config: unknown;
  canonical: string;
  /** Index of the plugin's first entry. */
  index: number;
  /** Stages its enabled entries list. */
  stages: Set<Stage>;
}

export interface Resolution {
  plugins: Resolved[];
  /** Enabled entries in config order: which plugin, at which stage. */
  order: Array<{ name: string; stage: Stage }>;
  issues: ConfigIssue[];
}

const stageOf = (s: PluginConfig["stage"]): Stage => (s === "after_request" ? "after_response" : s);

function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

export function resolvePlugins(entries: readonly PluginConfig[]): Resolution {
  const issues: ConfigIssue[] = [];
  const byName = new Map<string, Resolved>();
  const plugins: Resolved[] = [];
  const order: Array<{ name: string; stage: Stage }> = [];
  entries.forEach((e, i) => {
    const d = pluginDescriptor(e.name);
    if (!d) {
      issues.push({ path: `plugins[${i}].name`, message: `unknown plugin "${e.name}" (known: ${PLUGINS.map((p) => p.name).join(", ")})` });
      return;
    }
    const stage = stageOf(e.stage);
    if (!d.stages.includes(stage)) issues.push({ path: `plugins[${i}].stage`, message: `${d.name} does not run at ${e.stage} (it runs at ${d.stages.join(", ")})` });
    const parsed = d.schema.safeParse(e.config);
    if (!parsed.success) {
      for (const iss of parsed.error.issues) {
        const message = iss.code === "unrecognized_keys" ? `unknown key(s): ${iss.keys.join(", ")}` : iss.message;
        issues.push({ path: `plugins[${i}].config${issuePath(iss.path)}`, message });
      }
      return;
    }
    if (!e.enabled) return;
    const canonical = canonicalJson(parsed.data);
    const prev = byName.get(e.name);
    if (prev) {
      if (prev.canonical !== canonical) {
        issues.push({
          path: `plugins[${i}].config`,
          message: `differs from plugins[${prev.index}].config: ${e.name} listed at several stages is one plugin and needs identical config at each`,
        });
        return;
      }
      prev.stages.add(stage);
    } else {
      const r: Resolved = { descriptor: d, config: parsed.data, canonical, index: i, stages: new Set([stage]) };
      byName.set(e.name, r);
      plugins.push(r);
    }
    order.push({ name: e.name, stage });
  });
  return { plugins, order, issues };
}

/** Config issues of the plugins section (for `ferrogw validate` and config loading). */
export function validatePlugins(entries: readonly PluginConfig[]): ConfigIssue[] {
  return resolvePlugins(entries).issues;
}

