// /admin/providers: the configured providers and targets and their health.
import { healthReport } from "../server/health.js";
import type { GatewayServer } from "../server/http.js";
import type { AdminRouter } from "./router.js";

export function mountProviderRoutes(router: AdminRouter, server: GatewayServer): void {
  router.add("GET", "/admin/providers", async () => {
    const rt = server.currentRuntime;
    const health = healthReport(rt);
    return { providers: health.providers, targets: health.targets, warnings: rt.providers.warnings };
  });
}
