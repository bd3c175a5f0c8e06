// The two-step prediction flow, behind WireCodec.exchange:
//  - not streaming: create with `Prefer: wait`; if the prediction is still running when Replicate
//    answers, poll urls.get (backing off) until it ends; the finished prediction is the response.
//  - streaming: create with `stream: true`, then open urls.stream (SSE). A model without streaming
//    gets no stream URL: it is polled to the end and its output replayed as one `output` event.
// A failed or canceled prediction becomes an error response the gateway maps like any other.
import type { ExchangeIO, UpstreamBody, UpstreamReply, UpstreamRequest } from "../../providers/types.js";
import { TERMINAL, type Prediction } from "./types.js";
import { outputText } from "./response.js";

const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2000;

/** A response whose body is already in memory (the exchange had to read it to decide). */
export function bufferedReply(statusCode: number, text: string, contentType = "application/json"): UpstreamReply {
  const bytes = new TextEncoder().encode(text);
  const body: UpstreamBody = {
    text: async () => text,
    arrayBuffer: async () => bytes.slice().buffer,
    async *[Symbol.asyncIterator]() {
      yield bytes;
    },
  };
  return { statusCode, headers: { "content-type": contentType }, body };
}

/**
 * Follow-up URLs come from the upstream's JSON: only the provider's own origin and Replicate's
 * hosts (over https) are followed, so a response can never send the gateway's key elsewhere.
 */
export function followable(url: string | undefined, base: URL): string | undefined {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.origin === base.origin) return u.href;
  const host = u.hostname;
  if (u.protocol === "https:" && (host === "replicate.com" || host.endsWith(".replicate.com") || host.endsWith(".replicate.net"))) return u.href;
  return undefined;
}

function problem(status: number, detail: string): UpstreamReply {
  return bufferedReply(status, JSON.stringify({ title: "Prediction failed", detail, status }));
}

function failureOf(p: Prediction): UpstreamReply {
  const err = typeof p.error === "string" && p.error ? p.error : p.status === "canceled" ? "the prediction was canceled" : "the prediction failed";
  return problem(500, err);
}

/** Reads a 2xx prediction body; undefined (with the reply to return instead) when it is not one. */
async function readPrediction(res: UpstreamReply): Promise<Prediction | UpstreamReply> {
  const text = await res.body.text();
  try {
    const p = JSON.parse(text) as Prediction;
    if (p && typeof p === "object" && !Array.isArray(p)) return p;
  } catch {
    // fall through
  }
  return problem(502, "Replicate returned a body that is not a prediction");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function pollToEnd(p: Prediction, io: ExchangeIO): Promise<Prediction | UpstreamReply> {
  const deadline = Date.now() + io.timeoutMs;
  let wait = FIRST_POLL_MS;
  let current = p;
  while (!TERMINAL.has(String(current.status))) {
    const get = followable(current.urls?.get, io.baseUrl);
    if (!get) return problem(502, "Replicate returned a running prediction without a usable poll URL");
    if (Date.now() + wait > deadline) {
      const cancel = followable(current.urls?.cancel, io.baseUrl);
      // Stop paying for a prediction nobody will read; failures here change nothing for the client.
      if (cancel) void io.send({ method: "POST", path: "", url: cancel, headers: {}, body: "" }).then((r) => r.body.text(), () => undefined);
      return problem(504, "the prediction did not finish in time");
    }
    await sleep(wait, io.signal);
    wait = Math.min(MAX_POLL_MS, Math.round(wait * 1.5));
    const res = await io.send({ method: "GET", path: "", url: get, headers: {}, body: "" });
    if (res.statusCode >= 300) return res;
    const next = await readPrediction(res);
    if ("statusCode" in next) return next;
    current = next;
  }
  return current;
}

function sse(event: string, data: string): string {
  return `event: ${event}\n${data.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n`;
}

export async function replicateExchange(req: UpstreamRequest, io: ExchangeIO): Promise<UpstreamReply> {
  const created = await io.send(req);
  if (created.statusCode >= 300) return created;
  const first = await readPrediction(created);
  if ("statusCode" in first) return first;

  if (req.stream) {
    const streamUrl = followable(first.urls?.stream, io.baseUrl);
    if (streamUrl && !TERMINAL.has(String(first.status))) {
      return io.send({ method: "GET", path: "", url: streamUrl, headers: { accept: "text/event-stream", "cache-control": "no-store" }, body: "" });
    }
    const done = await pollToEnd(first, io);
    if ("statusCode" in done) return done;
    if (done.status !== "succeeded") return failureOf(done);
    return bufferedReply(200, sse("output", outputText(done.output)) + sse("done", "{}"), "text/event-stream");
  }

  const done = await pollToEnd(first, io);
  if ("statusCode" in done) return done;
  if (done.status !== "succeeded") return failureOf(done);
  return bufferedReply(200, JSON.stringify(done));
}
