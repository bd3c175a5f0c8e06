// Which config file to use: --config, then GATEWAY_CONFIG, then ./config.yaml (or .yml/.json)
// when present; none at all means the built-in default (every provider with a key in the env).
// Kept free of the config schema: the worker supervisor imports it and stays small.
import { existsSync } from "node:fs";

const CANDIDATES = ["config.yaml", "config.yml", "config.json"];

export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return flag;
  if (env.GATEWAY_CONFIG) return env.GATEWAY_CONFIG;
  return CANDIDATES.find((c) => existsSync(c));
}
