#!/usr/bin/env node
// A burst of host lookups, the way new upstream connections make them: N at once through
// dns.lookup (getaddrinfo on libuv's thread pool, what Node does per connection), then N at once
// through the gateway's shared lookups (src/upstream/dns-cache.ts, built into dist/).
//   node bench/dns-burst.mjs [--host api.openai.com] [--count 200]
import { lookup } from "node:dns";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { HostLookups } from "../dist/upstream/dns-cache.js";

const { values } = parseArgs({ options: { host: { type: "string", default: "localhost" }, count: { type: "string", default: "200" } } });
const host = values.host;
const count = Number(values.count);

async function burst(fn) {
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, () => new Promise((resolve, reject) => fn(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))))));
  const failed = results.find((r) => r.status === "rejected");
  return `${(performance.now() - t0).toFixed(1)} ms${failed ? ` (${failed.reason.code})` : ""}`;
}

const single = performance.now();
await new Promise((resolve) => lookup(host, { all: true }, resolve));
process.stdout.write(`${host}: one lookup ${(performance.now() - single).toFixed(1)} ms\n`);
process.stdout.write(`${host}: ${count} at once through dns.lookup: ${await burst((h, o, cb) => lookup(h, o, cb))}\n`);
process.stdout.write(`${host}: ${count} at once through the shared lookups: ${await burst(new HostLookups().lookup)}\n`);
