// The ferrogw command as a user runs it (built output in dist/).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const run = (args: string[], cwd?: string) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, GATEWAY_CONFIG: "" } });

describe("ferrogw CLI", { timeout: 60_000 }, () => {
  it("validate lists every error with its path and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "fgw-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "strategy:\n  mode: nope\ntargets:\n  - virtual_key: openai\n    weight: -1\nbogus: 1\n");
    const r = run(["validate", "--config", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("strategy.mode");
    expect(r.stderr).toContain("targets[0].weight");
    expect(r.stderr).toContain("bogus");
  });

  it("serve refuses a bad FERROGW_WARM_CONNECTIONS before it opens anything, and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "fgw-"));
    const r = spawnSync(process.execPath, [BIN, "serve", "--port", "0"], { cwd: dir, encoding: "utf8", env: { ...process.env, GATEWAY_CONFIG: "", FERROGW_WARM_CONNECTIONS: "lots" }, timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('FERROGW_WARM_CONNECTIONS must be a whole number from 0 to 64, not \\"lots\\"');
    expect(readdirSync(dir)).toEqual([]); // no SQLite file: the stores were never opened
  });

  it("validate accepts a good config", () => {
    const dir = mkdtempSync(join(tmpdir(), "fgw-"));
    const file = join(dir, "good.yaml");
    writeFileSync(file, "strategy:\n  mode: fallback\ntargets:\n  - virtual_key: openai\n");
    const r = run(["validate", "--config", file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("valid");
  });

  it("init writes config.yaml and prints a master key that is not in the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "fgw-"));
    const r = run(["init"], dir);
    expect(r.status).toBe(0);
    const key = /fgw_[0-9a-f]{32}/.exec(r.stdout)?.[0];
    expect(key).toBeDefined();
    const written = readFileSync(join(dir, "config.yaml"), "utf8");
    expect(written).toContain("strategy:");
    expect(written).not.toContain(key as string);
    expect(run(["validate", "--config", join(dir, "config.yaml")]).status).toBe(0);
    expect(run(["init"], dir).status).toBe(1);
  });

  it("version prints version and commit", () => {
    const r = run(["version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ferrogw \d+\.\d+\.\d+ \(commit [0-9a-z]+/);
  });
});
