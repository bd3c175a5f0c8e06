// Opens the three stores from the environment:
//   API_KEY_STORE_BACKEND / REQUEST_LOG_STORE_BACKEND / CONFIG_STORE_BACKEND = sqlite | postgres | memory
//   API_KEY_STORE_DSN / REQUEST_LOG_STORE_DSN / CONFIG_STORE_DSN
// sqlite is the default (file ferrogw.db in the working directory, or the DSN as a path); postgres
// needs its DSN. Stores that point at the same database share one connection (SQLite handle or
// pg Pool), which is closed when the last of them closes.
import { resolve } from "node:path";
import { MemoryConfigStore, MemoryKeyStore, MemoryRequestLogStore } from "./memory.js";
import { PostgresConfigStore, PostgresConnection, PostgresKeyStore, PostgresRequestLogStore } from "./postgres.js";
import { SqliteConfigStore, SqliteConnection, SqliteKeyStore, SqliteRequestLogStore } from "./sqlite.js";
import type { ConfigStore, KeyStore, RequestLogStore } from "./types.js";

export type StoreBackend = "sqlite" | "postgres" | "memory";
export type StoreKind = "keys" | "logs" | "config";

export const STORE_ENV: Readonly<Record<StoreKind, { backend: string; dsn: string }>> = {
  keys: { backend: "API_KEY_STORE_BACKEND", dsn: "API_KEY_STORE_DSN" },
  logs: { backend: "REQUEST_LOG_STORE_BACKEND", dsn: "REQUEST_LOG_STORE_DSN" },
  config: { backend: "CONFIG_STORE_BACKEND", dsn: "CONFIG_STORE_DSN" },
};

export const DEFAULT_SQLITE_FILE = "ferrogw.db";

export interface StoreLocation {
  backend: StoreBackend;
  /** SQLite: absolute file path (or ":memory:"); postgres: the DSN with its password masked; memory: "memory". */
  location: string;
}

export interface Stores {
  keys: KeyStore;
  logs: RequestLogStore;
  config: ConfigStore;
  /** Where each store lives, for the start-up log line (passwords masked). */
  describe: Readonly<Record<StoreKind, StoreLocation>>;
  /** Closes every store (and, with them, every shared connection). Idempotent. */
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  /** Base for relative SQLite paths (default: process.cwd()). */
  cwd?: string;
  /** PostgreSQL schema for every postgres store (default "public"). */
  postgresSchema?: string;
  /** pg pool errors; see PostgresOptions.onError. */
  onPostgresError?: (err: Error) => void;
}

/** A configuration mistake in the *_BACKEND / *_DSN variables. */
export class StoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreConfigError";
  }
}

interface StoreSpec {
  backend: StoreBackend;
  /** Connection identity: same key → one shared connection. */
  key: string;
  target: string;
}

export function maskDsn(dsn: string): string {
  try {
    const u = new URL(dsn);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return dsn.replace(/:[^:@/]*@/, ":****@");
  }
}

function sqlitePath(dsn: string, cwd: string): string {
  let p = dsn.trim();
  if (p === "") p = DEFAULT_SQLITE_FILE;
  for (const prefix of ["sqlite://", "sqlite:", "file:"]) if (p.startsWith(prefix)) p = p.slice(prefix.length);
  return p === ":memory:" ? p : resolve(cwd, p);
}

