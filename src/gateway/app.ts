// Assembles one gateway process: stores, auth, runtime, server, admin API, request log writer,
// config manager and the cross-worker notifications. `ferrogw serve` and the end-to-end tests
// build the gateway through this one function, so what is tested is what runs.
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { mountConfigRoutes } from "../admin/config-routes.js";
import { Dashboard } from "../admin/dashboard.js";
import { mountKeyRoutes } from "../admin/key-routes.js";
import { mountProviderRoutes } from "../admin/provider-routes.js";
import { AdminRouter } from "../admin/router.js";
import { mountUsageRoutes } from "../admin/usage-routes.js";
import { ApiKeyService } from "../auth/api-keys.js";
import { GatewayAuthenticator } from "../auth/authenticator.js";
import type { GatewayConfig } from "../config/schema.js";
import { Metrics } from "../observability/metrics.js";
import { registerRequestLogMetrics } from "../observability/request-log-metrics.js";
import { onBroadcast } from "../server/broadcast.js";
import type { RequestContext } from "../server/context.js";
import { pluginsReport } from "../plugins/admin.js";
import { GatewayServer } from "../server/http.js";
import { openStores, type Stores } from "../store/factory.js";
import { RequestLogWriter, rowFromContext } from "../store/request-log-writer.js";
import { ConfigManager } from "./config-manager.js";
import { buildRuntime } from "./runtime.js";
import { UpstreamWarmer, warmConnectionsFrom } from "./warm.js";

export interface GatewayAppOptions {
  config: GatewayConfig;
  /** The config document as written (no ${ENV} resolved), for config history. */
  raw: unknown;
  configPath: string | undefined;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Defaults to the stores named by the *_STORE_BACKEND variables. */
  stores?: Stores;
  /** Test hook: sees each finished request after it is logged. */
  onFinished?: (ctx: RequestContext) => void;
  /**
   * `raw` is a config the other workers already run (a replacement worker): it is already in the
   * config history, at this version, and the config file is not read again.
   */
  adopted?: { version: number | undefined };
}

export class GatewayApp {
  private constructor(
    readonly server: GatewayServer,
    readonly auth: GatewayAuthenticator,
    readonly keys: ApiKeyService,
    readonly stores: Stores,
    readonly logWriter: RequestLogWriter,
    readonly configManager: ConfigManager,
    private readonly log: Logger,
    private readonly warmer: UpstreamWarmer,
  ) {}

  static async create(opts: GatewayAppOptions): Promise<GatewayApp> {
    const { log, env } = opts;
    const warmer = new UpstreamWarmer(warmConnectionsFrom(env));
    const stores = opts.stores ?? (await openStores(env, { onPostgresError: (err) => log.error({ err: err.message }, "postgres pool error") }));
    const keys = new ApiKeyService(stores.keys, { onError: (err) => log.warn({ err: (err as Error).message }, "api key store write failed") });
    const auth = await GatewayAuthenticator.create({ masterKey: env.MASTER_KEY || undefined, keys });
    const logWriter = new RequestLogWriter({ store: stores.logs, logger: log });
    const metrics = new Metrics();
    registerRequestLogMetrics(metrics.registry, () => logWriter.stats);
    const admin = new AdminRouter(async (headers) => {
      const who = await auth.authenticateAdmin(headers);
      return who.kind;
    });
    const onFinished = opts.onFinished;
    const server = new GatewayServer({
      runtime: buildRuntime(opts.config, env, undefined, { log }),
      auth,
      metrics,
      groups: [admin, new Dashboard()],
      onFinished: (ctx) => {
        if (ctx.operation !== undefined) logWriter.enqueue(rowFromContext(ctx, { costUsd: ctx.costUsd, cacheHit: ctx.cacheHit, requestBody: ctx.logBodies?.request, responseBody: ctx.logBodies?.response }));
        if (onFinished) onFinished(ctx);
      },
    });
    // A provider a new config version adds is connected to before its first request.
    const configManager = new ConfigManager(server, stores.config, log, env, opts.raw, opts.configPath, (rt) => warmer.warm(rt));
    if (opts.adopted) configManager.adopt(opts.adopted.version);
    else await configManager.recordInitial(opts.configPath ? "file" : "default");

    mountKeyRoutes(admin, keys);
    mountUsageRoutes(admin, stores.logs, () => logWriter.flush());
    mountConfigRoutes(admin, configManager);
    mountProviderRoutes(admin, server);
    admin.add("GET", "/admin/plugins", () => pluginsReport(server.currentRuntime));

    onBroadcast(
      (msg) => {
        if (msg.kind === "keys-changed") keys.clearCache();
        else configManager.applyFromPeer(msg.raw, msg.version);
      },
      () => configManager.reloadInBackground(true),
    );
    // A worker that was still starting when the file changed heard no broadcast about it (a
    // BroadcastChannel only reaches those already listening): read the file again now.
    if (opts.configPath && !opts.adopted) {
      await configManager.reloadFromFile().catch((err: unknown) => log.error({ err }, "config file re-read at start-up not applied: it could not be recorded in the config store"));
    }
    return new GatewayApp(server, auth, keys, stores, logWriter, configManager, log, warmer);
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    const address = await this.server.listen(port, host);
    this.warmer.start(this.server.currentRuntime);
    return address;
  }

  /** Serves on a listening socket the supervisor opened (a worker thread's own descriptor). */
  async listenOnDescriptor(fd: number): Promise<AddressInfo> {
    const address = await this.server.listenOnDescriptor(fd);
    this.warmer.start(this.server.currentRuntime);
    return address;
  }

  /** Graceful: finish requests in flight, write every pending log row, close the stores. */
  async close(graceMs = 30_000): Promise<void> {
    // Nothing opens upstream connections again once the pools close (a reload arriving meanwhile).
    this.warmer.stop();
    await this.server.close(graceMs);
    await this.server.currentRuntime.close?.().catch(() => undefined);
    // Runtimes replaced by a reload hold plugin state too (the request-logger's last lines).
    await this.configManager.closeRetired();
    await this.logWriter.close();
    const stats = this.logWriter.stats;
    if (stats.dropped > 0) this.log.error({ dropped: stats.dropped }, "request log rows were lost");
    await this.stores.close();
  }
}
