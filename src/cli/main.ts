#!/usr/bin/env node
// The ferrogw command line: with no subcommand it serves.
import { Command } from "commander";
import { init } from "./init.js";
import { serve } from "./serve.js";
import { validate } from "./validate.js";
import { gitCommit, packageVersion } from "./version.js";

const program = new Command();
program.name("ferrogw").description("A fast, OpenAI-compatible AI gateway.").version(packageVersion(), "-v, --version");

program
  .command("serve", { isDefault: true })
  .description("start the gateway (the default command)")
  .option("-c, --config <file>", "config file (YAML or JSON); default $GATEWAY_CONFIG or ./config.yaml")
  .option("-p, --port <port>", "port to listen on; default $PORT or 8080")
  .option("--host <host>", "address to bind; default $HOST or 0.0.0.0")
  .action((opts: { config?: string; port?: string; host?: string }) => serve(opts));

program
  .command("validate")
  .description("check a config file and print every error with its path")
  .option("-c, --config <file>", "config file")
  .action((opts: { config?: string }) => validate(opts));

program
  .command("init")
  .description("write a minimal config.yaml and print a new master key")
  .option("-o, --output <file>", "where to write the config", "config.yaml")
  .option("-f, --force", "overwrite an existing file")
  .action((opts: { output?: string; force?: boolean }) => init(opts));

program
  .command("version")
  .description("print version and commit")
  .action(() => {
    process.stdout.write(`ferrogw ${packageVersion()} (commit ${gitCommit()}, node ${process.version})\n`);
  });

await program.parseAsync(process.argv);
