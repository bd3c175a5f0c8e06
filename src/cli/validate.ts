// `ferrogw validate`: prints every config problem with its path; exit 1 when there is one.
import { buildProviders } from "../providers/registry.js";
import { configWarnings, loadConfigOrDefault } from "../config/load.js";
import { resolveConfigPath } from "./config-path.js";

export function validate(opts: { config?: string }): void {
  const path = resolveConfigPath(opts.config);
  if (!path) {
    process.stderr.write("no config file found (pass --config, set GATEWAY_CONFIG, or create config.yaml)\n");
    process.exitCode = 1;
    return;
  }
  const result = loadConfigOrDefault(path);
  if (!result.ok) {
    process.stderr.write(`${path}: ${result.issues.length} error(s)\n`);
    for (const issue of result.issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
    process.exitCode = 1;
    return;
  }
  for (const w of [...configWarnings(result.config), ...buildProviders(result.config).warnings]) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(`${path}: valid (strategy ${result.config.strategy.mode}, ${result.config.targets.length} target(s))\n`);
}