/** Reads and checks one store's variables, without opening anything. */
export function resolveStoreSpec(kind: StoreKind, env: NodeJS.ProcessEnv, cwd = process.cwd()): StoreSpec {
  const names = STORE_ENV[kind];
  const raw = (env[names.backend] ?? "").trim().toLowerCase();
  const dsn = (env[names.dsn] ?? "").trim();
  const backend: StoreBackend | undefined =
    raw === "" || raw === "sqlite" || raw === "sqlite3"
      ? "sqlite"
      : raw === "postgres" || raw === "postgresql" || raw === "pg"
        ? "postgres"
        : raw === "memory"
          ? "memory"
          : undefined;
  if (!backend) throw new StoreConfigError(`${names.backend}=${JSON.stringify(env[names.backend])} is not a store backend: use sqlite (default), postgres or memory`);
  if (backend === "memory") return { backend, key: `memory:${kind}`, target: "memory" };
  if (backend === "sqlite") {
    const path = sqlitePath(dsn, cwd);
    return { backend, key: `sqlite:${path}`, target: path };
  }
  if (dsn === "")
    throw new StoreConfigError(`${names.backend}=postgres needs ${names.dsn}, e.g. postgres://user:password@localhost:5432/ferrogw`);
  if (!/^postgres(ql)?:\/\//i.test(dsn) && !dsn.includes("="))
    throw new StoreConfigError(`${names.dsn} is not a PostgreSQL connection string (postgres://user:password@host:5432/db)`);
  return { backend, key: `postgres:${dsn}`, target: dsn };
}

type Connection = { kind: "sqlite"; conn: SqliteConnection } | { kind: "postgres"; conn: PostgresConnection };

/** Opens the three stores described by the environment (migrating their databases). */
export async function openStores(env: NodeJS.ProcessEnv = process.env, opts: OpenStoresOptions = {}): Promise<Stores> {
  const cwd = opts.cwd ?? process.cwd();
  const specs: Record<StoreKind, StoreSpec> = {
    keys: resolveStoreSpec("keys", env, cwd),
    logs: resolveStoreSpec("logs", env, cwd),
    config: resolveStoreSpec("config", env, cwd),
  };

  const connections = new Map<string, Connection>();
  const opened: { close(): Promise<void> }[] = [];
  const connect = async (spec: StoreSpec): Promise<Connection> => {
    let c = connections.get(spec.key);
    if (!c) {
      c =
        spec.backend === "sqlite"
          ? { kind: "sqlite", conn: SqliteConnection.open(spec.target) }
          : {
              kind: "postgres",
              conn: await PostgresConnection.open({
                dsn: spec.target,
                ...(opts.postgresSchema !== undefined && { schema: opts.postgresSchema }),
                ...(opts.onPostgresError !== undefined && { onError: opts.onPostgresError }),
              }),
            };
      connections.set(spec.key, c);
    }
    return c;
  };
  // A connection that ends up with no store (an open failed half-way) must still be closed.
  const closeOrphans = async (): Promise<void> => {
    for (const c of connections.values()) {
      if (c.kind === "sqlite") c.conn.retain().release();
      else await c.conn.retain().release();
    }
  };

  const track = <T extends { close(): Promise<void> }>(store: T): T => {
    opened.push(store);
    return store;
  };

  try {
    const keys = await (async (): Promise<KeyStore> => {
      const spec = specs.keys;
      if (spec.backend === "memory") return track(new MemoryKeyStore());
      const c = await connect(spec);
      return track(c.kind === "sqlite" ? new SqliteKeyStore(c.conn) : new PostgresKeyStore(c.conn));
    })();
    const logs = await (async (): Promise<RequestLogStore> => {
      const spec = specs.logs;
      if (spec.backend === "memory") return track(new MemoryRequestLogStore());
      const c = await connect(spec);
      return track(c.kind === "sqlite" ? new SqliteRequestLogStore(c.conn) : new PostgresRequestLogStore(c.conn));
    })();
    const config = await (async (): Promise<ConfigStore> => {
      const spec = specs.config;
      if (spec.backend === "memory") return track(new MemoryConfigStore());
      const c = await connect(spec);
      return track(c.kind === "sqlite" ? new SqliteConfigStore(c.conn) : new PostgresConfigStore(c.conn));
    })();

    const describe = (spec: StoreSpec): StoreLocation => ({
      backend: spec.backend,
      location: spec.backend === "postgres" ? maskDsn(spec.target) : spec.target,
    });
    let closing: Promise<void> | undefined;
    return {
      keys,
      logs,
      config,
      describe: { keys: describe(specs.keys), logs: describe(specs.logs), config: describe(specs.config) },
      close: () => (closing ??= Promise.all([keys.close(), logs.close(), config.close()]).then(() => undefined)),
    };
  } catch (e) {
    await Promise.allSettled(opened.map((s) => s.close()));
    await closeOrphans().catch(() => undefined);
    throw e;
  }
}
