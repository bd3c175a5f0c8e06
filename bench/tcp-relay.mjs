#!/usr/bin/env node
// The Node floor, as a reference row in `npm run bench`: a TCP relay that gives each client
// connection its own upstream connection and copies bytes both ways, with no HTTP at all. No Node
// proxy can cost less per request or per stream, so next to nginx it tells what any Node gateway
// could reach on this machine, and how much of the gateway's cost is its own work.
//   node bench/tcp-relay.mjs --port 9000 --upstream-port 9001 [--workers 2]
// Workers are cluster processes sharing the listening socket (the kernel spreads connections),
// like nginx's worker processes. Prints "relay listening" once every worker listens.
import cluster from "node:cluster";
import { connect, createServer } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string" }, "upstream-port": { type: "string" }, workers: { type: "string", default: "2" } } });
const port = Number(values.port);
const upstreamPort = Number(values["upstream-port"]);
const workers = Number(values.workers);

if (cluster.isPrimary) {
  // Each worker accepts for itself, as nginx's do; round-robin would route every accept through here.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("listening", () => {
    if (++listening === workers) process.stdout.write(`relay listening on ${port}\n`);
  });
  cluster.on("exit", (_w, code) => {
    process.stderr.write(`tcp-relay: a worker exited (${code})\n`);
    process.exit(1);
  });
  for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
} else {
  createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: "127.0.0.1", port: upstreamPort, noDelay: true });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  }).listen({ port, host: "127.0.0.1", backlog: 4096 });
}
