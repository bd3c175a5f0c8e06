#!/usr/bin/env node
// Prints the top functions by self time in V8 .cpuprofile files (from `node --cpu-prof`), and
// self time rolled up by origin (our dist/, undici, node internals, GC).
//   node bench/profile-top.mjs [--top 30] [--json] file.cpuprofile [more.cpuprofile ...]
import { parseArgs } from "node:util";
import { formatSummary, summarise } from "./lib/profile.mjs";

const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "30" }, json: { type: "boolean", default: false } }, allowPositionals: true });
if (positionals.length === 0) {
  process.stderr.write("usage: node bench/profile-top.mjs [--top N] [--json] file.cpuprofile ...\n");
  process.exit(2);
}
const s = summarise(positionals);
const top = Number(values.top);
if (values.json) process.stdout.write(`${JSON.stringify({ ...s, frames: s.frames.slice(0, top) })}\n`);
else process.stdout.write(formatSummary(s, top));
