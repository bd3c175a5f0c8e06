// `ferrogw init`: writes a minimal config.yaml and prints a new master key once. The key is never
// written to disk: the operator puts it in MASTER_KEY.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";

const MINIMAL_CONFIG = `# ferrogw configuration — see README.md for every option.
strategy:
  mode: fallback

targets:
  - virtual_key: openai
    retry:
      attempts: 3
      on_status_codes: [429, 502, 503]
  - virtual_key: anthropic

aliases:
  fast: gpt-4o-mini
  smart: claude-sonnet-4-5
`;

export function generateMasterKey(): string {
  return `fgw_${randomBytes(16).toString("hex")}`;
}

export function init(opts: { output?: string; force?: boolean }): void {
  const path = opts.output ?? "config.yaml";
  if (existsSync(path) && !opts.force) {
    process.stderr.write(`${path} already exists; use --force to overwrite it.\n`);
    process.exitCode = 1;
    return;
  }
  const key = generateMasterKey();
  writeFileSync(path, MINIMAL_CONFIG, { mode: 0o644 });
  process.stdout.write(
    [
      "",
      "  Master key (set as MASTER_KEY env var; shown once, not saved anywhere):",
      `  ${key}`,
      "",
      `  Config written to: ${path}`,
      "",
      "  Next steps:",
      `    export MASTER_KEY=${key}`,
      "    export OPENAI_API_KEY=sk-...",
      "    ferrogw",
      "",
    ].join("\n"),
  );
}
