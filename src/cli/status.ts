// `ferrogw status`: health and provider status of a running gateway.
import type { HealthReport } from "../server/health.js";
import { callGateway } from "./client.js";
import { emit, green, red, table, type GlobalOptions } from "./output.js";

export async function status(opts: GlobalOptions): Promise<void> {
  const health = await callGateway<HealthReport>(opts, "GET", "/health");
  emit(opts, health, () => {
    const ok = health.status === "ok";
    const head = `gateway ${opts.gatewayUrl}: ${ok ? green(opts.color, health.status) : red(opts.color, health.status)}\n\n`;
    const rows = health.providers.map((p) => [p.name, p.kind, p.base_url, p.status]);
    return head + table(["PROVIDER", "KIND", "BASE URL", "STATUS"], rows, opts.color);
  });
}
