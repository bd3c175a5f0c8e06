// Owns the running configuration: applies a new version (validate → build runtime → swap, never
// dropping requests in flight, which keep the runtime they started with), records every applied
// version in the config store, and serves history, diff and rollback to the admin API.
import type { Logger } from "pino";
import { configWarnings, type ConfigIssue, loadConfigFile, validateConfig } from "../config/load.js";
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
    /** Told of each runtime installed, after the swap (the app warms its upstream connections). */
    private readonly onInstall: (runtime: Runtime) => void = () => undefined,
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
  applyFromPeer(raw: unknown, version: number | undefined): void {
    if (JSON.stringify(raw) === JSON.stringify(this.raw)) {
      this.version = version;
      return;
    }
    const prepared = this.prepare(raw);
    if (!prepared.ok) {
      this.log.error({ issues: prepared.issues }, "config from another worker did not apply here");
      return;
    }
    this.install(prepared.runtime, raw);
    this.version = version;
  }

  /**
   * Validates, builds, records, then swaps: a config is recorded in the store before it runs, so
   * the running config and the history never disagree. A store that cannot record it (locked,
   * down) rejects the promise and nothing changes, here or in the other workers.
   */
  async apply(raw: unknown, author: string, comment?: string): Promise<ApplyResult> {
    const prepared = this.prepare(raw);
    if (!prepared.ok) return prepared;
    let version: number | undefined;
    try {
      version = this.store ? await this.store.save({ config: raw, author, comment: comment ?? null }) : undefined;
    } catch (err) {
      void closeRuntime(prepared.runtime);
      throw err;
    }
    this.install(prepared.runtime, raw);
    this.version = version;
    this.log.info({ version, author }, "config applied");
    broadcast({ kind: "config-applied", raw, version });
    return { ok: true, version };
  }

  private prepare(raw: unknown): { ok: true; runtime: Runtime } | { ok: false; issues: ConfigIssue[] } {
    const result = validateConfig(raw, this.env);
    if (!result.ok) return { ok: false, issues: result.issues };
    try {
      const current = this.holder.currentRuntime;
      return { ok: true, runtime: buildRuntime(result.config, this.env, current.memory, { mcp: current.mcp, tracing: current.tracing, log: this.log }) };
    } catch (err) {
      return { ok: false, issues: [{ path: "(runtime)", message: (err as Error).message }] };
    }
  }

  private install(runtime: Runtime, raw: unknown): void {
    const previous = this.holder.currentRuntime;
    this.holder.setRuntime(runtime);
    this.raw = raw;
    for (const w of [...configWarnings(runtime.config), ...runtime.providers.warnings]) this.log.warn(w);
    this.retired.add(previous);
    // Stateful parts of the old runtime (e.g. plugin connections) close once its requests are done.
    this.retireWhenIdle(previous, Date.now());
    this.onInstall(runtime);
  }

  /** Closes a replaced runtime once no request runs on it any more (a long stream may), or after RETIRE_AT_MOST_MS. */
  private retireWhenIdle(rt: Runtime, since: number): void {
    setTimeout(() => {
      if (!this.retired.has(rt)) return;
      if (rt.active.requests > 0 && Date.now() - since < RETIRE_AT_MOST_MS) this.retireWhenIdle(rt, since);
      else void this.retire(rt);
    }, RETIRE_AFTER_MS).unref();
  }

  /** Runtimes replaced by a reload whose requests may still be running. */
  private readonly retired = new Set<Runtime>();

  private async retire(rt: Runtime): Promise<void> {
    if (!this.retired.delete(rt)) return;
    await closeRuntime(rt);
  }

  /** Shutdown: closes the replaced runtimes still open (their plugins flush what they hold). */
  async closeRetired(): Promise<void> {
    await Promise.all([...this.retired].map((rt) => this.retire(rt)));
  }

  /**
   * A reload from a signal, a file change or a peer's request: nobody awaits it, so a failure
   * (the config store cannot record it) is logged here and the running config stays.
   */
  reloadInBackground(announce = false): void {
    this.reloadFromFile(announce).catch((err: unknown) => this.log.error({ err }, "config reload not applied: it could not be recorded in the config store"));
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

/** A replaced runtime stays open this long at least, and is checked this often for requests still on it. */
const RETIRE_AFTER_MS = 60_000;
/** ...and at most this long: a request still running after an hour on a replaced config is let go. */
const RETIRE_AT_MOST_MS = 3_600_000;

async function closeRuntime(rt: Runtime): Promise<void> {
  if (rt.close) await rt.close().catch(() => undefined);
}
