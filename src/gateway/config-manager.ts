// Owns the running configuration: applies a new version (validate → build runtime → swap, never
// dropping requests in flight, which keep the runtime they started with), records every applied
// version in the config store, and serves history, diff and rollback to the admin API.
import type { Logger } from "pino";
import { loadConfigFile, validateConfig, type ConfigIssue } from "../config/load.js";
import { diffConfig, type ConfigChange } from "../config/diff.js";
import type { GatewayConfig } from "../config/schema.js";
import type { ConfigStore, ConfigVersion, ConfigVersionMeta } from "../store/types.js";
import { broadcast } from "../server/broadcast.js";
import { buildRuntime, type Runtime } from "./runtime.js";

export type ApplyResult = { ok: true; version: number | undefined } | { ok: false; issues: ConfigIssue[] };

export interface RuntimeHolder {
  setRuntime(rt: Runtime): void;
  readonly currentRuntime: Runtime;
}

export class ConfigManager {
  private raw: unknown;
  private version: number | undefined;

  constructor(
    private readonly holder: RuntimeHolder,
    private readonly store: ConfigStore | undefined,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv,
    initialRaw: unknown,
    private readonly filePath: string | undefined,
  ) {
    this.raw = initialRaw;
  }

  get currentVersion(): number | undefined {
    return this.version;
  }

  get currentRaw(): unknown {
    return this.raw;
  }

  get current(): GatewayConfig {
    return this.holder.currentRuntime.config;
  }

  /** Records the start-up config as a version, unless it equals the latest stored one. */
  async recordInitial(author: string): Promise<void> {
    if (!this.store) return;
    const latest = await this.store.latest();
    if (latest && JSON.stringify(latest.config) === JSON.stringify(this.raw)) {
      this.version = latest.version;
      return;
    }
    this.version = await this.store.save({ config: this.raw, author, comment: "start-up" });
  }

  /** The start-up config is one the other workers run, recorded as `version` already. */
  adopt(version: number | undefined): void {
    this.version = version;
  }

  validate(raw: unknown): ApplyResult {
    const result = validateConfig(raw, this.env);
    return result.ok ? { ok: true, version: undefined } : { ok: false, issues: result.issues };
  }

  /** A config another worker applied (and already recorded): apply it here too, without recording. */
  async applyFromPeer(raw: unknown, version: number | undefined): Promise<void> {
    if (JSON.stringify(raw) === JSON.stringify(this.raw)) {
      this.version = version;
      return;
    }
    const result = await this.install(raw);
    if (result.ok) this.version = version;
    else this.log.error({ issues: result.issues }, "config from another worker did not apply here");
  }

  async apply(raw: unknown, author: string, comment?: string): Promise<ApplyResult> {
    const installed = await this.install(raw);
    if (!installed.ok) return installed;
    this.version = this.store ? await this.store.save({ config: raw, author, comment: comment ?? null }) : undefined;
    this.log.info({ version: this.version, author }, "config applied");
    broadcast({ kind: "config-applied", raw, version: this.version });
    return { ok: true, version: this.version };
  }

  private async install(raw: unknown): Promise<ApplyResult> {
    const result = validateConfig(raw, this.env);
    if (!result.ok) return { ok: false, issues: result.issues };
    let runtime: Runtime;
    try {
      runtime = buildRuntime(result.config, this.env);
    } catch (err) {
      return { ok: false, issues: [{ path: "(runtime)", message: (err as Error).message }] };
    }
    const previous = this.holder.currentRuntime;
    this.holder.setRuntime(runtime);
    this.raw = raw;
    for (const w of runtime.providers.warnings) this.log.warn(w);
    // Stateful parts of the old runtime (e.g. plugin connections) close once its requests are done.
    setTimeout(() => void closeRuntime(previous), 60_000).unref();
    return { ok: true, version: undefined };
  }

  /** Re-reads the config file (SIGHUP, file change). An invalid file keeps the running config. */
  /**
   * `announce`: the supervisor asked this worker to reload for everyone (a file change, SIGHUP).
   * The file may already be what this worker runs (it read it while starting, after the change),
   * yet the others still need it, so it is announced to them even when nothing changed here.
   */
  async reloadFromFile(announce = false): Promise<ApplyResult> {
    if (!this.filePath) return { ok: false, issues: [{ path: "(file)", message: "the gateway was started without a config file" }] };
    const loaded = loadConfigFile(this.filePath, this.env);
    if (!loaded.ok) {
      for (const i of loaded.issues) this.log.error({ path: i.path }, `config reload rejected: ${i.message}`);
      return { ok: false, issues: loaded.issues };
    }
    if (JSON.stringify(loaded.raw) === JSON.stringify(this.raw)) {
      if (announce) broadcast({ kind: "config-applied", raw: this.raw, version: this.version });
      return { ok: true, version: this.version };
    }
    return this.apply(loaded.raw, "file", `reloaded ${this.filePath}`);
  }

  async history(limit?: number): Promise<ConfigVersionMeta[]> {
    return this.store ? this.store.list(limit) : [];
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    return this.store?.get(version);
  }

  async diff(from: number, to: number | undefined): Promise<ConfigChange[] | undefined> {
    const a = await this.store?.get(from);
    const b = to === undefined ? { config: this.raw } : await this.store?.get(to);
    if (!a || !b) return undefined;
    return diffConfig(a.config, b.config);
  }

  async rollback(version: number, author: string): Promise<ApplyResult | undefined> {
    const target = await this.store?.get(version);
    if (!target) return undefined;
    return this.apply(target.config, author, `rollback to version ${version}`);
  }
}

async function closeRuntime(rt: Runtime): Promise<void> {
  if (rt.close) await rt.close().catch(() => undefined);
}
