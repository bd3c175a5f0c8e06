// Prometheus counters of the plugins, in their own registry: /metrics serves them by merging
// `pluginRegistry` into its own (Registry.merge) or rendering it alongside.
import { Counter, Registry } from "prom-client";

export const pluginRegistry = new Registry();

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [pluginRegistry] });
}

const cacheLookups = counter("ferrogw_cache_lookups_total", "Response-cache lookups by result (hit, miss, bypass).", ["result"]);
const cacheHit = cacheLookups.labels("hit");
const cacheMiss = cacheLookups.labels("miss");
const cacheBypass = cacheLookups.labels("bypass");

const rejections = counter("ferrogw_plugin_rejections_total", "Requests a plugin refused, by plugin and error code.", ["plugin", "code"]);
const failures = counter("ferrogw_plugin_failures_total", "Plugin hooks that failed (threw or their backend was unreachable).", ["plugin", "stage"]);

export function cacheLookup(result: "hit" | "miss" | "bypass"): void {
  (result === "hit" ? cacheHit : result === "miss" ? cacheMiss : cacheBypass).inc();
}

export function rejected(plugin: string, code: string): void {
  rejections.labels(plugin, code).inc();
}

export function hookFailed(plugin: string, stage: string): void {
  failures.labels(plugin, stage).inc();
}
