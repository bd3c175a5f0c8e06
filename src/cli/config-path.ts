// Which config file to use: --config, then GATEWAY_CONFIG, then ./config.yaml (or .yml/.json)
// when present; none at all means the built-in default (every provider with a key in the env).
import { existsSync } from "node:fs";
import { defaultConfig, loadConfigFile, type LoadResult } from "../config/load.js";

const CANDIDATES = ["config.yaml", "config.yml", "config.json"];

export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  if (env.GATEWAY_CONFIG) return env.GATEWAY_CONFIG;
  return CANDIDATES.find((c) => existsSync(c));
}

export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadResult {
  if (!path) return { ok: true, config: defaultConfig(), raw: {} };
  return loadConfigFile(path, env);
}
