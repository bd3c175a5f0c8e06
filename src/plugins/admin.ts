// What GET /admin/plugins answers (and `ferrogw plugins` prints): every known plugin, whether and
// at which stages the running config enables it, and its live numbers (cache hits, rejections,
// spend per key for budgets).
import type { GatewayConfig } from "../config/schema.js";
import type { PluginPipeline } from "./pipeline.js";
import { PLUGINS } from "./registry.js";

export interface PluginReport {
  name: string;
  type: string;
  /** The stages the config lists it at (after_request reads after_response); else the stages it supports. */
  stages: string[];
  enabled: boolean;
  description: string;
  /** Live numbers of an enabled plugin, e.g. budget spend per key. */
  stats?: unknown;
}

export async function pluginsReport(rt: { readonly config: GatewayConfig; readonly plugins: PluginPipeline }): Promise<{ data: PluginReport[] }> {
  const stats = await rt.plugins.stats();
  const data = PLUGINS.map((d): PluginReport => {
    const entries = rt.config.plugins.filter((e) => e.name === d.name);
    const enabled = rt.plugins.plugin(d.name) !== undefined;
    const listed = [...new Set(entries.filter((e) => e.enabled).map((e) => (e.stage === "after_request" ? "after_response" : e.stage)))];
    const report: PluginReport = { name: d.name, type: d.type, stages: listed.length > 0 ? listed : [...d.stages], enabled, description: d.description };
    if (stats[d.name] !== undefined) report.stats = stats[d.name];
    return report;
  });
  return { data };
}
