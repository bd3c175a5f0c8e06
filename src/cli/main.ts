#!/usr/bin/env node
// The ferrogw command line: with no subcommand it serves.
import { Command } from "commander";
// Command modules are imported when their command runs, so `ferrogw version` or `validate` do
// not load the server, the stores and their native drivers.
import type { CreateKeyFlags } from "./admin.js";
import { parseFormat, type GlobalOptions } from "./output.js";
import { gitCommit, packageVersion } from "./version.js";

const program = new Command();
program
  .name("ferrogw")
  .description("A fast, OpenAI-compatible AI gateway.")
  .version(packageVersion(), "-v, --version")
  .option("--gateway-url <url>", "gateway for client commands (default $FERROGW_URL or http://localhost:8080)")
  .option("--api-key <key>", "admin key for client commands (default $FERROGW_API_KEY or $MASTER_KEY)")
  .option("--format <format>", "output: text, json or yaml", "text")
  .option("--no-color", "plain text output");

function globals(): GlobalOptions {
  const o = program.opts<{ gatewayUrl?: string; apiKey?: string; format?: string; color?: boolean }>();
  return {
    gatewayUrl: o.gatewayUrl ?? process.env.FERROGW_URL ?? "http://localhost:8080",
    apiKey: o.apiKey ?? process.env.FERROGW_API_KEY ?? process.env.MASTER_KEY,
    format: parseFormat(o.format),
    color: o.color !== false && process.stdout.isTTY === true && !process.env.NO_COLOR,
  };
}

/** Client commands print a one-line error and exit 1 instead of a stack trace. */
function client(fn: (g: GlobalOptions) => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await fn(globals());
    } catch (err) {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  };
}

program
  .command("serve", { isDefault: true })
  .description("start the gateway (the default command)")
  .option("-c, --config <file>", "config file (YAML or JSON); default $GATEWAY_CONFIG or ./config.yaml")
  .option("-p, --port <port>", "port to listen on; default $PORT or 8080")
  .option("--host <host>", "address to bind; default $HOST or 0.0.0.0")
  .option("-w, --workers <n>", "worker threads; default one per core, 1 serves on the main thread")
  .option("--heap-growth <percent>", "how far the heap may grow past live data before a full GC; default $FERROGW_HEAP_GROWTH or 100, 0 = V8's own")
  .option("--semi-space <MB>", "young-generation semi-space size of worker threads; default $FERROGW_SEMI_SPACE_MB or 32, 0 = V8's own (16)")
  .option("--parallel-gc", "let young-generation GCs use helper threads (off by default: each worker has a core; $FERROGW_PARALLEL_GC=1)")
  .action(async (opts: { config?: string; port?: string; host?: string; workers?: string; heapGrowth?: string; semiSpace?: string; parallelGc?: boolean }) => (await import("./serve.js")).serve(opts));

program
  .command("validate")
  .description("check a config file and print every error with its path")
  .option("-c, --config <file>", "config file")
  .action(async (opts: { config?: string }) => (await import("./validate.js")).validate(opts));

program
  .command("init")
  .description("write a minimal config.yaml and print a new master key")
  .option("-o, --output <file>", "where to write the config", "config.yaml")
  .option("-f, --force", "overwrite an existing file")
  .action(async (opts: { output?: string; force?: boolean }) => (await import("./init.js")).init(opts));

program
  .command("version")
  .description("print version and commit")
  .action(() => {
    process.stdout.write(`ferrogw ${packageVersion()} (commit ${gitCommit()}, node ${process.version})\n`);
  });

program
  .command("models")
  .description("list the model catalog: context window, max output, prices (USD per 1M tokens)")
  .option("--provider <name>", "only this provider (a vendor kind, or a name from providers:)")
  .option("-c, --config <file>", "config file whose catalog: section overrides prices and limits")
  .action(async (opts: { provider?: string; config?: string }) => (await import("./models.js")).models(globals(), opts));

program
  .command("status")
  .description("show a running gateway's health and provider status")
  .action(client(async (g) => (await import("./status.js")).status(g)));

program
  .command("doctor")
  .description("check this environment: config, provider keys, provider reachability, stores")
  .option("-c, --config <file>", "config file")
  .action((opts: { config?: string }) => client(async (g) => (await import("./doctor.js")).doctor({ ...g, ...opts }))());

const admin = program.command("admin").description("administer a running gateway");
const keys = admin.command("keys").description("API keys");
keys
  .command("list")
  .description("list API keys")
  .option("--all", "include revoked keys")
  .action((opts: { all?: boolean }) => client(async (g) => (await import("./admin.js")).keysList({ ...g, ...opts }))());
keys
  .command("create <name>")
  .description("create an API key (shown once)")
  .option("--models <list>", "comma-separated allowed models (default: all)")
  .option("--expires-in-days <n>", "expire after n days")
  .option("--rpm <n>", "per-key requests per minute")
  .option("--budget-usd <usd>", "per-key spend limit")
  .option("--budget-period <period>", "daily, weekly, monthly or total")
  .action((name: string, flags: CreateKeyFlags) => client(async (g) => (await import("./admin.js")).keysCreate(g, name, flags))());
keys
  .command("revoke <id>")
  .description("revoke an API key")
  .action((id: string) => client(async (g) => (await import("./admin.js")).keysRevoke(g, id))());
admin
  .command("stats")
  .description("usage statistics")
  .option("--group-by <g>", "key, model, provider, hour or day", "model")
  .option("--since <t>", "epoch ms, ISO date, or relative (24h, 7d)")
  .action((opts: { groupBy?: string; since?: string }) => client(async (g) => (await import("./admin.js")).stats({ ...g, ...opts }))());

program
  .command("plugins")
  .description("list the plugins registered in a running gateway")
  .action(client(async (g) => (await import("./admin.js")).plugins(g)));

await program.parseAsync(process.argv);
