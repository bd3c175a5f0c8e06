// Replicate's predictions API (https://replicate.com/docs/reference/http). Creating a prediction
// (POST /v1/models/{owner}/{name}/predictions or POST /v1/predictions) answers with a prediction
// object: finished when the request sent `Prefer: wait`, otherwise (or while `pendingPolls` is
// set) "starting"/"processing" with urls.get to poll. With `stream: true` it carries urls.stream,
// an SSE stream of `output` (plain text), then `done` ({}). Output is an array of string tokens.
// Errors are problem details ({"title","detail","status"}).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JsonObject } from "../../src/api/types.js";
import type { MockFormat, MockReply, ParsedChat } from "./format.js";
import { splitText } from "./format.js";

const CREATED_AT = "2026-11-20T10:00:00.000Z";

function tokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function sse(event: string, data: string, id?: string): string {
  const lines = data.split("\n").map((l) => `data: ${l}`).join("\n");
  return `event: ${event}\n${id ? `id: ${id}\n` : ""}${lines}\n\n`;
}

export const replicateFormat: MockFormat = {
  name: "replicate",
  parseChat(path: string, body: JsonObject): ParsedChat {
    const input = (body.input && typeof body.input === "object" && !Array.isArray(body.input) ? body.input : {}) as JsonObject;
    const prompt = typeof input.prompt === "string" ? input.prompt : "";
    // The mock echoes the last user turn of a transcript ("User: ...\n\nAssistant:").
    const turns = prompt.split("\n\n").filter((t) => t.startsWith("User: "));
    const last = turns.length > 0 ? (turns[turns.length - 1] ?? "").slice("User: ".length) : prompt;
    const m = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(path);
    const model = m ? `${m[1]}/${m[2]}` : typeof body.version === "string" ? body.version : "unknown";
    const max = input.max_tokens ?? input.max_new_tokens;
    return { model, stream: body.stream === true, lastUserText: last, firstToolName: undefined, lastIsToolResult: false, maxTokens: typeof max === "number" ? max : undefined };
  },
  chatBody(reply: MockReply): string {
    return JSON.stringify({ status: "succeeded", output: tokens(reply.text), metrics: { input_token_count: reply.usage.input, output_token_count: reply.usage.output } });
  },
  chatStream(reply: MockReply, chunks: number): string[] {
    const out = splitText(reply.text, chunks).map((piece, i) => sse("output", piece, `1732000000:${i}`));
    out.push(sse("done", "{}"));
    return out;
  },
  errorBody(status: number, message: string): string {
    return JSON.stringify({ title: status === 404 ? "Not found" : "Request failed", detail: message, status });
  },
};

interface Stored {
  prediction: JsonObject;
  pollsLeft: number;
  frames: string[];
  done: JsonObject;
}

/** The stateful half of the mock: predictions by id, their polls and their event streams. */
export class ReplicateMock {
  private readonly store = new Map<string, Stored>();
  private seq = 0;
  /** Answer creates with a running prediction that needs this many polls to finish (even with Prefer: wait). */
  pendingPolls = 0;
  /** Stream events for the next stream instead of the reply (e.g. an `error` event). */
  streamOverride: string[] | undefined;

  static isFollowUp(method: string, path: string): boolean {
    return (method === "GET" && /^\/v1\/(predictions|streams)\/[^/]+$/.test(path)) || (method === "POST" && /^\/v1\/predictions\/[^/]+\/cancel$/.test(path));
  }

  static isCreate(method: string, path: string): boolean {
    return method === "POST" && (path === "/v1/predictions" || /^\/v1\/models\/[^/]+\/[^/]+\/predictions$/.test(path));
  }

  create(req: IncomingMessage, res: ServerResponse, parsed: ParsedChat, body: JsonObject, reply: MockReply, chunks: number): void {
    const id = `mockpred${String(++this.seq).padStart(4, "0")}`;
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    const wait = typeof req.headers.prefer === "string" && req.headers.prefer.startsWith("wait");
    const urls: JsonObject = { get: `${origin}/v1/predictions/${id}`, cancel: `${origin}/v1/predictions/${id}/cancel`, web: `https://replicate.com/p/${id}` };
    if (parsed.stream) urls.stream = `${origin}/v1/streams/${id}`;
    const finished: JsonObject = {
      id,
      model: parsed.model,
      version: "hidden",
      input: (body.input ?? {}) as JsonObject,
      logs: "",
      output: tokens(reply.text),
      data_removed: false,
      error: null,
      status: "succeeded",
      created_at: CREATED_AT,
      started_at: CREATED_AT,
      completed_at: CREATED_AT,
      urls,
      metrics: { input_token_count: reply.usage.input, output_token_count: reply.usage.output, predict_time: 0.1, total_time: 0.2 },
    };
    if (this.failure !== undefined) {
      Object.assign(finished, { status: "failed", output: null, error: this.failure });
      this.failure = undefined;
    }
    const frames = this.streamOverride ?? replicateFormat.chatStream(reply, chunks);
    this.streamOverride = undefined;
    const stored: Stored = { prediction: finished, pollsLeft: this.pendingPolls, frames, done: finished };
    this.store.set(id, stored);
    const running = parsed.stream || !wait || stored.pollsLeft > 0;
    const answer = running ? { ...finished, status: "starting", output: null, completed_at: null, metrics: {} } : finished;
    res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify(answer));
  }

  /** GET a prediction (poll), GET its stream, or cancel it. */
  followUp(res: ServerResponse, method: string, path: string, chunkDelayMs: number): void {
    const id = path.split("/")[3] ?? "";
    const stored = this.store.get(id);
    if (!stored) {
      res.writeHead(404, { "content-type": "application/json" }).end(replicateFormat.errorBody(404, `prediction ${id} not found`));
      return;
    }
    if (method === "POST") {
      stored.done = { ...stored.prediction, status: "canceled", output: null };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stored.done));
      return;
    }
    if (path.startsWith("/v1/streams/")) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      void (async () => {
        for (const f of stored.frames) {
          if (res.destroyed) return;
          res.write(f);
          if (chunkDelayMs > 0) await new Promise((r) => setTimeout(r, chunkDelayMs));
        }
        res.end();
      })();
      return;
    }
    if (stored.pollsLeft > 0) {
      stored.pollsLeft--;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...stored.prediction, status: "processing", output: null, metrics: {} }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stored.done));
  }

  /** Makes the next prediction fail with this error once it is polled or awaited. */
  failNext(error: string): void {
    this.failure = error;
  }

  /** Applied by create() when set. */
  failure: string | undefined;
}
